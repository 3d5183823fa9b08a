"""Previews: the text preview matches the printed text; the PNG's codes scan back."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from PIL import Image
from print_samples import CHAIN_HASH, documented_slip, full_receipt, small_receipt

from minipos.printing import to_escpos, to_png, to_text
from minipos.printing.blocks import decode_blocks
from minipos.printing.layout import layout_receipt
from minipos.printing.model import PrintableSlip, PrinterProfile
from minipos.printing.ops import Align, Barcode, QrCode, TextLine
from minipos.printing.preview import (
    MARGIN,
    QR_QUIET_ZONE,
    qr_image,
    qr_matrix,
    render_image,
    text_image,
)
from minipos.printing.readback import text_lines

PROFILES = [
    PrinterProfile(columns=32, dots_per_line=384),
    PrinterProfile(columns=42, dots_per_line=512),
    PrinterProfile(columns=48, dots_per_line=576, code_page="cp775"),
]


def is_placeholder(line: str) -> bool:
    return line.startswith(("[", "8<"))


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: f"{p.columns}-{p.code_page}")
def test_text_preview_is_what_the_printer_gets(profile: PrinterProfile) -> None:
    for receipt in (full_receipt(), small_receipt(is_copy=True, refund_of="41")):
        preview = [line.strip() for line in to_text(receipt, profile).splitlines()]
        printed = [line.strip() for line in text_lines(to_escpos(receipt, profile))]
        assert [line for line in preview if not is_placeholder(line)] == printed


def test_text_preview_of_the_documented_slip() -> None:
    profile = PrinterProfile()
    preview = to_text(documented_slip(), profile).splitlines()
    assert preview == [
        "           NEFISKĀLS DOKUMENTS",
        "-" * 42,
        "",
        "            C  O  U  P  O  N",
        "",
        "The text line should not be wider than the",
        "maximum character width of the printer",
        "          [EAN13 1234567890128]",
        "-" * 42,
        "           NEFISKĀLS DOKUMENTS",
        "8<" + " -" * 20,
    ]
    printed = [line.strip() for line in text_lines(to_escpos(documented_slip(), profile))]
    assert printed == [
        "NEFISKĀLS DOKUMENTS",
        "-" * 42,
        "COUPON",
        "The text line should not be wider than the",
        "maximum character width of the printer",
        "-" * 42,
        "NEFISKĀLS DOKUMENTS",
    ]


def test_text_preview_placeholders_follow_the_codes() -> None:
    text = to_text(full_receipt(), PrinterProfile()).splitlines()
    assert "[EAN13 1234567890128]" in text  # left-aligned, as the block says
    assert "          [EAN13 0000000000000]" in text
    assert "[QR 3f2a9c0177de12ab3f2a9c0177de12ab3f2a…]" in text


def decode(png: bytes) -> dict[str, str]:
    image = Image.open(io.BytesIO(png))
    return {found.text: found.format.name for found in zxingcpp.read_barcodes(image)}


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: str(p.columns))
def test_png_codes_scan_back(profile: PrinterProfile) -> None:
    png = to_png(full_receipt(), profile)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    found = decode(png)
    assert found[CHAIN_HASH] == "QRCode"
    assert found["1234567890128"] == "EAN13"
    assert found["0000000000000"] == "EAN13"


def test_png_of_the_documented_slip_scans() -> None:
    found = decode(to_png(documented_slip(), PrinterProfile()))
    assert found == {"1234567890128": "EAN13"}


@pytest.mark.parametrize(
    ("block", "text", "format_name"),
    [
        ('{"kind":"barcode","type":101,"code":"1234567890123"}', "1234567890123", "QRCode"),
        ('{"kind":"qr","code":"https://čeks.lv/r/1","size":6}', "https://čeks.lv/r/1", "QRCode"),
        ('{"kind":"barcode","type":73,"code":"INV-257/a"}', "INV-257/a", "Code128"),
        ('{"kind":"barcode","type":69,"code":"ABC-123"}', "ABC-123", "Code39"),
        # zxing reports a UPC-A as the EAN-13 it is, with a leading 0
        ('{"kind":"barcode","type":0,"code":"03600029145"}', "0036000291452", "EAN13"),
        ('{"kind":"barcode","type":3,"code":"9638507"}', "96385074", "EAN8"),
        ('{"kind":"barcode","type":70,"code":"12345678"}', "12345678", "ITF"),
        ('{"kind":"barcode","type":71,"code":"A123456B"}', "A123456B", "Codabar"),
        # python-barcode has no CODE93 and UPC-E: the preview draws CODE128 of the same data
        ('{"kind":"barcode","type":72,"code":"CODE93"}', "CODE93", "Code128"),
        ('{"kind":"barcode","type":1,"code":"01234565"}', "01234565", "Code128"),
    ],
)
def test_every_symbology_scans_from_the_png(block: str, text: str, format_name: str) -> None:
    slip = PrintableSlip(decode_blocks(f"[{block}]"))
    found = decode(to_png(slip, PrinterProfile()))
    assert found.get(text) == format_name, found


def test_png_geometry() -> None:
    profile = PrinterProfile(columns=32, dots_per_line=384)
    image = render_image(layout_receipt(small_receipt(), profile), profile)
    assert image.mode == "L"
    assert image.width == 384 + 2 * MARGIN
    lines = len(to_text(small_receipt(), profile).splitlines())
    assert image.height > lines * 20


def test_qr_image_has_the_matrix_of_qrcode() -> None:
    size = 3
    matrix = qr_matrix(CHAIN_HASH)
    image = qr_image(CHAIN_HASH, size)
    count = len(matrix) + 2 * QR_QUIET_ZONE
    assert image.size == (count * size, count * size)
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            pixel = image.getpixel(
                ((x + QR_QUIET_ZONE) * size + size // 2, (y + QR_QUIET_ZONE) * size + size // 2)
            )
            assert (pixel == 0) == dark


def test_barcode_geometry_follows_the_block() -> None:
    profile = PrinterProfile()
    op = Barcode("1234567890128", 2, "EAN13", Align.LEFT, 80, 3, 0)
    image = render_image([op], profile)
    # EAN-13 is 95 modules; 3 dots each, 80 dots high, no HRI text
    row = [image.getpixel((x, MARGIN + 40)) for x in range(image.width)]
    dark = [x for x, value in enumerate(row) if value == 0]
    assert dark[-1] - dark[0] + 1 == 95 * 3
    assert image.height == 80 + 2 * MARGIN


def test_raster_text_image_is_exactly_the_paper_width() -> None:
    profile = PrinterProfile(columns=32, dots_per_line=384)
    image = text_image([TextLine("Ā" * 32), TextLine("x", raw=True)], profile)
    assert image.width == 384
    assert image.getbbox() is not None


def test_qr_op_alignment_in_png() -> None:
    profile = PrinterProfile()
    left = render_image([QrCode("x", 4, Align.LEFT)], profile)
    right = render_image([QrCode("x", 4, Align.RIGHT)], profile)
    middle = MARGIN + 4 * 4 + 1
    assert left.getpixel((MARGIN + 4 * 4 + 1, middle)) == 0  # finder pattern after quiet zone
    assert right.getpixel((MARGIN + 4 * 4 + 1, middle)) == 255
