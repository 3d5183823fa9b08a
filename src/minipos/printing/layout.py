"""One layout for every output: receipts and slips become a list of render operations.

The ESC/POS renderer (:mod:`minipos.printing.escpos`) and the previews
(:mod:`minipos.printing.preview`) both consume the operations made here, so what the customer
gets on paper and what the API shows cannot diverge. The layout decides every line: widths come
from the :class:`~minipos.printing.model.PrinterProfile`, long names wrap, amounts are
right-aligned, and every printed word lives in one :class:`Wording` (Latvian by default).

Text from ``text`` blocks is marked ``raw``: it is printed in whatever state the printer is in
(the documented ``escpos`` blocks set sizes and reverse printing for the lines after them). For
the previews the layout works that state out from the common commands (``ESC @``, ``ESC !``,
``ESC E``, ``ESC a``, ``GS !``, ``GS B``) and records it in the line's style.
"""

from __future__ import annotations

import textwrap
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import IntEnum
from typing import TypeAlias

from minipos.domain import blocks as block_rules
from minipos.domain.money import json_number, round_money
from minipos.printing.blocks import BarcodeBlock, Blocks, EscposBlock, QrBlock, TextBlock
from minipos.printing.model import (
    PrintableReceipt,
    PrintableSlip,
    PrintableZReport,
    PrinterProfile,
    ReceiptLine,
    ShopInfo,
    VatLine,
)

__all__ = [
    "ENGLISH",
    "LATVIAN",
    "NORMAL",
    "Align",
    "Barcode",
    "Cut",
    "DrawerKick",
    "Feed",
    "Op",
    "QrCode",
    "RawBytes",
    "Style",
    "TextLine",
    "Wording",
    "layout_document",
    "layout_receipt",
    "layout_slip",
    "layout_z_report",
    "printed_lines",
    "short_hash",
]


# --- operations ---------------------------------------------------------------------------------


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


# --- wording ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Wording:
    """Every word the layout prints; :data:`LATVIAN` is the default."""

    vat_number: str
    registration_number: str
    refund_title: str
    refund_of: str  # "{number}" is replaced with the original receipt's number
    copy: str
    non_fiscal: str
    discount: str
    document_discount: str
    subtotal: str
    vat_rate: str
    vat_net: str
    vat_tax: str
    vat_gross: str
    total: str
    refund_total: str
    change: str
    cashier: str
    station: str
    pos_id: str
    document: str
    z_number: str
    date: str
    chain_hash: str
    z_report: str
    shift_opened: str
    shift_closed: str
    receipt_count: str
    sales: str
    refunds: str
    turnover: str
    vat_total: str
    payments: str
    grand_total: str


#: Latvian shop wording (decisions.md: the shop language is Latvian).
LATVIAN = Wording(
    vat_number="PVN reģ. Nr.",
    registration_number="Reģ. Nr.",
    refund_title="ATGRIEŠANA",
    refund_of="Atgriešana čekam Nr. {number}",
    copy="KOPIJA",
    non_fiscal="NEFISKĀLS DOKUMENTS",
    discount="Atlaide",
    document_discount="Čeka atlaide",
    subtotal="Starpsumma",
    vat_rate="Likme",
    vat_net="Bez PVN",
    vat_tax="PVN",
    vat_gross="Ar PVN",
    total="KOPĀ EUR",
    refund_total="ATMAKSAI EUR",
    change="Atlikums",
    cashier="Kasieris",
    station="Kase",
    pos_id="POS",
    document="Čeks Nr.",
    z_number="Z Nr.",
    date="Datums",
    chain_hash="Kontrolkods",
    z_report="Z ATSKAITE",
    shift_opened="Maiņa atvērta",
    shift_closed="Maiņa slēgta",
    receipt_count="Čeku skaits",
    sales="Pārdošana",
    refunds="Atgriešana",
    turnover="Apgrozījums",
    vat_total="PVN kopā",
    payments="Maksājumi",
    grand_total="Kopsumma (kopš sākuma)",
)

ENGLISH = Wording(
    vat_number="VAT No.",
    registration_number="Reg. No.",
    refund_title="REFUND",
    refund_of="Refund of receipt No. {number}",
    copy="COPY",
    non_fiscal="NON-FISCAL DOCUMENT",
    discount="Discount",
    document_discount="Receipt discount",
    subtotal="Subtotal",
    vat_rate="Rate",
    vat_net="Net",
    vat_tax="VAT",
    vat_gross="Gross",
    total="TOTAL EUR",
    refund_total="REFUND EUR",
    change="Change",
    cashier="Cashier",
    station="Station",
    pos_id="POS",
    document="Receipt No.",
    z_number="Z No.",
    date="Date",
    chain_hash="Check code",
    z_report="Z REPORT",
    shift_opened="Shift opened",
    shift_closed="Shift closed",
    receipt_count="Receipts",
    sales="Sales",
    refunds="Refunds",
    turnover="Turnover",
    vat_total="VAT total",
    payments="Payments",
    grand_total="Grand total",
)

#: Barcode settings for what a block leaves out: the documented overview example's values
#: (``align`` 1, ``height`` 40, ``width`` 2, ``text_position`` 2).
BARCODE_ALIGN = Align.CENTER
BARCODE_WIDTH = 2
# The height, text position and QR module size are the domain's: its print budget uses them.
#: Hex digits of the chain hash printed as its short form (in groups of four).
SHORT_HASH_DIGITS = 16
_DATE_FORMAT = "%d.%m.%Y %H:%M:%S"


# --- entry points -------------------------------------------------------------------------------


def layout_document(
    document: PrintableReceipt | PrintableSlip | PrintableZReport,
    profile: PrinterProfile,
    wording: Wording = LATVIAN,
) -> list[Op]:
    """The operations for a receipt, a slip or a Z-report."""
    if isinstance(document, PrintableReceipt):
        return layout_receipt(document, profile, wording)
    if isinstance(document, PrintableZReport):
        return layout_z_report(document, profile, wording)
    return layout_slip(document, profile, wording)


def layout_receipt(
    receipt: PrintableReceipt,
    profile: PrinterProfile,
    wording: Wording = LATVIAN,
) -> list[Op]:
    """A fiscal receipt, top to bottom.

    Shop particulars, copy/refund marks, header blocks, rows (name, quantity × price, line
    discount, row blocks), document discount, VAT per rate, total, payments and change, the
    document particulars (cashier, station, number, Z number, date), footer blocks, the chain
    hash's short form and its QR code, then the cut.
    """
    width = profile.columns
    ops: list[Op] = []
    if receipt.open_drawer and not receipt.is_copy:  # a reprint never opens the drawer
        ops.append(DrawerKick(profile.drawer_pin, profile.drawer_on_ms, profile.drawer_off_ms))

    ops += _shop_header(receipt.shop, width, wording)
    if receipt.is_copy:
        ops.append(_mark(wording.copy))
    if receipt.refund_of is not None:
        ops.append(_mark(wording.refund_title))
        ops += _wrapped(
            wording.refund_of.format(number=receipt.refund_of), width, Style(Align.CENTER)
        )
    if receipt.header:
        ops.append(Separator())
        ops += block_ops(receipt.header, profile)
    ops.append(Separator())

    for line in receipt.lines:
        ops += _row(line, width, wording)
        ops += block_ops(line.blocks, profile)
    ops.append(Separator())

    if receipt.document_discount:
        subtotal = sum((line.amount for line in receipt.lines), Decimal(0))
        ops += _pairs(wording.subtotal, _money(subtotal), width)
        ops += _pairs(wording.document_discount, _money(-receipt.document_discount), width)
    if receipt.vat_lines:
        ops += _vat_table(receipt.vat_lines, width, wording)
        ops.append(Separator())

    total_label = wording.total if receipt.refund_of is None else wording.refund_total
    ops += _pairs(total_label, _money(receipt.total), width, Style(bold=True, height=2))
    for payment in receipt.payments:
        ops += _pairs(payment.name, _money(payment.amount), width)
    if receipt.change:
        ops += _pairs(wording.change, _money(receipt.change), width)
    ops.append(Separator())

    particulars = [
        (wording.cashier, receipt.cashier),
        (wording.station, receipt.station_name),
        (wording.pos_id, receipt.pos_id),
        (wording.document, receipt.document_id),
        (wording.z_number, None if receipt.z_number is None else str(receipt.z_number)),
        (wording.date, receipt.printed_at.strftime(_DATE_FORMAT)),
    ]
    for label, value in particulars:
        if value:
            ops += _pairs(label, value, width)
    if receipt.footer:
        ops.append(Separator())
        ops += block_ops(receipt.footer, profile)
    ops += _chain_hash(receipt.chain_hash, profile, wording)
    if receipt.is_copy:
        ops.append(_mark(wording.copy))
    ops += _end(profile)
    return ops


def layout_z_report(
    report: PrintableZReport,
    profile: PrinterProfile,
    wording: Wording = LATVIAN,
) -> list[Op]:
    """A Z-report, top to bottom.

    Shop particulars, the ``Z ATSKAITE`` mark (and ``KOPIJA`` for a copy), the shift's
    particulars (Z number, station, POS, opened, closed, cashier), the counts and totals, VAT per
    rate (the receipt's table) and the VAT total, payments per method, the grand total, the
    report hash's short form and QR code, then the cut.
    """
    width = profile.columns
    ops: list[Op] = list(_shop_header(report.shop, width, wording))
    ops.append(_mark(wording.z_report))
    if report.is_copy:
        ops.append(_mark(wording.copy))
    ops.append(Separator())
    particulars = [
        (wording.z_number, str(report.z_number)),
        (wording.station, report.station_name),
        (wording.pos_id, report.pos_id),
        (wording.shift_opened, report.opened_at.strftime(_DATE_FORMAT)),
        (wording.shift_closed, report.closed_at.strftime(_DATE_FORMAT)),
        (wording.cashier, report.cashier),
    ]
    for label, value in particulars:
        if value:
            ops += _pairs(label, value, width)
    ops.append(Separator())
    ops += _pairs(wording.receipt_count, str(report.receipts), width)
    ops += _pairs(wording.sales, _money(report.sales), width)
    ops += _pairs(wording.refunds, _money(report.refunds), width)
    ops += _pairs(wording.turnover, _money(report.turnover), width, Style(bold=True))
    ops.append(Separator())
    if report.vat_lines:
        ops += _vat_table(report.vat_lines, width, wording)
    ops += _pairs(wording.vat_total, _money(report.tax), width)
    ops.append(Separator())
    if report.payments:
        ops += _wrapped(wording.payments, width)
        for payment in report.payments:
            ops += _pairs(f"  {payment.name}", _money(payment.amount), width)
        ops.append(Separator())
    ops += _pairs(wording.grand_total, _money(report.grand_total), width, Style(bold=True))
    ops += _chain_hash(report.chain_hash, profile, wording)
    if report.is_copy:
        ops.append(_mark(wording.copy))
    ops += _end(profile)
    return ops


def layout_slip(
    slip: PrintableSlip,
    profile: PrinterProfile,
    wording: Wording = LATVIAN,
) -> list[Op]:
    """A non-fiscal slip: its blocks between two "not fiscal" marks, then the cut."""
    ops: list[Op] = [_mark(wording.non_fiscal)]
    if slip.is_copy:
        ops.append(_mark(wording.copy))
    ops.append(Separator())
    ops += block_ops(slip.blocks, profile)
    ops.append(Separator())
    ops.append(_mark(wording.non_fiscal))
    ops += _end(profile)
    return ops


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
            ops.append(QrCode(block.code, _unset_or(block.size, _qr_size(profile)), Align.CENTER))
        else:
            ops.append(_barcode(block, profile, state))
    return ops


def short_hash(chain_hash: str) -> str:
    """The printed short form of a chain hash: its first 16 hex digits, upper case, by fours."""
    head = chain_hash[:SHORT_HASH_DIGITS].upper()
    return " ".join(head[i : i + 4] for i in range(0, len(head), 4))


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


# --- receipt parts ------------------------------------------------------------------------------


def _row(line: ReceiptLine, width: int, wording: Wording) -> list[Op]:
    """Name (wrapped), then "quantity x price" with the amount before the line discount, then
    the discount; the right-hand column of a row adds up to its amount."""
    ops: list[Op] = list(_wrapped(line.name, width))
    unit = f" {line.unit}" if line.unit else ""
    quantity = f"  {_quantity(line.quantity)}{unit} x {_money(line.unit_price)}"
    mark = line.vat_letter or _rate(line.vat_rate)
    ops += _pairs(quantity, f"{_money(line.amount + line.discount)} {mark}", width)
    if line.discount:
        ops += _pairs(f"  {wording.discount}", f"{_money(-line.discount)} {' ' * len(mark)}", width)
    return ops


def _vat_table(vat_lines: Sequence[VatLine], width: int, wording: Wording) -> list[Op]:
    """VAT per rate in four columns (rate, net, VAT, gross); stacked when a number won't fit."""
    column = width // 4
    label_width = width - 3 * column
    header = (wording.vat_rate, wording.vat_net, wording.vat_tax, wording.vat_gross)
    rows = [
        (
            f"{vat.letter} {_rate(vat.rate)}".strip(),
            _money(vat.net),
            _money(vat.tax),
            _money(vat.gross),
        )
        for vat in vat_lines
    ]

    def fits(cells: Sequence[str]) -> bool:
        return len(cells[0]) <= label_width and all(len(c) < column for c in cells[1:])

    if all(fits(cells) for cells in (header, *rows)):
        return [
            TextLine(
                cells[0].ljust(label_width) + "".join(c.rjust(column) for c in cells[1:]),
            )
            for cells in (header, *rows)
        ]
    ops: list[Op] = []
    for cells in rows:
        ops += _wrapped(f"{wording.vat_tax} {cells[0]}", width)
        for name, value in zip(header[1:], cells[1:], strict=True):
            ops += _pairs(f"  {name}", value, width)
    return ops


def _barcode(block: BarcodeBlock, profile: PrinterProfile, state: Style) -> Op:
    align = Align(_unset_or(block.align, BARCODE_ALIGN))
    if block.type == block_rules.QR_TYPE:
        return QrCode(block.code, _qr_size(profile), align)
    try:
        code = block_rules.with_check_digit(block.code, block.type)
    except ValueError:
        return TextLine(_clean(block.code), state, raw=True)
    return Barcode(
        code=code,
        type=block.type,
        symbology=block_rules.BARCODE_TYPES[block.type],
        align=align,
        height=_unset_or(block.height, block_rules.BARCODE_HEIGHT),
        width=_unset_or(block.width, BARCODE_WIDTH),
        text_position=_unset_or(block.text_position, block_rules.BARCODE_TEXT_POSITION),
    )


def _shop_header(shop: ShopInfo, width: int, wording: Wording) -> list[Op]:
    """Shop name (centred, bold, double height), address lines, registration and VAT numbers."""
    ops: list[Op] = list(_wrapped(shop.name, width, Style(Align.CENTER, bold=True, height=2)))
    for address in shop.address_lines:
        ops += _wrapped(address, width, Style(Align.CENTER))
    if shop.registration_number:
        ops += _wrapped(
            f"{wording.registration_number} {shop.registration_number}",
            width,
            Style(Align.CENTER),
        )
    if shop.vat_number:
        ops += _wrapped(f"{wording.vat_number} {shop.vat_number}", width, Style(Align.CENTER))
    return ops


def _chain_hash(chain_hash: str, profile: PrinterProfile, wording: Wording) -> list[Op]:
    """The hash's short form and a QR code of the whole hash (nothing without a hash)."""
    if not chain_hash:
        return []
    return [
        Separator(),
        *_pairs(wording.chain_hash, short_hash(chain_hash), profile.columns),
        QrCode(chain_hash.lower(), _qr_size(profile), Align.CENTER),
    ]


def _mark(text: str) -> TextLine:
    """A centred, bold, double-height mark line (KOPIJA, ATGRIEŠANA, NEFISKĀLS DOKUMENTS)."""
    return TextLine(_clean(text), Style(Align.CENTER, bold=True, height=2))


def _end(profile: PrinterProfile) -> list[Op]:
    if profile.cut:
        return [Cut(partial=profile.partial_cut)]
    return [Feed(4)]


# --- text helpers -------------------------------------------------------------------------------


def _wrapped(text: str, width: int, style: Style = NORMAL) -> Iterator[TextLine]:
    """``text`` word-wrapped to ``width`` (longer words are broken), one op per line."""
    for line in _wrap(_clean(text), width):
        yield TextLine(line, style)


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width, break_on_hyphens=False) or [""]


def _pairs(left: str, right: str, width: int, style: Style = NORMAL) -> list[Op]:
    """``left`` and ``right`` on one line, ``right`` flush right.

    When both don't fit, ``left`` wraps and ``right`` goes to the end of its last line, or to a
    line of its own.
    """
    left, right = _clean(left), _clean(right)
    indent = " " * (len(left) - len(left.lstrip(" ")))
    lines = textwrap.wrap(left, width, subsequent_indent=indent, break_on_hyphens=False) or [""]
    last = lines[-1]
    if len(last) + 1 + len(right) <= width:
        lines[-1] = last + right.rjust(width - len(last))
    else:
        lines.append(right.rjust(width))
    return [TextLine(line, style) for line in lines]


def _block_lines(content: str) -> list[str]:
    """A text block's content as printed lines: line breaks split it, other controls go."""
    return [_clean(part) for part in content.replace("\r\n", "\n").split("\n")]


def _clean(text: str) -> str:
    """Text without control characters (they would be printer commands); tabs become spaces."""
    if text.isprintable():
        return text
    return "".join(
        " " if c == "\t" else c for c in text if c == "\t" or unicodedata.category(c)[0] != "C"
    )


def _money(value: Decimal) -> str:
    """``12.30``, ``-0.35``: two places, half-up, never ``-0.00``."""
    rounded = round_money(value)
    return f"{rounded if rounded else abs(rounded):.2f}"


def _quantity(value: Decimal) -> str:
    """``3``, ``0.532``: no trailing zeros."""
    return f"{json_number(value):f}"


def _rate(rate: Decimal) -> str:
    return f"{json_number(rate):f}%"


def _qr_size(profile: PrinterProfile) -> int:
    return block_rules.QR_DEFAULT_SIZE if profile.dots_per_line >= 512 else 4


def _hex_bytes(chunks: Iterable[str]) -> bytes:
    out = bytearray()
    for chunk in chunks:
        if block_rules.escpos_hex_error(chunk) is None:
            out += bytes.fromhex(chunk)
    return bytes(out)


def _unset_or(value: object, default: int) -> int:
    return value if isinstance(value, int) else default
