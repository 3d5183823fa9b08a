"""The station side through the real app and database: shifts, claims, checkout, refunds."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from minipos.auth.principal import Role
from minipos.db import open_database
from minipos.invoices import routes as invoice_routes
from support import Api, Station, post_invoice, register, run_sql, verify_database

EXAMPLES = Path(__file__).with_name("examples")
SHIFT_KEYS = [
    "id", "z_number", "start_date", "close_date", "grand_total", "station", "station_name",
    "station_pos_id", "station_chassis_id", "start_employee", "start_employee_name",
    "close_employee", "close_employee_name", "common_shift", "local_id",
]  # fmt: skip
RECEIPT_KEYS = [
    "id", "document_id", "mode", "state", "start_time", "print_time", "neto_amount",
    "bruto_amount", "changed_amount", "tax_amount", "discount", "discount_type",
    "discount_amount", "station", "station_name", "station_pos_id", "cashier",
    "cashier_name",  # ours (issue 14, R7): the documented "cashier" is an employee id
    "z_number", "rows", "payments",
]  # fmt: skip
RECEIPT_ROW_KEYS = [
    "id", "product", "product_id", "product_name", "product_code", "barcode", "category_name",
    "price", "tax_rate", "discount", "discount_type", "discount_amount", "quantity", "amount",
    "max_quantity", "max_amount", "receipt", "category", "tax",
]  # fmt: skip
RECEIPT_PAYMENT_KEYS = [
    "id", "method_name", "method_code", "amount", "request_id", "transaction_id",
    "psp_reference", "poiid", "sale_id", "card_no", "receipt", "method",
]  # fmt: skip
EMBEDDED_RECEIPT_KEYS = [
    "id", "mode", "customer_id", "document_id", "invoice_id", "station_id", "station_name",
    "cash_shift_id", "cashier_id", "cashier_name", "state", "start_time", "print_time",
    "neto_amount", "bruto_amount", "changed_amount", "tax_amount", "discount", "discount_type",
    "discount_amount", "parent_station", "parent_document_id", "refunded_at", "rows", "payments",
]  # fmt: skip


@pytest.fixture
def pos1(api: Api) -> Station:
    return register(api, "POS1", "01")


@pytest.fixture
def pos2(api: Api) -> Station:
    return register(api, "POS2", "02")


def test_documented_flow_slip_after_payment(api: Api, pos1: Station) -> None:
    """Issue #4 acceptance: posted invoice → claim → two payments → Done → receipts → Z."""
    invoice = (
        api.as_(Role.INTEGRATOR)
        .post(
            "/api/invoice/new",
            content=(EXAMPLES / "sales_slip_after_payment.json").read_bytes(),
            headers={"Content-Type": "application/json"},
        )
        .json()
    )
    assert pos1.open_shift().status_code == 200
    claimed = pos1.claim(invoice["id"])
    assert claimed.status_code == 200
    assert (claimed.json()["status"], claimed.json()["status_name"]) == (20, "Opened")
    assert claimed.json()["station"] == pos1.id

    done = pos1.complete(
        invoice["id"],
        payments=[
            {"method_id": 2, "amount": "10.00", "transaction_id": "T-77", "card_no": "****1234"},
            {"method_id": 1, "amount": 10},
        ],
        cashier_name="Anna",
    )
    assert done.status_code == 200, done.text
    fetched = api.as_(Role.INTEGRATOR).get(f"/api/invoice/{invoice['id']}").json()
    assert fetched == done.json()
    assert (fetched["status"], fetched["status_name"]) == (30, "Done")
    assert fetched["print_station"] == pos1.id
    assert (fetched["print_pos_id"], fetched["print_chassis_id"]) == ("01", "CH01")
    assert fetched["printed_at"] is not None
    assert (fetched["total_sum"], fetched["changed_sum"]) == (16.17, 3.83)
    [receipt] = fetched["receipts"]
    assert list(receipt) == EMBEDDED_RECEIPT_KEYS
    assert fetched["check_num"] == receipt["document_id"] == "1"
    assert (receipt["mode"], receipt["state"], receipt["invoice_id"]) == (2, 1, invoice["id"])
    # 16.17 = 6.28 at 21 % (tax 1.09) + 9.89 at 0 % (group 5).
    assert (receipt["bruto_amount"], receipt["neto_amount"], receipt["tax_amount"]) == (
        16.17,
        15.08,
        1.09,
    )
    assert (receipt["discount"], receipt["discount_type"], receipt["discount_amount"]) == (
        1,
        "amount",
        1,
    )
    assert [
        (r["product_name"], r["quantity"], r["amount"], r["discount_amount"])
        for r in receipt["rows"]
    ] == [
        ("Item name 1", 3, 6.28, 0.74),
        ("Item name abc 2", 5, 9.89, 0.61),
    ]
    assert [(p["method_name"], p["amount"], p["transaction_id"]) for p in receipt["payments"]] == [
        ("Karte", 10, "T-77"),
        ("Skaidrā nauda", 10, None),
    ]

    listed = api.as_(Role.INTEGRATOR).get("/api/receipts?pos_id=1&z_number=1").json()
    assert [r["document_id"] for r in listed] == ["1"]
    assert list(listed[0]) == RECEIPT_KEYS
    assert list(listed[0]["rows"][0]) == RECEIPT_ROW_KEYS
    assert list(listed[0]["payments"][0]) == RECEIPT_PAYMENT_KEYS
    assert (listed[0]["station_pos_id"], listed[0]["z_number"], listed[0]["changed_amount"]) == (
        "01",
        1,
        3.83,
    )
    assert listed[0]["rows"][0]["max_quantity"] == 3

    closed = pos1.close_shift()
    assert closed.status_code == 200, closed.text
    z = closed.json()
    assert (z["z_number"], z["grand_total"], z["close_employee_name"]) == (1, 16.17, "Anna")
    assert z["report"]["receipts"] == 1
    assert z["report"]["payments"] == [
        {"method_name": "Karte", "amount": 10},
        {"method_name": "Skaidrā nauda", "amount": 6.17},
    ]
    shifts = (
        api.as_(Role.INTEGRATOR)
        .get(f"/api/shifts?station_id={pos1.id}&z_number_from=1&z_number_to=1")
        .json()
    )
    assert [list(s) for s in shifts] == [SHIFT_KEYS]
    assert (shifts[0]["z_number"], shifts[0]["grand_total"], shifts[0]["station_name"]) == (
        1,
        16.17,
        "POS1",
    )
    jobs = api.as_(Role.ADMIN).get("/api/invoices").json()  # still readable after close
    assert jobs[0]["status"] == 30


@pytest.mark.parametrize("pos_id", ["99999999999999999999", "9223372036854775808", "²", "١"])
def test_a_pos_number_no_station_can_have_lists_no_receipts(
    api: Api, pos1: Station, pos_id: str
) -> None:
    """Digits outside ASCII (``str.isdigit`` takes them) and numbers past a stored integer were
    a 500 (OverflowError, ValueError): they match no station."""
    assert pos1.open_shift().status_code == 200
    pos1.sell(
        api,
        {"rows": [{"text": "Maize", "quantity": 1, "price": "1.00"}]},
        payments=[{"method_id": 1}],
    )
    listed = api.as_(Role.INTEGRATOR).get("/api/receipts", params={"pos_id": pos_id})
    assert (listed.status_code, listed.json()) == (200, [])
    assert api.as_(Role.INTEGRATOR).get("/api/receipts?pos_id=1").json() != []


def test_only_one_station_wins_a_claim(api: Api, pos1: Station, pos2: Station) -> None:
    invoice = post_invoice(api)
    assert pos1.claim(invoice["id"]).status_code == 200
    second = pos2.claim(invoice["id"])
    assert second.status_code == 409
    assert second.json() == {"detail": f"Invoice {invoice['id']} is open at station {pos1.id}."}
    assert pos1.claim(invoice["id"]).status_code == 200  # renewing one's own claim is fine
    assert pos2.post(f"/api/invoice/{invoice['id']}/release").status_code == 409
    released = pos1.post(f"/api/invoice/{invoice['id']}/release")
    assert released.json()["status"] == 10
    assert pos2.claim(invoice["id"]).status_code == 200


def test_expired_lease_lets_another_station_claim(
    api: Api, pos1: Station, pos2: Station, settings: Any
) -> None:
    invoice = post_invoice(api)
    assert pos1.claim(invoice["id"]).status_code == 200
    db = open_database(settings.database_url)
    db.run(
        lambda conn: conn.execute(
            "UPDATE invoices SET lease_expires_at = 1 WHERE id = :id", {"id": invoice["id"]}
        )
    )
    db.close()
    assert pos2.claim(invoice["id"]).status_code == 200
    assert pos1.complete(invoice["id"]).status_code == 409  # pos1 lost it


def test_completing_twice_is_a_no_op_with_the_same_request_id(api: Api, pos1: Station) -> None:
    invoice = post_invoice(api)
    pos1.open_shift()
    pos1.claim(invoice["id"])
    first = pos1.complete(invoice["id"], "req-1", payments=[{"method_id": 1, "amount": 5}])
    again = pos1.complete(invoice["id"], "req-1", payments=[{"method_id": 1, "amount": 5}])
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert len(again.json()["receipts"]) == 1
    other = pos1.complete(invoice["id"], "req-2")
    assert other.status_code == 409
    assert (first.json()["total_sum"], first.json()["changed_sum"]) == (3, 2)


@pytest.mark.parametrize(
    ("payments", "message"),
    [
        ([{"method_id": 1, "amount": 2}], "Underpaid: 1 of 3 is still due."),
        (
            [{"method_id": 2, "amount": 4}],
            "Card and transfer payments (4) may not exceed the amount due (3); only cash gives change.",
        ),
        (
            [{"method_id": 2, "amount": 2}, {"method_id": 3, "amount": 2}],
            "Card and transfer payments (4) may not exceed the amount due (3); only cash gives change.",
        ),
    ],
)
def test_bad_payments_are_refused_and_nothing_is_written(
    api: Api, pos1: Station, payments: Any, message: str
) -> None:
    invoice = post_invoice(api)
    pos1.open_shift()
    pos1.claim(invoice["id"])
    refused = pos1.complete(invoice["id"], payments=payments)
    assert refused.status_code == 400
    assert refused.json() == {"payments": [message]}
    after = api.as_(Role.INTEGRATOR).get(f"/api/invoice/{invoice['id']}").json()
    assert (after["status"], after["receipts"]) == (20, [])
    assert api.as_(Role.ADMIN).get("/api/receipts").json() == []
    assert pos1.complete(invoice["id"], payments=[{"method_id": 1}]).status_code == 200
    assert pos1.get(f"/api/stations/{pos1.id}").json()["last_document_id"] == "1"  # no gap


def test_state_rules(api: Api, pos1: Station, pos2: Station) -> None:
    invoice = post_invoice(api)
    assert pos1.claim(invoice["id"]).status_code == 200
    no_shift = pos1.complete(invoice["id"])
    assert no_shift.status_code == 409
    assert no_shift.json() == {"detail": "This station has no open shift; open one first."}
    assert pos1.open_shift().status_code == 200
    assert pos1.open_shift().status_code == 409
    held = pos1.close_shift()
    assert held.status_code == 409
    assert "still open at this station" in held.json()["detail"]
    # A station acting for another station.
    assert pos2.post(f"/api/stations/{pos1.id}/shift/close").status_code == 403
    assert pos2.complete(invoice["id"]).status_code == 409
    # Cancelled invoices cannot be claimed.
    other = post_invoice(api)
    cancelled = api.as_(Role.INTEGRATOR).post(f"/api/invoice/{other['id']}/cancel")
    assert cancelled.json()["status_name"] == "Cancelled"
    refused = pos2.claim(other["id"])
    assert refused.status_code == 409
    assert refused.json() == {"detail": f"Invoice {other['id']} is Cancelled and cannot be opened."}
    assert api.as_(Role.INTEGRATOR).post(f"/api/invoice/{other['id']}/cancel").status_code == 409
    assert pos1.claim(999999).status_code == 404
    assert api.as_(Role.INTEGRATOR).post(f"/api/invoice/{invoice['id']}/claim").status_code == 403


def test_only_rows_that_allow_it_can_be_edited(api: Api, pos1: Station) -> None:
    invoice = post_invoice(
        api,
        {
            "rows": [
                {"text": "Siers", "quantity": 1, "price": 10, "is_weight": True},
                {"text": "Maize", "quantity": 1, "price": 2},
            ]
        },
    )
    rows = invoice["rows"]
    pos1.open_shift()
    pos1.claim(invoice["id"])
    refused = pos1.complete(
        invoice["id"],
        rows=[{"id": rows[1]["id"], "quantity": 2}, {"id": rows[0]["id"], "price": 1}],
    )
    assert refused.status_code == 400
    assert refused.json() == {
        "rows": [
            {"quantity": ["This row's quantity is fixed (it is not is_weight)."]},
            {"price": ["This row's price is fixed (it is not is_free_price)."]},
        ]
    }
    done = pos1.complete(
        invoice["id"],
        rows=[{"id": rows[0]["id"], "quantity": "0.455"}],
        payments=[{"method_id": 1}],
    )
    assert done.status_code == 200, done.text
    assert done.json()["total_sum"] == 6.55  # 0.455 × 10 + 2
    assert done.json()["rows"][0]["quantity"] == 0.455
    assert done.json()["rows"][0]["init_quantity"] == 1


def test_an_edit_is_named_at_its_own_row_and_a_row_edited_twice_is_refused(
    api: Api, pos1: Station
) -> None:
    """Two edits of one row were taken, the last silently winning; and a weight edit under the
    row's money-off discount was named at the invoice row's position and ``discount``, neither
    of which the request had sent."""
    invoice = post_invoice(
        api,
        {
            "rows": [
                {"text": "Maize", "quantity": 1, "price": 2},
                {
                    "text": "Siers",
                    "quantity": 1,
                    "price": 10,
                    "is_weight": True,
                    "discount": 5,
                    "discount_type": "amount",
                },
            ]
        },
    )
    cheese = invoice["rows"][1]["id"]
    pos1.open_shift()
    pos1.claim(invoice["id"])
    twice = pos1.complete(
        invoice["id"],
        rows=[{"id": cheese, "quantity": "0.6"}, {"id": cheese, "quantity": "0.7"}],
        payments=[{"method_id": 1}],
    )
    assert (twice.status_code, twice.json()) == (
        400,
        {"rows": [{}, {"id": ["This row is listed more than once."]}]},
    )
    under = pos1.complete(
        invoice["id"], rows=[{"id": cheese, "quantity": "0.1"}], payments=[{"method_id": 1}]
    )
    assert (under.status_code, under.json()) == (
        400,
        {"rows": [{"quantity": ["The discount cannot exceed the line amount at this quantity."]}]},
    )
    assert api.as_(Role.INTEGRATOR).get(f"/api/invoice/{invoice['id']}").json()["status"] == 20
    done = pos1.complete(
        invoice["id"], rows=[{"id": cheese, "quantity": "0.6"}], payments=[{"method_id": 1}]
    )
    assert done.status_code == 200, done.text
    assert done.json()["total_sum"] == 3  # 2 + 0.6 × 10 − 5


def test_refund_against_the_original_receipt(api: Api, pos1: Station) -> None:
    sale = post_invoice(api, {"rows": [{"text": "Kafija", "quantity": 3, "price": 2}]})
    pos1.open_shift()
    pos1.claim(sale["id"])
    sold = pos1.complete(sale["id"], payments=[{"method_id": 1}]).json()
    number = sold["check_num"]

    def refund(quantity: int, request_id: str) -> tuple[int, Any]:
        invoice = post_invoice(
            api,
            {
                "mode": 2,
                "parent_document_id": number,
                "parent_pos_id": "1",
                "rows": [{"text": "Kafija", "quantity": quantity, "price": 2}],
            },
        )
        pos1.claim(invoice["id"])
        return invoice["id"], pos1.complete(invoice["id"], request_id, payments=[{"method_id": 1}])

    _, first = refund(2, "ref-1")
    assert first.status_code == 200, first.text
    [receipt] = first.json()["receipts"]
    assert (receipt["mode"], receipt["parent_station"], receipt["parent_document_id"]) == (
        3,
        pos1.id,
        number,
    )
    refused_id, too_much = refund(2, "ref-2")
    assert too_much.status_code == 400
    assert too_much.json() == {
        "rows": [{"quantity": ["Only 1 of this row may still be refunded."]}]
    }
    assert pos1.post(f"/api/invoice/{refused_id}/release").status_code == 200
    original = api.as_(Role.ADMIN).get(f"/api/invoice/{sale['id']}").json()["receipts"][0]
    assert original["refunded_at"] is not None
    assert (original["rows"][0]["max_quantity"], original["rows"][0]["max_amount"]) == (1, 2)
    z = pos1.close_shift().json()
    assert (z["report"]["sales"], z["report"]["refunds"], z["report"]["turnover"]) == (6, 4, 2)
    assert z["grand_total"] == 6


def test_non_fiscal_slip_completes_without_a_receipt(api: Api, pos1: Station) -> None:
    slip = post_invoice(api, json.loads((EXAMPLES / "non_fiscal_slip.json").read_text()))
    pos1.claim(slip["id"])
    paid = pos1.complete(slip["id"], payments=[{"method_id": 1}], rows=[{"id": 1}])
    assert (paid.status_code, paid.json()) == (
        400,
        {
            "payments": ["A non-fiscal slip takes no payments: it issues no receipt."],
            "rows": ["A non-fiscal slip takes no rows: it issues no receipt."],
        },
    )
    done = pos1.complete(slip["id"])
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["check_num"], done.json()["receipts"]) == (
        30,
        None,
        [],
    )


def test_feed_shows_what_the_station_may_take(api: Api, pos1: Station) -> None:
    other_group = register(api, "Far", "09", group="2")
    mine = post_invoice(api, {"pos_id": 1, "rows": [{"text": "a", "quantity": 1, "price": 1}]})
    anyone = post_invoice(api)
    post_invoice(api, {"pos_id": 2, "rows": [{"text": "b", "quantity": 1, "price": 1}]})
    feed = pos1.get(f"/api/stations/{pos1.id}/feed").json()
    assert [i["id"] for i in feed] == [mine["id"], anyone["id"]]
    assert other_group.get(f"/api/stations/{other_group.id}/feed").json() == []
    # Visibility follows the feed: another group's station cannot read or claim them.
    assert other_group.get(f"/api/invoice/{mine['id']}").status_code == 404
    assert other_group.claim(anyone["id"]).status_code == 404


def test_long_poll_wakes_when_an_invoice_arrives(api: Api, pos1: Station) -> None:
    result: dict[str, Any] = {}

    def wait_for_feed() -> None:
        started = time.monotonic()
        result["items"] = pos1.get(f"/api/stations/{pos1.id}/feed?wait=20").json()
        result["seconds"] = time.monotonic() - started

    waiter = threading.Thread(target=wait_for_feed)
    waiter.start()
    time.sleep(0.3)
    invoice = post_invoice(api)
    waiter.join(timeout=30)
    assert [i["id"] for i in result["items"]] == [invoice["id"]]
    assert result["seconds"] < 20  # woke up, did not run into the timeout


def test_long_poll_answers_at_once_while_the_server_shuts_down(
    api: Api, pos1: Station, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shutdown ends a long-poll with what it has (docs/deploy.md, "Stopping"); the process
    itself is tested in tests/e2e/test_graceful_shutdown.py."""
    draining = threading.Event()
    draining.set()
    monkeypatch.setattr(invoice_routes, "DRAINING", draining)
    started = time.monotonic()
    answer = pos1.get(f"/api/stations/{pos1.id}/feed?wait=20")
    assert (answer.status_code, answer.json()) == (200, [])
    assert time.monotonic() - started < 5


def test_a_station_key_finds_its_own_station(api: Api, pos1: Station) -> None:
    me = pos1.get("/api/stations/me")
    assert (me.status_code, me.json()["id"], me.json()["pos_id"]) == (200, pos1.id, "01")
    assert api.as_(Role.ADMIN).get("/api/stations/me").status_code == 403


def test_registration_rules(api: Api, pos1: Station) -> None:
    duplicate = api.as_(Role.ADMIN).post(
        "/api/stations", json={"name": "X", "pos_id": "1", "chassis_id": "c"}
    )
    assert duplicate.status_code == 400
    assert duplicate.json() == {"pos_id": ["A station with this pos_id already exists."]}
    assert (
        api.as_(Role.INTEGRATOR)
        .post("/api/stations", json={"name": "X", "pos_id": "5", "chassis_id": "c"})
        .status_code
        == 403
    )
    bad = api.as_(Role.ADMIN).post(
        "/api/stations", json={"name": "X", "pos_id": "A1", "chassis_id": "c"}
    )
    assert bad.status_code == 400
    assert list(bad.json()) == ["pos_id"]
    listed = api.as_(Role.ADMIN).get("/api/stations").json()
    assert [s["pos_id"] for s in listed] == ["01"]


def _busy_day(api: Api, station: Station, sales: int) -> None:
    station.open_shift()
    for n in range(sales):
        invoice = post_invoice(
            api,
            {"rows": [{"text": f"Prece {n}", "quantity": n + 1, "price": "1.10", "tax": n % 3}]},
        )
        station.claim(invoice["id"])
        assert (
            station.complete(invoice["id"], payments=[{"method_id": 1 + n % 2}]).status_code == 200
        )
    assert station.close_shift().status_code == 200
    station.open_shift()


@pytest.mark.parametrize(
    ("tamper", "finding"),
    [
        (
            "UPDATE receipt_rows SET amount = amount + 1 WHERE id = 2",
            "receipt 2: content does not match its hash (altered)",
        ),
        (
            "UPDATE receipts SET bruto_amount = 1 WHERE document_id = '3'",
            "receipt 3: content does not match its hash (altered)",
        ),
        (
            "DELETE FROM receipt_payments WHERE receipt_id = 4",
            "receipt 4: content does not match its hash (altered)",
        ),
        (
            "UPDATE shifts SET grand_total = 1 WHERE z_number = 1",
            "Z 1: grand total 1 is not cumulative",
        ),
        (
            "UPDATE shifts SET report = '{}' WHERE z_number = 1",
            "Z 1: stored totals differ from the sum of its receipts",
        ),
    ],
)
def test_verify_passes_on_a_busy_day_and_finds_tampering(
    api: Api, pos1: Station, settings: Any, tamper: str, finding: str
) -> None:
    _busy_day(api, pos1, 5)
    assert verify_database(settings.database_url) == []
    run_sql(settings.database_url, tamper)
    problems = verify_database(settings.database_url)
    assert any(finding in p for p in problems), problems


def test_verify_finds_a_removed_receipt(api: Api, pos1: Station, settings: Any) -> None:
    _busy_day(api, pos1, 3)
    run_sql(settings.database_url, "DELETE FROM receipt_payments WHERE receipt_id = 3")
    run_sql(settings.database_url, "DELETE FROM receipt_rows WHERE receipt_id = 3")
    run_sql(settings.database_url, "DELETE FROM print_jobs WHERE receipt_id = 3")
    run_sql(settings.database_url, "DELETE FROM receipts WHERE id = 3")
    problems = verify_database(settings.database_url)
    assert any("is not the chain head" in p for p in problems), problems
    assert any("3 numbers issued, 2 receipts kept" in p for p in problems), problems


def _product(api: Api, **fields: Any) -> dict[str, Any]:
    response = api.as_(Role.ADMIN).post("/api/products", json=fields)
    assert response.status_code == 201, response.text
    product: dict[str, Any] = response.json()
    return product


def test_walk_in_sale_by_barcode_code_and_text(api: Api, pos1: Station) -> None:
    coffee = _product(
        api,
        name="Kafija Rīga",
        price="3.20",
        code=4777,
        barcodes=[
            {
                "barcode": "4750000000011",
                "discount": 0,
                "discount_type": None,
                "default_quantity": 1,
            },
            {
                "barcode": "4750000000028",
                "discount": 10,
                "discount_type": "percent",
                "default_quantity": 6,
            },
        ],
    )
    _product(api, name="Maize", price="1.10", code=12, tax=1, no_discount=True)
    pos1.open_shift()
    sale = pos1.post(
        f"/api/stations/{pos1.id}/receipts",
        {
            "request_id": "walk-1",
            "rows": [
                {"barcode": "4750000000028"},  # a six-pack with its own 10 % off
                {"code": 12},
                {"text": "Maisiņš", "price": "0.10", "tax": 3},
            ],
            "discount": 1,
            "discount_type": "amount",
            "payments": [{"method_id": 1, "amount": 20}],
            "cashier_name": "Anna",
        },
    )
    assert sale.status_code == 201, sale.text
    receipt = sale.json()
    assert list(receipt) == RECEIPT_KEYS
    assert (receipt["mode"], receipt["document_id"]) == (1, "1")
    rows = receipt["rows"]
    assert [
        (r["product_id"], r["product_name"], r["product_code"], r["barcode"], r["quantity"])
        for r in rows
    ] == [
        (coffee["id"], "Kafija Rīga", "4777", "4750000000028", 6),
        (rows[1]["product_id"], "Maize", "12", None, 1),
        (None, "Maisiņš", None, None, 1),
    ]
    # 6 × 3.20 = 19.20 − 10 % = 17.28; bread is no_discount, so the 1.00 goes on coffee and bag.
    assert [r["amount"] for r in rows] == [16.29, 1.1, 0.09]
    assert receipt["bruto_amount"] == 17.48
    assert (receipt["changed_amount"], receipt["payments"][0]["amount"]) == (2.52, 20)
    again = pos1.post(
        f"/api/stations/{pos1.id}/receipts",
        {"request_id": "walk-1", "rows": [{"code": 12}], "payments": [{"method_id": 1}]},
    )
    assert again.json() == receipt  # a retry: the same receipt, nothing new

    refund = pos1.post(
        f"/api/stations/{pos1.id}/receipts",
        {
            "request_id": "walk-2",
            "mode": 3,
            "parent_document_id": "1",
            "parent_pos_id": "1",
            "rows": [{"code": 12}],
            "payments": [{"method_id": 1}],
        },
    )
    assert refund.status_code == 201, refund.text
    assert (refund.json()["mode"], refund.json()["bruto_amount"]) == (3, 1.1)
    listed = api.as_(Role.ADMIN).get(f"/api/receipts?station_id={pos1.id}&document_id=1").json()
    assert listed[0]["rows"][1]["max_quantity"] == 0


def test_a_walk_in_refund_names_its_original_by_number_and_pos(api: Api, pos1: Station) -> None:
    """A refund naming only the original's number was checked against POS "0", another till:
    it refunded that till's receipt. Now half a reference is refused, as on an invoice."""
    till0 = register(api, "Kase 0", "0")
    assert till0.open_shift().status_code == 200
    row = {"text": "Maize", "price": "1.10"}
    sold = till0.post(
        f"/api/stations/{till0.id}/receipts",
        {"request_id": "s0", "rows": [row], "payments": [{"method_id": 1}]},
    )
    assert sold.status_code == 201, sold.text
    assert pos1.open_shift().status_code == 200

    def refund(request_id: str, mode: int = 3, **parent: str) -> Any:
        return pos1.post(
            f"/api/stations/{pos1.id}/receipts",
            {
                "request_id": request_id,
                "mode": mode,
                "rows": [row],
                "payments": [{"method_id": 1}],
                **parent,
            },
        )

    half = {"parent_pos_id": ["Give both parent_document_id and parent_pos_id."]}
    assert (
        refund("r1", parent_document_id="1").json(),
        refund("r2", parent_pos_id="0").json(),
    ) == (
        half,
        half,
    )
    not_a_refund = refund("r3", mode=1, parent_document_id="1", parent_pos_id="0")
    assert not_a_refund.json() == {"parent_document_id": ["Only a refund (mode 3) has a parent."]}
    original = api.as_(Role.ADMIN).get(f"/api/receipts?station_id={till0.id}").json()[0]
    assert original["rows"][0]["max_quantity"] == 1
    assert api.as_(Role.ADMIN).get(f"/api/receipts?station_id={pos1.id}").json() == []

    named = refund("r4", parent_document_id="1", parent_pos_id="0")
    assert named.status_code == 201, named.text
    original = api.as_(Role.ADMIN).get(f"/api/receipts?station_id={till0.id}").json()[0]
    assert original["rows"][0]["max_quantity"] == 0


def test_walk_in_bad_rows_name_the_row_and_write_nothing(api: Api, pos1: Station) -> None:
    _product(api, name="Maize", price="1.10", code=12)
    pos1.open_shift()
    refused = pos1.post(
        f"/api/stations/{pos1.id}/receipts",
        {
            "request_id": "bad",
            "rows": [
                {"barcode": "0000"},
                {"code": 12, "price": "0.50"},
                {"text": "Bez cenas"},
                {"code": 12, "text": "abi"},
                {"text": "x", "price": "1.001"},
            ],
            "payments": [{"method_id": 1}],
        },
    )
    assert refused.status_code == 400
    assert refused.json() == {
        "rows": [
            {"barcode": ["No product has this barcode."]},
            {"price": ["This product's price is fixed (it is not is_free_price)."]},
            {"price": ["A free-text row needs a price."]},
            ["Give exactly one of barcode, code or text."],
            {"price": ["Ensure that there are no more than 2 decimal places."]},
        ]
    }
    assert api.as_(Role.ADMIN).get("/api/receipts").json() == []
    # A receipt keeps no fiscal section: the field was taken, never checked, and lost.
    sectioned = pos1.post(
        f"/api/stations/{pos1.id}/receipts",
        {
            "request_id": "sectioned",
            "rows": [{"text": "F", "price": "1", "fiscal_section": 999}],
            "payments": [{"method_id": 1}],
        },
    )
    assert (sectioned.status_code, sectioned.json()) == (
        400,
        {"rows": [{"fiscal_section": ["Unknown field."]}]},
    )
    assert api.as_(Role.ADMIN).get("/api/receipts").json() == []
    pos3 = register(api, "POS3", "03")
    no_shift = pos3.post(
        f"/api/stations/{pos3.id}/receipts", {"request_id": "x", "rows": [{"code": 12}]}
    )
    assert no_shift.status_code == 409


def test_an_invoice_another_station_holds_is_not_found_by_another_group(
    api: Api, pos1: Station
) -> None:
    # Held by a station of group 1: a station of group 2 must not learn that (404, not 409).
    other_group = register(api, "POS3", "03", group="2")
    invoice = post_invoice(api)
    assert pos1.claim(invoice["id"]).status_code == 200
    assert other_group.claim(invoice["id"]).status_code == 404


def test_a_disabled_station_cannot_claim(api: Api, pos1: Station, pos2: Station) -> None:
    invoice = post_invoice(api)
    assert pos1.claim(invoice["id"]).status_code == 200
    disabled = api.as_(Role.ADMIN).patch(f"/api/stations/{pos2.id}", json={"disabled": True})
    assert disabled.status_code == 200, disabled.text
    # Its own key no longer works; an admin acting for it gets the station's 403.
    assert pos2.claim(invoice["id"]).status_code in (401, 403)
    acting = api.as_(Role.ADMIN).post(f"/api/invoice/{invoice['id']}/claim?station_id={pos2.id}")
    assert acting.status_code == 403, acting.text
