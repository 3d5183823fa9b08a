"""Issue 14's receipt particulars R1–R7, table-driven over every receipt layout (sale, refund,
the supporting document of each) at 58 mm (32 columns) and 80 mm (42 and 48 columns).

The documents are built from what a real sale and refund stored (on SQLite and PostgreSQL), the
way the printer and the journal build them, so a particular lost between the database and the
paper fails here too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from minipos.auth.principal import Role
from minipos.config import Settings
from minipos.db import open_database
from minipos.domain.money import vat
from minipos.print_jobs.documents import PrintContext, receipt_document
from minipos.print_jobs.settings import PrintSettings
from minipos.printing import PrintableReceipt, PrinterProfile, to_text
from support import Api, Station

CHASSIS = "LV-CHS-20260001-000987654321"  # longer than a 58 mm line leaves beside its label
CASHIER = "Anna Bērziņa"
BREAD = "Rudzu maize ar ķimenēm un saulespuķu sēklām, 500 g"
SALE: dict[str, Any] = {
    "request_id": "sale-1",
    "cashier_name": CASHIER,
    "rows": [
        {
            "text": BREAD,
            "quantity": 3,
            "price": "2.34",
            "discount": "0.35",
            "discount_type": "amount",
            "tax": 0,
        },
        {"text": "Piens 2%", "quantity": 1, "price": "1.19", "tax": 1},
    ],
    "payments": [{"method_id": 2, "amount": "5.00"}, {"method_id": 1, "amount": "20.00"}],
}
REFUND: dict[str, Any] = {
    "request_id": "refund-1",
    "mode": 3,
    "cashier_name": CASHIER,
    "parent_document_id": "1",
    "parent_pos_id": "07",
    "rows": [{"text": "Piens 2%", "quantity": 1, "price": "1.19", "tax": 1}],
    "payments": [{"method_id": 1}],
}
WIDTHS = (32, 42, 48)


@dataclass(frozen=True)
class Layout:
    name: str
    refund: bool
    supporting: int | None


LAYOUTS = (
    Layout("sale", refund=False, supporting=None),
    Layout("refund", refund=True, supporting=None),
    Layout("supporting document of a sale", refund=False, supporting=1),
    Layout("supporting document of a refund", refund=True, supporting=2),
)


@pytest.fixture
def printed(api: Api, settings: Settings) -> dict[str, PrintableReceipt]:
    """Each layout's document, built from the stored sale and refund."""
    admin = api.as_(Role.ADMIN)
    created = admin.post(
        "/api/stations",
        json={"name": "Kase 7", "pos_id": "07", "chassis_id": CHASSIS, "station_group": "1"},
    )
    assert created.status_code == 201, created.text
    station = Station(api.client, created.json())
    assert station.open_shift(CASHIER).status_code == 200
    ids = []
    for body in (SALE, REFUND):
        response = station.post(f"/api/stations/{station.id}/receipts", body)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    shop = PrintSettings.from_env().shop
    context = PrintContext(shop, settings.zone(), frozenset({1}))
    db = open_database(settings.database_url)
    try:
        return db.run(
            lambda conn: {
                layout.name: receipt_document(
                    conn,
                    ids[layout.refund],
                    context,
                    is_copy=layout.supporting is not None,
                    supporting_number=layout.supporting,
                )
                for layout in LAYOUTS
            }
        )
    finally:
        db.close()


def _vat_row(letter: str, rate: int, gross: str) -> str:
    net, tax = vat(Decimal(gross), Decimal(rate))
    return rf"{letter} {rate}%\s+{net}\s+{tax}\s+{gross}"


# Each item: for a layout, the lines (regular expressions, whole line, spaces trimmed at both
# ends) the document must contain.
Item = Callable[[Layout], list[str]]
SELLER = PrintSettings.from_env(
    {
        "MINIPOS_SHOP_NAME": "DEMO SIA (test)",
        "MINIPOS_SHOP_REGISTRATION_NUMBER": "40000000000",
        "MINIPOS_SHOP_VAT_NUMBER": "LV40000000000",
        "MINIPOS_SHOP_ADDRESS": "Demo iela 1, Rīga, LV-1000",
    }
)


def r1(layout: Layout) -> list[str]:
    return [
        re.escape(SELLER.shop_name),
        re.escape(f"Reģ. Nr. {SELLER.shop_registration_number}"),
        re.escape(f"PVN reģ. Nr. {SELLER.shop_vat_number}"),
        re.escape(SELLER.shop_address),
    ]


def r2(layout: Layout) -> list[str]:
    number = "2" if layout.refund else "1"
    lines = []
    if layout.supporting is not None:
        lines += ["ATTAISNOJUMA DOKUMENTS", rf"Nr\. {layout.supporting} čekam Nr\. {number}"]
        lines.append(rf"Čeka Nr\.\s+{number}")
    else:
        lines.append(rf"Čeks Nr\.\s+{number}")
        if not layout.refund:
            lines.append("ČEKS")
    if layout.refund:
        lines += ["ATGRIEŠANA", r"Atgriešana čekam Nr\. 1"]
    return lines


def r3(layout: Layout) -> list[str]:
    # The full chassis number on one line (after its label, or under it on 58 mm paper).
    return [r"POS\s+07", rf"(Šasijas Nr\.\s+)?{CHASSIS}"]


def r4(layout: Layout) -> list[str]:
    return [r"Datums\s+\d\d\.\d\d\.\d{4} \d\d:\d\d:\d\d"]


def r5(layout: Layout) -> list[str]:
    milk = [r"Piens 2%", r"1 x 1\.19\s+1\.19 B"]  # the quantity printed also when it is 1
    if layout.refund:
        return milk
    return [*milk, r"3 x 2\.34\s+7\.02 A", r"Atlaide\s+-0\.35"]


def r6(layout: Layout) -> list[str]:
    if layout.refund:
        return [_vat_row("B", 12, "1.19"), r"ATMAKSAI EUR\s+1\.19"]
    return [_vat_row("A", 21, "6.67"), _vat_row("B", 12, "1.19"), r"KOPĀ EUR\s+7\.86"]


def r7(layout: Layout) -> list[str]:
    cashier = rf"Kasieris\s+{CASHIER}"
    if layout.refund:
        return [r"Skaidrā nauda\s+1\.19", r"Atlikums\s+0\.00", cashier]
    return [r"Karte\s+5\.00", r"Skaidrā nauda\s+20\.00", r"Atlikums\s+17\.14", cashier]


ITEMS: dict[str, Item] = {"R1": r1, "R2": r2, "R3": r3, "R4": r4, "R5": r5, "R6": r6, "R7": r7}


def test_every_layout_prints_every_particular(printed: dict[str, PrintableReceipt]) -> None:
    """The table: every item on every layout at every width (one database setup for all)."""
    missing = []
    for layout in LAYOUTS:
        for columns in WIDTHS:
            text = to_text(printed[layout.name], PrinterProfile(columns=columns))
            assert all(len(line) <= columns for line in text.splitlines())
            lines = [line.strip() for line in text.splitlines()]
            for item, expected in ITEMS.items():
                missing += [
                    f"{item} of the {layout.name} at {columns} columns: no line {pattern!r}"
                    for pattern in expected(layout)
                    if not any(re.fullmatch(pattern, line) for line in lines)
                ]
            if not layout.refund:  # R5: the long name, wrapped on words, reads back whole
                assert BREAD in " ".join(lines), (layout.name, columns)
            if layout.supporting is not None:  # never titled a receipt, nor a copy
                assert "čeks" not in text.lower(), (layout.name, columns)
                assert "KOPIJA" not in text, (layout.name, columns)
    assert not missing, "\n".join(missing)


def test_the_receipt_api_shows_the_cashier(api: Api, settings: Settings) -> None:
    """R7: the cashier the station sent is on the receipt in the API, not only on paper."""
    admin = api.as_(Role.ADMIN)
    created = admin.post(
        "/api/stations",
        json={"name": "Kase 8", "pos_id": "08", "chassis_id": CHASSIS, "station_group": "1"},
    )
    station = Station(api.client, created.json())
    assert station.open_shift(CASHIER).status_code == 200
    sold = station.post(f"/api/stations/{station.id}/receipts", SALE).json()
    assert sold["cashier_name"] == CASHIER
    listed = admin.get("/api/receipts", params={"station_id": station.id}).json()
    found = listed if isinstance(listed, list) else listed["results"]
    assert [r["cashier_name"] for r in found] == [CASHIER]
