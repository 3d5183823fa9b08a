"""What a key may see (issue #11 hole 5, issue #12): a station never reads another station's
fiscal data, neither directly nor through an invoice both stations could take."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from minipos.auth.principal import Role
from minipos.bootstrap import operations
from support import Api, Station, post_invoice, register

#: Strings only B's fiscal data holds: its cashier (receipts, shifts, the printed receipt),
#: its card payment, its chassis id (the invoice's print_chassis_id), its customer's address.
B_MARKERS = ("Berta-B", "T-SECRET-B", "CH02", "b-customer@example.com")

#: GET routes whose data is the shop's, not a station's.
SHOP_WIDE_TAGS = {"Catalogue", "Reference data"}


@dataclass
class Shop:
    a: Station
    b: Station
    invoice: dict[str, Any]  # shared (no pos_id), completed by B
    receipt_id: int
    shift_id: int
    job_id: int
    message_id: int


@pytest.fixture
def shop(api: Api) -> Shop:
    """Stations A and B in one group; B completes an invoice addressed to no POS."""
    a = register(api, "POS1", "01")
    b = register(api, "POS2", "02")
    invoice = post_invoice(
        api,
        {
            "rows": [{"text": "Kafija", "quantity": 2, "price": 1.5}],
            "info": {"customer": {"email": "b-customer@example.com"}},
        },
    )
    assert b.open_shift("Berta-B").status_code == 200
    assert b.claim(invoice["id"]).status_code == 200
    done = b.complete(
        invoice["id"],
        request_id="b-1",
        cashier_name="Berta-B",
        payments=[{"method_id": 2, "amount": 3, "transaction_id": "T-SECRET-B"}],
    )
    assert done.status_code == 200, done.text
    admin = api.as_(Role.ADMIN)
    [job, *_] = admin.get(f"/api/print-jobs?station_id={b.id}").json()
    [message] = admin.get("/api/messages").json()
    [shift] = admin.get(f"/api/shifts?station_id={b.id}").json()
    return Shop(
        a=a,
        b=b,
        invoice=done.json(),
        receipt_id=done.json()["receipts"][0]["id"],
        shift_id=shift["id"],
        job_id=job["id"],
        message_id=message["id"],
    )


def _station_ids(value: Any) -> Iterator[int]:
    """Every station id named anywhere in a JSON answer."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("station", "station_id", "print_station") and isinstance(item, int):
                yield item
            yield from _station_ids(item)
    elif isinstance(value, list):
        for item in value:
            yield from _station_ids(item)


def assert_nothing_of_b(response: Any, shop: Shop) -> None:
    """Refused, or an answer without a trace of B's fiscal data."""
    if response.status_code in (403, 404):
        return
    assert response.status_code == 200, response.text
    for marker in B_MARKERS:
        assert marker not in response.text
    if response.headers["content-type"].startswith("application/json"):
        assert shop.b.id not in set(_station_ids(response.json()))


#: Per GET route, what station A asks for of B's data (a list: some routes are asked twice).
FOREIGN_URLS: dict[str, Callable[[Shop], list[str]]] = {
    "/api/invoices": lambda s: ["/api/invoices", "/api/invoices?status=30&station_group=1"],
    "/api/invoice/{id}": lambda s: [f"/api/invoice/{s.invoice['id']}"],
    "/api/invoice/{id}/preview": lambda s: [f"/api/invoice/{s.invoice['id']}/preview"],
    "/api/stations": lambda s: ["/api/stations"],
    "/api/stations/me": lambda s: ["/api/stations/me"],
    "/api/stations/{station_id}": lambda s: [f"/api/stations/{s.b.id}"],
    "/api/stations/{station_id}/shift/x-report": lambda s: [
        f"/api/stations/{s.b.id}/shift/x-report"
    ],
    "/api/stations/{station_id}/feed": lambda s: [
        f"/api/stations/{s.b.id}/feed",
        f"/api/stations/{s.a.id}/feed",
    ],
    "/api/shifts": lambda s: ["/api/shifts", f"/api/shifts?station_id={s.b.id}"],
    "/api/shifts/{id}": lambda s: [f"/api/shifts/{s.shift_id}"],
    "/api/receipts": lambda s: ["/api/receipts", f"/api/receipts?station_id={s.b.id}&pos_id=2"],
    "/api/receipts/{id}": lambda s: [f"/api/receipts/{s.receipt_id}"],
    "/api/reports/sales": lambda s: [f"/api/reports/sales?group_by=station&station_id={s.b.id}"],
    "/api/keys": lambda s: ["/api/keys"],
    "/api/keys/{id}": lambda s: ["/api/keys/1"],
    "/api/stations/{station_id}/printer": lambda s: [f"/api/stations/{s.b.id}/printer"],
    "/api/stations/{station_id}/printer/status": lambda s: [
        f"/api/stations/{s.b.id}/printer/status"
    ],
    "/api/print-jobs": lambda s: ["/api/print-jobs", f"/api/print-jobs?station_id={s.b.id}"],
    "/api/print-jobs/{id}": lambda s: [f"/api/print-jobs/{s.job_id}"],
    "/api/journal": lambda s: ["/api/journal", f"/api/journal?station_id={s.b.id}"],
    "/api/receipts/{id}/preview": lambda s: [f"/api/receipts/{s.receipt_id}/preview"],
    "/api/events": lambda s: ["/api/events"],
    "/api/events/stream": lambda s: ["/api/events/stream"],
    "/api/webhooks": lambda s: ["/api/webhooks"],
    "/api/webhooks/{id}": lambda s: ["/api/webhooks/1"],
    "/api/webhooks/{id}/deliveries": lambda s: ["/api/webhooks/1/deliveries"],
    "/api/messages": lambda s: ["/api/messages"],
    "/api/messages/{id}": lambda s: [f"/api/messages/{s.message_id}"],
    "/api/stores": lambda s: ["/api/stores"],
    "/api/sync/status": lambda s: ["/api/sync/status"],
    "/api/employees": lambda s: ["/api/employees"],
    "/api/stations/{station_id}/employee": lambda s: [f"/api/stations/{s.b.id}/employee"],
}

PER_STATION_GETS = sorted(
    op.path for op in operations() if op.method == "GET" and op.tag not in SHOP_WIDE_TAGS
)


@pytest.mark.parametrize("path", PER_STATION_GETS)
def test_a_foreign_station_sees_nothing_of_another_stations_fiscal_data(
    api: Api, shop: Shop, path: str
) -> None:
    """Every GET route with per-station data, asked by A for B's: refused or without a trace."""
    assert path in FOREIGN_URLS, f"classify the new GET route {path} in FOREIGN_URLS"
    for url in FOREIGN_URLS[path](shop):
        assert_nothing_of_b(shop.a.get(url), shop)


def test_a_shared_invoice_another_station_completed_leaves_the_view(api: Api, shop: Shop) -> None:
    invoice_id = shop.invoice["id"]
    assert shop.a.get(f"/api/invoice/{invoice_id}").status_code == 404
    assert shop.a.get(f"/api/invoice/{invoice_id}/preview").status_code == 404
    # The list filters in SQL: the count and the keyset pages leave it out too.
    later = [post_invoice(api)["id"] for _ in range(3)]
    first = shop.a.get("/api/invoices?limit=2")
    assert [i["id"] for i in first.json()] == later[:2]
    assert first.headers["X-Total-Count"] == "3"
    next_url = first.headers["Link"].split(">")[0].lstrip("<")
    assert [i["id"] for i in shop.a.get(next_url).json()] == later[2:]
    # The station that completed it, the integrator and the admin see it with its receipt.
    for client in (
        shop.b.get,
        api.as_(Role.INTEGRATOR).get,
        api.as_(Role.ADMIN).get,
    ):
        found = client(f"/api/invoice/{invoice_id}").json()
        assert found["receipts"][0]["cashier_name"] == "Berta-B"
        assert found["receipts"][0]["payments"][0]["transaction_id"] == "T-SECRET-B"
        preview = client(f"/api/invoice/{invoice_id}/preview")
        assert preview.status_code == 200
        assert "Berta-B" in preview.text
        listed = client("/api/invoices").json()
        assert invoice_id in [i["id"] for i in listed]


def test_a_station_sees_the_invoices_it_may_act_on(api: Api, shop: Shop) -> None:
    a, b = shop.a, shop.b
    shared = post_invoice(api)["id"]
    held_by_b = post_invoice(api)["id"]
    assert b.claim(held_by_b).status_code == 200
    for_a = post_invoice(api, {"pos_id": 1, "rows": [{"text": "a", "quantity": 1, "price": 1}]})
    for_b = post_invoice(api, {"pos_id": 2, "rows": [{"text": "b", "quantity": 1, "price": 1}]})
    done_by_a = post_invoice(api)["id"]
    assert a.open_shift("Anna-A").status_code == 200
    for invoice_id in (for_a["id"], done_by_a):
        assert a.claim(invoice_id).status_code == 200
        done = a.complete(invoice_id, f"a-{invoice_id}", payments=[{"method_id": 1}])
        assert done.status_code == 200, done.text

    listed = [i["id"] for i in a.get("/api/invoices").json()]
    assert listed == [shared, held_by_b, for_a["id"], done_by_a]
    opened = a.get(f"/api/invoice/{held_by_b}").json()
    assert (opened["status"], opened["receipts"]) == (20, [])
    assert a.get(f"/api/invoice/{for_b['id']}").status_code == 404
    mine = a.get(f"/api/invoice/{done_by_a}").json()
    assert mine["receipts"][0]["station_id"] == a.id
    assert a.get(f"/api/invoice/{done_by_a}/preview").status_code == 200
    # The rule is symmetric: B no longer sees what A completed.
    assert b.get(f"/api/invoice/{done_by_a}").status_code == 404
    assert done_by_a not in [i["id"] for i in b.get("/api/invoices").json()]


def test_another_stations_request_id_does_not_replay_its_complete(api: Api, shop: Shop) -> None:
    """A complete with B's request_id on B's Done invoice is refused, not B's answer again."""
    assert shop.a.open_shift().status_code == 200
    replay = shop.a.complete(shop.invoice["id"], request_id="b-1")
    assert replay.status_code == 409
    assert "Berta-B" not in replay.text
    assert shop.b.complete(shop.invoice["id"], request_id="b-1").json() == shop.invoice
