"""Print-block rules: what a barcode, QR or raw ESC/POS block may contain (docs/decisions.md §2).

A block that a printer cannot render must be refused with a 400 when the invoice is posted, not
discovered at print time, so the invoice validator asks these helpers. Barcode ``type`` numbers
are those of ESC/POS ``GS k`` (0-6 function A, 65-73 function B); 101 is our QR code, as a
documented row example uses it. Function B sends the data length as one byte, so no symbology
takes more than 255 bytes.

QR codes are printed (``GS ( k``) and previewed at one error-correction level,
:data:`QR_ERROR_CORRECTION`; what a QR block may hold is that level's capacity, so the validator,
the printer and the preview cannot disagree. :func:`budget_problems` caps what one document's
blocks together may cost to print and draw (decisions in docs/security.md).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Protocol

from minipos.domain.errors import FieldError, Path

__all__ = [
    "BARCODE_HEIGHT",
    "BARCODE_TEXT_POSITION",
    "BARCODE_TYPES",
    "ESCPOS_CHUNK_MAX",
    "MAX_BLOCK_HEIGHT_DOTS",
    "MAX_CODES",
    "MAX_QR_BYTES_TOTAL",
    "QR_DEFAULT_SIZE",
    "QR_ERROR_CORRECTION",
    "QR_MAX_BYTES",
    "QR_TYPE",
    "PrintCost",
    "barcode_cost",
    "barcode_error",
    "budget_problems",
    "ean_upc_check_digit",
    "escpos_cost",
    "escpos_hex_error",
    "qr_cost",
    "qr_side",
    "text_cost",
    "with_check_digit",
]

QR_TYPE = 101

#: The QR error-correction level of every printed and previewed QR code. M (15 % of the code
#: may be lost) survives a crumpled receipt; the capacity below follows from it.
QR_ERROR_CORRECTION = "M"
#: UTF-8 bytes a QR code holds in byte mode, per level, for versions 1-40 (ISO/IEC 18004
#: table 7; a test checks every entry against the qrcode library).
_QR_CAPACITY: Mapping[str, tuple[int, ...]] = MappingProxyType(
    {
        "L": (17, 32, 53, 78, 106, 134, 154, 192, 230, 271, 321, 367, 425, 458, 520, 586, 644,
              718, 792, 858, 929, 1003, 1091, 1171, 1273, 1367, 1465, 1528, 1628, 1732, 1840,
              1952, 2068, 2188, 2303, 2431, 2563, 2699, 2809, 2953),
        "M": (14, 26, 42, 62, 84, 106, 122, 152, 180, 213, 251, 287, 331, 362, 412, 450, 504,
              560, 624, 666, 711, 779, 857, 911, 997, 1059, 1125, 1190, 1264, 1370, 1452, 1538,
              1628, 1722, 1809, 1911, 1989, 2099, 2213, 2331),
        "Q": (11, 20, 32, 46, 60, 74, 86, 108, 130, 151, 177, 203, 241, 258, 292, 322, 364, 394,
              442, 482, 509, 565, 611, 661, 715, 751, 805, 868, 908, 982, 1030, 1112, 1168,
              1228, 1283, 1351, 1423, 1499, 1579, 1663),
        "H": (7, 14, 24, 34, 44, 58, 64, 84, 98, 119, 137, 155, 177, 194, 220, 250, 280, 310,
              338, 382, 403, 439, 461, 511, 535, 593, 625, 658, 698, 742, 790, 842, 898, 958,
              983, 1051, 1093, 1139, 1219, 1273),
    }
)  # fmt: skip
#: Bytes per QR version at :data:`QR_ERROR_CORRECTION`; index 0 is version 1.
QR_CAPACITY = _QR_CAPACITY[QR_ERROR_CORRECTION]
#: The most a QR code can hold at :data:`QR_ERROR_CORRECTION` (version 40).
QR_MAX_BYTES = QR_CAPACITY[-1]
#: Module size of a QR code in dots when the block does not say (4 on 58 mm paper).
QR_DEFAULT_SIZE = 5
#: Bar height in dots and HRI text position (2: below) of a barcode block that does not say.
BARCODE_HEIGHT = 40
BARCODE_TEXT_POSITION = 2

# The print budget of ONE document: an invoice's header, footer, slip and every row's blocks
# together, or one product's blocks. Each is far above a real receipt (one or two codes, a few
# hundred bytes of QR data, well under a metre of paper) and keeps the slowest preview of a valid
# document near a second: a full QR code takes about 0.2 s to encode and draw.
#: Barcodes and QR codes.
MAX_CODES = 50
#: UTF-8 bytes of all QR codes: one full code (2,331 bytes) plus room to spare.
MAX_QR_BYTES_TOTAL = 4096
#: Printed height of the blocks in dots, estimated on the narrowest paper (8 dots/mm: 2 m).
MAX_BLOCK_HEIGHT_DOTS = 16_000
#: The estimate's printer: font A lines are 24 dots high, 32 columns on 58 mm paper, and
#: ``GS !`` can make characters 8 times as wide and as high.
_LINE_DOTS = 24
_NARROW_COLUMNS = 32
_MAX_MAGNIFICATION = 8

_UPC_A, _UPC_E, _EAN13, _EAN8 = "UPC-A", "UPC-E", "EAN13", "EAN8"
_CODE39, _ITF, _CODABAR, _CODE93, _CODE128, _QR = (
    "CODE39",
    "ITF",
    "CODABAR",
    "CODE93",
    "CODE128",
    "QR",
)

#: ESC/POS ``GS k`` barcode types (and 101 = QR) to their symbology names.
BARCODE_TYPES: Mapping[int, str] = MappingProxyType(
    {
        0: _UPC_A,
        1: _UPC_E,
        2: _EAN13,
        3: _EAN8,
        4: _CODE39,
        5: _ITF,
        6: _CODABAR,
        65: _UPC_A,
        66: _UPC_E,
        67: _EAN13,
        68: _EAN8,
        69: _CODE39,
        70: _ITF,
        71: _CODABAR,
        72: _CODE93,
        73: _CODE128,
        QR_TYPE: _QR,
    }
)

#: Longest ``escpos`` content chunk, in hex characters (1024 bytes).
ESCPOS_CHUNK_MAX = 2048

_DIGITS = frozenset("0123456789")
_HEX = frozenset("0123456789abcdefABCDEF")
_CODE39_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%+-./")
_CODABAR_ENDS = frozenset("ABCDabcd")
_CODABAR_MIDDLE = frozenset("0123456789-$:/.+")
_GS_K_MAX = 255
_BLANK = "This field may not be blank."
_HEX_MESSAGE = 'Enter hexadecimal bytes, two digits each, e.g. "1B40".'


def barcode_error(code: str, type_: int) -> str | None:
    """``None`` if barcode type ``type_`` can encode ``code``, else a message for the client.

    A wrong EAN/UPC check digit is accepted on purpose: printers recompute it, and documented
    examples (``1234567890123``) rely on that.
    """
    name = BARCODE_TYPES.get(type_)
    if name is None:
        return f"Unsupported barcode type {type_}; use one of 0-6, 65-73 or 101 (QR)."
    if not code:
        return _BLANK
    return _CHECKS[name](code, f"{name} (type {type_})")


def ean_upc_check_digit(digits: str) -> str:
    """The EAN/UPC mod-10 check digit of ``digits`` (the code without its check digit).

    Weights 3 and 1 alternate from the rightmost digit, which weighs 3. Raises ``ValueError``
    unless ``digits`` is a non-empty string of ASCII digits.
    """
    if not _all_digits(digits):
        raise ValueError(f"{digits!r} is not a string of digits 0-9")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str(-total % 10)


#: Symbology -> length of its data without the check digit, for the types that carry one.
_CHECKED_LENGTHS: Mapping[str, int] = MappingProxyType({_EAN13: 12, _EAN8: 7, _UPC_A: 11})


def with_check_digit(code: str, type_: int) -> str:
    """``code`` with a correct check digit for EAN-13, EAN-8 and UPC-A; other types unchanged.

    The check digit is appended when missing and replaced when wrong, so what is printed (and
    previewed) matches what the printer encodes. Raises ``ValueError`` if ``code`` is not valid
    for ``type_`` (see :func:`barcode_error`).
    """
    error = barcode_error(code, type_)
    if error is not None:
        raise ValueError(error)
    data_length = _CHECKED_LENGTHS.get(BARCODE_TYPES[type_])
    if data_length is None:
        return code
    data = code[:data_length]
    return data + ean_upc_check_digit(data)


def escpos_hex_error(chunk: str) -> str | None:
    """``None`` if ``chunk`` is raw ESC/POS as hex (``"1B40"``), else a message for the client."""
    if len(chunk) > ESCPOS_CHUNK_MAX:
        return f"Ensure this field has no more than {ESCPOS_CHUNK_MAX} characters."
    if not chunk or len(chunk) % 2 or not _HEX.issuperset(chunk):
        return _HEX_MESSAGE
    return None


# --- per-symbology checks (code is non-empty; label names the symbology and type) -----------------


def _all_digits(code: str) -> bool:
    """ASCII 0-9 only: ``str.isdigit`` would accept other scripts' digits, which no printer has."""
    return bool(code) and _DIGITS.issuperset(code)


def _digits_of_length(*lengths: int) -> Callable[[str, str], str | None]:
    """A check for the fixed-length numeric symbologies (EAN, UPC)."""
    if len(lengths) == 1:
        wanted = f"{lengths[0]}"
    else:
        wanted = ", ".join(str(n) for n in lengths[:-1]) + f" or {lengths[-1]}"

    def check(code: str, label: str) -> str | None:
        if _all_digits(code) and len(code) in lengths:
            return None
        return f"{label} needs {wanted} digits (0-9)."

    return check


def _code39(code: str, label: str) -> str | None:
    data = code[1:-1] if len(code) >= 2 and code[0] == code[-1] == "*" else code
    if len(code) > _GS_K_MAX:
        return f"{label} takes at most {_GS_K_MAX} characters."
    if data and _CODE39_CHARS.issuperset(data):
        return None
    return (
        f"{label} takes digits, capital letters A-Z, space and $ % + - . / "
        '(optionally between "*" start and stop characters).'
    )


def _itf(code: str, label: str) -> str | None:
    if _all_digits(code) and len(code) % 2 == 0 and len(code) < _GS_K_MAX:
        return None
    return f"{label} needs an even number of digits (0-9), at most {_GS_K_MAX - 1}."


def _codabar(code: str, label: str) -> str | None:
    if len(code) > _GS_K_MAX:
        return f"{label} takes at most {_GS_K_MAX} characters."
    if (
        len(code) >= 2
        and code[0] in _CODABAR_ENDS
        and code[-1] in _CODABAR_ENDS
        and _CODABAR_MIDDLE.issuperset(code[1:-1])
    ):
        return None
    return (
        f"{label} must start and end with A, B, C or D and contain only digits and - $ : / . + "
        "in between."
    )


def _ascii(maximum: int) -> Callable[[str, str], str | None]:
    """A check for the symbologies that take any 7-bit ASCII (CODE93, CODE128)."""

    def check(code: str, label: str) -> str | None:
        if len(code) > maximum:
            return f"{label} takes at most {maximum} characters."
        if not code.isascii():
            return f"{label} takes ASCII characters only."
        return None

    return check


def _qr(code: str, label: str) -> str | None:
    try:
        size = len(code.encode("utf-8"))
    except UnicodeEncodeError:  # a lone surrogate, which JSON can carry as "\ud800"
        return f"{label} content is not valid Unicode text."
    if size > QR_MAX_BYTES:
        return (
            f"{label} holds at most {QR_MAX_BYTES} bytes of UTF-8 text "
            f"(version 40 at error correction {QR_ERROR_CORRECTION})."
        )
    return None


_CHECKS: Mapping[str, Callable[[str, str], str | None]] = MappingProxyType(
    {
        _UPC_A: _digits_of_length(11, 12),
        _UPC_E: _digits_of_length(6, 7, 8, 11, 12),
        _EAN13: _digits_of_length(12, 13),
        _EAN8: _digits_of_length(7, 8),
        _CODE39: _code39,
        _ITF: _itf,
        _CODABAR: _codabar,
        _CODE93: _ascii(_GS_K_MAX),
        _CODE128: _ascii(253),
        _QR: _qr,
    }
)


# --- the print budget of a document -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PrintCost:
    """What one block costs to print and draw (an upper bound)."""

    codes: int = 0
    qr_bytes: int = 0
    height_dots: int = 0
    #: An ``escpos`` block that may enlarge the characters of the text blocks after it.
    enlarges: bool = False


class CostedBlock(Protocol):
    def cost(self, enlarged: bool) -> PrintCost:
        """The block's cost; ``enlarged``: an earlier block of its list may have set big text."""
        ...


def qr_side(size: int) -> int:
    """Modules per side of the QR code holding ``size`` bytes (version 40 past its capacity)."""
    version = next((v for v, cap in enumerate(QR_CAPACITY, 1) if cap >= size), len(QR_CAPACITY))
    return 17 + 4 * version


def qr_cost(code: str, module_dots: int) -> PrintCost:
    # surrogatepass: a lone surrogate is refused elsewhere, but still has a size here.
    size = len(code.encode("utf-8", "surrogatepass"))
    side = qr_side(size) + 8  # the 4-module quiet zone on both sides
    return PrintCost(codes=1, qr_bytes=size, height_dots=side * module_dots)


def barcode_cost(code: str, type_: int, height: int, text_position: int) -> PrintCost:
    if type_ == QR_TYPE:
        return qr_cost(code, QR_DEFAULT_SIZE)
    text_lines = {1: 1, 2: 1, 3: 2}.get(text_position, 0)
    return PrintCost(codes=1, height_dots=height + text_lines * _LINE_DOTS)


def text_cost(content: str, enlarged: bool) -> PrintCost:
    """A text block's printed lines on 32 columns, at the largest size when ``enlarged``."""
    scale = _MAX_MAGNIFICATION if enlarged else 1
    if "\n" in content:
        lines = sum(_wrapped_lines(len(line) * scale) for line in content.split("\n"))
    else:  # most blocks: one line, no need to split
        lines = _wrapped_lines(len(content) * scale)
    return _height_cost(lines * scale * _LINE_DOTS)


@functools.lru_cache(maxsize=1024)
def _height_cost(height_dots: int) -> PrintCost:
    """One shared (immutable) cost per height: most text blocks are a line or two."""
    return PrintCost(height_dots=height_dots)


def _wrapped_lines(columns: int) -> int:
    """Printed lines of one line of text ``columns`` wide (at least one, even when empty)."""
    return max(1, -(-columns // _NARROW_COLUMNS))  # integer ceiling division


def escpos_cost(chunks: Iterable[str]) -> PrintCost:
    """Raw bytes draw nothing, but ``ESC !`` or ``GS !`` may enlarge the text after them."""
    data = b"".join(bytes.fromhex(c) for c in chunks if escpos_hex_error(c) is None)
    return PrintCost(enlarges=b"\x1b!" in data or b"\x1d!" in data)


def budget_problems(blocks: Iterable[tuple[Path, CostedBlock]]) -> list[FieldError]:
    """The limits one document's blocks exceed, each named once at the block that crossed it.

    ``blocks`` are every block of the document with its path; a block's list is its path
    without the last index.
    """
    enlarged_lists: set[Path] = set()
    codes = qr_bytes = height = 0
    crossed: dict[str, FieldError] = {}
    for path, block in blocks:
        cost = block.cost(bool(enlarged_lists) and path[:-1] in enlarged_lists)
        if cost.enlarges:
            enlarged_lists.add(path[:-1])
        codes += cost.codes
        qr_bytes += cost.qr_bytes
        height += cost.height_dots
        if codes > MAX_CODES and "codes" not in crossed:
            crossed["codes"] = FieldError(
                path, f"A document may hold at most {MAX_CODES} barcodes and QR codes."
            )
        if qr_bytes > MAX_QR_BYTES_TOTAL and "qr" not in crossed:
            crossed["qr"] = FieldError(
                path,
                f"The QR codes of a document may hold at most {MAX_QR_BYTES_TOTAL} bytes together.",
            )
        if height > MAX_BLOCK_HEIGHT_DOTS and "height" not in crossed:
            crossed["height"] = FieldError(
                path,
                f"The print blocks of a document may be at most {MAX_BLOCK_HEIGHT_DOTS} dots "
                "(2 m of receipt paper) high; this block goes past that.",
            )
    return list(crossed.values())
