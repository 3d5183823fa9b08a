"""Render operations: what the layout makes and the ESC/POS renderer and previews consume.

One list of these per document (:mod:`minipos.printing.layout`) feeds both the printer and
the previews, so paper and preview cannot diverge.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import TypeAlias

__all__ = [
    "NORMAL",
    "Align",
    "Barcode",
    "Cut",
    "DrawerKick",
    "Feed",
    "Op",
    "QrCode",
    "RawBytes",
    "Separator",
    "Style",
    "TextLine",
    "printed_lines",
]


class Align(IntEnum):
    """``ESC a n`` values."""

    LEFT = 0
    CENTER = 1
    RIGHT = 2


@dataclass(frozen=True, slots=True)
class Style:
    """Character style of a text line; ``width``/``height`` are ``GS !`` multipliers (1-8)."""

    align: Align = Align.LEFT
    bold: bool = False
    width: int = 1
    height: int = 1
    invert: bool = False


NORMAL = Style()


@dataclass(frozen=True, slots=True)
class TextLine:
    """One line of text, ended by a line feed.

    ``raw`` marks a line from a ``text`` block: the ESC/POS renderer sends it without style
    commands of its own, and ``style`` is what the previews assume the printer's state is.
    """

    text: str
    style: Style = NORMAL
    raw: bool = False


@dataclass(frozen=True, slots=True)
class Separator:
    """A full-width rule made of ``char``."""

    char: str = "-"


@dataclass(frozen=True, slots=True)
class Feed:
    """Blank paper: ``lines`` empty lines."""

    lines: int = 1


@dataclass(frozen=True, slots=True)
class Barcode:
    """A 1-D barcode (``GS k``); ``code`` already carries a correct EAN/UPC check digit.

    ``type`` is the ESC/POS ``GS k`` number (0-6 function A, 65-73 function B), ``symbology``
    its name (``"EAN13"``), ``text_position`` the ``GS H`` HRI position (0 none, 1 above,
    2 below, 3 both), ``height`` in dots, ``width`` the module width in dots.
    """

    code: str
    type: int
    symbology: str
    align: Align
    height: int
    width: int
    text_position: int


@dataclass(frozen=True, slots=True)
class QrCode:
    """A QR code (``GS ( k``), error correction M; ``size`` is the module size in dots."""

    data: str
    size: int
    align: Align = Align.CENTER


@dataclass(frozen=True, slots=True)
class RawBytes:
    """Bytes from an ``escpos`` block, sent verbatim."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Cut:
    """Feed to the cutter and cut (full or partial)."""

    partial: bool = False


@dataclass(frozen=True, slots=True)
class DrawerKick:
    """The cash-drawer pulse ``ESC p m t1 t2`` on connector pin 2 or 5."""

    pin: int
    on_ms: int
    off_ms: int


Op: TypeAlias = TextLine | Separator | Feed | Barcode | QrCode | RawBytes | Cut | DrawerKick


def printed_lines(line: TextLine, columns: int) -> list[str]:
    """How the printer breaks ``line``: chunks of ``columns // width`` characters.

    A printer wraps an over-long line by characters, whatever its words, so the previews do the
    same. An empty line still takes one line.
    """
    per_line = max(1, columns // line.style.width)
    text = line.text
    if len(text) <= per_line:
        return [text]
    return [text[i : i + per_line] for i in range(0, len(text), per_line)]
