"""Sample documents for the printing tests: a small Latvian receipt and the documented slip."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from minipos.printing.blocks import decode_blocks
from minipos.printing.model import (
    PaymentLine,
    PrintableReceipt,
    PrintableSlip,
    ReceiptLine,
    ShopInfo,
    VatLine,
)

D = Decimal
RIGA = timezone(timedelta(hours=2))
CHAIN_HASH = "3f2a9c0177de12ab" * 4
LATVIAN_LETTERS = "āčēģīķļņšūž ĀČĒĢĪĶĻŅŠŪŽ"

#: The slip of the public API docs' "Slip after payment" and "Non fiscal slip" examples, as posted.
DOCUMENTED_SLIP_JSON = b"""[
    { "kind": "escpos", "content": ["1D2122", "1D4201", "1D4201"] },
    { "kind": "text", "content": "                  COUPON                  " },
    { "kind": "escpos", "content": ["1B40"] },
    { "kind": "text", "content": "The text line should not be wider than the" },
    { "kind": "text", "content": "maximum character width of the printer" },
    { "kind": "barcode", "code": "1234567890123", "type": 2 }
]"""

#: The header of the "New Sales Invoice + Slip after payment" example.
DOCUMENTED_HEADER_JSON = b"""[
    { "kind": "text", "content": "Header info1" },
    { "kind": "barcode", "code": "1234567890123", "type": 2, "align": 0, "height": 40,
      "width": 2, "text_position": 2 },
    { "kind": "text", "content": "Header info2" }
]"""


def documented_slip(**changes: Any) -> PrintableSlip:
    return replace(PrintableSlip(decode_blocks(DOCUMENTED_SLIP_JSON)), **changes)


def small_receipt(**changes: Any) -> PrintableReceipt:
    """Two rows, one VAT rate, paid in cash with change."""
    receipt = PrintableReceipt(
        shop=ShopInfo("Veikals", ("Rīga",)),
        lines=(
            ReceiptLine("Maize", D(2), D("1.50"), D("3.00"), D(21), "A"),
            ReceiptLine("Ūdens", D(1), D("0.99"), D("0.99"), D(21), "A"),
        ),
        vat_lines=(VatLine(D(21), D("3.30"), D("0.69"), D("3.99"), "A"),),
        total=D("3.99"),
        payments=(PaymentLine("Skaidrā nauda", D("5.00")),),
        change=D("1.01"),
        station_name="Kase 1",
        pos_id="1",
        document_id="42",
        z_number=7,
        cashier="Jānis",
        printed_at=datetime(2026, 2, 17, 16, 8, 47, tzinfo=RIGA),
        chain_hash="",
    )
    return replace(receipt, **changes)


def full_receipt(**changes: Any) -> PrintableReceipt:
    """Everything a receipt can show: long names, discounts, two VAT rates, blocks, a hash."""
    receipt = PrintableReceipt(
        shop=ShopInfo(
            "SIA Piemērs",
            ("Brīvības iela 1, Rīga, LV-1010",),
            vat_number="LV40003000000",
            registration_number="40003000000",
        ),
        lines=(
            ReceiptLine(
                "Rudzu maize ar ķimenēm un saulespuķu sēklām, 500 g",
                D(3),
                D("2.34"),
                D("6.67"),
                D(21),
                "A",
                discount=D("0.35"),
            ),
            ReceiptLine("Piens 2%", D(1), D("1.19"), D("1.19"), D(12), "B"),
            ReceiptLine("Āboli", D("0.532"), D("1.99"), D("1.06"), D(12), "B", unit="kg"),
        ),
        document_discount=D("1.00"),
        vat_lines=(
            VatLine(D(21), D("5.04"), D("1.06"), D("6.10"), "A"),
            VatLine(D(12), D("1.62"), D("0.20"), D("1.82"), "B"),
        ),
        total=D("7.92"),
        payments=(PaymentLine("Karte", D("5.00")), PaymentLine("Skaidrā nauda", D("5.00"))),
        change=D("2.08"),
        station_name="Kase 1",
        pos_id="3",
        document_id="000123",
        z_number=15,
        cashier="Anna Bērziņa",
        printed_at=datetime(2026, 2, 17, 16, 8, 47, tzinfo=RIGA),
        chain_hash=CHAIN_HASH,
        header=decode_blocks(DOCUMENTED_HEADER_JSON),
        footer=decode_blocks(b'[{"kind": "barcode", "code": "0000000000003", "type": 2}]'),
    )
    return replace(receipt, **changes)
