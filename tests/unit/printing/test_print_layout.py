"""The layout: widths, wrapping, right-aligned amounts, VAT lines, marks, blocks."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from print_samples import CHAIN_HASH, D, documented_slip, full_receipt, small_receipt

from minipos.printing.block_layout import interpret_escpos
from minipos.printing.blocks import decode_blocks
from minipos.printing.layout import layout_receipt, layout_slip, short_hash
from minipos.printing.model import (
    PrintableReceipt,
    PrintableSlip,
    PrinterProfile,
    ReceiptLine,
    VatLine,
)
from minipos.printing.ops import (
    NORMAL,
    Align,
    Barcode,
    Cut,
    DrawerKick,
    Feed,
    QrCode,
    RawBytes,
    Style,
    TextLine,
    printed_lines,
)
from minipos.printing.preview import render_text
from minipos.printing.wording import ENGLISH, LATVIAN

COLUMNS = (32, 42, 48)


def text_of(receipt: PrintableReceipt | PrintableSlip, columns: int = 42) -> list[str]:
    profile = PrinterProfile(columns=columns)
    if isinstance(receipt, PrintableReceipt):
        ops = layout_receipt(receipt, profile)
    else:
        ops = layout_slip(receipt, profile)
    return render_text(ops, profile).splitlines()


@pytest.mark.parametrize("columns", COLUMNS)
def test_no_line_is_wider_than_the_paper(columns: int) -> None:
    lines = text_of(full_receipt(), columns)
    assert max(len(line) for line in lines) == columns
    assert all(len(line) <= columns for line in lines)


@pytest.mark.parametrize("columns", COLUMNS)
def test_own_text_lines_fit_the_profile(columns: int) -> None:
    ops = layout_receipt(full_receipt(), PrinterProfile(columns=columns))
    own = [op for op in ops if isinstance(op, TextLine) and not op.raw]
    assert own, "the receipt laid out no text lines of its own"
    assert [op for op in own if len(op.text) * op.style.width > columns] == []


@pytest.mark.parametrize("columns", COLUMNS)
def test_long_names_wrap_on_words(columns: int) -> None:
    name = "Rudzu maize ar ķimenēm un saulespuķu sēklām, 500 g"
    lines = text_of(full_receipt(), columns)
    start = next(i for i, line in enumerate(lines) if line.startswith("Rudzu"))
    wrapped = []
    for line in lines[start:]:
        if line.startswith("  "):
            break
        wrapped.append(line)
    assert len(wrapped) >= 2
    assert " ".join(wrapped) == name
    assert all(not line.endswith(" ") for line in wrapped)


def test_a_word_longer_than_the_line_is_broken() -> None:
    receipt = small_receipt(
        lines=(ReceiptLine("X" * 50, D(1), D(1), D(1), D(21), "A"),),
    )
    lines = text_of(receipt, 32)
    assert "X" * 32 in lines
    assert "X" * 18 in lines


@pytest.mark.parametrize("columns", COLUMNS)
def test_amounts_are_right_aligned(columns: int) -> None:
    lines = text_of(small_receipt(), columns)
    rows = [line for line in lines if " x " in line]
    assert rows == [
        "  2 x 1.50".ljust(columns - 6) + "3.00 A",
        "  1 x 0.99".ljust(columns - 6) + "0.99 A",
    ]
    total = next(line for line in lines if line.startswith("KOPĀ EUR"))
    assert total.endswith(" 3.99")
    assert len(total) == columns


def test_row_shows_the_gross_then_the_line_discount() -> None:
    lines = text_of(full_receipt(), 42)
    index = lines.index("  3 x 2.34".ljust(36) + "7.02 A")
    assert lines[index + 1] == "  Atlaide".ljust(35) + "-0.35"


def test_weighed_goods_show_quantity_and_unit() -> None:
    lines = text_of(full_receipt(), 42)
    assert "  0.532 kg x 1.99".ljust(36) + "1.06 B" in lines


def test_document_discount_shows_subtotal_and_discount() -> None:
    lines = text_of(full_receipt(), 42)
    assert "Starpsumma".ljust(38) + "8.92" in lines
    assert "Čeka atlaide".ljust(37) + "-1.00" in lines


def test_no_discount_lines_without_a_discount() -> None:
    lines = text_of(small_receipt(), 42)
    assert not any("Atlaide" in line or "atlaide" in line for line in lines)


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (32, ["Likme    Bez PVN     PVN  Ar PVN", "A 21%       5.04    1.06    6.10"]),
        (
            42,
            [
                "Likme          Bez PVN       PVN    Ar PVN",
                "A 21%             5.04      1.06      6.10",
            ],
        ),
        (
            48,
            [
                "Likme            Bez PVN         PVN      Ar PVN",
                "A 21%               5.04        1.06        6.10",
            ],
        ),
    ],
)
def test_vat_breakdown_per_rate(columns: int, expected: list[str]) -> None:
    lines = text_of(full_receipt(), columns)
    index = lines.index(expected[0])
    assert lines[index : index + 2] == expected
    assert lines[index + 2].startswith("B 12%")
    assert lines[index + 2].split() == ["B", "12%", "1.62", "0.20", "1.82"]


def test_vat_breakdown_stacks_when_numbers_do_not_fit() -> None:
    big = VatLine(D(21), D("12345678.00"), D("2592592.38"), D("14938270.38"), "A")
    lines = text_of(small_receipt(vat_lines=(big,)), 32)
    index = lines.index("PVN A 21%")
    assert lines[index + 1 : index + 4] == [
        "  Bez PVN".ljust(21) + "12345678.00",
        "  PVN".ljust(22) + "2592592.38",
        "  Ar PVN".ljust(21) + "14938270.38",
    ]


def test_payments_change_and_particulars() -> None:
    lines = text_of(full_receipt(), 42)
    for label, value in [
        ("Karte", "5.00"),
        ("Skaidrā nauda", "5.00"),
        ("Atlikums", "2.08"),
        ("Kasieris", "Anna Bērziņa"),
        ("Kase", "Kase 1"),
        ("POS", "3"),
        ("Čeks Nr.", "000123"),
        ("Z Nr.", "15"),
        ("Datums", "17.02.2026 16:08:47"),
    ]:
        assert label.ljust(42 - len(value)) + value in lines, label


def test_sections_come_in_order() -> None:
    lines = text_of(full_receipt(), 42)
    order = [
        "SIA Piemērs",
        "PVN reģ. Nr. LV40003000000",
        "Header info1",
        "[EAN13 1234567890128]",
        "Header info2",
        "Rudzu maize",
        "Starpsumma",
        "Likme",
        "KOPĀ EUR",
        "Karte",
        "Atlikums",
        "Kasieris",
        "Datums",
        "[EAN13 0000000000000]",
        "Kontrolkods",
        "[QR ",
        "8<",
    ]
    positions = [next(i for i, line in enumerate(lines) if key in line) for key in order]
    assert positions == sorted(positions)


def test_chain_hash_short_form_and_qr() -> None:
    ops = layout_receipt(full_receipt(), PrinterProfile())
    assert short_hash(CHAIN_HASH) == "3F2A 9C01 77DE 12AB"
    assert any(isinstance(op, TextLine) and op.text.endswith("3F2A 9C01 77DE 12AB") for op in ops)
    qr = [op for op in ops if isinstance(op, QrCode)]
    assert qr == [QrCode(CHAIN_HASH, 5, Align.CENTER)]


def test_no_hash_no_qr() -> None:
    ops = layout_receipt(small_receipt(), PrinterProfile())
    assert not any(isinstance(op, QrCode) for op in ops)


def test_refund_is_marked_with_the_original_number() -> None:
    lines = [line.strip() for line in text_of(small_receipt(refund_of="000041"), 42)]
    assert "ATGRIEŠANA" in lines
    assert "Atgriešana čekam Nr. 000041" in lines
    assert any(line.startswith("ATMAKSAI EUR") for line in lines)
    assert not any(line.startswith("KOPĀ EUR") for line in lines)


def test_copy_is_marked_at_top_and_bottom() -> None:
    lines = [line.strip() for line in text_of(small_receipt(is_copy=True), 42)]
    assert lines.count("KOPIJA") == 2
    assert lines.index("KOPIJA") < lines.index("Maize")
    assert "KOPIJA" not in [line.strip() for line in text_of(small_receipt(), 42)]


def test_non_fiscal_slip_is_marked() -> None:
    lines = [line.strip() for line in text_of(documented_slip(), 42)]
    assert lines[0] == "NEFISKĀLS DOKUMENTS"
    assert lines.count("NEFISKĀLS DOKUMENTS") == 2
    copy = [line.strip() for line in text_of(documented_slip(is_copy=True), 42)]
    assert "KOPIJA" in copy


def test_english_wording() -> None:
    profile = PrinterProfile()
    ops = layout_receipt(small_receipt(is_copy=True, refund_of="7"), profile, ENGLISH)
    lines = [line.strip() for line in render_text(ops, profile).splitlines()]
    assert "COPY" in lines
    assert "REFUND" in lines
    assert "Refund of receipt No. 7" in lines
    assert LATVIAN.copy == "KOPIJA"


def test_marks_are_bold_double_height_and_centred() -> None:
    ops = layout_slip(documented_slip(), PrinterProfile())
    assert ops[0] == TextLine("NEFISKĀLS DOKUMENTS", Style(Align.CENTER, bold=True, height=2))


def test_drawer_kick_comes_first_when_asked() -> None:
    profile = PrinterProfile(drawer_pin=5, drawer_on_ms=120, drawer_off_ms=240)
    ops = layout_receipt(small_receipt(open_drawer=True), profile)
    assert ops[0] == DrawerKick(5, 120, 240)
    assert not any(isinstance(op, DrawerKick) for op in layout_receipt(small_receipt(), profile))
    copy = layout_receipt(small_receipt(open_drawer=True, is_copy=True), profile)
    assert not any(isinstance(op, DrawerKick) for op in copy)


def test_cut_or_feed_at_the_end() -> None:
    assert layout_receipt(small_receipt(), PrinterProfile())[-1] == Cut(partial=False)
    assert layout_receipt(small_receipt(), PrinterProfile(partial_cut=True))[-1] == Cut(True)
    assert layout_receipt(small_receipt(), PrinterProfile(cut=False))[-1] == Feed(4)


# --- blocks -------------------------------------------------------------------------------------


def test_documented_slip_blocks() -> None:
    ops = layout_slip(documented_slip(), PrinterProfile())
    body = ops[2:-3]
    coupon = Style(width=3, height=3, invert=True)
    assert body == [
        RawBytes(bytes.fromhex("1D21221D42011D4201")),
        TextLine("                  COUPON                  ", coupon, raw=True),
        RawBytes(b"\x1b@"),
        TextLine("The text line should not be wider than the", NORMAL, raw=True),
        TextLine("maximum character width of the printer", NORMAL, raw=True),
        Barcode("1234567890128", 2, "EAN13", Align.CENTER, 40, 2, 2),
    ]


def test_coupon_wraps_like_the_printer_at_triple_width() -> None:
    line = TextLine("                  COUPON                  ", Style(width=3, height=3))
    assert printed_lines(line, 42) == [" " * 14, "    COUPON    ", " " * 14]


def test_barcode_block_settings_are_kept() -> None:
    blocks = decode_blocks(
        b'[{"kind":"barcode","code":"96385074","type":68,"align":2,"height":80,'
        b'"width":3,"text_position":0}]'
    )
    ops = layout_slip(PrintableSlip(blocks), PrinterProfile())
    assert Barcode("96385074", 68, "EAN8", Align.RIGHT, 80, 3, 0) in ops


def test_type_101_and_qr_blocks_are_qr_codes() -> None:
    blocks = decode_blocks(
        b'[{"kind":"barcode","type":101,"code":"1234567890123","align":0},'
        b'{"kind":"qr","code":"https://example.lv/r/1","size":8}]'
    )
    ops = layout_slip(PrintableSlip(blocks), PrinterProfile())
    assert QrCode("1234567890123", 5, Align.LEFT) in ops
    assert QrCode("https://example.lv/r/1", 8, Align.CENTER) in ops
    small = layout_slip(PrintableSlip(blocks), PrinterProfile(columns=32, dots_per_line=384))
    assert QrCode("1234567890123", 4, Align.LEFT) in small


def test_row_blocks_print_under_their_row() -> None:
    blocks = decode_blocks(b'[{"kind":"text","content":"Akcija: 2 par 1"}]')
    line = ReceiptLine("Maize", D(2), D("1.50"), D("3.00"), D(21), "A", blocks=blocks)
    lines = text_of(small_receipt(lines=(line,)), 42)
    assert lines[lines.index("Maize") + 2] == "Akcija: 2 par 1"


def test_text_block_control_characters_are_not_sent() -> None:
    blocks = decode_blocks(b'[{"kind":"text","content":"a\\u001b@b\\tc\\nsecond"}]')
    ops = layout_slip(PrintableSlip(blocks), PrinterProfile())
    texts = [op.text for op in ops if isinstance(op, TextLine) and op.raw]
    assert texts == ["a@b c", "second"]


def test_a_corrupted_barcode_prints_as_text() -> None:
    # The API refuses it; a damaged stored row must still print, never crash.
    blocks = decode_blocks(b'[{"kind":"barcode","code":"12AB","type":2}]')
    ops = layout_slip(PrintableSlip(blocks), PrinterProfile())
    assert TextLine("12AB", NORMAL, raw=True) in ops


def test_interpret_escpos() -> None:
    state = interpret_escpos(bytes.fromhex("1D2122 1D4201 1B4501 1B6101"), NORMAL)
    assert state == Style(Align.CENTER, bold=True, width=3, height=3, invert=True)
    assert interpret_escpos(b"\x1b@", state) == NORMAL
    assert interpret_escpos(b"\x1b!\x38", NORMAL) == Style(bold=True, width=2, height=2)
    assert interpret_escpos(b"\x1ba1", NORMAL).align is Align.CENTER
    assert interpret_escpos(b"\x1b", NORMAL) == NORMAL


# --- model --------------------------------------------------------------------------------------


def test_printed_at_must_be_aware() -> None:
    with pytest.raises(ValueError, match="aware"):
        small_receipt(printed_at=datetime(2026, 2, 17, 16, 8))


def test_chain_hash_must_be_hex() -> None:
    with pytest.raises(ValueError, match="hexadecimal"):
        small_receipt(chain_hash="not-hex")


@pytest.mark.parametrize(
    "changes",
    [
        {"columns": 40},
        {"code_page": "utf8"},
        {"code_page_number": 256},
        {"drawer_pin": 3},
        {"drawer_on_ms": 600},
        {"dots_per_line": 10},
    ],
)
def test_bad_profiles_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        PrinterProfile(**changes)  # type: ignore[arg-type]


def test_decode_blocks() -> None:
    assert decode_blocks(None) == ()
    assert decode_blocks(b"") == ()
    assert len(decode_blocks(b'[{"kind":"escpos","content":["1B40"]}]')) == 1
    with pytest.raises(ValueError):  # noqa: PT011
        decode_blocks(b'[{"kind":"nope"}]')


def test_money_never_prints_minus_zero() -> None:
    receipt = small_receipt(change=Decimal("-0.00"), total=Decimal("-0.001"))
    lines = text_of(receipt, 42)
    assert "KOPĀ EUR".ljust(38) + "0.00" in lines
