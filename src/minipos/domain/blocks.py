"""Print-block rules: what a barcode, QR or raw ESC/POS block may contain (decisions.md §2).

A block that a printer cannot render must be refused with a 400 when the invoice is posted, not
discovered at print time, so the invoice validator asks these helpers. Barcode ``type`` numbers
are those of ESC/POS ``GS k`` (0-6 function A, 65-73 function B); 101 is our QR code, as a
documented row example uses it. Function B sends the data length as one byte, so no symbology
takes more than 255 bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

__all__ = [
    "BARCODE_TYPES",
    "ESCPOS_CHUNK_MAX",
    "QR_TYPE",
    "barcode_error",
    "ean_upc_check_digit",
    "escpos_hex_error",
    "with_check_digit",
]

QR_TYPE = 101

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
_QR_MAX_BYTES = 2953  # version 40, error correction L, byte mode
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
    if size > _QR_MAX_BYTES:
        return f"{label} holds at most {_QR_MAX_BYTES} bytes of UTF-8 text."
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
