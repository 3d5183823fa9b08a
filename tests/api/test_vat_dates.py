"""Effective-dated VAT over the API (docs/money.md, "VAT rates over time"): Latvia's basic
foods (tax group 6) go from 21 % to 12 % at 2026-07-01 00:00 Riga time. A receipt takes the
rate of its moment, an invoice posted before and completed after is re-priced at completion
(and says so in ``report``), a shift across the change shows both rates on its Z-report, and
``/api/taxes`` shows the history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from minipos.auth.principal import Role
from support import Api, open_station, post_invoice

#: 2026-07-01 00:00:00 Europe/Riga (UTC+3 in summer).
CHANGE_US = (datetime(2026, 6, 30, 21, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)) // (
    timedelta(microseconds=1)
)


class Clock:
    def __init__(self) -> None:
        self.us = CHANGE_US - 3_600_000_000

    def __call__(self) -> int:
        return self.us


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The server's clock in the modules that time invoices, receipts, shifts and taxes."""
    found = Clock()
    for module in ("invoices", "checkout", "stations", "catalogue"):
        monkeypatch.setattr(f"minipos.{module}.routes.now_us", found)
    return found


def _rate(taxes: list[dict[str, Any]], group: int) -> Any:
    return next(t["rate"] for t in taxes if t["id"] == group)


def _sell(station: Any, request_id: str, price: str) -> dict[str, Any]:
    response = station.post(
        f"/api/stations/{station.id}/receipts",
        {
            "request_id": request_id,
            "rows": [{"text": "Maize", "price": price, "tax": 6}],
            "payments": [{"method_id": 1}],
        },
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def test_a_shift_across_the_change_uses_each_moment_s_rate(api: Api, clock: Clock) -> None:
    integrator = api.as_(Role.INTEGRATOR)
    assert _rate(integrator.get("/api/taxes").json(), 6) == 21
    pos = open_station(api, "POS1", "1")
    invoice = post_invoice(
        api,
        {"rows": [{"text": "Piens", "quantity": 2, "price": "1.12", "tax": 6}, {"text": "Kafija",
         "quantity": 1, "price": "3", "tax": 0}]},
    )  # fmt: skip
    assert [r["tax_rate"] for r in invoice["rows"]] == [21, 21]

    clock.us = CHANGE_US - 1  # one microsecond before the change
    before = _sell(pos, "before", "1.21")
    assert before["rows"][0]["tax_rate"] == 21
    assert before["tax_amount"] == 0.21

    clock.us = CHANGE_US  # the change itself
    after = _sell(pos, "after", "1.12")
    assert after["rows"][0]["tax_rate"] == 12
    assert after["tax_amount"] == 0.12
    assert _rate(integrator.get("/api/taxes").json(), 6) == 12

    # The invoice posted at 21 % is completed at 12 %: same total, the VAT of the receipt's
    # moment, and the change reported on the invoice.
    assert pos.claim(invoice["id"]).status_code == 200
    done = pos.complete(invoice["id"], "inv", payments=[{"method_id": 2}])
    assert done.status_code == 200, done.text
    completed = done.json()
    assert completed["total_sum"] == invoice["total_sum"] == 5.24
    assert [r["tax_rate"] for r in completed["rows"]] == [12, 21]
    assert completed["report"] == {
        "tax_rate_changes": [
            {"row": invoice["rows"][0]["id"], "tax": 6, "posted_rate": 21, "applied_rate": 12}
        ]
    }
    receipt = completed["receipts"][0]
    assert [r["tax_rate"] for r in receipt["rows"]] == [12, 21]
    assert receipt["tax_amount"] == 0.76  # 2.24 at 12 % (0.24) + 3.00 at 21 % (0.52)
    assert (
        api.as_(Role.INTEGRATOR).get(f"/api/invoice/{invoice['id']}").json()["report"]
        == (completed["report"])
    )

    closed = pos.close_shift()
    assert closed.status_code == 200, closed.text
    assert closed.json()["report"]["vat"] == [
        {"rate": 21, "gross": 4.21, "net": 3.48, "tax": 0.73},
        {"rate": 12, "gross": 3.36, "net": 3, "tax": 0.36},
    ]


def test_an_invoice_posted_and_completed_at_one_rate_reports_nothing(
    api: Api, clock: Clock
) -> None:
    clock.us = CHANGE_US + 1
    pos = open_station(api, "POS1", "1")
    invoice = post_invoice(
        api, {"rows": [{"text": "Olas", "quantity": 1, "price": "2.24", "tax": 6}]}
    )
    assert invoice["rows"][0]["tax_rate"] == 12
    assert pos.claim(invoice["id"]).status_code == 200
    done = pos.complete(invoice["id"], "inv", payments=[{"method_id": 1}]).json()
    assert (done["report"], done["rows"][0]["tax_rate"]) == (None, 12)


def test_taxes_show_the_history(api: Api, clock: Clock) -> None:
    taxes = api.as_(Role.STATION).get("/api/taxes").json()
    assert [list(t) for t in taxes] == [["id", "rate", "name", "rates"]] * 7
    assert taxes[6] == {
        "id": 6,
        "rate": 21,
        "name": "PVN pamatpārtika",
        "rates": [
            {"valid_from": None, "rate": 21},
            {"valid_from": "2026-07-01T00:00:00", "rate": 12},
        ],
    }


def test_a_refund_after_the_change_takes_its_original_s_rate(api: Api, clock: Clock) -> None:
    pos = open_station(api, "POS1", "1")
    clock.us = CHANGE_US - 1
    sale = _sell(pos, "sale", "1.21")
    clock.us = CHANGE_US + 1
    refund = pos.post(
        f"/api/stations/{pos.id}/receipts",
        {
            "request_id": "refund",
            "mode": 3,
            "parent_document_id": sale["document_id"],
            "parent_pos_id": "1",
            "rows": [{"text": "Maize", "price": "1.21", "tax": 6}],
            "payments": [{"method_id": 1}],
        },
    )
    assert refund.status_code == 201, refund.text
    assert refund.json()["rows"][0]["tax_rate"] == 21
    assert refund.json()["tax_amount"] == 0.21
    # Sold after the change, refunded at 12 % like its sale.
    later = _sell(pos, "later", "1.12")
    again = pos.post(
        f"/api/stations/{pos.id}/receipts",
        {
            "request_id": "refund-2",
            "mode": 3,
            "parent_document_id": later["document_id"],
            "parent_pos_id": "1",
            "rows": [{"text": "Maize", "price": "1.12", "tax": 6}],
            "payments": [{"method_id": 1}],
        },
    ).json()
    assert again["rows"][0]["tax_rate"] == 12
    vat = pos.close_shift().json()["report"]["vat"]
    assert vat == [
        {"rate": 21, "gross": 0, "net": 0, "tax": 0},
        {"rate": 12, "gross": 0, "net": 0, "tax": 0},
    ]
