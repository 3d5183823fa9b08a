"""The invoice API through the real app and database (SQLite and PostgreSQL)."""

from __future__ import annotations

import concurrent.futures
import json
import re
from pathlib import Path
from typing import Any

import psycopg
import pytest

from minipos.api.jsonio import decode
from minipos.auth.principal import Role
from minipos.auth.service import create_key
from minipos.config import Settings
from minipos.db import Connection, Database, open_database
from minipos.invoices import service
from minipos.invoices.schemas import InvoiceIn
from minipos.invoices.service import ShopConfig
from support import Api, post_invoice

EXAMPLES = Path(__file__).with_name("examples")

SUMMARY_KEYS = [
    "id", "mode", "station", "invoice_no", "discount", "discount_type", "created_at",
    "updated_at", "printed_at", "print_station", "print_pos_id", "print_chassis_id",
    "check_num", "total_sum", "changed_sum", "status", "comment", "keep_drawer_closed",
    "print_paper_receipt", "is_auto_open", "report", "common_id", "synchronized_at", "info",
    "status_name",
]  # fmt: skip
DETAIL_KEYS = [*SUMMARY_KEYS, "station_group", "rows", "payments", "receipts"]
ROW_KEYS = [
    "id", "invoice", "code", "text", "quantity", "maxquantity", "init_quantity", "price",
    "is_free_price", "is_weight", "tax", "fiscal_section", "fiscal_section_name", "discount",
    "discount_type", "payload", "info", "tax_rate",
]  # fmt: skip
NAIVE_MICROS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$")
AUTO_NUMBER = re.compile(r"^\d{8}_\d{6}(_\d+)?$")


def example(name: str) -> bytes:
    return (EXAMPLES / f"{name}.json").read_bytes()


def post(api: Api, body: bytes | dict[str, Any], path: str = "/api/invoice/new", **kw: Any) -> Any:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json", **kw.pop("headers", {})}
    return api.as_(kw.pop("role", Role.INTEGRATOR)).post(path, content=content, headers=headers)


def count(api: Api) -> int:
    return int(api.as_(Role.ADMIN).get("/api/invoices").headers["X-Total-Count"])


@pytest.mark.parametrize(
    "name",
    [
        "validate_invoice",
        "sales_basic",
        "refund_basic",
        "sales_slip_after_payment",
        "non_fiscal_slip",
    ],
)
def test_documented_example_is_accepted_with_the_documented_shape(api: Api, name: str) -> None:
    response = post(api, example(name))
    assert response.status_code == 200, response.text
    created = response.json()
    assert list(created) == DETAIL_KEYS
    assert all(list(row) == ROW_KEYS for row in created["rows"])
    assert NAIVE_MICROS.match(created["created_at"])
    assert created["status"] == 10
    assert created["status_name"] == "New"
    fetched = api.as_(Role.INTEGRATOR).get(f"/api/invoice/{created['id']}")
    assert fetched.json() == created


def test_basic_sale_fills_the_documented_defaults(api: Api) -> None:
    created = post(api, example("sales_basic")).json()
    assert created["invoice_no"] == "DEMOSALESINVOICE1"
    assert created["mode"] == 1
    assert (created["discount"], created["discount_type"]) == (0, None)
    # docs/decisions.md §3: total_sum is the amount due (34.59), not the 0 of the public example.
    assert created["total_sum"] == 34.59
    assert created["changed_sum"] == 0
    assert created["info"] == {}
    assert created["station_group"] == "1"
    first, second = created["rows"]
    assert first == {
        "id": first["id"],
        "invoice": created["id"],
        "code": "0",
        "text": "Product 1",
        "quantity": 1,
        "maxquantity": 0,
        "init_quantity": 1,
        "price": 2.34,
        "is_free_price": False,
        "is_weight": False,
        "tax": 0,
        "fiscal_section": 1,
        "fiscal_section_name": "Nodaļa 1",
        "discount": 0,
        "discount_type": None,
        "payload": None,
        "info": {},
        "tax_rate": 21,
    }
    assert (second["quantity"], second["init_quantity"], second["price"]) == (15, 15, 2.15)


def test_money_is_written_as_plain_numbers(api: Api) -> None:
    raw = post(api, example("sales_basic")).content
    assert b'"total_sum":34.59' in raw
    assert b'"discount":0,' in raw
    assert b'"tax_rate":21}' in raw


def test_non_fiscal_slip_matches_the_documented_response(api: Api) -> None:
    created = post(api, example("non_fiscal_slip")).json()
    documented = json.loads(example("non_fiscal_slip_response"))
    assert AUTO_NUMBER.match(created["invoice_no"])
    volatile = {"id", "invoice_no", "created_at", "updated_at"}
    assert {k: v for k, v in created.items() if k not in volatile} == {
        k: v for k, v in documented.items() if k not in volatile
    }
    assert list(created) == list(documented)


def test_slip_after_payment_is_priced_by_the_money_rules(api: Api) -> None:
    created = post(api, example("sales_slip_after_payment")).json()
    # 3 × 2.34 − 5 % = 6.67; 5 × 2.10 = 10.50; minus the 1.00 document discount.
    assert created["total_sum"] == 16.17
    assert (created["discount"], created["discount_type"]) == (1, "amount")
    assert created["comment"].splitlines()[1] == "REG.NR 4000000000"
    assert created["is_auto_open"] is True
    assert created["info"]["customer"] == {
        "phone": "+37199999999",
        "email": "somename@somedomain.com",
    }
    rows = created["rows"]
    assert [r["code"] for r in rows] == ["0001", "02abc"]
    assert (rows[0]["discount"], rows[0]["discount_type"]) == (5, "percent")
    assert rows[0]["payload"] == "Some test information for payload here.."
    assert rows[0]["info"]["blocks"][1] == {"kind": "barcode", "code": "1234567890123", "type": 101}
    assert (rows[1]["tax"], rows[1]["tax_rate"], rows[1]["fiscal_section_name"]) == (
        5,
        0,
        "Nodaļa 20",
    )
    assert rows[1]["init_quantity"] == 5  # sent as 0: the quantity asked for
    assert [(p["method_id"], p["method_name"], p["amount"]) for p in created["payments"]] == [
        (3, "Custom payment name", None),
        (1, "Skaidrā nauda", 5),
    ]


def test_validateonly_returns_the_computed_invoice_and_stores_nothing(api: Api) -> None:
    response = post(api, example("validate_invoice"), "/api/invoice/new?validateonly=1")
    assert response.status_code == 200
    checked = response.json()
    assert checked["id"] is None
    assert list(checked) == DETAIL_KEYS
    assert checked["total_sum"] == 34.59
    assert [r["id"] for r in checked["rows"]] == [None, None]
    assert count(api) == 0
    # The same body, stored, gives the same object but for ids and timestamps.
    stored = post(api, example("validate_invoice")).json()
    volatile = {"id", "created_at", "updated_at", "rows"}
    assert {k: v for k, v in stored.items() if k not in volatile} == {
        k: v for k, v in checked.items() if k not in volatile
    }


def test_money_may_be_sent_as_strings(api: Api) -> None:
    body = {"rows": [{"text": "Svari", "quantity": "1.235", "price": "3.10"}]}
    created = post(api, body).json()
    assert created["rows"][0]["quantity"] == 1.235
    assert created["rows"][0]["price"] == 3.1
    assert created["total_sum"] == 3.83  # 3.8285 rounds half-up


BAD_INPUT = [
    ("missing rows", {"mode": 1}, {"rows": ["This list may not be empty."]}),
    ("wrong type", {"rows": [{"text": "a", "quantity": "x", "price": 1}]}, {"rows": [{"quantity": ["A valid number is required."]}]}),
    ("bool as number", {"rows": [{"text": "a", "quantity": True, "price": 1}]}, {"rows": [{"quantity": ["A valid number is required."]}]}),
    ("missing price", {"rows": [{"text": "a", "quantity": 1}]}, {"rows": [{"price": ["This field is required."]}]}),
    ("zero quantity", {"rows": [{"text": "a", "quantity": 0, "price": 1}]}, {"rows": [{"quantity": ["Ensure this value is greater than 0."]}]}),
    ("negative quantity", {"rows": [{"text": "a", "quantity": -2, "price": 1}]}, {"rows": [{"quantity": ["Ensure this value is greater than 0."]}]}),
    ("NaN", {"rows": [{"text": "a", "quantity": 1, "price": "NaN"}]}, {"rows": [{"price": ["A valid number is required."]}]}),
    ("Infinity", {"rows": [{"text": "a", "quantity": "Infinity", "price": 1}]}, {"rows": [{"quantity": ["A valid number is required."]}]}),
    ("three decimals", {"rows": [{"text": "a", "quantity": 1, "price": 2.345}]}, {"rows": [{"price": ["Ensure that there are no more than 2 decimal places."]}]}),
    ("absurd price", b'{"rows": [{"text": "a", "quantity": 1, "price": 1e400}]}', {"rows": [{"price": ["Ensure this value is less than or equal to 99999999.99."]}]}),
    ("unknown tax", {"rows": [{"text": "a", "quantity": 1, "price": 1, "tax": 99}]}, {"rows": [{"tax": ['"99" is not a valid choice.']}]}),
    ("unknown section", {"rows": [{"text": "a", "quantity": 1, "price": 1, "fiscal_section": 100}]}, {"rows": [{"fiscal_section": ['"100" is not a valid choice.']}]}),
    ("unknown method", {"rows": [{"text": "a", "quantity": 1, "price": 1}], "payments": [{"method_id": 7, "amount": 1}]}, {"payments": [{"method_id": ['"7" is not a valid choice.']}]}),
    ("unknown mode", {"mode": 9, "rows": [{"text": "a", "quantity": 1, "price": 1}]}, {"mode": ["9 is not a valid choice."]}),
    ("unknown discount type", {"rows": [{"text": "a", "quantity": 1, "price": 1, "discount": 1, "discount_type": "gift"}]}, {"rows": [{"discount_type": ["'gift' is not a valid choice."]}]}),
    ("percent over 100", {"rows": [{"text": "a", "quantity": 1, "price": 1, "discount": 101, "discount_type": "percent"}]}, {"rows": [{"discount": ["Ensure this value is less than or equal to 100."]}]}),
    ("discount over line", {"rows": [{"text": "a", "quantity": 2, "price": 1, "discount": 2.01, "discount_type": "amount"}]}, {"rows": [{"discount": ["The discount cannot exceed the line amount."]}]}),
    ("document discount over total", {"discount": 5, "discount_type": "amount", "rows": [{"text": "a", "quantity": 1, "price": 1}]}, {"discount": ["The discount cannot exceed the amount it applies to."]}),
    ("unknown block kind", {"rows": [{"text": "a", "quantity": 1, "price": 1}], "info": {"header": [{"kind": "image"}]}}, {"info": {"header": [{"kind": ["'image' is not a valid choice."]}]}}),
    ("unknown barcode type", {"rows": [{"text": "a", "quantity": 1, "price": 1}], "info": {"footer": [{"kind": "barcode", "code": "1", "type": 50}]}}, {"info": {"footer": [{"type": ["Unsupported barcode type 50; use one of 0-6, 65-73 or 101 (QR)."]}]}}),
    ("EAN with letters", {"rows": [{"text": "a", "quantity": 1, "price": 1}], "info": {"footer": [{"kind": "barcode", "code": "12345678901AB", "type": 2}]}}, {"info": {"footer": [{"code": ["EAN13 (type 2) needs 12 or 13 digits (0-9)."]}]}}),
    ("bad hex", {"mode": 3, "info": {"slip": [{"kind": "escpos", "content": ["1B4"]}]}}, {"info": {"slip": [{"content": [['Enter hexadecimal bytes, two digits each, e.g. "1B40".']]}]}}),
    ("slip without blocks", {"mode": 3}, {"info": {"slip": ["A non-fiscal slip (mode 3) needs blocks to print."]}}),
    ("bad email", {"rows": [{"text": "a", "quantity": 1, "price": 1}], "info": {"customer": {"email": "not-an-address"}}}, {"info": {"customer": {"email": ["Enter a valid email address."]}}}),
    ("two rests", {"rows": [{"text": "a", "quantity": 1, "price": 1}], "payments": [{"method_id": 1}, {"method_id": 2}]}, {"payments": [{}, {"amount": ["Only one payment may take the rest (amount null)."]}]}),
    ("card over total", {"rows": [{"text": "a", "quantity": 1, "price": 1}], "payments": [{"method_id": 2, "amount": 2}]}, {"payments": ["Non-cash payments (2) exceed the amount due (1)."]}),
    ("blank text", {"rows": [{"text": "", "quantity": 1, "price": 1}]}, {"rows": [{"text": ["This field may not be blank."]}]}),
    ("array body", [1, 2], {"non_field_errors": ["Expected a JSON object."]}),
    ("bad validateonly", {"rows": []}, {"validateonly": ["Must be a valid boolean."]}),
]  # fmt: skip


@pytest.mark.parametrize(("case", "body", "errors"), BAD_INPUT, ids=[c[0] for c in BAD_INPUT])
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(
    api: Api, case: str, body: Any, errors: dict[str, Any]
) -> None:
    path = (
        "/api/invoice/new?validateonly=maybe" if case == "bad validateonly" else "/api/invoice/new"
    )
    response = post(api, body if isinstance(body, bytes) else json.dumps(body).encode(), path)
    assert response.status_code == 400, response.text
    assert response.json() == errors
    assert count(api) == 0


def test_every_problem_is_reported_at_once(api: Api) -> None:
    body = {
        "rows": [
            {"text": "a", "quantity": 1, "price": 1},
            {"text": "b", "quantity": 0, "price": 1.001, "tax": 42},
        ],
        "payments": [{"method_id": 99}],
    }
    assert post(api, body).json() == {
        "rows": [
            {},
            {
                "quantity": ["Ensure this value is greater than 0."],
                "price": ["Ensure that there are no more than 2 decimal places."],
                "tax": ['"42" is not a valid choice.'],
            },
        ],
        "payments": [{"method_id": ['"99" is not a valid choice.']}],
    }


@pytest.mark.parametrize(
    ("body", "content_type", "status", "detail"),
    [
        (b"{not json", "application/json", 400, "JSON parse error"),
        (b'{"rows": [', "application/json", 400, "JSON parse error"),
        (b'{"a": NaN}', "application/json", 400, "JSON parse error"),
        (b"rows=1", "application/x-www-form-urlencoded", 415, "Unsupported media type"),
        (b"{}", "", 415, "Unsupported media type"),
        (b'{"invoice_no": "\xed\xa0\x80"}', "application/json", 400, "JSON parse error"),
        (
            b'{"invoice_no": "A\\u0000B"}',
            "application/json",
            400,
            "JSON parse error - Text may not contain the NUL",
        ),
    ],
)
def test_unreadable_bodies(
    api: Api, body: bytes, content_type: str, status: int, detail: str
) -> None:
    client = api.as_(Role.INTEGRATOR)
    response = client.post("/api/invoice/new", content=body, headers={"Content-Type": content_type})
    assert response.status_code == status
    assert response.json()["detail"].startswith(detail)
    assert count(api) == 0


def test_oversized_body_is_413(api: Api) -> None:
    body = {"rows": [{"text": "x" * 200, "quantity": 1, "price": 1}] * 6000}
    response = post(api, body)
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body is larger than 1048576 bytes."}
    assert count(api) == 0


def test_the_same_invoice_no_twice(api: Api) -> None:
    first = post(api, example("sales_basic")).json()
    again = post(api, example("sales_basic"))
    assert again.status_code == 200
    assert again.json() == first  # a safe retry: the stored invoice comes back
    changed = json.loads(example("sales_basic"))
    changed["rows"][0]["price"] = 9.99
    clash = post(api, changed)
    assert clash.status_code == 400
    assert clash.json() == {"invoice_no": ["An invoice with this invoice_no already exists."]}
    assert count(api) == 1


def test_idempotency_key_replays_the_first_response(api: Api) -> None:
    body = {"rows": [{"text": "a", "quantity": 1, "price": 1}]}  # no invoice_no: each post is new
    first = post(api, body, headers={"Idempotency-Key": "order-1"})
    again = post(api, body, headers={"Idempotency-Key": "order-1"})
    assert again.status_code == 200
    assert again.content == first.content
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    other = post(api, {**body, "comment": "x"}, headers={"Idempotency-Key": "order-1"})
    assert other.status_code == 422
    # Keys belong to the API key that sent them: an admin's "order-1" is another request.
    admin = post(api, body, headers={"Idempotency-Key": "order-1"}, role=Role.ADMIN)
    assert admin.json()["id"] != first.json()["id"]
    assert count(api) == 2


def test_rejected_request_does_not_burn_its_idempotency_key(api: Api) -> None:
    bad = post(api, {"rows": []}, headers={"Idempotency-Key": "k"})
    assert bad.status_code == 400
    good = post(
        api, {"rows": [{"text": "a", "quantity": 1, "price": 1}]}, headers={"Idempotency-Key": "k"}
    )
    assert good.status_code == 200


def test_authentication_and_roles(api: Api) -> None:
    body = example("sales_basic")
    anonymous = post(api, body, role=None)
    assert anonymous.status_code == 401
    assert anonymous.json() == {"detail": "Authentication credentials were not provided."}
    client = api.as_(None)
    for header in ("Token mpk_nope_nope", "Bearer wrong", "Basic abc", "Token"):
        response = client.get("/api/invoices", headers={"Authorization": header})
        assert response.status_code == 401, header
    assert post(api, body, role=Role.STATION).status_code == 403
    assert post(api, body, role=Role.INTEGRATOR).status_code == 200
    bearer = api.as_(None).get(
        "/api/invoices", headers={"Authorization": f"Bearer {api.keys[Role.INTEGRATOR]}"}
    )
    assert bearer.status_code == 200
    assert api.as_(None).get("/health").status_code == 200


def test_list_filters_and_paging(api: Api) -> None:
    for n in range(5):
        post(
            api,
            {
                "invoice_no": f"N{n}",
                "mode": 2 if n == 4 else 1,
                "rows": [{"text": "a", "quantity": 1, "price": 1}],
            },
        )
    client = api.as_(Role.INTEGRATOR)
    page = client.get("/api/invoices?limit=2")
    assert page.headers["X-Total-Count"] == "5"
    assert [i["invoice_no"] for i in page.json()] == ["N0", "N1"]
    assert list(page.json()[0]) == SUMMARY_KEYS
    seen = []
    url: str | None = "/api/invoices?limit=2"
    while url:
        page = client.get(url)
        seen += [i["invoice_no"] for i in page.json()]
        link = page.headers.get("Link")
        url = re.match(r"<([^>]+)>", link)[1] if link else None  # type: ignore[index]
    assert seen == ["N0", "N1", "N2", "N3", "N4"]
    assert [i["invoice_no"] for i in client.get("/api/invoices?mode=2").json()] == ["N4"]
    assert client.get("/api/invoices?invoice_no=N3").json()[0]["invoice_no"] == "N3"
    assert client.get("/api/invoices?status=30").json() == []
    assert client.get("/api/invoices?created_from=2000-01-01").headers["X-Total-Count"] == "5"
    assert client.get("/api/invoices?created_to=2000-01-01").json() == []
    bad = client.get("/api/invoices?limit=0")
    assert bad.status_code == 400
    assert bad.json() == {"limit": ["Ensure this value is greater than or equal to 1."]}
    assert client.get("/api/invoices?created_from=yesterday").status_code == 400
    nul = client.get("/api/invoices?invoice_no=N%00")
    assert (nul.status_code, nul.json()) == (
        400,
        {"invoice_no": ["Text may not contain the NUL character (\\u0000)."]},
    )


@pytest.mark.parametrize(
    "path",
    [
        "/api/invoice/999",
        "/api/invoice/99999999999999999999999",
        "/api/invoice/abc",
        "/api/nothing",
    ],
)
def test_unknown_ids_are_404(api: Api, path: str) -> None:
    response = api.as_(Role.INTEGRATOR).get(path)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_openapi_and_docs_are_served(api: Api) -> None:
    spec = api.as_(None).get("/openapi.json").json()
    assert spec["openapi"] == "3.1.0"
    assert "/api/invoice/new" in spec["paths"]
    assert spec["paths"]["/api/invoice/{id}"]["get"]["responses"]["200"]
    page = api.as_(None).get("/docs")
    assert "swagger-ui-bundle.js" in page.text
    assert api.as_(None).get("/docs/static/swagger-ui-bundle.js").status_code == 200


def created(db: Database, invoice: service.PreparedInvoice, ctx: ShopConfig) -> str:
    """The ``invoice_no`` the stored invoice got."""
    body = db.run(lambda conn: service.create(conn, invoice, ctx))
    number: str = json.loads(bytes(body))["invoice_no"]
    return number


def _auto_numbered(ctx: ShopConfig) -> service.PreparedInvoice:
    """An example invoice without ``invoice_no``, posted at 2026-02-17 17:08:47 in Riga."""
    request = json.loads(example("sales_basic"))
    request["invoice_no"] = None
    return service.prepare(_decoded(request), ctx, 1_771_340_927_000_000, created_by=None)


def test_invoices_in_the_same_second_get_numbered_suffixes(settings: Settings) -> None:
    ctx = ShopConfig(settings.reference(), settings.zone(), "1")
    db = open_database(settings.database_url)
    try:
        numbers = [created(db, _auto_numbered(ctx), ctx) for _ in range(3)]
        # A restarted server (a fresh hint) still finds the next free number.
        fresh = ShopConfig(settings.reference(), settings.zone(), "1")
        numbers.append(created(db, _auto_numbered(fresh), fresh))
    finally:
        db.close()
    assert numbers == [
        "20260217_170847",
        "20260217_170847_2",
        "20260217_170847_3",
        "20260217_170847_4",
    ]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_automatic_numbers_of_one_second_do_not_wait_for_each_other(
    settings: Settings, database_url: str
) -> None:
    """On PostgreSQL, POSTs without ``invoice_no`` run side by side, in one server process or
    in several (``--workers``). When two tried the same number, the second waited on the
    unique index for the first's commit, then tried the next number, where it could wait
    again. Under load such POSTs took turns: 177 req/s at 16 connections against 380 at one.
    Here each process has its own hint, so both try the first number of the second; the second
    must skip the number in flight instead of waiting. (SQLite's one writer runs the jobs one
    after the other.)"""

    def create(conn: psycopg.Connection[dict[str, Any]]) -> str:
        ctx = ShopConfig(settings.reference(), settings.zone(), "1")  # a process's own hint
        invoice = _auto_numbered(ctx)
        body = Connection(conn, "postgresql").unit(lambda c: service.create(c, invoice, ctx))
        number: str = json.loads(bytes(body))["invoice_no"]
        return number

    rows = psycopg.rows.dict_row  # as the server's pool hands them out
    with (
        psycopg.connect(database_url, row_factory=rows) as first,
        psycopg.connect(database_url, row_factory=rows) as second,
    ):
        second.execute("SET lock_timeout = '500ms'")
        second.commit()
        numbers = [create(first)]  # not committed yet
        numbers.append(create(second))  # LockNotAvailable if it waited for the first
        second.commit()
        first.commit()
    assert numbers == ["20260217_170847", "20260217_170847_2"]


def test_a_process_hands_out_each_automatic_suffix_once() -> None:
    """Requests running side by side in one process each get their own suffix of a second,
    so they never try the same number (the unique index would make one wait for the other).
    A request still storing in the second before goes on from that second's last number:
    starting it again from 1 cost a failed INSERT for each number taken, at every turn of the
    second under load."""
    hint = service.NumberHint()
    base = "20260217_170847"
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda _: hint.reserve(base), range(400)))
    assert sorted(got) == list(range(1, 401))
    assert hint.reserve(base, after=1000) == 1001  # past a number found taken
    assert hint.reserve("20260217_170848") == 1  # a new second starts again
    assert hint.reserve(base) == 1002  # a request of the second before goes on from its last


def _decoded(body: dict[str, Any]) -> InvoiceIn:
    return decode(json.dumps(body).encode(), InvoiceIn)


def test_an_integrator_cancels_only_the_invoices_it_posted(api: Api, settings: Settings) -> None:
    """Two shops' systems share a server: one key must not cancel the other's sales."""
    db = open_database(settings.database_url)
    try:
        other_key = db.run(
            lambda conn: create_key(conn, settings.secret_key.encode(), Role.INTEGRATOR, now_us=0)
        ).key
    finally:
        db.close()
    other = {"Authorization": f"Token {other_key}"}
    mine = post_invoice(api)
    theirs = api.client.post(
        "/api/invoice/new",
        json={"rows": [{"text": "Maize", "quantity": 1, "price": 2}]},
        headers=other,
    ).json()

    refused = api.as_(Role.INTEGRATOR).post(f"/api/invoice/{theirs['id']}/cancel")
    assert refused.status_code == 403
    assert refused.json() == {"detail": "An integrator key may cancel only the invoices it posted."}
    assert api.as_(Role.INTEGRATOR).get(f"/api/invoice/{theirs['id']}").json()["status"] == 10

    assert api.as_(Role.INTEGRATOR).post(f"/api/invoice/{mine['id']}/cancel").status_code == 200
    assert api.client.post(f"/api/invoice/{theirs['id']}/cancel", headers=other).status_code == 200
    # An admin may cancel any invoice.
    third = post_invoice(api)
    assert api.as_(Role.ADMIN).post(f"/api/invoice/{third['id']}/cancel").status_code == 200
