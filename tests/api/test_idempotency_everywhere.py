"""``Idempotency-Key`` on every POST, not only the three create routes (decisions §8): the same
key and body replay the first answer and change nothing more; another request under the key is
a 422; a refused request leaves the key free. Before, a retried cash-in was a second cash
movement, a retried reprint a second supporting document."""

from __future__ import annotations

from typing import Any

import pytest

from minipos.auth.principal import Role
from minipos.config import Settings
from minipos.db import open_database
from minipos.idempotency.service import Idempotency
from support import Api, Station, register

SALE = {"rows": [{"text": "Kafija", "price": "1.50", "tax": 1}], "payments": [{"method_id": 1}]}


def count(settings: Settings, sql: str) -> int:
    db = open_database(settings.database_url)
    try:
        row = db.run(lambda conn: conn.fetchone(f"SELECT count(*) AS n FROM {sql}"))
    finally:
        db.close()
    assert row is not None
    return int(row["n"])


def send(station: Station, path: str, body: Any, key: str) -> Any:
    return station.client.post(path, json=body, headers={**station.headers, "Idempotency-Key": key})


def once(station: Station, path: str, body: Any, key: str) -> Any:
    """Send twice under ``key``: the second answer is the first one, replayed."""
    first = send(station, path, body, key)
    assert first.status_code in (200, 201), first.text
    assert "idempotent-replayed" not in first.headers
    again = send(station, path, body, key)
    assert again.status_code == first.status_code, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content
    return first


@pytest.fixture
def pos(api: Api) -> Station:
    found = register(api, "Kase 1", "01")
    assert found.open_shift().status_code == 200
    return found


@pytest.fixture
def admin(api: Api) -> Station:
    """The admin key, sent as a station would send its own."""
    client = api.as_(Role.ADMIN)
    return Station(client, {"id": 0, "pos_id": "", "key": api.keys[Role.ADMIN]})


def test_cash_in_is_moved_once(pos: Station, settings: Settings) -> None:
    path = f"/api/stations/{pos.id}/shift/cash-in"
    moves = "cash_movements WHERE kind = 'in'"
    once(pos, path, {"amount": "5", "reason": "Maiņa"}, "cash-1")
    assert count(settings, moves) == 1
    other = send(pos, path, {"amount": "6", "reason": "Maiņa"}, "cash-1")
    assert other.status_code == 422, other.text
    assert count(settings, moves) == 1
    refused = send(pos, path, {"amount": "-1", "reason": "Maiņa"}, "cash-2")
    assert refused.status_code == 400, refused.text
    assert send(pos, path, {"amount": "7", "reason": "Maiņa"}, "cash-2").status_code == 200
    assert count(settings, moves) == 2


def test_a_walk_in_sale_is_made_once(pos: Station, settings: Settings) -> None:
    path = f"/api/stations/{pos.id}/receipts"
    once(pos, path, SALE | {"request_id": "s1"}, "sale-1")
    assert count(settings, "receipts") == 1
    other = send(pos, path, SALE | {"request_id": "s2"}, "sale-1")
    assert other.status_code == 422, other.text
    assert count(settings, "receipts") == 1
    refused = send(pos, path, SALE | {"request_id": "s3", "rows": []}, "sale-2")
    assert refused.status_code == 400, refused.text
    assert send(pos, path, SALE | {"request_id": "s3"}, "sale-2").status_code == 201
    assert count(settings, "receipts") == 2


def test_a_reprint_uses_one_supporting_document(pos: Station, settings: Settings) -> None:
    sale = send(pos, f"/api/stations/{pos.id}/receipts", SALE | {"request_id": "s1"}, "s1")
    assert sale.status_code == 201, sale.text
    receipt_id = sale.json()["id"]
    copies = "print_jobs WHERE is_copy"
    job = once(pos, f"/api/receipts/{receipt_id}/reprint", None, "copy-1").json()
    assert job["supporting_number"] == 1
    assert count(settings, copies) == 1
    # Another receipt under the same key is another request.
    other = send(pos, f"/api/receipts/{receipt_id + 1}/reprint", None, "copy-1")
    assert other.status_code == 422, other.text
    missing = send(pos, f"/api/receipts/{receipt_id + 1}/reprint", None, "copy-2")
    assert missing.status_code == 404, missing.text
    retried = send(pos, f"/api/receipts/{receipt_id}/reprint", None, "copy-2")
    assert retried.status_code == 201, retried.text
    assert retried.json()["supporting_number"] == 2
    assert count(settings, copies) == 2


def test_a_shift_is_opened_once(api: Api, settings: Settings) -> None:
    pos = register(api, "Kase 1", "01")
    path = f"/api/stations/{pos.id}/shift/open"
    refused = send(pos, path, {"cashier_name": "Anna", "opening_float": "1.234"}, "open-1")
    assert refused.status_code == 400, refused.text
    assert count(settings, "shifts") == 0
    once(pos, path, {"cashier_name": "Anna", "opening_float": "100"}, "open-1")
    assert count(settings, "shifts") == 1
    other = send(pos, path, {"cashier_name": "Berta"}, "open-1")
    assert other.status_code == 422, other.text
    assert count(settings, "shifts") == 1
    assert count(settings, "cash_movements") == 1  # the opening float, once


def test_a_station_is_registered_once(admin: Station, settings: Settings) -> None:
    body = {"name": "Kase 1", "pos_id": "01", "chassis_id": "CH01", "station_group": "1"}
    keys = count(settings, "api_keys")
    once(admin, "/api/stations", body, "station-1")
    assert count(settings, "stations") == 1
    assert count(settings, "api_keys") == keys + 1  # one station key made, shown in both answers
    other = send(admin, "/api/stations", body | {"name": "Kase 2"}, "station-1")
    assert other.status_code == 422, other.text
    assert count(settings, "stations") == 1
    refused = send(admin, "/api/stations", body | {"pos_id": "02", "name": ""}, "station-2")
    assert refused.status_code == 400, refused.text
    again = send(admin, "/api/stations", body | {"pos_id": "02", "chassis_id": "CH02"}, "station-2")
    assert again.status_code == 201, again.text
    assert count(settings, "stations") == 2


def test_keys_belong_to_the_api_key_that_sent_them(
    pos: Station, admin: Station, settings: Settings
) -> None:
    path = f"/api/stations/{pos.id}/shift/cash-in"
    body = {"amount": "5", "reason": "Maiņa"}
    assert send(pos, path, body, "k").status_code == 200
    by_admin = send(admin, path, body, "k")
    assert by_admin.status_code == 200, by_admin.text
    assert "idempotent-replayed" not in by_admin.headers
    assert count(settings, "cash_movements WHERE kind = 'in'") == 2


def test_an_answer_lost_after_the_change_is_not_carried_out_again(
    pos: Station, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash between the change's commit and the write of its answer: the retry is told
    that the request was carried out, and nothing is done twice."""

    async def crashed(*args: object) -> None:
        return None

    monkeypatch.setattr(Idempotency, "_keep", crashed)
    path = f"/api/stations/{pos.id}/shift/cash-in"
    body = {"amount": "5", "reason": "Maiņa"}
    assert send(pos, path, body, "lost").status_code == 200
    retried = send(pos, path, body, "lost")
    assert retried.status_code == 409, retried.text
    assert "was carried out" in retried.json()["detail"]
    assert count(settings, "cash_movements WHERE kind = 'in'") == 1


def test_validateonly_keeps_no_key(api: Api, settings: Settings) -> None:
    client = api.as_(Role.INTEGRATOR)
    headers = {"Idempotency-Key": "v-1"}
    body = {"rows": [{"text": "Kafija", "quantity": 1, "price": 1}]}
    checked = client.post("/api/invoice/new?validateonly=1", json=body, headers=headers)
    assert checked.status_code == 200, checked.text
    assert count(settings, "idempotency_keys") == 0
    made = client.post("/api/invoice/new", json=body, headers=headers)
    assert made.status_code == 200, made.text
    assert "idempotent-replayed" not in made.headers
    assert count(settings, "invoices") == 1
