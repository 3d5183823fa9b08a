"""A completion answers, tells the event log and journals from the values it has just stored
(issue #17), not from reading them back: what it gives must be what a read gives afterwards."""

from __future__ import annotations

from typing import Any

from minipos.auth.principal import Role
from minipos.config import Settings
from support import Api, open_station, post_invoice, verify_database

INVOICE: dict[str, Any] = {
    "discount": 1,
    "discount_type": "amount",
    "info": {"header": [{"kind": "text", "content": "Paldies!"}]},
    "rows": [
        {"text": "Āboli, sveramie", "quantity": 1.235, "price": 2.49, "tax": 2, "is_weight": True},
        {
            "text": "Šokolāde",
            "quantity": 3,
            "price": 1.59,
            "discount": 10,
            "discount_type": "percent",
            "info": {"blocks": [{"kind": "text", "content": "Akcija"}]},
        },
        {"text": "Maize", "quantity": 1, "price": 1.89, "tax": 1},
    ],
}


def _events(api: Api, kind: str) -> list[dict[str, Any]]:
    response = api.as_(Role.INTEGRATOR).get(f"/api/events?type={kind}")
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


def test_a_completion_gives_what_reads_give_afterwards(api: Api, settings: Settings) -> None:
    station = open_station(api)
    invoice = post_invoice(api, INVOICE)
    assert station.claim(invoice["id"]).status_code == 200
    weighed = invoice["rows"][0]["id"]
    done = station.complete(
        invoice["id"],
        cashier_name="Anna",
        rows=[{"id": weighed, "quantity": "1.5"}],  # a row sold at other values than posted
        payments=[{"method_id": 2, "amount": "5"}, {"method_id": 1, "amount": "10"}],
    )
    assert done.status_code == 200, done.text

    read = api.as_(Role.ADMIN).get(f"/api/invoice/{invoice['id']}")
    assert read.status_code == 200, read.text
    assert done.content == read.content
    assert done.json()["rows"][0]["quantity"] == 1.5
    [receipt] = done.json()["receipts"]
    stored = api.as_(Role.ADMIN).get(f"/api/receipts/{receipt['id']}")
    assert stored.status_code == 200, stored.text
    [invoice_done] = _events(api, "invoice.done")
    [receipt_created] = _events(api, "receipt.created")
    assert invoice_done["data"] == done.json()
    assert receipt_created["data"] == stored.json()
    # The journal's text, drawn at the sale, is what the stored rows draw again.
    assert verify_database(settings.database_url) == []
