"""Shift (Z-report) totals: what a closed shift reports, how the grand total grows, and the
limits that keep both inside 64-bit cents (``MAX_SHIFT_TOTAL``, ``MAX_GRAND_TOTAL``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

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
    #: The money its rows' discounts took off (line and document discounts).
    discounts: Decimal = ZERO


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
    sale_count: int = 0
    refund_count: int = 0
    #: Discounts given on sales, and the discounts of the refunded rows (unsigned).
    sale_discounts: Decimal = ZERO
    refund_discounts: Decimal = ZERO
    #: The drawer's side of the payments: cash taken on sales (before change), the change
    #: given back, and cash paid out on refunds.
    cash_sales: Decimal = ZERO
    change_given: Decimal = ZERO
    cash_refunds: Decimal = ZERO

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
            totals.refund_count += 1
            totals.refund_discounts += receipt.discounts
        else:
            totals.sales += receipt.gross
            totals.sale_count += 1
            totals.sale_discounts += receipt.discounts
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
                if sign > 0:
                    totals.change_given += returned
            if is_cash:
                if sign > 0:
                    totals.cash_sales += amount
                else:
                    totals.cash_refunds += kept
            totals.payments[name] = totals.payments.get(name, ZERO) + sign * kept
    return totals


class CashKind(StrEnum):
    """A movement of the cash drawer that is not a sale."""

    FLOAT = "float"  # the opening float, put in when the shift opens
    IN = "in"
    OUT = "out"


@dataclass(frozen=True, slots=True)
class CashMovement:
    kind: CashKind
    amount: Decimal
    reason: str | None
    employee: str | None
    at_us: int


@dataclass(frozen=True, slots=True)
class Drawer:
    """The cash drawer of a shift: what should be in it, and, once counted, what is.

    ``expected = opening_float + cash_sales - change - cash_refunds + cash_in - cash_out``.
    """

    opening_float: Decimal
    cash_sales: Decimal
    change: Decimal
    cash_refunds: Decimal
    cash_in: Decimal
    cash_out: Decimal
    counted: Decimal | None
    movements: tuple[CashMovement, ...]

    @property
    def expected(self) -> Decimal:
        return (
            self.opening_float
            + self.cash_sales
            - self.change
            - self.cash_refunds
            + self.cash_in
            - self.cash_out
        )

    @property
    def difference(self) -> Decimal | None:
        """Counted minus expected: negative when cash is missing."""
        return None if self.counted is None else self.counted - self.expected


def drawer(
    totals: ShiftTotals, movements: Iterable[CashMovement], counted: Decimal | None
) -> Drawer:
    kept = tuple(movements)

    def total(kind: CashKind) -> Decimal:
        return sum((m.amount for m in kept if m.kind is kind), ZERO)

    return Drawer(
        opening_float=total(CashKind.FLOAT),
        cash_sales=totals.cash_sales,
        change=totals.change_given,
        cash_refunds=totals.cash_refunds,
        cash_in=total(CashKind.IN),
        cash_out=total(CashKind.OUT),
        counted=counted,
        movements=kept,
    )


def check_cash_out(drawer_now: Drawer, amount: Decimal) -> None:
    """Refuse taking out more cash than the drawer should hold."""
    if amount > drawer_now.expected:
        raise Conflict(
            f"The drawer should hold {json_number(drawer_now.expected)}; {json_number(amount)}"
            " cannot be taken out of it."
        )


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
