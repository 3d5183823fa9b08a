"""Print blocks → render operations: ``text``, ``barcode``, ``qr`` and ``escpos`` blocks.

Text from ``text`` blocks is marked ``raw``: it is printed in whatever state the printer is in
(the documented ``escpos`` blocks set sizes and reverse printing for the lines after them). For
the previews this module works that state out from the common commands (``ESC @``, ``ESC !``,
``ESC E``, ``ESC a``, ``GS !``, ``GS B``) and records it in the line's style.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import replace

from minipos.domain import blocks as block_rules
from minipos.printing.blocks import BarcodeBlock, Blocks, EscposBlock, QrBlock, TextBlock
from minipos.printing.model import PrinterProfile
from minipos.printing.ops import NORMAL, Align, Barcode, Op, QrCode, RawBytes, Style, TextLine

__all__ = ["block_ops", "clean", "interpret_escpos", "qr_size"]

#: Barcode settings for what a block leaves out: the documented overview example's values
#: (``align`` 1, ``height`` 40, ``width`` 2, ``text_position`` 2).
BARCODE_ALIGN = Align.CENTER
BARCODE_WIDTH = 2
# The height, text position and QR module size are the domain's: its print budget uses them.


def block_ops(blocks: Blocks, profile: PrinterProfile) -> list[Op]:
    """Operations for print blocks, in order.

    Never raises for a stored block: a barcode whose code the symbology cannot take (the API
    refuses those, so only a corrupted row has one) prints as its text, and a malformed
    ``escpos`` chunk is skipped.
    """
    ops: list[Op] = []
    state = NORMAL  # what the previews assume the printer's text state is
    for block in blocks:
        if isinstance(block, TextBlock):
            ops.extend(TextLine(text, state, raw=True) for text in _block_lines(block.content))
        elif isinstance(block, EscposBlock):
            data = _hex_bytes(block.content)
            if data:
                ops.append(RawBytes(data))
                state = interpret_escpos(data, state)
        elif isinstance(block, QrBlock):
            ops.append(QrCode(block.code, _unset_or(block.size, qr_size(profile)), Align.CENTER))
        else:
            ops.append(_barcode(block, profile, state))
    return ops


def interpret_escpos(data: bytes, state: Style) -> Style:
    """The text style after the printer has executed ``data``, for the previews.

    Understands ``ESC @`` (reset), ``ESC !``, ``ESC E``, ``ESC a``, ``GS !`` and ``GS B``; other
    bytes leave the style unchanged.
    """
    i = 0
    while i < len(data) - 1:
        prefix, command = data[i], data[i + 1]
        argument = data[i + 2] if i + 2 < len(data) else None
        if prefix == 0x1B and command == 0x40:  # ESC @
            state = NORMAL
            i += 2
            continue
        if argument is None or prefix not in (0x1B, 0x1D):
            i += 1
            continue
        if prefix == 0x1B and command == 0x21:  # ESC ! n: print modes
            state = replace(
                state,
                bold=bool(argument & 0x08),
                width=2 if argument & 0x20 else 1,
                height=2 if argument & 0x10 else 1,
            )
        elif prefix == 0x1B and command == 0x45:  # ESC E n: emphasis
            state = replace(state, bold=bool(argument & 1))
        elif prefix == 0x1B and command == 0x61:  # ESC a n: alignment (0-2 or "0"-"2")
            state = replace(state, align=Align(min(argument % 48, 2)))
        elif prefix == 0x1D and command == 0x21:  # GS ! n: character size
            state = replace(state, width=(argument >> 4 & 7) + 1, height=(argument & 7) + 1)
        elif prefix == 0x1D and command == 0x42:  # GS B n: reverse printing
            state = replace(state, invert=bool(argument & 1))
        else:
            i += 1
            continue
        i += 3
    return state


def _barcode(block: BarcodeBlock, profile: PrinterProfile, state: Style) -> Op:
    align = Align(_unset_or(block.align, BARCODE_ALIGN))
    if block.type == block_rules.QR_TYPE:
        return QrCode(block.code, qr_size(profile), align)
    try:
        code = block_rules.with_check_digit(block.code, block.type)
    except ValueError:
        return TextLine(clean(block.code), state, raw=True)
    return Barcode(
        code=code,
        type=block.type,
        symbology=block_rules.BARCODE_TYPES[block.type],
        align=align,
        height=_unset_or(block.height, block_rules.BARCODE_HEIGHT),
        width=_unset_or(block.width, BARCODE_WIDTH),
        text_position=_unset_or(block.text_position, block_rules.BARCODE_TEXT_POSITION),
    )


def _block_lines(content: str) -> list[str]:
    """A text block's content as printed lines: line breaks split it, other controls go."""
    return [clean(part) for part in content.replace("\r\n", "\n").split("\n")]


def clean(text: str) -> str:
    """Text without control characters (they would be printer commands); tabs become spaces."""
    if text.isprintable():
        return text
    return "".join(
        " " if c == "\t" else c for c in text if c == "\t" or unicodedata.category(c)[0] != "C"
    )


def qr_size(profile: PrinterProfile) -> int:
    """The QR module size in dots: smaller on 58 mm paper, so a chain-hash QR code fits."""
    return block_rules.QR_DEFAULT_SIZE if profile.dots_per_line >= 512 else 4


def _hex_bytes(chunks: Iterable[str]) -> bytes:
    out = bytearray()
    for chunk in chunks:
        if block_rules.escpos_hex_error(chunk) is None:
            out += bytes.fromhex(chunk)
    return bytes(out)


def _unset_or(value: object, default: int) -> int:
    return value if isinstance(value, int) else default
