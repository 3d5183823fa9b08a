"""Input errors (issue 16): every field error of a request at once, and unknown body fields and
query parameters refused by name unless ``MINIPOS_UNKNOWN_FIELDS=ignore``
(docs/api-conventions.md, "Errors")."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from starlette.testclient import TestClient

from minipos.api.jsonio import decode, drf_errors, reject_unknown
from minipos.auth.principal import Role
from minipos.bootstrap import create_app
from minipos.catalogue.schemas import Barcode
from minipos.config import ConfigError, Settings, load_env
from minipos.domain.errors import ValidationFailed
from minipos.employees.schemas import Code as EmployeeCode
from minipos.employees.schemas import Pin
from minipos.invoices.schemas import InvoiceIn
from minipos.jsoncodec import field_error
from minipos.stations.schemas import PosId as StationPosId
from minipos.stores.schemas import Code as StoreCode
from minipos.stores.schemas import DocumentId as StoreDocumentId
from support import Api, register

REQUIRED = ["This field is required."]
UNKNOWN = ["Unknown field."]
ROW = {"text": "Product 1", "quantity": 1, "price": 2.34}


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> str:
    """SQLite only: these rules are the decoder's, not the database's."""
    path = tmp_path / "minipos.sqlite3"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def lenient(settings: Settings, keys: dict[Role, str]) -> Iterator[Api]:
    """The same server with ``MINIPOS_UNKNOWN_FIELDS=ignore``."""
    app = create_app(msgspec.structs.replace(settings, unknown_fields="ignore"))
    with TestClient(app) as client:
        yield Api(client, keys)


def send(api: Api, method: str, path: str, body: Any, role: Role = Role.ADMIN) -> Any:
    return api.as_(role).request(
        method,
        path,
        content=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )


def post_invoice(api: Api, body: Any, query: str = "") -> Any:
    return send(api, "POST", f"/api/invoice/new{query}", body, Role.INTEGRATOR)


# --- every error at once ---------------------------------------------------------------------


def test_missing_text_does_not_hide_the_next_rows_negative_price(api: Api) -> None:
    body = {"rows": [{"quantity": 1, "price": 1}, {**ROW, "price": -1}]}
    response = post_invoice(api, body)
    assert response.status_code == 400
    assert response.json() == {
        "rows": [
            {"text": REQUIRED},
            {"price": ["Ensure this value is greater than or equal to 0."]},
        ]
    }


def test_type_errors_and_block_rules_in_one_answer(api: Api) -> None:
    body = {
        "mode": 9,
        "pos_id": "one",
        "rows": [{**ROW, "quantity": "x"}, ROW, {**ROW, "tax": "0"}],
        "info": {
            "slip": [
                {"kind": "text", "content": 5},
                {"kind": "nope"},
                {"kind": "barcode", "code": "12", "type": 999},
            ]
        },
        "payments": [{"amount": 1}],
    }
    response = post_invoice(api, body)
    assert response.status_code == 400
    assert response.json() == {
        "mode": ["9 is not a valid choice."],
        "pos_id": ["A valid integer is required."],
        "info": {
            "slip": [
                {"content": ["Not a valid string."]},
                {"kind": ["'nope' is not a valid choice."]},
                {"type": ["Unsupported barcode type 999; use one of 0-6, 65-73 or 101 (QR)."]},
            ]
        },
        "rows": [
            {"quantity": ["A valid number is required."]},
            {},
            {"tax": ["A valid integer is required."]},
        ],
        "payments": [{"method_id": REQUIRED}],
    }


def test_a_list_over_its_bound_is_one_error_not_one_per_item(api: Api) -> None:
    response = post_invoice(api, {"rows": [ROW] * 1001, "payments": [{"method_id": "x"}]})
    assert response.status_code == 400
    assert response.json() == {
        "rows": ["Ensure this list has no more than 1000 items."],
        "payments": [{"method_id": ["A valid integer is required."]}],
    }


def test_every_bad_query_value_at_once(api: Api) -> None:
    response = api.as_(Role.ADMIN).get("/api/invoices?status=new&mode=-1&limit=5000")
    assert response.status_code == 400
    assert response.json() == {
        "status": ["A valid integer is required."],
        "mode": ["Ensure this value is greater than or equal to 0."],
        "limit": ["Ensure this value is less than or equal to 1000."],
    }


@pytest.mark.parametrize(
    ("message", "drf"),
    [
        (
            "Expected `float` >= 0.0 - at `$.wait`",
            "Ensure this value is greater than or equal to 0.",
        ),
        ("Expected `float` <= 60.0", "Ensure this value is less than or equal to 60."),
        ("Expected `float` >= 0.5", "Ensure this value is greater than or equal to 0.5."),
        ("Expected `array` of length >= 1", "This list may not be empty."),
        ("Expected `array` of length >= 2", "Ensure this field has at least 2 elements."),
        ("Expected `str` of length >= 3", "Ensure this field has at least 3 characters."),
    ],
)
def test_bounds_of_floats_and_lists_read_as_drf_says_them(message: str, drf: str) -> None:
    """A feed's ``wait=-1`` answered "Expected `float` >= 0.0", an empty walk-in "Expected
    `array` of length >= 1": msgspec's words where every other bound reads as DRF's."""
    assert field_error(message).message == drf


def test_an_empty_walk_in_and_a_negative_wait_in_drf_words(api: Api) -> None:
    station = register(api, "Kase 1", "01")
    empty = station.post(f"/api/stations/{station.id}/receipts", {"request_id": "e", "rows": []})
    assert empty.json() == {"rows": ["This list may not be empty."]}
    waited = station.get(f"/api/stations/{station.id}/feed", wait="-1")
    assert waited.json() == {"wait": ["Ensure this value is greater than or equal to 0."]}


def test_a_syntax_error_after_an_unknown_field_is_still_a_parse_error() -> None:
    # The typed decode stops at the unknown field, before the bad JSON; the loose one must not
    # turn that into a 500.
    with pytest.raises(Exception, match="JSON parse error") as caught:
        decode(b'{"qty": 1, "rows": [}', InvoiceIn)
    assert getattr(caught.value, "status_code", None) == 400


# --- unknown body fields ---------------------------------------------------------------------


def test_a_misspelt_field_is_named_next_to_the_one_it_meant(api: Api) -> None:
    response = post_invoice(api, {"rows": [{"text": "Product 1", "qty": 1, "price": 1}]})
    assert response.status_code == 400
    assert response.json() == {"rows": [{"quantity": REQUIRED, "qty": UNKNOWN}]}


def test_unknown_fields_at_every_level(api: Api) -> None:
    body = {
        "vat": 21,
        "rows": [{**ROW, "info": {"blocks": [{"kind": "text", "content": "x", "bold": True}]}}],
        "info": {"customer": {"email": "a@b.lv", "fax": "1"}},
    }
    response = post_invoice(api, body)
    assert response.status_code == 400
    assert response.json() == {
        "rows": [{"info": {"blocks": [{"bold": UNKNOWN}]}}],
        "info": {"customer": {"fax": UNKNOWN}},
        "vat": UNKNOWN,
    }
    assert count_invoices(api) == 0


def test_a_product_field_we_do_not_have_is_refused(api: Api) -> None:
    response = send(api, "POST", "/api/products", {"name": "Milk", "price": "1.00", "vat": 21})
    assert response.status_code == 400
    assert response.json() == {"vat": UNKNOWN}
    patch = send(api, "POST", "/api/products", {"name": "Milk", "price": "1.00"})
    assert patch.status_code == 201
    changed = send(api, "PATCH", f"/api/products/{patch.json()['id']}", {"prise": "2.00"})
    assert changed.status_code == 400
    assert changed.json() == {"prise": UNKNOWN}


def test_ignore_drops_unknown_fields_and_keeps_the_rest(lenient: Api) -> None:
    body = {
        "vat": 21,
        "rows": [
            {**ROW, "qty": 5, "info": {"blocks": [{"kind": "text", "content": "x", "bold": 1}]}}
        ],
    }
    response = post_invoice(lenient, body, "?validateonly=1")
    assert response.status_code == 200, response.text
    row = response.json()["rows"][0]
    assert (row["quantity"], row["price"]) == (1, 2.34)
    assert row["info"] == {"blocks": [{"kind": "text", "content": "x"}]}


def test_ignore_a_dropped_field_does_not_count_for_an_idempotent_replay(lenient: Api) -> None:
    client = lenient.as_(Role.INTEGRATOR)
    headers = {"Content-Type": "application/json", "Idempotency-Key": "order-7"}
    body = {"invoice_no": "ERP-7", "rows": [ROW]}
    created = client.post("/api/invoice/new", json=body, headers=headers)
    assert created.status_code == 200, created.text
    again = client.post("/api/invoice/new", json={**body, "erp_note": "x"}, headers=headers)
    assert again.status_code == 200, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == created.content


def test_ignore_still_reports_the_missing_field(lenient: Api) -> None:
    response = post_invoice(lenient, {"rows": [{"text": "Product 1", "qty": 1, "price": 1}]})
    assert response.status_code == 400
    assert response.json() == {"rows": [{"quantity": REQUIRED}]}


def test_ignore_accepts_an_unknown_product_field(lenient: Api) -> None:
    response = send(lenient, "POST", "/api/products", {"name": "Milk", "price": "1.00", "vat": 21})
    assert response.status_code == 201
    assert "vat" not in response.json()


# --- unknown query parameters ----------------------------------------------------------------


def test_a_misspelt_filter_is_refused_rather_than_listing_everything(api: Api) -> None:
    response = api.as_(Role.ADMIN).get("/api/invoices?stauts=10&status=10")
    assert response.status_code == 400
    assert response.json() == {"stauts": UNKNOWN}


def test_unknown_query_parameter_on_an_endpoint_without_filters(api: Api) -> None:
    response = post_invoice(api, {"rows": [ROW]}, "?validate_only=1")
    assert response.status_code == 400
    assert response.json() == {"validate_only": UNKNOWN}
    assert count_invoices(api) == 0


def test_declared_and_always_accepted_parameters_pass(api: Api) -> None:
    admin = api.as_(Role.ADMIN)
    assert admin.get("/api/invoices?status=10&limit=5&offset=0&after_id=0").status_code == 200
    assert post_invoice(api, {"rows": [ROW]}, "?validateonly=1").status_code == 200
    # The cashier screen adds ?station_id= to every /api/invoice/… call of an admin.
    created = post_invoice(api, {"rows": [ROW]})
    assert created.status_code == 200
    assert admin.get(f"/api/invoice/{created.json()['id']}?station_id=1").status_code == 200


def test_ignore_lets_an_unknown_query_parameter_through(lenient: Api) -> None:
    response = lenient.as_(Role.ADMIN).get("/api/invoices?stauts=10")
    assert response.status_code == 200


# --- the setting ------------------------------------------------------------------------------


def test_the_setting_takes_only_ignore_or_reject() -> None:
    assert load_env(Settings, {}).unknown_fields == "reject"
    assert load_env(Settings, {"MINIPOS_UNKNOWN_FIELDS": "ignore"}).unknown_fields == "ignore"
    with pytest.raises(ConfigError, match="MINIPOS_UNKNOWN_FIELDS"):
        load_env(Settings, {"MINIPOS_UNKNOWN_FIELDS": "warn"})


def test_decode_outside_a_request_rejects_by_default() -> None:
    assert reject_unknown.get() is True
    with pytest.raises(ValidationFailed) as caught:
        decode(b'{"rows": [], "qty": 1}', InvoiceIn)
    assert drf_errors(caught.value.errors) == {"qty": UNKNOWN}


def count_invoices(api: Api) -> int:
    return int(api.as_(Role.ADMIN).get("/api/invoices").headers["X-Total-Count"])


@pytest.mark.parametrize(
    ("field", "good"),
    [
        (Pin, "1234"),
        (EmployeeCode, "A7"),
        (StationPosId, "08"),
        (Barcode, "4750000000028"),
        (StoreCode, "RIGA2"),
        (StoreDocumentId, "17"),
    ],
)
def test_a_pattern_takes_no_final_newline(field: Any, good: str) -> None:
    """Python's ``$`` also matches before a final newline: ``"1234\\n"`` was a PIN, ``"08\\n"``
    a POS number."""
    assert msgspec.convert(good, field) == good
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(f"{good}\n", field)


def test_an_employee_pin_with_a_newline_is_refused_by_name(api: Api) -> None:
    response = api.as_(Role.ADMIN).post(
        "/api/employees", json={"name": "NL", "role": "cashier", "pin": "1234\n", "code": "77\n"}
    )
    assert response.status_code == 400
    assert set(response.json()) == {"pin", "code"}
