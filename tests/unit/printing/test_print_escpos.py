"""ESC/POS bytes: golden jobs, the documented slip byte for byte, barcodes, QR, code pages."""

from __future__ import annotations

import pytest
from print_samples import LATVIAN_LETTERS, documented_slip, full_receipt, small_receipt

from minipos.printing import to_escpos
from minipos.printing.blocks import decode_blocks
from minipos.printing.escpos import code_page_number, encode_text, gs_k_data, render_escpos
from minipos.printing.model import PrintableSlip, PrinterProfile
from minipos.printing.ops import (
    Align,
    Barcode,
    Cut,
    DrawerKick,
    Feed,
    QrCode,
    RawBytes,
    Style,
    TextLine,
)
from minipos.printing.readback import parse_escpos, text_lines

ESC, GS, LF = b"\x1b", b"\x1d", b"\n"
INIT = ESC + b"@"
CP1257 = ESC + b"t\x33"  # ESC t 51
CP775 = ESC + b"t\x21"  # ESC t 33
CENTER, LEFT = ESC + b"a\x01", ESC + b"a\x00"
BOLD, NOT_BOLD = ESC + b"E\x01", ESC + b"E\x00"
TALL, NORMAL_SIZE = GS + b"!\x01", GS + b"!\x00"
RESET_MODES = ESC + b"!\x00" + GS + b"!\x00" + GS + b"B\x00" + ESC + b"2"
CUT = ESC + b"d\x06" + GS + b"V\x00"


def line(text: str, encoding: str = "cp1257") -> bytes:
    return text.encode(encoding) + LF


def test_golden_small_receipt() -> None:
    rule = line("-" * 32)
    expected = b"".join(
        [
            INIT + CP1257,
            CENTER + BOLD + TALL + line("Veikals"),
            NOT_BOLD + NORMAL_SIZE + line("Rīga"),
            BOLD + TALL + line("ČEKS"),
            LEFT + NOT_BOLD + NORMAL_SIZE + rule,
            line("Maize"),
            line("  2 x 1.50                3.00 A"),
            line("Ūdens"),
            line("  1 x 0.99                0.99 A"),
            rule,
            line("Likme    Bez PVN     PVN  Ar PVN"),
            line("A 21%       3.30    0.69    3.99"),
            rule,
            BOLD + TALL + line("KOPĀ EUR                    3.99"),
            NOT_BOLD + NORMAL_SIZE + line("Skaidrā nauda               5.00"),
            line("Atlikums                    1.01"),
            rule,
            line("Kasieris                   Jānis"),
            line("Kase                      Kase 1"),
            line("POS                            1"),
            line("Čeks Nr.                      42"),
            line("Z Nr.                          7"),
            line("Datums       17.02.2026 16:08:47"),
            CUT,
        ]
    )
    assert to_escpos(small_receipt(), PrinterProfile(columns=32)) == expected


def test_documented_slip_byte_for_byte() -> None:
    """The public API docs' non-fiscal slip: the escpos blocks pass through verbatim, around our framing."""
    rule = line("-" * 42)
    mark = CENTER + BOLD + TALL + line("NEFISKĀLS DOKUMENTS")
    expected = b"".join(
        [
            INIT + CP1257,
            mark,
            LEFT + NOT_BOLD + NORMAL_SIZE + rule,
            # { "kind": "escpos", "content": ["1D2122", "1D4201", "1D4201"] }
            bytes.fromhex("1D2122") + bytes.fromhex("1D4201") + bytes.fromhex("1D4201"),
            line("                  COUPON                  "),
            # { "kind": "escpos", "content": ["1B40"] }: the printer resets, so we re-select
            # the code page before the next text
            bytes.fromhex("1B40"),
            CP1257,
            line("The text line should not be wider than the"),
            line("maximum character width of the printer"),
            # { "kind": "barcode", "code": "1234567890123", "type": 2 }: EAN-13 with the check
            # digit recomputed (8), function A (NUL-terminated), the documented defaults
            CENTER + GS + b"h\x28" + GS + b"w\x02" + GS + b"H\x02",
            GS + b"k\x02" + b"1234567890128" + b"\x00",
            # back to our own lines: reset what the raw bytes may have set
            RESET_MODES + LEFT + rule,
            mark,
            CUT,
        ]
    )
    assert to_escpos(documented_slip(), PrinterProfile()) == expected


def test_documented_escpos_hex_appears_verbatim_in_a_sale() -> None:
    job = to_escpos((full_receipt(), documented_slip()), PrinterProfile())
    assert bytes.fromhex("1D21221D42011D4201") + line(" " * 18 + "COUPON" + " " * 18) in job
    assert (
        bytes.fromhex("1B40") + CP1257 + line("The text line should not be wider than the") in job
    )
    # receipt first, then the slip; each ends with its cut
    assert job.count(CUT) == 2
    assert job.index("KOPĀ EUR".encode("cp1257")) < job.index(b"COUPON")


def test_documented_header_barcode_settings() -> None:
    job = to_escpos(full_receipt(), PrinterProfile())
    header = LEFT + GS + b"h\x28" + GS + b"w\x02" + GS + b"H\x02" + GS + b"k\x021234567890128\x00"
    assert header in job
    # the footer's EAN-13 "0000000000003": check digit recomputed to 0
    assert GS + b"k\x020000000000000\x00" in job
    # a text block after a barcode prints left-aligned again
    assert header + line("Header info2") in job


@pytest.mark.parametrize(
    ("block", "command"),
    [
        ('{"kind":"barcode","code":"400638133393","type":2}', b"k\x024006381333931\x00"),
        ('{"kind":"barcode","code":"4006381333930","type":67}', b"k\x43\x0d4006381333931"),
        ('{"kind":"barcode","code":"9638507","type":3}', b"k\x0396385074\x00"),
        ('{"kind":"barcode","code":"03600029145","type":0}', b"k\x00036000291452\x00"),
        ('{"kind":"barcode","code":"ABC-123","type":4}', b"k\x04ABC-123\x00"),
        ('{"kind":"barcode","code":"ABC-123","type":69}', b"k\x45\x07ABC-123"),
        ('{"kind":"barcode","code":"1234","type":70}', b"k\x46\x041234"),
        ('{"kind":"barcode","code":"A123B","type":71}', b"k\x47\x05A123B"),
        ('{"kind":"barcode","code":"Code-93","type":72}', b"k\x48\x07Code-93"),
        ('{"kind":"barcode","code":"R1","type":73}', b"k\x49\x04{BR1"),
        ('{"kind":"barcode","code":"a{b","type":73}', b"k\x49\x06{Ba{{b"),
        ('{"kind":"barcode","code":"{C123456","type":73}', b"k\x49\x08{C123456"),
    ],
)
def test_barcode_gs_k(block: str, command: bytes) -> None:
    job = to_escpos(PrintableSlip(decode_blocks(f"[{block}]")), PrinterProfile())
    assert GS + command in job


def test_barcode_block_settings_map_to_commands() -> None:
    block = (
        '[{"kind":"barcode","code":"96385074","type":3,"align":2,"height":80,'
        '"width":1,"text_position":3}]'
    )
    job = to_escpos(PrintableSlip(decode_blocks(block)), PrinterProfile())
    settings = ESC + b"a\x02" + GS + b"h\x50" + GS + b"w\x01" + GS + b"H\x03"
    assert settings + GS + b"k\x0396385074\x00" in job


def test_code128_too_long_once_escaped_prints_its_text() -> None:
    code = "{" * 200
    op = Barcode(code, 73, "CODE128", Align.CENTER, 40, 2, 2)
    assert gs_k_data(op) is None
    job = render_escpos([op], PrinterProfile())
    assert GS + b"k" not in job
    assert line(code) in job


def qr_commands(data: bytes, size: int) -> bytes:
    """GS ( k: model 2, module size, error correction M, store, print."""
    store = b"1P0" + data
    return (
        GS + b"(k\x04\x001A2\x00"
        + GS + b"(k\x03\x001C" + bytes([size])
        + GS + b"(k\x03\x001E1"
        + GS + b"(k" + len(store).to_bytes(2, "little") + store
        + GS + b"(k\x03\x001Q0"
    )  # fmt: skip


def test_qr_block_and_type_101() -> None:
    blocks = decode_blocks(
        '[{"kind":"barcode","type":101,"code":"1234567890123"},'
        '{"kind":"qr","code":"https://čeks.lv/1","size":8}]'
    )
    job = to_escpos(PrintableSlip(blocks), PrinterProfile())
    assert CENTER + qr_commands(b"1234567890123", 5) in job
    assert CENTER + qr_commands("https://čeks.lv/1".encode(), 8) in job


def test_chain_hash_qr_on_the_receipt() -> None:
    receipt = full_receipt()
    job = to_escpos(receipt, PrinterProfile())
    assert CENTER + qr_commands(receipt.chain_hash.encode(), 5) in job
    assert line("Kontrolkods".ljust(23) + "3F2A 9C01 77DE 12AB") in job


def test_drawer_kick() -> None:
    job = to_escpos(small_receipt(open_drawer=True), PrinterProfile())
    assert job.startswith(INIT + CP1257 + ESC + b"p\x00\x32\x32")
    pin5 = PrinterProfile(drawer_pin=5, drawer_on_ms=60, drawer_off_ms=500)
    assert ESC + b"p\x01\x1e\xfa" in to_escpos(small_receipt(open_drawer=True), pin5)
    assert ESC + b"p" not in to_escpos(small_receipt(), PrinterProfile())


def test_cut_follows_the_profile() -> None:
    assert to_escpos(small_receipt(), PrinterProfile()).endswith(CUT)
    assert to_escpos(small_receipt(), PrinterProfile(partial_cut=True)).endswith(
        ESC + b"d\x06" + GS + b"V\x01"
    )
    no_cut = to_escpos(small_receipt(), PrinterProfile(cut=False))
    assert GS + b"V" not in no_cut
    assert no_cut.endswith(ESC + b"d\x04")


def test_styles_are_sent_only_when_they_change() -> None:
    ops = [
        TextLine("a", Style(Align.RIGHT, bold=True, width=2, height=3, invert=True)),
        TextLine("b", Style(Align.RIGHT, bold=True, width=2, height=3, invert=True)),
        TextLine("c"),
        Feed(2),
    ]
    assert render_escpos(ops, PrinterProfile()) == (
        INIT + CP1257
        + ESC + b"a\x02" + BOLD + GS + b"!\x12" + GS + b"B\x01" + b"a\n" + b"b\n"
        + LEFT + NOT_BOLD + NORMAL_SIZE + GS + b"B\x00" + b"c\n"
        + ESC + b"d\x02"
    )  # fmt: skip


def test_text_block_after_raw_bytes_keeps_the_printer_state() -> None:
    ops = [
        TextLine("bold", Style(bold=True)),
        RawBytes(GS + b"!\x11"),
        TextLine("big", raw=True),
        TextLine("ours"),
    ]
    assert render_escpos(ops, PrinterProfile()) == (
        INIT + CP1257 + BOLD + b"bold\n" + GS + b"!\x11" + b"big\n"
        + RESET_MODES + LEFT + b"ours\n"
    )  # fmt: skip


def test_text_block_in_a_known_state_prints_plain() -> None:
    ops = [TextLine("total", Style(Align.CENTER, bold=True)), TextLine("block", raw=True)]
    assert render_escpos(ops, PrinterProfile()).endswith(LEFT + NOT_BOLD + b"block\n")


# --- code pages ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("code_page", "select"), [("cp1257", CP1257), ("cp775", CP775)])
def test_latvian_text_decodes_back(code_page: str, select: bytes) -> None:
    receipt = small_receipt(cashier=LATVIAN_LETTERS)
    profile = PrinterProfile(code_page=code_page)  # type: ignore[arg-type]
    job = to_escpos(receipt, profile)
    assert job.startswith(INIT + select)
    assert LATVIAN_LETTERS.encode(code_page) in job
    lines = text_lines(job)
    assert any(text.endswith(LATVIAN_LETTERS) for text in lines)
    assert "Rīga" in lines
    assert "Ūdens" in lines
    assert any(text.startswith("KOPĀ EUR") for text in lines)


def test_the_two_code_pages_differ() -> None:
    assert encode_text("ā", "cp1257") == b"\xe2"
    assert encode_text("ā", "cp775") == b"\x83"
    assert encode_text(LATVIAN_LETTERS, "cp775").decode("cp775") == LATVIAN_LETTERS
    assert encode_text(LATVIAN_LETTERS, "cp1257").decode("cp1257") == LATVIAN_LETTERS


def test_characters_outside_the_code_page_degrade_readably() -> None:
    assert encode_text("5 € – ok…", "cp775") == b"5 EUR - ok..."
    assert encode_text("“ok”", "cp775").decode("cp775") == "“ok”"  # CP775 has these quotes
    assert encode_text("café ß 😀", "cp775") == "café ß ?".encode("cp775")
    assert encode_text("Łódź", "cp1257") == "Łódź".encode("cp1257")
    assert encode_text("Ελ", "cp1257") == b"??"


def test_code_page_numbers() -> None:
    assert code_page_number(PrinterProfile(code_page="cp1257")) == 51
    assert code_page_number(PrinterProfile(code_page="cp775")) == 33
    # python-escpos's database knows models that number them differently
    assert code_page_number(PrinterProfile(model="NT-5890K")) == 25
    assert code_page_number(PrinterProfile(code_page_number=17)) == 17
    job = to_escpos(small_receipt(), PrinterProfile(code_page_number=17))
    assert job.startswith(INIT + ESC + b"t\x11")
    with pytest.raises(ValueError, match="no CP775"):
        code_page_number(PrinterProfile(code_page="cp775", model="OCD-100"))
    with pytest.raises(ValueError, match="unknown printer model"):
        code_page_number(PrinterProfile(model="no such printer"))
    with pytest.raises(ValueError, match="raster"):
        code_page_number(PrinterProfile(code_page="raster"))


def test_raster_fallback_sends_text_as_images() -> None:
    profile = PrinterProfile(code_page="raster", columns=32, dots_per_line=384)
    job = to_escpos(small_receipt(cashier=LATVIAN_LETTERS), profile)
    commands = parse_escpos(job)
    assert commands[0].name == "ESC @"
    assert not any(c.name == "ESC t" for c in commands)
    assert not any(c.name == "TEXT" and c.text for c in commands)
    images = [c for c in commands if c.name == "GS v 0"]
    assert images
    for image in images:
        mode, width_bytes, height = image.args[0], image.args[1:3], image.args[3:5]
        assert mode == 0
        assert int.from_bytes(width_bytes, "little") == 384 // 8
        assert 0 < int.from_bytes(height, "little") <= 960
    assert commands[-2:] == parse_escpos(CUT)


def test_raster_keeps_barcodes_native() -> None:
    profile = PrinterProfile(code_page="raster")
    job = to_escpos(documented_slip(), profile)
    assert GS + b"k\x021234567890128\x00" in job
    assert bytes.fromhex("1D21221D42011D4201") in job


def test_readback_understands_every_command_we_send() -> None:
    ops = [
        DrawerKick(2, 100, 100),
        TextLine("x", Style(Align.CENTER, bold=True, width=2, height=2, invert=True)),
        Barcode("123", 73, "CODE128", Align.LEFT, 50, 2, 0),
        Barcode("96385074", 3, "EAN8", Align.LEFT, 50, 2, 0),
        QrCode("q", 4),
        RawBytes(b"\x1b@\x1d!\x00"),
        Feed(3),
        Cut(partial=True),
    ]
    commands = parse_escpos(render_escpos(ops, PrinterProfile()))
    assert "?" not in [c.name for c in commands]
    assert [c.name for c in commands if c.name.startswith("GS k")] == ["GS k", "GS k"]
