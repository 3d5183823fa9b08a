"""The Z-report layout: the same operations drive the paper and both previews."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

import pytest
import zxingcpp
from PIL import Image
from print_samples import RIGA

from minipos.printing import (
    PaymentLine,
    PrintableZReport,
    PrinterProfile,
    ShopInfo,
    VatLine,
    to_escpos,
    to_png,
    to_text,
)
from minipos.printing.layout import layout_document, layout_z_report
from minipos.printing.ops import QrCode, TextLine
from minipos.printing.readback import text_lines
from minipos.printing.wording import ENGLISH

D = Decimal
HASH = "9c01" * 16

PROFILES = [
    PrinterProfile(columns=32, dots_per_line=384),
    PrinterProfile(columns=42, dots_per_line=512),
    PrinterProfile(columns=48, dots_per_line=576, code_page="cp775"),
]


def z_report(**changes: object) -> PrintableZReport:
    report = PrintableZReport(
        shop=ShopInfo("SIA Ūdensroze", ("Ģertrūdes iela 5, Rīga",), vat_number="LV40003000000"),
        station_name="Kase 1",
        pos_id="1",
        z_number=12,
        opened_at=datetime(2026, 3, 1, 8, 0, tzinfo=RIGA),
        closed_at=datetime(2026, 3, 1, 20, 15, 30, tzinfo=RIGA),
        receipts=57,
        sales=D("1234.56"),
        refunds=D("12.30"),
        turnover=D("1222.26"),
        tax=D("208.10"),
        vat_lines=(
            VatLine(D(21), D("958.64"), D("201.31"), D("1159.95")),
            VatLine(D(12), D("56.53"), D("6.79"), D("63.32")),
            VatLine(D(0), D("-1.01"), D("0.00"), D("-1.01")),
        ),
        payments=(PaymentLine("Karte", D("900.00")), PaymentLine("Skaidrā nauda", D("322.26"))),
        grand_total=D("98765.43"),
        cashier="Jānis Bērziņš",
        chain_hash=HASH,
    )
    return replace(report, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: str(p.columns))
def test_every_line_fits_and_the_figures_are_there(profile: PrinterProfile) -> None:
    ops = layout_z_report(z_report(), profile)
    lines = [op.text for op in ops if isinstance(op, TextLine)]
    assert all(len(line) <= profile.columns for line in lines)
    text = "\n".join(lines)
    for expected in (
        "Z ATSKAITE",
        "SIA Ūdensroze",
        "Kase 1",
        "01.03.2026 08:00:00",
        "01.03.2026 20:15:30",
        "Jānis Bērziņš",
        "1234.56",
        "12.30",
        "1222.26",
        "1159.95",
        "201.31",
        "208.10",
        "Skaidrā nauda",
        "322.26",
        "98765.43",
        "9C01 9C01 9C01 9C01",
    ):
        assert expected in text, expected
    assert [op.data for op in ops if isinstance(op, QrCode)] == [HASH]
    assert next(line for line in lines if line.startswith("Z Nr.")).endswith("12")
    assert next(line for line in lines if line.startswith("Čeku skaits")).endswith("57")


def test_copy_is_marked_twice_and_english_wording() -> None:
    lines = [
        op.text
        for op in layout_document(z_report(is_copy=True), PrinterProfile(), ENGLISH)
        if isinstance(op, TextLine)
    ]
    assert lines.count("COPY") == 2
    assert "Z REPORT" in lines
    assert any(line.startswith("Grand total") for line in lines)


def test_z_report_prints_latvian_and_previews_match() -> None:
    profile = PrinterProfile(columns=42, dots_per_line=512)
    report = z_report()
    job = to_escpos(report, profile)
    printed = [line.strip() for line in text_lines(job)]
    preview = [line.strip() for line in to_text(report, profile).splitlines()]
    assert [line for line in preview if line and not line.startswith(("[", "8<"))] == [
        line for line in printed if line
    ]
    assert "Maiņa slēgta" in " ".join(printed)
    image = Image.open(io.BytesIO(to_png(report, profile)))
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [HASH]


def test_a_report_needs_aware_times_and_a_hex_hash() -> None:
    with pytest.raises(ValueError, match="aware"):
        z_report(closed_at=datetime(2026, 3, 1, 20, 0))
    with pytest.raises(ValueError, match="hexadecimal"):
        z_report(chain_hash="not hex")
