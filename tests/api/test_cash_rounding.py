"""Cash rounding on (``MINIPOS_CASH_ROUNDING=0.05``, as in Estonia and Lithuania; Latvia keeps
it off): only the cash part of a payment rounds, VAT stays on the unrounded total, the printed
receipt has its own rounding line and the Z-report the shift's sum (docs/money.md)."""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pytest

from minipos.auth.principal import Role
from minipos.config import ConfigError, Settings
from support import Api, Station, register


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return msgspec.structs.replace(settings, cash_rounding="0.05")


@pytest.fixture
def station(api: Api) -> Station:
    found = register(api, "Kase 1", "01")
    assert found.open_shift().status_code == 200
    return found


def _sell(station: Station, request_id: str, payments: list[dict[str, Any]]) -> Any:
    return station.post(
        f"/api/stations/{station.id}/receipts",
        {
            "request_id": request_id,
            "rows": [{"text": "Maize", "quantity": 1, "price": "10.03"}],
            "payments": payments,
        },
    )


def _journal_text(api: Api) -> list[str]:
    found = api.as_(Role.ADMIN).get("/api/journal").json()
    return [entry["text"] for entry in found]


def test_a_cash_sale_rounds_and_prints_its_rounding_line(api: Api, station: Station) -> None:
    sold = _sell(station, "cash", [{"method_id": 1}])
    assert sold.status_code == 201, sold.text
    receipt = sold.json()
    # VAT on the unrounded 10.03; the cash paid is 10.05.
    assert (receipt["bruto_amount"], receipt["tax_amount"], receipt["neto_amount"]) == (
        10.03, 1.74, 8.29,
    )  # fmt: skip
    assert [p["amount"] for p in receipt["payments"]] == [10.05]
    assert receipt["changed_amount"] == 0
    text = _journal_text(api)[0]
    assert re.search(r"^Noapaļošana +0\.02$", text, re.M), text
    assert re.search(r"^Apmaksai +10\.05$", text, re.M), text

    change = _sell(station, "change", [{"method_id": 1, "amount": 20}]).json()
    assert (change["payments"][0]["amount"], change["changed_amount"]) == (20, 9.95)

    underpaid = _sell(station, "short", [{"method_id": 1, "amount": "10.03"}])
    assert underpaid.status_code == 400
    assert underpaid.json() == {"payments": ["Underpaid: 0.02 of 10.05 is still due."]}

    closed = station.close_shift()
    assert closed.status_code == 200, closed.text
    report = closed.json()["report"]
    assert report["cash_rounding"] == 0.04
    assert report["sales"] == 20.06
    assert report["payments"] == [{"method_name": "Skaidrā nauda", "amount": 20.1}]
    assert report["drawer"]["expected"] == 20.1
    z_text = _journal_text(api)[-1]
    assert re.search(r"^Noapaļošana +0\.04$", z_text, re.M), z_text
    detail = api.as_(Role.ADMIN).get(f"/api/shifts/{closed.json()['id']}").json()
    assert detail["report"]["cash_rounding"] == 0.04


def test_a_card_and_cash_sale_rounds_only_the_cash_part(api: Api, station: Station) -> None:
    mixed = _sell(station, "mixed", [{"method_id": 2, "amount": "5.01"}, {"method_id": 1}])
    assert mixed.status_code == 201, mixed.text
    receipt = mixed.json()
    # card 5.01 exact; the cash part 5.02 rounds down to 5.00
    assert [(p["method"], p["amount"]) for p in receipt["payments"]] == [(2, 5.01), (1, 5)]
    assert receipt["tax_amount"] == 1.74
    text = _journal_text(api)[0]
    assert re.search(r"^Noapaļošana +-0\.02$", text, re.M), text

    card = _sell(station, "card", [{"method_id": 2}]).json()
    assert [p["amount"] for p in card["payments"]] == [10.03]
    assert "Noapaļošana" not in _journal_text(api)[1]

    report = station.close_shift().json()["report"]
    assert report["cash_rounding"] == -0.02
    assert report["payments"] == [
        {"method_name": "Karte", "amount": 15.04},
        {"method_name": "Skaidrā nauda", "amount": 5},
    ]


def test_the_setting_is_checked() -> None:
    assert Settings(cash_rounding="off").cash_rounding_step() is None
    assert str(Settings(cash_rounding="0.05").cash_rounding_step()) == "0.05"
    for bad in ("0.001", "5", "abc", "-0.05"):
        with pytest.raises(ConfigError, match="MINIPOS_CASH_ROUNDING"):
            Settings(cash_rounding=bad).cash_rounding_step()
