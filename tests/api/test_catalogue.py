"""The catalogue API through the real app and database (SQLite and PostgreSQL): products,
categories, reference data, the station sync feed; and catalogue import/export."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from minipos.auth.principal import Role
from minipos.catalogue import files as catalogue_files
from minipos.catalogue.service import import_export
from minipos.config import Settings
from minipos.db import Database, open_database
from minipos.domain.reference import ReferenceData
from minipos.timeutil import now_us
from support import Api

PRODUCT_KEYS = [
    "id", "barcodes", "addons", "status", "code", "name", "price", "is_free_price", "is_weight",
    "default_quantity", "payload", "created_at", "updated_at", "info", "no_discount", "category",
    "fiscal_section", "tax",
]  # fmt: skip
CHANGE_KEYS = [*PRODUCT_KEYS, "revision", "deleted"]
BARCODE_KEYS = ["barcode", "discount", "discount_type", "default_quantity"]
CATEGORY_KEYS = ["id", "name", "parent", "created_at", "updated_at"]
AWARE_MICROS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d$")

DOCUMENTED_BLOCKS = [
    {"kind": "text", "content": "Some text here1"},
    {"kind": "barcode", "type": 2, "code": "1234567890123"},
    {"kind": "text", "content": "Some text here2"},
]
#: The public API docs' "Create new Product Advanced", the request as documented (its blocks cut off there).
ADVANCED_CREATE = {
    "barcodes": [
        {"barcode": "1215846233", "discount": 0, "discount_type": None, "default_quantity": 1},
        {"barcode": "456231879", "discount": 10, "discount_type": "percent", "default_quantity": 1},
        {"barcode": "4584932146", "discount": 0, "discount_type": None, "default_quantity": 5},
    ],
    "addons": [9, 3],
    "status": 1,
    "code": 4788,
    "name": "ItemName Advanced",
    "price": 1,
    "is_free_price": False,
    "is_weight": False,
    "default_quantity": 1,
    "payload": "SomePayload",
    "info": {"blocks": DOCUMENTED_BLOCKS},
}
#: The public API docs' "Change Product by ID", with the barcodes of "GET Product by ID" where the documented body is cut off.
DOCUMENTED_PUT = {
    "code": 4777,
    "name": "ItemName",
    "price": "1.00",
    "is_free_price": False,
    "is_weight": False,
    "default_quantity": "1.000",
    "payload": "SomePayload",
    "info": {"blocks": DOCUMENTED_BLOCKS},
    "no_discount": False,
    "category": 1,
    "fiscal_section": 1,
    "tax": 0,
    "barcodes": [
        {"barcode": "3475557112", "discount": 0, "discount_type": None, "default_quantity": 1},
        {
            "barcode": "1234444712",
            "discount": 10,
            "discount_type": "percent",
            "default_quantity": 1,
        },
        {"barcode": "1234444755", "discount": 0, "discount_type": None, "default_quantity": 5},
    ],
    "addons": [9, 3],
    "status": 1,
}
#: The public API docs' "GET Product by ID", as far as documented (after ``updated_at`` only ``info`` shows).
DOCUMENTED_BY_ID = {
    "id": 12,
    "barcodes": [
        {"barcode": "3475557112", "discount": 0, "discount_type": None, "default_quantity": 1},
        {
            "barcode": "1234444712",
            "discount": 10,
            "discount_type": "percent",
            "default_quantity": 1,
        },
        {"barcode": "1234444755", "discount": 0, "discount_type": None, "default_quantity": 5},
    ],
    "addons": [9, 3],
    "status": 1,
    "code": 4777,
    "name": "ItemName",
    "price": 1,
    "is_free_price": False,
    "is_weight": False,
    "default_quantity": 1,
    "payload": "SomePayload",
}


def send(api: Api, method: str, path: str, body: Any, role: Role | None = Role.ADMIN) -> Any:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return api.as_(role).request(
        method, path, content=content, headers={"Content-Type": "application/json"}
    )


def create(api: Api, body: dict[str, Any], path: str = "/api/products") -> dict[str, Any]:
    response = send(api, "POST", path, body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def products(api: Api, n: int, **extra: Any) -> list[dict[str, Any]]:
    return [create(api, {"name": f"P{i}", "price": i, **extra}) for i in range(1, n + 1)]


def count(api: Api) -> int:
    return int(api.as_(Role.ADMIN).get("/api/products").headers["X-Total-Count"])


def changes(api: Api, cursor: int | str = 0, **params: Any) -> list[dict[str, Any]]:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    response = api.as_(Role.STATION).get(f"/api/products?updated_since={cursor}&{query}")
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


def last_revision(api: Api) -> int:
    feed = changes(api)
    return int(feed[-1]["revision"]) if feed else 0


def next_link(response: Any) -> str | None:
    link = response.headers.get("Link")
    if link is None:
        return None
    match = re.match(r"<([^>]+)>", link)
    assert match is not None
    return match[1]


# --- the documented examples ----------------------------------------------------------------


def test_documented_examples_round_trip(api: Api) -> None:
    create(api, {"name": "Preces"}, "/api/categories")
    products(api, 9)  # ids 1-9: the addons 9 and 3 of the examples exist
    advanced = create(api, ADVANCED_CREATE)
    assert list(advanced) == PRODUCT_KEYS
    assert advanced["id"] == 10
    assert {k: advanced[k] for k in ADVANCED_CREATE} == {
        **ADVANCED_CREATE,
        "info": {"blocks": DOCUMENTED_BLOCKS},
    }
    assert (advanced["no_discount"], advanced["category"], advanced["fiscal_section"]) == (
        False,
        None,
        1,
    )
    assert AWARE_MICROS.match(advanced["created_at"])
    assert advanced["created_at"] == advanced["updated_at"]
    products(api, 2)  # ids 11 and 12

    put = send(api, "PUT", "/api/products/12", DOCUMENTED_PUT)
    assert put.status_code == 200, put.text
    changed = put.json()
    assert list(changed) == PRODUCT_KEYS
    assert all(list(b) == BARCODE_KEYS for b in changed["barcodes"])
    assert {k: changed[k] for k in DOCUMENTED_BY_ID} == DOCUMENTED_BY_ID
    assert changed["info"] == {"blocks": DOCUMENTED_BLOCKS}
    assert (changed["category"], changed["fiscal_section"], changed["tax"]) == (1, 1, 0)
    assert changed["created_at"] < changed["updated_at"]
    assert AWARE_MICROS.match(changed["updated_at"])
    # Decimals go out as plain numbers, whatever came in ("1.00" → 1).
    raw = api.as_(Role.INTEGRATOR).get("/api/products/12").content
    assert b'"price":1,' in raw
    assert b'"default_quantity":1,"payload"' in raw

    by_id = api.as_(Role.INTEGRATOR).get("/api/products/12")
    assert by_id.json() == changed
    listed = api.as_(Role.INTEGRATOR).get("/api/products?barcode=3475557112").json()
    assert listed == [changed]  # the list shows the same full shape as by id
    # The documented list item is a prefix of ours: its barcodes show only "barcode".
    assert [b["barcode"] for b in listed[0]["barcodes"]][:2] == ["3475557112", "1234444712"]


def test_basic_create_fills_the_defaults(api: Api) -> None:
    created = create(api, {"name": "Maize", "price": "1.00"})
    volatile = {"created_at", "updated_at"}
    assert {k: v for k, v in created.items() if k not in volatile} == {
        "id": 1,
        "barcodes": [],
        "addons": [],
        "status": 1,
        "code": None,
        "name": "Maize",
        "price": 1,
        "is_free_price": False,
        "is_weight": False,
        "default_quantity": 1,
        "payload": None,
        "info": {},
        "no_discount": False,
        "category": None,
        "fiscal_section": 1,
        "tax": 0,
    }


def test_decimals_may_be_strings_and_keep_their_value(api: Api) -> None:
    created = create(
        api,
        {
            "name": "Siers",
            "price": "12.30",
            "is_weight": True,
            "default_quantity": "0.250",
            "barcodes": [
                {"barcode": "2000001", "discount": "0.50", "discount_type": "amount"},
            ],
        },
    )
    assert (created["price"], created["default_quantity"]) == (12.3, 0.25)
    assert created["barcodes"][0]["discount"] == 0.5
    assert created["barcodes"][0]["discount_type"] == "amount"


# --- bad input ------------------------------------------------------------------------------

BASE = {"name": "X", "price": 1}
EAN = {"kind": "barcode", "type": 2, "code": "12345678901AB"}

BAD_INPUT = [
    ("missing name", {"price": 1}, {"name": ["This field is required."]}),
    ("missing price", {"name": "X"}, {"price": ["This field is required."]}),
    ("blank name", {**BASE, "name": ""}, {"name": ["This field may not be blank."]}),
    ("negative price", {**BASE, "price": -1}, {"price": ["Ensure this value is greater than or equal to 0."]}),
    ("three decimals", {**BASE, "price": "1.001"}, {"price": ["Ensure that there are no more than 2 decimal places."]}),
    ("not a number", {**BASE, "price": "abc"}, {"price": ["A valid number is required."]}),
    ("NaN", {**BASE, "price": "NaN"}, {"price": ["A valid number is required."]}),
    ("absurd price", b'{"name": "X", "price": 1e400}', {"price": ["Ensure this value is less than or equal to 99999999.99."]}),
    ("zero quantity", {**BASE, "default_quantity": 0}, {"default_quantity": ["Ensure this value is greater than 0."]}),
    ("unknown tax", {**BASE, "tax": 99}, {"tax": ['"99" is not a valid choice.']}),
    ("unknown section", {**BASE, "fiscal_section": 100}, {"fiscal_section": ['"100" is not a valid choice.']}),
    ("unknown status", {**BASE, "status": 7}, {"status": ["7 is not a valid choice."]}),
    ("unknown category", {**BASE, "category": 42}, {"category": ['Invalid pk "42" - object does not exist.']}),
    ("huge category", b'{"name": "X", "price": 1, "category": 99999999999999999999}', {"category": ["Ensure this value is less than or equal to 9223372036854775807."]}),
    ("unknown addon", {**BASE, "addons": [1, 99]}, {"addons": ['Invalid pk "99" - object does not exist.']}),
    ("repeated addon", {**BASE, "addons": [1, 1]}, {"addons": ['Product "1" is listed more than once.']}),
    ("existing barcode", {**BASE, "barcodes": [{"barcode": "1"}, {"barcode": "4750001"}]}, {"barcodes": [{}, {"barcode": ["A product with this barcode already exists."]}]}),
    ("repeated barcode", {**BASE, "barcodes": [{"barcode": "2"}, {"barcode": "2"}]}, {"barcodes": [{}, {"barcode": ["This barcode is listed more than once."]}]}),
    ("barcode with a space", {**BASE, "barcodes": [{"barcode": "47 50"}]}, {"barcodes": [{"barcode": ["Enter a valid value."]}]}),
    ("existing code", {**BASE, "code": 100}, {"code": ["A product with this code already exists."]}),
    ("percent over 100", {**BASE, "barcodes": [{"barcode": "3", "discount": 101, "discount_type": "percent"}]}, {"barcodes": [{"discount": ["Ensure this value is less than or equal to 100."]}]}),
    ("discount without type", {**BASE, "barcodes": [{"barcode": "3", "discount": 1}]}, {"barcodes": [{"discount_type": ['Set discount_type to "amount" or "percent" when discount is not 0.']}]}),
    ("amount over the line", {**BASE, "barcodes": [{"barcode": "3", "discount": "2.01", "discount_type": "amount", "default_quantity": 2}]}, {"barcodes": [{"discount": ["The discount cannot exceed the line amount."]}]}),
    ("unknown discount type", {**BASE, "barcodes": [{"barcode": "3", "discount": 1, "discount_type": "gift"}]}, {"barcodes": [{"discount_type": ["'gift' is not a valid choice."]}]}),
    ("unknown block kind", {**BASE, "info": {"blocks": [{"kind": "image"}]}}, {"info": {"blocks": [{"kind": ["'image' is not a valid choice."]}]}}),
    ("EAN with letters", {**BASE, "info": {"blocks": [DOCUMENTED_BLOCKS[0], EAN]}}, {"info": {"blocks": [{}, {"code": ["EAN13 (type 2) needs 12 or 13 digits (0-9)."]}]}}),
    ("blocks not a list", {**BASE, "info": {"blocks": "text"}}, {"info": {"blocks": ["Expected a list of items."]}}),
    ("array body", [1], {"non_field_errors": ["Expected a JSON object."]}),
]  # fmt: skip


@pytest.fixture
def seeded(api: Api) -> Api:
    """One product (id 1) with code 100 and barcode 4750001."""
    create(api, {**BASE, "code": 100, "barcodes": [{"barcode": "4750001"}]})
    return api


@pytest.mark.parametrize(("case", "body", "errors"), BAD_INPUT, ids=[c[0] for c in BAD_INPUT])
def test_bad_product_is_a_400_naming_the_field_and_writes_nothing(
    seeded: Api, case: str, body: Any, errors: dict[str, Any]
) -> None:
    before = changes(seeded)
    response = send(seeded, "POST", "/api/products", body)
    assert response.status_code == 400, response.text
    assert response.json() == errors
    assert count(seeded) == 1
    assert changes(seeded) == before
    # A PUT of the same body is refused the same way and changes nothing either.
    if case not in {"existing barcode", "existing code", "unknown addon", "repeated addon"}:
        assert send(seeded, "PUT", "/api/products/1", body).json() == errors
        assert changes(seeded) == before


def test_every_problem_is_reported_at_once(seeded: Api) -> None:
    body = {
        "name": "X",
        "price": "-1.005",
        "tax": 9,
        "category": 5,
        "addons": [77],
        "barcodes": [{"barcode": "9"}, {"barcode": "4750001", "default_quantity": 0}],
        "info": {"blocks": [EAN]},
    }
    assert send(seeded, "POST", "/api/products", body).json() == {
        "price": ["Ensure this value is greater than or equal to 0."],
        "tax": ['"9" is not a valid choice.'],
        "category": ['Invalid pk "5" - object does not exist.'],
        "addons": ['Invalid pk "77" - object does not exist.'],
        "barcodes": [
            {},
            {
                "barcode": ["A product with this barcode already exists."],
                "default_quantity": ["Ensure this value is greater than 0."],
            },
        ],
        "info": {"blocks": [{"code": ["EAN13 (type 2) needs 12 or 13 digits (0-9)."]}]},
    }


def test_a_product_may_keep_its_own_barcode_and_code_but_not_be_its_own_addon(
    seeded: Api,
) -> None:
    body = {**BASE, "code": 100, "barcodes": [{"barcode": "4750001"}]}
    assert send(seeded, "PUT", "/api/products/1", body).status_code == 200
    refused = send(seeded, "PATCH", "/api/products/1", {"addons": [1]})
    assert refused.status_code == 400
    assert refused.json() == {"addons": ["A product cannot be its own addon."]}


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("path", ["/api/products/7", "/api/products/99999999999999999999"])
def test_unknown_product_is_404(api: Api, method: str, path: str) -> None:
    response = send(api, method, path, BASE)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


# --- PATCH and DELETE -----------------------------------------------------------------------


def test_patch_changes_only_what_is_sent(api: Api) -> None:
    create(api, {"name": "Preces"}, "/api/categories")
    created = create(
        api, {**BASE, "code": 5, "category": 1, "barcodes": [{"barcode": "11"}], "payload": "p"}
    )
    patched = send(api, "PATCH", "/api/products/1", {"price": "2.50", "category": None}).json()
    assert (patched["price"], patched["category"]) == (2.5, None)
    unchanged = {"barcodes", "code", "payload", "name", "created_at", "info", "addons"}
    assert {k: patched[k] for k in unchanged} == {k: created[k] for k in unchanged}
    assert send(api, "PATCH", "/api/products/1", {}).json()["price"] == 2.5
    bad = send(api, "PATCH", "/api/products/1", {"price": -1, "name": ""})
    assert bad.json() == {"name": ["This field may not be blank."]}
    bad = send(api, "PATCH", "/api/products/1", {"price": -1})
    assert bad.json() == {"price": ["Ensure this value is greater than or equal to 0."]}
    assert api.as_(Role.ADMIN).get("/api/products/1").json()["price"] == 2.5


def test_put_replaces_the_whole_product(api: Api) -> None:
    create(api, {**BASE, "code": 5, "barcodes": [{"barcode": "11"}], "payload": "p"})
    replaced = send(api, "PUT", "/api/products/1", {"name": "Y", "price": 3}).json()
    assert (replaced["code"], replaced["barcodes"], replaced["payload"]) == (None, [], None)
    # Its barcode and code are free again.
    create(api, {**BASE, "code": 5, "barcodes": [{"barcode": "11"}]})


def test_delete_is_204_then_404_and_frees_barcode_and_code(api: Api) -> None:
    create(api, {**BASE, "code": 5, "barcodes": [{"barcode": "11"}]})
    assert api.as_(Role.ADMIN).delete("/api/products/1").status_code == 204
    assert api.as_(Role.ADMIN).get("/api/products/1").status_code == 404
    assert api.as_(Role.ADMIN).delete("/api/products/1").status_code == 404
    assert api.as_(Role.ADMIN).get("/api/products?barcode=11").json() == []
    assert count(api) == 0
    again = create(api, {**BASE, "code": 5, "barcodes": [{"barcode": "11"}]})
    assert api.as_(Role.ADMIN).get("/api/products?code=5").json() == [again]


def test_deleting_an_addon_removes_it_from_other_products(api: Api) -> None:
    products(api, 3)
    create(api, {**BASE, "addons": [2, 3]})  # id 4
    create(api, {**BASE, "addons": [3]})  # id 5
    cursor = last_revision(api)
    assert api.as_(Role.ADMIN).delete("/api/products/3").status_code == 204
    assert api.as_(Role.ADMIN).get("/api/products/4").json()["addons"] == [2]
    assert api.as_(Role.ADMIN).get("/api/products/5").json()["addons"] == []
    feed = changes(api, cursor)
    assert [(c["id"], c["deleted"], c["addons"]) for c in feed] == [
        (3, True, []),
        (4, False, [2]),
        (5, False, []),
    ]
    # A deleted product is no longer a valid addon.
    refused = send(api, "PATCH", "/api/products/4", {"addons": [3]})
    assert refused.json() == {"addons": ['Invalid pk "3" - object does not exist.']}


# --- lists and lookups ----------------------------------------------------------------------


def test_lookups_and_filters(api: Api) -> None:
    create(api, {"name": "Preces"}, "/api/categories")
    create(api, {**BASE, "code": 1, "barcodes": [{"barcode": "4750001"}, {"barcode": "4750002"}]})
    create(api, {**BASE, "code": 2, "category": 1, "status": 0})
    create(api, {**BASE, "code": 3, "category": 1})
    client = api.as_(Role.STATION)
    assert [p["id"] for p in client.get("/api/products?barcode=4750002").json()] == [1]
    assert [p["id"] for p in client.get("/api/products?code=3").json()] == [3]
    assert client.get("/api/products?code=4").json() == []
    assert client.get("/api/products?barcode=nope").json() == []
    assert [p["id"] for p in client.get("/api/products?category=1").json()] == [2, 3]
    assert [p["id"] for p in client.get("/api/products?status=0").json()] == [2]
    assert [p["id"] for p in client.get("/api/products?category=1&status=1").json()] == [3]
    assert client.get("/api/products?code=").headers["X-Total-Count"] == "3"  # empty: not given
    assert client.get("/api/products?code=abc").json() == {"code": ["A valid integer is required."]}
    huge = client.get("/api/products?code=99999999999999999999")
    assert huge.json() == {
        "code": ["Ensure this value is less than or equal to 9223372036854775807."]
    }


def test_list_pages_with_link(api: Api) -> None:
    products(api, 5)
    client = api.as_(Role.INTEGRATOR)
    seen: list[int] = []
    url: str | None = "/api/products?limit=2"
    while url:
        page = client.get(url)
        assert page.headers["X-Total-Count"] == "5"
        assert all(list(p) == PRODUCT_KEYS for p in page.json())
        seen += [p["id"] for p in page.json()]
        url = next_link(page)
    assert seen == [1, 2, 3, 4, 5]


# --- the station sync feed ------------------------------------------------------------------


def test_feed_returns_exactly_the_changes_in_order(api: Api) -> None:
    _, second = products(api, 2)
    initial = changes(api)
    assert [c["id"] for c in initial] == [1, 2]
    assert all(list(c) == CHANGE_KEYS for c in initial)
    cursor = initial[-1]["revision"]
    assert changes(api, cursor) == []

    send(api, "PATCH", "/api/products/1", {"price": 7})
    api.as_(Role.ADMIN).delete("/api/products/2")
    third = create(api, {"name": "P3", "price": 3})
    feed = changes(api, cursor)
    assert [(c["id"], c["deleted"]) for c in feed] == [(1, False), (2, True), (3, False)]
    revisions = [c["revision"] for c in feed]
    assert revisions == sorted(revisions)
    assert revisions[0] > cursor
    assert feed[0]["price"] == 7
    assert {k: v for k, v in feed[2].items() if k not in ("revision", "deleted")} == third
    tombstone = feed[1]
    assert (tombstone["name"], tombstone["barcodes"]) == (second["name"], [])
    assert tombstone["updated_at"] > second["updated_at"]
    # Polling on from the last revision: nothing new.
    assert changes(api, revisions[-1]) == []
    # A date-time cursor means "changed at or after": here, the same three changes.
    since = quote(feed[0]["updated_at"])
    assert changes(api, since) == feed
    assert changes(api, "2000-01-01") == changes(api, 0)
    assert changes(api, "2999-01-01") == []


def test_feed_pages_follow_the_link(api: Api) -> None:
    products(api, 5)
    send(api, "PATCH", "/api/products/2", {"price": 9})
    client = api.as_(Role.STATION)
    seen = []
    url: str | None = "/api/products?updated_since=0&limit=2"
    pages = 0
    while url:
        page = client.get(url)
        seen += [c["id"] for c in page.json()]
        url = next_link(page)
        assert url is None or "updated_since=" in url
        pages += 1
    assert seen == [1, 3, 4, 5, 2]  # product 2's latest change is the newest
    assert pages == 3


def test_feed_cursor_errors(api: Api) -> None:
    client = api.as_(Role.STATION)
    assert client.get("/api/products?updated_since=yesterday").json() == {
        "updated_since": [
            "Enter a revision number or a date-time (YYYY-MM-DD or YYYY-MM-DDThh:mm:ss)."
        ]
    }
    assert client.get("/api/products?updated_since=99999999999999999999").status_code == 400
    combined = client.get("/api/products?updated_since=0&category=1")
    assert combined.status_code == 400
    assert list(combined.json()) == ["updated_since"]
    assert client.get("/api/products?updated_since=").json() == []  # empty: the plain list


# --- categories -----------------------------------------------------------------------------


def test_category_tree(api: Api) -> None:
    root = create(api, {"name": "Preces"}, "/api/categories")
    assert list(root) == CATEGORY_KEYS
    assert (root["id"], root["parent"]) == (1, None)
    assert AWARE_MICROS.match(root["created_at"])
    child = create(api, {"name": "Piens", "parent": 1}, "/api/categories")
    grandchild = create(api, {"name": "Jogurts", "parent": child["id"]}, "/api/categories")
    client = api.as_(Role.INTEGRATOR)
    assert client.get("/api/categories/2").json() == child
    assert [c["id"] for c in client.get("/api/categories").json()] == [1, 2, 3]
    assert [c["id"] for c in client.get("/api/categories?parent=2").json()] == [3]

    cycle = send(api, "PUT", "/api/categories/1", {"name": "Preces", "parent": grandchild["id"]})
    assert cycle.status_code == 400
    assert cycle.json() == {"parent": ["A category cannot be placed under itself."]}
    itself = send(api, "PUT", "/api/categories/2", {"name": "Piens", "parent": 2})
    assert itself.json() == {"parent": ["A category cannot be placed under itself."]}
    missing = send(api, "POST", "/api/categories", {"name": "X", "parent": 9})
    assert missing.json() == {"parent": ['Invalid pk "9" - object does not exist.']}
    assert send(api, "POST", "/api/categories", {"name": ""}).json() == {
        "name": ["This field may not be blank."]
    }
    moved = send(api, "PUT", "/api/categories/3", {"name": "Jogurti", "parent": 1}).json()
    assert (moved["name"], moved["parent"], moved["created_at"]) == (
        "Jogurti",
        1,
        grandchild["created_at"],
    )
    assert client.get("/api/categories?limit=1").headers["X-Total-Count"] == "3"
    assert send(api, "PUT", "/api/categories/9", {"name": "X"}).status_code == 404


def test_category_delete_is_refused_while_used_unless_detached(api: Api) -> None:
    create(api, {"name": "Preces"}, "/api/categories")  # 1
    create(api, {"name": "Piens", "parent": 1}, "/api/categories")  # 2
    create(api, {"name": "Jogurts", "parent": 2}, "/api/categories")  # 3
    create(api, {**BASE, "category": 2})
    create(api, {**BASE, "category": 2})
    create(api, {**BASE, "category": 1})
    admin = api.as_(Role.ADMIN)
    refused = admin.delete("/api/categories/2")
    assert refused.status_code == 409
    assert refused.json()["detail"].startswith(
        "Category 2 is used by 2 product(s) and 1 child categor"
    )
    assert "detach=1" in refused.json()["detail"]
    assert admin.get("/api/categories/2").status_code == 200

    cursor = last_revision(api)
    admin = api.as_(Role.ADMIN)  # the client is shared: take the admin key back
    assert admin.delete("/api/categories/2?detach=1").status_code == 204
    assert admin.get("/api/categories/2").status_code == 404
    assert admin.get("/api/categories/3").json()["parent"] == 1  # moved up
    assert [p["category"] for p in admin.get("/api/products").json()] == [None, None, 1]
    assert [(c["id"], c["category"]) for c in changes(api, cursor)] == [(1, None), (2, None)]
    admin = api.as_(Role.ADMIN)
    assert admin.delete("/api/categories/3").status_code == 204  # unused: no detach needed
    assert admin.delete("/api/categories/1?detach=maybe").json() == {
        "detach": ["Must be a valid boolean."]
    }


# --- reference data, roles, OpenAPI ---------------------------------------------------------


def test_reference_data(api: Api) -> None:
    client = api.as_(Role.STATION)
    taxes = client.get("/api/taxes").json()
    assert taxes[0] == {
        "id": 0, "rate": 21, "name": "PVN 21%", "rates": [{"valid_from": None, "rate": 21}]
    }  # fmt: skip
    assert [t["id"] for t in taxes] == [0, 1, 2, 3, 4, 5, 6]
    # Basic foods: 21 % until Latvia's 12 % from 2026-07-01 (docs/money.md).
    assert taxes[6]["rates"] == [
        {"valid_from": None, "rate": 21},
        {"valid_from": "2026-07-01T00:00:00", "rate": 12},
    ]
    sections = client.get("/api/fiscal-sections").json()
    assert (len(sections), sections[19]) == (99, {"id": 20, "name": "Nodaļa 20"})
    assert client.get("/api/payment-methods").json() == [
        {"id": 1, "code": 0, "name": "Skaidrā nauda", "is_cash": True},
        {"id": 2, "code": 1, "name": "Karte", "is_cash": False},
        {"id": 3, "code": 2, "name": "Pārskaitījums", "is_cash": False},
    ]


READS = [
    "/api/products",
    "/api/products/1",
    "/api/products?updated_since=0",
    "/api/categories",
    "/api/categories/1",
    "/api/taxes",
    "/api/fiscal-sections",
    "/api/payment-methods",
]
WRITES = [
    ("POST", "/api/products", BASE),
    ("PUT", "/api/products/1", BASE),
    ("PATCH", "/api/products/1", {"price": 2}),
    ("DELETE", "/api/products/1", {}),
    ("POST", "/api/categories", {"name": "X"}),
    ("PUT", "/api/categories/1", {"name": "X"}),
    ("DELETE", "/api/categories/1", {}),
]


def test_roles(api: Api) -> None:
    create(api, {"name": "Preces"}, "/api/categories")
    create(api, BASE)
    for role in (Role.INTEGRATOR, Role.STATION, Role.ADMIN):
        for path in READS:
            assert api.as_(role).get(path).status_code == 200, (role, path)
    for path in READS:
        anonymous = api.as_(None).get(path)
        assert anonymous.status_code == 401
    for method, path, body in WRITES:
        for role in (Role.INTEGRATOR, Role.STATION):
            refused = send(api, method, path, body, role=role)
            assert refused.status_code == 403, (role, method, path)
            assert refused.json() == {
                "detail": "You do not have permission to perform this action."
            }
        assert send(api, method, path, body, role=None).status_code == 401
    assert count(api) == 1
    assert api.as_(Role.ADMIN).get("/api/products/1").json()["price"] == 1


def test_create_is_idempotent_with_a_key(api: Api) -> None:
    headers = {"Content-Type": "application/json", "Idempotency-Key": "p-1"}
    client = api.as_(Role.ADMIN)
    first = client.post("/api/products", content=json.dumps(BASE), headers=headers)
    again = client.post("/api/products", content=json.dumps(BASE), headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.content == first.content
    assert again.headers["Idempotent-Replayed"] == "true"
    assert count(api) == 1


def test_openapi_describes_the_catalogue(api: Api) -> None:
    spec = api.as_(None).get("/openapi.json").json()
    paths = spec["paths"]
    assert set(paths["/api/products/{id}"]) == {"get", "put", "patch", "delete"}
    assert "201" in paths["/api/products"]["post"]["responses"]
    assert "204" in paths["/api/categories/{id}"]["delete"]["responses"]
    names = [p["name"] for p in paths["/api/products"]["get"]["parameters"]]
    assert {"barcode", "code", "updated_since", "limit", "after_id"} <= set(names)
    for path in ("/api/taxes", "/api/fiscal-sections", "/api/payment-methods"):
        assert "get" in paths[path]


# --- import and export (the service functions behind `minipos catalogue import/export`) ------


@pytest.fixture
def database(settings: Settings) -> Iterator[Database]:
    db = open_database(settings.database_url)
    yield db
    db.close()


def import_rows(db: Database, rows: list[import_export.SourceRow], unit: str = "line") -> int:
    """How many products the import created."""
    return import_result(db, rows, unit).created


def import_result(
    db: Database, rows: list[import_export.SourceRow], unit: str = "line", *, dry_run: bool = False
) -> import_export.ImportResult:
    return db.run(
        lambda conn: import_export.import_products(
            conn,
            rows,
            reference=ReferenceData.default(),
            now_us=now_us(),
            unit=unit,
            dry_run=dry_run,
        )
    )


def stored(db: Database) -> list[Any]:
    return db.run(lambda conn: list(import_export.export_products(conn)))


GOOD_CSV = '''\
name,price,code,barcodes,tax,fiscal_section,category,status,is_weight,is_free_price,default_quantity,no_discount,payload
Maize,1.20,1,4750001|4750002,0,1,,1,false,false,1,no,
"Siers, Rīgas",12.30,2,4750003,1,20,,1,yes,0,0.250,true,"with ""quotes"""
Ūdens,0.99,,,,,,,,,,,
'''

BAD_CSV = """\
name;price;code;barcodes;tax
Maize;1.20;1;4750001;0
Maize;1.205;2;;0
Siers;2;3;4750003;0
"Ūdens
ar burbuļiem";-1;4;;99
Piens;1;1;4750001;0
"""


def test_import_reports_every_bad_row_and_imports_nothing(database: Database) -> None:
    rows = catalogue_files.read_csv(io.StringIO(BAD_CSV))
    with pytest.raises(import_export.ImportFailed) as caught:
        import_rows(database, rows)
    failure = caught.value
    assert failure.lines == [3, 5, 7]  # the record on lines 5-6 is reported where it starts
    assert failure.messages() == [
        "line 3: price: Ensure that there are no more than 2 decimal places.",
        "line 5: price: Ensure this value is greater than or equal to 0.",
        'line 5: tax: "99" is not a valid choice.',
        "line 7: code: The same code is on line 2.",
        "line 7: barcodes.0.barcode: The same barcode is on line 2.",
    ]
    assert stored(database) == []


def test_import_csv_then_export_round_trips(database: Database) -> None:
    rows = catalogue_files.read_csv(io.StringIO(GOOD_CSV))
    assert [r.line for r in rows] == [2, 3, 4]
    assert import_rows(database, rows) == 3
    exported = stored(database)
    assert [p.name for p in exported] == ["Maize", "Siers, Rīgas", "Ūdens"]
    cheese = exported[1]
    assert (str(cheese.price), str(cheese.default_quantity), cheese.fiscal_section) == (
        "12.3",
        "0.25",
        20,
    )
    assert (cheese.is_weight, cheese.is_free_price, cheese.no_discount) == (True, False, True)
    assert cheese.payload == 'with "quotes"'
    assert [b.barcode for b in exported[0].barcodes] == ["4750001", "4750002"]
    out = io.StringIO()
    assert catalogue_files.write_csv(exported, out) == 3
    again = [r.product for r in catalogue_files.read_csv(io.StringIO(out.getvalue()))]
    assert again == exported
    # The file is now in the catalogue: the rows with a code update their products (equal, so
    # nothing changes); the one without a code is new, but its name alone clashes with nothing.
    again_rows = catalogue_files.read_csv(io.StringIO(out.getvalue()))
    result = import_result(database, again_rows[:2])
    assert (result.created, result.updated, result.unchanged) == (0, 0, 2)


def test_reimporting_an_export_changes_nothing(api: Api, database: Database) -> None:
    create(api, ADVANCED_CREATE | {"addons": []})
    import_rows(database, catalogue_files.read_csv(io.StringIO(GOOD_CSV)))
    before = changes(api)
    exported = stored(database)
    for fmt in ("csv", "json"):
        coded = [p for p in exported if p.code is not None]
        if fmt == "csv":
            out = io.StringIO()
            catalogue_files.write_csv(coded, out)
            rows = catalogue_files.read_csv(io.StringIO(out.getvalue()))
        else:
            binary = io.BytesIO()
            catalogue_files.write_json(coded, binary)
            rows = catalogue_files.read_json(binary.getvalue())
        result = import_result(database, rows)
        assert (result.created, result.updated, result.unchanged) == (0, 0, len(coded))
        assert result.changes == ()
    assert changes(api) == before  # no revision moved
    assert stored(database) == exported  # print blocks and barcode discounts kept too


def test_import_updates_by_code_and_creates_the_rest(api: Api, database: Database) -> None:
    import_rows(database, catalogue_files.read_csv(io.StringIO(GOOD_CSV)))
    revisions = {c["id"]: c["revision"] for c in changes(api)}
    update = "name;price;code;barcodes\nMaize;1,50;1;4750001|4750002\nJauns;0,35;7;4750099\n"
    dry = import_result(database, catalogue_files.read_csv(io.StringIO(update)), dry_run=True)
    assert (dry.created, dry.updated, dry.unchanged, dry.dry_run) == (1, 1, 0, True)
    assert dry.changes[0] == import_export.RowChange(
        2, "update", 1, 1, "Maize", (import_export.FieldChange("price", "1.20", "1.50"),)
    )
    assert dry.changes[1] == import_export.RowChange(3, "create", None, 7, "Jauns")
    assert {c["id"]: c["revision"] for c in changes(api)} == revisions  # the dry run wrote nothing
    done = import_result(database, catalogue_files.read_csv(io.StringIO(update)))
    assert (done.created, done.updated, done.unchanged, done.dry_run) == (1, 1, 0, False)
    maize = api.as_(Role.ADMIN).get("/api/products/1").json()
    assert maize["price"] == 1.5
    assert maize["name"] == "Maize"
    cheese = api.as_(Role.ADMIN).get("/api/products/2").json()
    assert cheese["price"] == 12.3  # not in the file: untouched
    feed = changes(api)
    assert [c["id"] for c in feed][-2:] == [4, 1]  # the new product and the updated one
    assert feed[-1]["revision"] > revisions[3]


def test_decimal_comma_only_in_semicolon_files() -> None:
    rows = catalogue_files.read_csv(io.StringIO("name;price;default_quantity\nA;1,50;0,250\n"))
    product = rows[0].product
    assert product is not None
    assert (repr(product.price), repr(product.default_quantity)) == (
        "Decimal('1.50')",
        "Decimal('0.250')",
    )
    # With commas between cells a decimal comma splits the cell: reported, never guessed.
    rows = catalogue_files.read_csv(io.StringIO('name,price\nA,"1,50"\n'))
    assert rows[0].product is None
    assert "price" in rows[0].errors[0].message or rows[0].errors[0].path == ("price",)


def test_import_json_reports_indexes(database: Database, tmp_path: Path) -> None:
    good = [ADVANCED_CREATE | {"addons": []}, {"name": "B", "price": "2.00"}]
    bad = [*good, {"name": "C"}, {"name": "D", "price": 1, "category": 3}]
    path = tmp_path / "catalogue.json"
    path.write_text(json.dumps(bad))
    rows, unit = catalogue_files.read_file(path)
    with pytest.raises(import_export.ImportFailed) as caught:
        import_rows(database, rows, unit)
    assert caught.value.messages() == [
        "index 2: price: This field is required.",
        'index 3: category: Invalid pk "3" - object does not exist.',
    ]
    path.write_text(json.dumps(good))
    assert import_rows(database, catalogue_files.read_file(path)[0]) == 2
    out = io.BytesIO()
    assert catalogue_files.write_json(stored(database), out) == 2
    exported = json.loads(out.getvalue())
    assert exported[0]["barcodes"] == ADVANCED_CREATE["barcodes"]
    assert exported[0]["info"] == {"blocks": DOCUMENTED_BLOCKS}


def test_imported_products_are_in_the_api_and_the_feed(api: Api, database: Database) -> None:
    create(api, BASE)
    import_rows(database, catalogue_files.read_csv(io.StringIO(GOOD_CSV)))
    assert count(api) == 4
    feed = changes(api)
    assert [c["id"] for c in feed] == [1, 2, 3, 4]
    assert len({c["revision"] for c in feed}) == 4  # each imported product has its own
    found = api.as_(Role.STATION).get("/api/products?barcode=4750002").json()
    assert found[0]["name"] == "Maize"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("x.txt", "", "x.txt: use a .csv or .json file"),
        ("x.csv", "", "the file is empty"),
        ("x.csv", "name,prcie\n", "line 1: unknown column(s) prcie; missing column(s) price"),
        ("x.json", "{}", "expected a JSON array of product objects"),
        ("x.json", "[", "JSON parse error"),
    ],
)
def test_unreadable_files(tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(catalogue_files.UnreadableFile, match=re.escape(message)):
        catalogue_files.read_file(path)
