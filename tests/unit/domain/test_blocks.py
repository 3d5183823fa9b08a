"""Print-block rules: every symbology's accepted and refused codes, check digits, raw ESC/POS."""

from __future__ import annotations

import pytest

from minipos.domain.blocks import (
    BARCODE_TYPES,
    QR_TYPE,
    barcode_error,
    ean_upc_check_digit,
    escpos_hex_error,
    text_cost,
    with_check_digit,
)

UPC_A, UPC_E, EAN13, EAN8, CODE39, ITF, CODABAR = 0, 1, 2, 3, 4, 5, 6
CODE93, CODE128 = 72, 73


def test_type_table() -> None:
    assert QR_TYPE == 101
    assert dict(BARCODE_TYPES) == {
        0: "UPC-A",
        1: "UPC-E",
        2: "EAN13",
        3: "EAN8",
        4: "CODE39",
        5: "ITF",
        6: "CODABAR",
        65: "UPC-A",
        66: "UPC-E",
        67: "EAN13",
        68: "EAN8",
        69: "CODE39",
        70: "ITF",
        71: "CODABAR",
        72: "CODE93",
        73: "CODE128",
        101: "QR",
    }


def test_type_table_is_read_only() -> None:
    with pytest.raises(TypeError):
        BARCODE_TYPES[7] = "X"  # type: ignore[index]


# --- accepted -----------------------------------------------------------------------------------

ACCEPTED = [
    # the documented examples: wrong check digits are the printer's business
    ("documented-ean13", "1234567890123", EAN13),
    ("documented-ean13-zeros", "0000000000003", EAN13),
    ("documented-qr-type-101", "1234567890123", QR_TYPE),
    ("ean13-12-digits", "400638133393", EAN13),
    ("ean13-correct-check", "4006381333931", EAN13),
    ("ean13-function-b", "4006381333931", 67),
    ("ean8-7", "9638507", EAN8),
    ("ean8-8", "96385074", EAN8),
    ("ean8-function-b", "96385074", 68),
    ("upca-11", "03600029145", UPC_A),
    ("upca-12", "036000291452", UPC_A),
    ("upca-function-b", "036000291452", 65),
    ("upce-6", "425261", UPC_E),
    ("upce-7", "0425261", UPC_E),
    ("upce-8", "04252614", UPC_E),
    ("upce-11", "04210000526", UPC_E),
    ("upce-12", "042100005264", UPC_E),
    ("upce-function-b", "04252614", 66),
    ("code39-one-char", "A", CODE39),
    ("code39-all-specials", "0-9 A.Z $/+%", CODE39),
    ("code39-start-stop", "*CODE 39*", CODE39),
    ("code39-255", "A" * 255, CODE39),
    ("code39-function-b", "ABC-123", 69),
    ("itf-2", "12", ITF),
    ("itf-14", "15400141288763", ITF),
    ("itf-254", "1" * 254, ITF),
    ("itf-function-b", "1234", 70),
    ("codabar-minimal", "AB", CODABAR),
    ("codabar-lower-ends", "a40156b", CODABAR),
    ("codabar-all-middle", "C0123456789-$:/.+D", CODABAR),
    ("codabar-function-b", "A1234B", 71),
    ("code93-one", "x", CODE93),
    ("code93-ascii-controls", "Ab\x00\x7f", CODE93),
    ("code93-255", "a" * 255, CODE93),
    ("code128-text", "{BShop-42", CODE128),
    ("code128-253", "z" * 253, CODE128),
    ("qr-url", "https://example.com/r/123?x=1", QR_TYPE),
    ("qr-latvian", "Skaidrā nauda, Pārskaitījums", QR_TYPE),
    ("qr-max-ascii", "a" * 2331, QR_TYPE),  # version 40 at error correction M
    ("qr-max-utf8-bytes", "ā" * 1165 + "a", QR_TYPE),  # 2330 + 1 bytes
]


@pytest.mark.parametrize(
    ("code", "type_"), [pytest.param(code, type_, id=id_) for id_, code, type_ in ACCEPTED]
)
def test_accepted(code: str, type_: int) -> None:
    assert barcode_error(code, type_) is None


# --- refused ------------------------------------------------------------------------------------

REFUSED = [
    ("ean13-11-digits", "12345678901", EAN13, "EAN13 (type 2) needs 12 or 13 digits"),
    ("ean13-14-digits", "12345678901234", EAN13, "needs 12 or 13 digits"),
    ("ean13-letter", "123456789012A", EAN13, "needs 12 or 13 digits (0-9)"),
    ("ean13-space", "123456789012 ", EAN13, "digits"),
    ("ean13-arabic-indic-digits", "١٢٣٤٥٦٧٨٩٠١٢٣", EAN13, "digits"),
    ("ean13-fullwidth-digits", "１２３４５６７８９０１２３", EAN13, "digits"),
    ("ean13-function-b", "123", 67, "EAN13 (type 67)"),
    ("ean8-6", "123456", EAN8, "EAN8 (type 3) needs 7 or 8 digits"),
    ("ean8-9", "123456789", EAN8, "7 or 8 digits"),
    ("ean8-sign", "+1234567", EAN8, "digits"),
    ("upca-10", "0360002914", UPC_A, "UPC-A (type 0) needs 11 or 12 digits"),
    ("upca-13", "0360002914521", UPC_A, "11 or 12 digits"),
    ("upce-5", "42526", UPC_E, "UPC-E (type 1) needs 6, 7, 8, 11 or 12 digits"),
    ("upce-9", "042526145", UPC_E, "6, 7, 8, 11 or 12"),
    ("upce-10", "0425261450", UPC_E, "6, 7, 8, 11 or 12"),
    ("upce-13", "0425261450123", UPC_E, "6, 7, 8, 11 or 12"),
    ("code39-lowercase", "abc", CODE39, "CODE39 (type 4) takes digits, capital letters"),
    ("code39-star-inside", "AB*C", CODE39, "capital letters"),
    ("code39-unpaired-star", "*ABC", CODE39, "capital letters"),
    ("code39-lone-star", "*", CODE39, "capital letters"),
    ("code39-empty-between-stars", "**", CODE39, "capital letters"),
    ("code39-256", "A" * 256, CODE39, "at most 255 characters"),
    ("code39-non-ascii", "ĀB", CODE39, "capital letters"),
    ("itf-odd", "123", ITF, "ITF (type 5) needs an even number of digits"),
    ("itf-one", "1", ITF, "even number"),
    ("itf-letters", "12AB", ITF, "digits"),
    ("itf-256", "1" * 256, ITF, "at most 254"),
    ("codabar-one-char", "A", CODABAR, "CODABAR (type 6) must start and end with A, B, C or D"),
    ("codabar-no-stop", "A1234", CODABAR, "start and end"),
    ("codabar-bad-start", "E1234A", CODABAR, "start and end"),
    ("codabar-bad-middle", "A12X4B", CODABAR, "digits and - $ : / . +"),
    ("codabar-letter-middle", "A1C4B", CODABAR, "start and end"),
    ("codabar-256", "A" + "1" * 254 + "B", CODABAR, "at most 255 characters"),
    ("code93-non-ascii", "Rīga", CODE93, "CODE93 (type 72) takes ASCII characters only"),
    ("code93-256", "a" * 256, CODE93, "at most 255 characters"),
    ("code128-non-ascii", "€5", CODE128, "CODE128 (type 73) takes ASCII characters only"),
    ("code128-254", "z" * 254, CODE128, "at most 253 characters"),
    ("qr-too-long", "a" * 2332, QR_TYPE, "QR (type 101) holds at most 2331 bytes"),
    ("qr-too-many-utf8-bytes", "ā" * 1166, QR_TYPE, "2331 bytes"),  # 2332 bytes
    ("qr-lone-surrogate", "abc\ud800", QR_TYPE, "not valid Unicode"),
]


@pytest.mark.parametrize(
    ("code", "type_", "message"),
    [pytest.param(code, type_, message, id=id_) for id_, code, type_, message in REFUSED],
)
def test_refused(code: str, type_: int, message: str) -> None:
    error = barcode_error(code, type_)
    assert error is not None
    assert message in error
    assert error.endswith(".")


@pytest.mark.parametrize("type_", sorted(BARCODE_TYPES))
def test_empty_code_is_always_an_error(type_: int) -> None:
    assert barcode_error("", type_) == "This field may not be blank."


@pytest.mark.parametrize("type_", [-1, 7, 8, 64, 74, 100, 102, 255, 1000])
def test_unknown_type(type_: int) -> None:
    assert barcode_error("1234567890123", type_) == (
        f"Unsupported barcode type {type_}; use one of 0-6, 65-73 or 101 (QR)."
    )


def test_unknown_type_is_reported_before_an_empty_code() -> None:
    assert barcode_error("", 7) == "Unsupported barcode type 7; use one of 0-6, 65-73 or 101 (QR)."


# --- check digits -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("digits", "check"),
    [
        pytest.param("400638133393", "1", id="ean13"),
        pytest.param("123456789012", "8", id="ean13-documented"),
        pytest.param("000000000000", "0", id="ean13-zeros"),
        pytest.param("9638507", "4", id="ean8"),
        pytest.param("03600029145", "2", id="upca"),
        pytest.param("5901234123457"[:12], "7", id="ean13-gs1-example"),
        pytest.param("7", "9", id="single-digit"),  # 7*3=21 -> 9
    ],
)
def test_ean_upc_check_digit(digits: str, check: str) -> None:
    assert ean_upc_check_digit(digits) == check


@pytest.mark.parametrize("digits", ["", "12a", "١٢٣", "12 3"])
def test_check_digit_needs_ascii_digits(digits: str) -> None:
    with pytest.raises(ValueError, match="digits"):
        ean_upc_check_digit(digits)


@pytest.mark.parametrize(
    ("code", "type_", "expected"),
    [
        pytest.param("400638133393", EAN13, "4006381333931", id="ean13-append"),
        pytest.param("4006381333931", EAN13, "4006381333931", id="ean13-keep"),
        pytest.param("1234567890123", EAN13, "1234567890128", id="ean13-documented-replace"),
        pytest.param("0000000000003", EAN13, "0000000000000", id="ean13-documented-zeros"),
        pytest.param("1234567890123", 67, "1234567890128", id="ean13-function-b"),
        pytest.param("9638507", EAN8, "96385074", id="ean8-append"),
        pytest.param("96385070", 68, "96385074", id="ean8-replace"),
        pytest.param("03600029145", UPC_A, "036000291452", id="upca-append"),
        pytest.param("036000291459", 65, "036000291452", id="upca-replace"),
        pytest.param("0425261", UPC_E, "0425261", id="upce-unchanged"),
        pytest.param("*ABC*", CODE39, "*ABC*", id="code39-unchanged"),
        pytest.param("1234567890123", QR_TYPE, "1234567890123", id="qr-unchanged"),
    ],
)
def test_with_check_digit(code: str, type_: int, expected: str) -> None:
    assert with_check_digit(code, type_) == expected
    assert barcode_error(expected, type_) is None


@pytest.mark.parametrize(
    ("code", "type_"),
    [
        pytest.param("123", EAN13, id="too-short"),
        pytest.param("1234567890123", 7, id="unknown-type"),
        pytest.param("", UPC_A, id="empty"),
    ],
)
def test_with_check_digit_refuses_invalid_codes(code: str, type_: int) -> None:
    with pytest.raises(ValueError, match=r"."):
        with_check_digit(code, type_)


# --- raw ESC/POS --------------------------------------------------------------------------------

HEX_MESSAGE = 'Enter hexadecimal bytes, two digits each, e.g. "1B40".'


@pytest.mark.parametrize(
    "chunk",
    [
        pytest.param("1B40", id="documented-init"),
        pytest.param("1D2122", id="documented-size"),
        pytest.param("1D4201", id="documented-reverse"),
        pytest.param("1b40", id="lower-case"),
        pytest.param("aAbBcCdDeEfF0099", id="mixed-case"),
        pytest.param("00", id="one-byte"),
        pytest.param("AB" * 1024, id="max-2048"),
    ],
)
def test_escpos_hex_accepted(chunk: str) -> None:
    assert escpos_hex_error(chunk) is None


@pytest.mark.parametrize(
    "chunk",
    [
        pytest.param("", id="empty"),
        pytest.param("1B4", id="odd"),
        pytest.param("1G40", id="not-hex"),
        pytest.param("1B 40", id="space"),
        pytest.param("0x1B", id="prefix"),
        pytest.param("１B40", id="fullwidth-digit"),
        pytest.param("1B40\n", id="newline"),
    ],
)
def test_escpos_hex_refused(chunk: str) -> None:
    assert escpos_hex_error(chunk) == HEX_MESSAGE


@pytest.mark.parametrize("chunk", ["AB" * 1024 + "A", "AB" * 1025, "xyz" * 1000])
def test_escpos_hex_too_long(chunk: str) -> None:
    assert escpos_hex_error(chunk) == "Ensure this field has no more than 2048 characters."


@pytest.mark.parametrize(
    ("content", "enlarged", "lines"),
    [
        pytest.param("", False, 1, id="empty-still-a-line"),
        pytest.param("x" * 32, False, 1, id="full-line"),
        pytest.param("x" * 33, False, 2, id="wraps"),
        pytest.param("a\n" + "x" * 64 + "\n", False, 4, id="each-line-wraps-on-its-own"),
        pytest.param("x" * 5, True, 2, id="enlarged-eight-times-as-wide"),
    ],
)
def test_text_cost_counts_wrapped_lines(content: str, enlarged: bool, lines: int) -> None:
    scale = 8 if enlarged else 1
    assert text_cost(content, enlarged).height_dots == lines * scale * 24
