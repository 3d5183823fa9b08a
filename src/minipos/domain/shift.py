"""Shift (Z-report) totals: what a closed shift reports, how the grand total grows, and the
limits that keep both inside 64-bit cents (``MAX_SHIFT_TOTAL``, ``MAX_GRAND_TOTAL``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from minipos.domain.errors import Conflict
from minipos.domain.money import MAX_GRAND_TOTAL, MAX_SHIFT_TOTAL, json_number
from minipos.domain.receipt import ReceiptMode

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class ReceiptFigures:
    """The parts of one receipt a Z-report adds up."""

    mode: ReceiptMode
    gross: Decimal
    net: Decimal
    tax: Decimal
    vat: tuple[tuple[Decimal, Decimal, Decimal, Decimal], ...]  # (rate, gross, net, tax)
    payments: tuple[tuple[str, Decimal, bool], ...]  # (method name, amount, is cash)
    change: Decimal


@dataclass
class ShiftTotals:
    receipts: int = 0
    sales: Decimal = ZERO
    refunds: Decimal = ZERO
    tax: Decimal = ZERO
    #: rate → [gross, net, tax], refunds subtracted.
    vat: dict[Decimal, list[Decimal]] = field(default_factory=dict)
    #: method name → amount taken (refunds paid out subtracted; change returned subtracted).
    payments: dict[str, Decimal] = field(default_factory=dict)

    @property
    def turnover(self) -> Decimal:
        return self.sales - self.refunds


def add_up(receipts: Iterable[ReceiptFigures]) -> ShiftTotals:
    totals = ShiftTotals()
    for receipt in receipts:
        sign = -1 if receipt.mode is ReceiptMode.REFUND else 1
        totals.receipts += 1
        if sign < 0:
            totals.refunds += receipt.gross
        else:
            totals.sales += receipt.gross
        totals.tax += sign * receipt.tax
        for rate, gross, net, tax in receipt.vat:
            entry = totals.vat.setdefault(rate, [ZERO, ZERO, ZERO])
            entry[0] += sign * gross
            entry[1] += sign * net
            entry[2] += sign * tax
        change_left = receipt.change
        for name, amount, is_cash in receipt.payments:
            kept = amount
            if is_cash and change_left:
                # The change went back out of the cash drawer.
                returned = min(change_left, amount)
                kept, change_left = amount - returned, change_left - returned
            totals.payments[name] = totals.payments.get(name, ZERO) + sign * kept
    return totals


def grand_total_after(previous: Decimal, totals: ShiftTotals) -> Decimal:
    """The station's cumulative sales after this shift; it never goes down."""
    return previous + totals.sales


def check_shift_room(volume: Decimal) -> None:
    """Refuse the receipt that took the shift's volume (the sum of its receipts' totals, sales
    and refunds alike) past ``MAX_SHIFT_TOTAL``.

    A full shift can always be closed: no Z-report sum or grand total then exceeds its limit.
    """
    if volume > MAX_SHIFT_TOTAL:
        raise Conflict(
            f"This receipt would take the shift's receipts to {json_number(volume)}, past the"
            f" shift limit of {MAX_SHIFT_TOTAL}. Close the shift (Z-report) and open a new one."
        )


def check_grand_total_room(grand_total: Decimal) -> None:
    """Refuse to open a shift unless a full one would still fit under ``MAX_GRAND_TOTAL``, so
    that closing it can never overflow the grand total."""
    if grand_total + MAX_SHIFT_TOTAL > MAX_GRAND_TOTAL:
        raise Conflict(
            f"This station's grand total ({json_number(grand_total)}) is too close to its limit"
            f" of {MAX_GRAND_TOTAL} for another shift; register a new station."
        )
