"""The document layouts: a receipt, a slip or a Z-report becomes a list of render operations.

The ESC/POS renderer (:mod:`minipos.printing.escpos`) and the previews
(:mod:`minipos.printing.preview`) both consume the operations made here
(:mod:`minipos.printing.ops`), so what the customer gets on paper and what the API shows cannot
diverge. The layout decides every line: widths come from the
:class:`~minipos.printing.model.PrinterProfile`, long names wrap, amounts are right-aligned,
and every printed word lives in one :class:`~minipos.printing.wording.Wording` (Latvian by
default). Print blocks become operations in :mod:`minipos.printing.block_layout`.
"""

from __future__ import annotations

import functools
import textwrap
from collections.abc import Sequence
from decimal import Decimal

from minipos.domain.money import json_number, round_money
from minipos.printing.block_layout import block_ops, clean, qr_size
from minipos.printing.model import (
    PrintableReceipt,
    PrintableSlip,
    PrintableZReport,
    PrinterProfile,
    ReceiptLine,
    ShopInfo,
    VatLine,
    ZDetails,
)
from minipos.printing.ops import (
    NORMAL,
    Align,
    Cut,
    DrawerKick,
    Feed,
    Op,
    QrCode,
    Separator,
    Style,
    TextLine,
)
from minipos.printing.wording import LATVIAN, Wording

__all__ = [
    "layout_document",
    "layout_receipt",
    "layout_slip",
    "layout_z_report",
    "short_hash",
]

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

    Shop particulars, the title (``ČEKS``; a refund's naming its original; a supporting
    document's naming the receipt it replaces), copy mark, header blocks, rows (name, quantity ×
    price, line discount, row blocks), document discount, VAT per rate, total, payments and
    change, the document particulars (cashier, station, POS, chassis, number, Z number, date),
    footer blocks, the chain hash's short form and its QR code, then the cut.
    """
    width = profile.columns
    ops: list[Op] = []
    supporting = receipt.supporting_number is not None
    copy = receipt.is_copy and not supporting
    training = receipt.training
    # A reprint, a supporting document or a training document never opens the drawer.
    if receipt.open_drawer and not receipt.is_copy and not supporting and not training:
        ops.append(DrawerKick(profile.drawer_pin, profile.drawer_on_ms, profile.drawer_off_ms))

    ops += _shop_header(receipt.shop, width, wording)
    ops += _title(receipt, width, wording)
    if copy:
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
    if receipt.rounding:  # cash rounding: its own line, then what the cash part settles
        ops += _pairs(wording.cash_rounding, _money(receipt.rounding), width)
        ops += _pairs(wording.to_pay, _money(receipt.total + receipt.rounding), width)
    for payment in receipt.payments:
        ops += _pairs(payment.name, _money(payment.amount), width)
    ops += _pairs(wording.change, _money(receipt.change), width)  # R7: printed also when 0
    ops.append(Separator())

    particulars = [
        (wording.cashier, receipt.cashier),
        (wording.station, receipt.station_name),
        (wording.pos_id, receipt.pos_id),
        (wording.chassis, receipt.chassis_id),
        (
            wording.training_number
            if training
            else wording.original_document
            if supporting
            else wording.document,
            receipt.document_id,
        ),
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
    ops += _closing_marks(receipt, wording)
    ops += _end(profile)
    return ops


def _title(receipt: PrintableReceipt, width: int, wording: Wording) -> list[Op]:
    """A receipt's title: ``ČEKS``, or a supporting document's or a training document's own."""
    ops: list[Op] = []
    if receipt.training:  # never titled a receipt: marked non-fiscal above and below
        ops.append(_mark(wording.training_title))
        ops.append(_mark(wording.non_fiscal))
    elif receipt.supporting_number is not None:  # R2: its own title, naming the receipt
        ops.append(_mark(wording.supporting_document))
        ops += _wrapped(
            wording.supporting_of.format(
                number=receipt.supporting_number, receipt=receipt.document_id
            ),
            width,
            Style(Align.CENTER),
        )
    elif receipt.refund_of is None:
        ops.append(_mark(wording.receipt_title))
    return ops


def _closing_marks(receipt: PrintableReceipt, wording: Wording) -> list[Op]:
    if receipt.training:
        return [_mark(wording.non_fiscal), _mark(wording.training_title)]
    if receipt.supporting_number is not None:
        return [_mark(wording.supporting_document)]
    if receipt.is_copy:
        return [_mark(wording.copy)]
    return []


def layout_z_report(
    report: PrintableZReport,
    profile: PrinterProfile,
    wording: Wording = LATVIAN,
) -> list[Op]:
    """A Z-report, top to bottom.

    Shop particulars, the ``Z ATSKAITE`` mark (and ``KOPIJA`` for a copy), the shift's
    particulars (Z number, station, POS, chassis, opened and by whom, closed and by whom), the
    counts and totals, VAT per rate (the receipt's table) and the VAT total, payments per
    method, the grand total, the software and fiscal-core versions, the report hash's short
    form and QR code, then the cut.
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
        (wording.chassis, report.chassis_id),
        (wording.shift_opened, report.opened_at.strftime(_DATE_FORMAT)),
        (wording.opened_by, report.opened_by),
        (wording.shift_closed, report.closed_at.strftime(_DATE_FORMAT)),
        (wording.closed_by, report.cashier),
    ]
    for label, value in particulars:
        if value:
            ops += _pairs(label, value, width)
    ops.append(Separator())
    ops += _pairs(wording.receipt_count, str(report.receipts), width)
    ops += _pairs(wording.sales, _money(report.sales), width)
    ops += _pairs(wording.refunds, _money(report.refunds), width)
    ops += _pairs(wording.turnover, _money(report.turnover), width, Style(bold=True))
    details = report.details
    if details is not None:
        ops += _pairs(wording.sale_discounts, _money(details.sale_discounts), width)
        ops += _pairs(wording.refund_discounts, _money(details.refund_discounts), width)
        ops.append(Separator())
        ops += _wrapped(wording.document_counts, width)
        for label, count in (
            (wording.count_sales, details.sale_count),
            (wording.count_refunds, details.refund_count),
            (wording.count_supporting, details.supporting_documents),
            (wording.count_cancelled, details.cancelled_invoices),
            (wording.count_training, details.training),
        ):
            ops += _pairs(f"  {label}", str(count), width)
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
    if details is not None and details.cash_rounding:
        ops += _pairs(wording.cash_rounding, _money(details.cash_rounding), width)
    if details is not None:
        ops += _drawer(details, width, wording)
    ops += _pairs(wording.grand_total, _money(report.grand_total), width, Style(bold=True))
    for label, value in (
        (wording.software, report.software_version),
        (wording.fiscal_core, report.fiscal_version),
    ):
        if value:
            ops += _pairs(label, value, width)
    ops += _chain_hash(report.chain_hash, profile, wording)
    if report.is_copy:
        ops.append(_mark(wording.copy))
    ops += _end(profile)
    return ops


def _drawer(details: ZDetails, width: int, wording: Wording) -> list[Op]:
    """The cash drawer: float, cash taken, change, refunds, each movement with its reason,
    the expected cash, and the count with its difference when counted."""
    ops: list[Op] = list(_wrapped(wording.cash_drawer, width))
    ops += _pairs(f"  {wording.opening_float}", _money(details.opening_float), width)
    ops += _pairs(f"  {wording.cash_sales}", _money(details.cash_sales), width)
    ops += _pairs(f"  {wording.change}", _money(-details.change), width)
    ops += _pairs(f"  {wording.cash_refunds}", _money(-details.cash_refunds), width)
    for kind, reason, amount in details.movements:
        label, signed = (wording.cash_out, -amount) if kind == "out" else (wording.cash_in, amount)
        ops += _pairs(f"  {label}", _money(signed), width)
        if reason:
            ops += _wrapped(f"    {reason}", width)
    ops += _pairs(wording.cash_expected, _money(details.expected), width, Style(bold=True))
    if details.counted is not None and details.difference is not None:
        ops += _pairs(wording.cash_counted, _money(details.counted), width)
        ops += _pairs(wording.cash_difference, _money(details.difference), width)
    ops.append(Separator())
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


def short_hash(chain_hash: str) -> str:
    """The printed short form of a chain hash: its first 16 hex digits, upper case, by fours."""
    head = chain_hash[:SHORT_HASH_DIGITS].upper()
    return " ".join(head[i : i + 4] for i in range(0, len(head), 4))


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
        QrCode(chain_hash.lower(), qr_size(profile), Align.CENTER),
    ]


def _mark(text: str) -> TextLine:
    """A centred, bold, double-height mark line (KOPIJA, ATGRIEŠANA, NEFISKĀLS DOKUMENTS)."""
    return TextLine(clean(text), Style(Align.CENTER, bold=True, height=2))


def _end(profile: PrinterProfile) -> list[Op]:
    if profile.cut:
        return [Cut(partial=profile.partial_cut)]
    return [Feed(4)]


# --- text helpers -------------------------------------------------------------------------------


# Lines and numbers are pure functions of a few strings or of a value (equal Decimals print
# alike), and most recur from receipt to receipt (labels, the shop's and the station's
# particulars, product names, prices): each is shaped once, and the ops, immutable, are shared.
_SHAPED_LINES = 4096


@functools.lru_cache(maxsize=_SHAPED_LINES)
def _wrapped(text: str, width: int, style: Style = NORMAL) -> tuple[TextLine, ...]:
    """``text`` word-wrapped to ``width`` (longer words are broken), one op per line."""
    return tuple(TextLine(line, style) for line in _wrap(clean(text), width))


def _wrap(text: str, width: int) -> list[str]:
    if len(text) <= width and text.isprintable():  # most lines: what textwrap would give
        return [text.rstrip(" ")]
    return textwrap.wrap(text, width, break_on_hyphens=False) or [""]


@functools.lru_cache(maxsize=_SHAPED_LINES)
def _pairs(left: str, right: str, width: int, style: Style = NORMAL) -> tuple[TextLine, ...]:
    """``left`` and ``right`` on one line, ``right`` flush right.

    When both don't fit, ``left`` wraps and ``right`` goes to the end of its last line, or to a
    line of its own.
    """
    left, right = clean(left), clean(right)
    if len(left) <= width and left.isprintable():  # the usual case, without textwrap's cost
        lines = [left.rstrip(" ")]
    else:
        indent = " " * (len(left) - len(left.lstrip(" ")))
        lines = textwrap.wrap(left, width, subsequent_indent=indent, break_on_hyphens=False)
        lines = lines or [""]
    last = lines[-1]
    if len(last) + 1 + len(right) <= width:
        lines[-1] = last + right.rjust(width - len(last))
    else:
        lines.append(right.rjust(width))
    return tuple(TextLine(line, style) for line in lines)


@functools.lru_cache(maxsize=_SHAPED_LINES)
def _money(value: Decimal) -> str:
    """``12.30``, ``-0.35``: two places, half-up, never ``-0.00``."""
    rounded = round_money(value)
    return f"{rounded if rounded else abs(rounded):.2f}"


@functools.lru_cache(maxsize=_SHAPED_LINES)
def _quantity(value: Decimal) -> str:
    """``3``, ``0.532``: no trailing zeros."""
    return f"{json_number(value):f}"


@functools.lru_cache(maxsize=_SHAPED_LINES)
def _rate(rate: Decimal) -> str:
    return f"{json_number(rate):f}%"
