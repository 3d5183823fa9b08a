"""Money arithmetic: the rounding contract of docs/decisions.md §3.

Money and quantities are ``Decimal``, never ``float``. Every rounding is half-up to the cent and
is requested explicitly, so the result never depends on the ambient ``decimal`` context (whose
default is half-even). Additions and multiplications run in an exact context; the only divisions
(percentages and VAT) are done in integers and rounded once, so no value is ever rounded twice.

Callers validate the precision and range of client input with :func:`check_decimal` (or convert
it with :func:`minor_units`) first; the functions here assume finite values and report rule
violations (not format problems). A posted invoice is totalled in integer storage units
(:func:`document_total_cents`); :func:`price_document` prices a document whole, in ``Decimal``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import (
    MAX_EMAX,
    MAX_PREC,
    MIN_EMIN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
    localcontext,
)
from enum import StrEnum
from typing import NamedTuple, TypeAlias

from minipos.domain.errors import ErrorCollector, Path

__all__ = [
    "CENT",
    "MAX_GRAND_TOTAL",
    "MAX_PRICE",
    "MAX_QUANTITY",
    "MAX_SHIFT_TOTAL",
    "MAX_TOTAL",
    "PRICE_PLACES",
    "QUANTITY_PLACES",
    "DiscountType",
    "DocumentPrice",
    "Line",
    "LineUnits",
    "PricedLine",
    "VatGroup",
    "amount_units",
    "cash_step_error",
    "check_decimal",
    "document_total_cents",
    "from_cents",
    "from_minor",
    "from_thousandths",
    "json_number",
    "line_discount",
    "line_gross_error",
    "minor_units",
    "price_document",
    "quantity_units",
    "round_cash",
    "round_money",
    "row_gross_error",
    "shown",
    "shown_cents",
    "shown_thousandths",
    "spread",
    "to_cents",
    "to_minor",
    "to_thousandths",
    "vat",
]

CENT = Decimal("0.01")
PRICE_PLACES = 2
QUANTITY_PLACES = 3
MAX_PRICE = Decimal("99999999.99")
MAX_QUANTITY = Decimal("999999.999")
# The money limits (docs/security.md "Money" has the headroom arithmetic). Stored as int64
# cents, whose largest value is 9,223,372,036,854,775,807 (about 9.2e18).
#: One document (invoice, receipt, refund): every row's quantity × price, their sum before
#: discounts, and its payments are at most this; < 1e12 cents.
MAX_TOTAL = Decimal("9999999999.99")
#: One shift: the sum of its receipts' totals, sales and refunds alike (what its Z-report adds
#: up); < 1e13 cents, ten documents of the largest size.
MAX_SHIFT_TOTAL = Decimal("99999999999.99")
#: A station's cumulative sales, never reset; < 1e18 cents: 100,000 shifts of the largest size,
#: and still 9 times under the int64 limit, so a SUM over nine stations fits too.
MAX_GRAND_TOTAL = Decimal("9999999999999999.99")

#: MAX_TOTAL in cents, for the integer checks.
_MAX_TOTAL_CENTS = 999_999_999_999
#: 100 % in hundredths of a percent (a percentage in storage units).
_PERCENT_MAX_UNITS = 10_000

_ZERO = Decimal(0)
_ONE = Decimal(1)
_ZERO_CENTS = Decimal("0.00")
_HUNDRED = Decimal(100)

#: Additions, subtractions and multiplications in this context are exact (the precision is the
#: maximum, and libmpdec only allocates the digits a result needs); ``Inexact`` is trapped so a
#: silent rounding would be a loud bug instead.
_EXACT = Context(
    prec=MAX_PREC,
    rounding=ROUND_HALF_UP,
    Emax=MAX_EMAX,
    Emin=MIN_EMIN,
    traps=[InvalidOperation, DivisionByZero, Overflow, Inexact],
)
#: The same, for ``quantize``: rounding there is the point, so ``Inexact`` is not trapped.
_ROUNDING = Context(
    prec=MAX_PREC,
    rounding=ROUND_HALF_UP,
    Emax=MAX_EMAX,
    Emin=MIN_EMIN,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)

_MSG_NOT_A_NUMBER = "A valid number is required."
_MSG_PERCENT_MAX = "Ensure this value is less than or equal to 100."
_MSG_NEGATIVE = "Ensure this value is greater than or equal to 0."
_MSG_TYPE_MISSING = 'Set discount_type to "amount" or "percent" when discount is not 0.'
_MSG_LINE_OVER = "The discount cannot exceed the line amount."
_MSG_DOCUMENT_OVER = "The discount cannot exceed the amount it applies to."


class DiscountType(StrEnum):
    """How a ``discount`` number is read: money off, or a percentage of the gross."""

    AMOUNT = "amount"
    PERCENT = "percent"


def stored_discount_type(choice: DiscountType | None) -> str | None:
    """The plain string stored for a discount type: drivers must not see (and adapt) an Enum."""
    return None if choice is None else choice.value


# --- rounding and number formats ----------------------------------------------------------------


def round_money(value: Decimal) -> Decimal:
    """Round half-up to the cent, whatever the ambient decimal context says.

    Raises ``ValueError`` for NaN or infinity: money is always finite.
    """
    _require_finite(value)
    return value.quantize(CENT, ROUND_HALF_UP, _ROUNDING)


def check_decimal(
    value: Decimal,
    *,
    places: int,
    minimum: Decimal,
    maximum: Decimal,
    exclusive_minimum: bool = False,
) -> str | None:
    """Return the DRF-style message for a number a client may not send, or ``None`` if it is fine.

    The rule is :func:`minor_units`'s; this keeps only its verdict.
    """
    units = minor_units(
        value, places=places, minimum=minimum, maximum=maximum, exclusive_minimum=exclusive_minimum
    )
    return units if isinstance(units, str) else None


def minor_units(
    value: Decimal,
    *,
    places: int,
    minimum: Decimal,
    maximum: Decimal,
    exclusive_minimum: bool = False,
) -> int | str:
    """A number a client sent, as an exact integer of minor units (``places`` decimals), or the
    DRF-style message saying why it may not be sent.

    Order: finiteness, range, decimal places, so ``1E+400`` is reported as too large rather than
    mis-parsed (and is never turned into a huge integer). Never raises a ``decimal`` signal,
    whatever the exponent. Checking and converting in one go: the invoice POST does this for
    every number it stores.
    """
    if not value.is_finite():
        return _MSG_NOT_A_NUMBER
    if exclusive_minimum and value <= minimum:
        return f"Ensure this value is greater than {minimum}."
    if value < minimum:
        return f"Ensure this value is greater than or equal to {minimum}."
    if value > maximum:
        return f"Ensure this value is less than or equal to {maximum}."
    scaled = value.scaleb(places, _EXACT)  # in range here, so this is exact
    units = int(scaled)  # truncates first: cheap even for a long tail of digits
    if scaled != units:
        return f"Ensure that there are no more than {places} decimal places."
    return units


def quantity_units(value: Decimal) -> int | str:
    """A quantity the API sells (0 < q ≤ 999,999.999, 3 places) in thousandths, or why not."""
    return minor_units(
        value, places=QUANTITY_PLACES, minimum=_ZERO, maximum=MAX_QUANTITY, exclusive_minimum=True
    )


def amount_units(value: Decimal) -> int | str:
    """A price or discount (0 ≤ a ≤ 99,999,999.99, 2 places) in cents (a percentage in
    hundredths of a percent), or why not."""
    return minor_units(value, places=PRICE_PLACES, minimum=_ZERO, maximum=MAX_PRICE)


def quantity_error(value: Decimal) -> str | None:
    """Why ``value`` is not a quantity the API sells (:func:`quantity_units`), or None."""
    units = quantity_units(value)
    return units if isinstance(units, str) else None


def amount_error(value: Decimal) -> str | None:
    """Why ``value`` is not a price or discount amount (:func:`amount_units`), or None."""
    units = amount_units(value)
    return units if isinstance(units, str) else None


def line_gross_error(quantity: Decimal, price: Decimal) -> str | None:
    """Why one row's quantity × price is more than a whole document may hold, or None.

    Each factor in range still multiplies up to 1e14. A factor out of range gives None here:
    :func:`quantity_error` or :func:`amount_error` reports it on its own field.
    """
    thousandths = quantity_units(quantity)
    cents = amount_units(price)
    if isinstance(thousandths, str) or isinstance(cents, str):
        return None
    return row_gross_error(thousandths, cents)


def line_discount_error(
    quantity: Decimal, price: Decimal, discount: Decimal, discount_type: str | None
) -> str | None:
    """Why a row's money-off discount is more than its gross, or None: a completion's edit can
    lower the gross under the discount its invoice was created with."""
    if discount_type == DiscountType.AMOUNT and discount > quantity * price:
        return _MSG_LINE_OVER
    return None


def row_gross_error(thousandths: int, cents: int) -> str | None:
    """:func:`line_gross_error` for a quantity and a price already checked and converted (the
    invoice validator converts each once, then this)."""
    gross = _divide_half_up(thousandths * cents, 1000)  # exact in 1/1000 cent, rounded
    if gross > _MAX_TOTAL_CENTS:
        return (
            f"Quantity × price ({json_number(from_cents(gross))}) may not exceed {MAX_TOTAL}"
            " on one row."
        )
    return None


def to_minor(value: Decimal, places: int) -> int:
    """Scale to an exact integer of minor units (cents, thousandths) for storage.

    Raises ``ValueError`` if ``value`` is not finite or has more than ``places`` decimal places,
    because storing it would lose information.
    """
    if not value.is_finite():
        raise ValueError(f"{value} is not a finite number")
    scaled = value.scaleb(places, _EXACT)  # exact: only the exponent moves
    units = int(scaled)
    if scaled != units:
        raise ValueError(f"{value} has more than {places} decimal places")
    return units


def from_minor(units: int, places: int) -> Decimal:
    """Inverse of :func:`to_minor`: ``from_minor(234, 2) == Decimal("2.34")``, exactly."""
    return Decimal(units).scaleb(-places, _EXACT)


def json_number(value: Decimal) -> Decimal:
    """The same value without trailing zeros and without a positive exponent.

    The API writes ``5``, ``34.59`` and ``0.87`` as the public docs show, and ``Decimal("50")``
    must stay ``50`` (``normalize()`` would give ``5E+1``). Values below 1e-6 still print in
    exponent form; money and quantities never have that many places.
    """
    _require_finite(value)
    if not value:
        return _ZERO
    # At the maximum precision, normalize() only strips trailing zeros: exact.
    stripped = value.normalize(_EXACT)
    exponent = stripped.as_tuple().exponent
    assert isinstance(exponent, int)
    return stripped.quantize(_ONE, context=_EXACT) if exponent > 0 else stripped


@functools.lru_cache(maxsize=65536)
def shown(units: int, places: int) -> Decimal:
    """Stored minor units as the API writes them: ``shown(500, 2) == Decimal("5")``.

    Cached: a shop's prices and quantities repeat, and this runs for every number of every
    response.
    """
    return json_number(from_minor(units, places))


# Storage units (docs/architecture.md, "Storage conventions"): money in cents, quantities in
# thousandths. Every module that stores or reads them converts here, by name.


def to_cents(amount: Decimal) -> int:
    """Money for storage: ``to_cents(Decimal("2.34")) == 234`` (``ValueError`` past 2 places)."""
    return to_minor(amount, PRICE_PLACES)


def to_thousandths(quantity: Decimal) -> int:
    """A quantity for storage: ``to_thousandths(Decimal("0.5")) == 500``."""
    return to_minor(quantity, QUANTITY_PLACES)


def from_cents(cents: int) -> Decimal:
    """Stored money back, exact and with two places (``Decimal("2.30")``), for arithmetic."""
    return from_minor(cents, PRICE_PLACES)


def from_thousandths(units: int) -> Decimal:
    """A stored quantity back, exact and with three places, for arithmetic."""
    return from_minor(units, QUANTITY_PLACES)


def shown_cents(cents: int) -> Decimal:
    """Stored money as the API writes it: ``shown_cents(500) == Decimal("5")``."""
    return shown(cents, PRICE_PLACES)


def shown_thousandths(units: int) -> Decimal:
    """A stored quantity as the API writes it: ``shown_thousandths(1500) == Decimal("1.5")``."""
    return shown(units, QUANTITY_PLACES)


# --- building blocks ----------------------------------------------------------------------------


def line_discount(gross: Decimal, discount: Decimal, discount_type: DiscountType | None) -> Decimal:
    """The money a line discount takes off ``gross`` (the exact, unrounded line gross).

    A percentage is rounded half-up to the cent; an amount is taken as given. With no type the
    discount is 0 (callers reject a non-zero discount without a type).
    """
    if discount_type is DiscountType.PERCENT:
        return _round_ratio(_EXACT.multiply(gross, discount), _HUNDRED)
    if discount_type is DiscountType.AMOUNT:
        return discount
    return _ZERO


def spread(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Split a cent amount pro rata to ``weights`` so that the parts add up exactly to ``total``.

    Largest-remainder method at cent granularity, computed in exact integers: every part gets
    the floor of its share, and the cents left over go to the largest remainders, the lower
    index first on a tie. A zero weight gets 0.

    Raises ``ValueError`` if ``total`` is not a whole number of cents, a weight is negative or not
    finite, or ``total`` is not 0 but there is no weight to carry it.
    """
    cents = to_minor(total, PRICE_PLACES)
    for weight in weights:
        _require_finite(weight)
        if weight < 0:
            raise ValueError(f"negative weight {weight}")
    scaled = _common_integers(weights)
    denominator = sum(scaled)
    if denominator == 0:
        if cents != 0:
            raise ValueError(f"cannot spread {total} over weights that sum to 0")
        return [from_minor(0, PRICE_PLACES) for _ in weights]
    magnitude = abs(cents)
    parts = [magnitude * n // denominator for n in scaled]
    remainders = [magnitude * n % denominator for n in scaled]
    left_over = magnitude - sum(parts)
    if left_over:
        # A stable sort keeps equal remainders in index order, reverse=True included.
        by_remainder = sorted(range(len(scaled)), key=remainders.__getitem__, reverse=True)
        for index in by_remainder[:left_over]:
            parts[index] += 1
    sign = -1 if cents < 0 else 1
    return [from_minor(sign * part, PRICE_PLACES) for part in parts]


def vat(gross: Decimal, rate: Decimal) -> tuple[Decimal, Decimal]:
    """Split a VAT-inclusive ``gross`` at ``rate`` percent into ``(net, tax)``.

    tax = round(gross * rate / (100 + rate)) half-up to the cent; net = gross - tax, so the two
    always add up to the gross. Raises ``ValueError`` for a negative rate.
    """
    _require_finite(gross)
    _require_finite(rate)
    if rate < 0:
        raise ValueError(f"negative VAT rate {rate}")
    tax = _round_ratio(_EXACT.multiply(gross, rate), _EXACT.add(_HUNDRED, rate))
    return _EXACT.subtract(gross, tax), tax


def cash_step_error(step: Decimal) -> str | None:
    """Why ``step`` cannot be a cash rounding step (0.01 … 1.00, whole cents), or None."""
    return check_decimal(step, places=PRICE_PLACES, minimum=CENT, maximum=_ONE)


def round_cash(amount: Decimal, step: Decimal) -> Decimal:
    """``amount`` (whole cents) to the nearest multiple of ``step``, half away from zero.

    With a 0.05 step a total ending in 1 or 2 (or 6, 7) cents goes down and one ending in 3 or 4
    (or 8, 9) goes up (docs/money.md, "Cash rounding"); whole cents never fall on a half. Done
    in integer cents, so no context rounds anything.
    """
    cents = to_minor(amount, PRICE_PLACES)
    unit = to_minor(step, PRICE_PLACES)
    if unit <= 0:
        raise ValueError(f"cash rounding step {step} is not positive")
    magnitude = (2 * abs(cents) + unit) // (2 * unit) * unit
    return from_minor(-magnitude if cents < 0 else magnitude, PRICE_PLACES)


# --- documents ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Line:
    """One row to price. ``discountable=False`` marks a ``no_discount`` product.

    Such a line keeps its own line discount but takes no share of the document discount.
    """

    quantity: Decimal
    price: Decimal
    tax_rate: Decimal
    discount: Decimal = _ZERO
    discount_type: DiscountType | None = None
    discountable: bool = True


@dataclass(frozen=True, slots=True)
class PricedLine:
    """A line with its money worked out; ``amount`` is before the document discount."""

    line: Line
    line_discount: Decimal
    amount: Decimal
    document_discount: Decimal

    # The context's own methods: as exact as ``localcontext(_EXACT)``, without its cost.
    @property
    def total(self) -> Decimal:
        """What the customer pays for this line."""
        return _EXACT.subtract(self.amount, self.document_discount)

    @property
    def discount_amount(self) -> Decimal:
        """All discount on this line: its own plus its share of the document's."""
        return _EXACT.add(self.line_discount, self.document_discount)


@dataclass(frozen=True, slots=True)
class VatGroup:
    """VAT on the lines of one tax rate; ``net + tax == gross``."""

    rate: Decimal
    gross: Decimal
    net: Decimal
    tax: Decimal


@dataclass(frozen=True, slots=True)
class DocumentPrice:
    """A priced invoice or receipt; ``vat`` is ordered by rate, highest first."""

    lines: tuple[PricedLine, ...]
    document_discount: Decimal
    total: Decimal
    vat: tuple[VatGroup, ...]

    @property
    def net(self) -> Decimal:
        """Total without VAT."""
        with localcontext(_EXACT):
            return sum((group.net for group in self.vat), _ZERO)

    @property
    def tax(self) -> Decimal:
        """Total VAT."""
        with localcontext(_EXACT):
            return sum((group.tax for group in self.vat), _ZERO)


def price_document(
    lines: Sequence[Line],
    discount: Decimal = _ZERO,
    discount_type: DiscountType | None = None,
) -> DocumentPrice:
    """Price a document by the rules of docs/decisions.md §3.

    Line amount = round(quantity * price - line discount); a percentage is taken of the exact
    gross. The document discount is spread over the discountable lines pro rata to their amounts
    (largest remainder), and VAT is computed per rate on the sum of the line totals.

    Raises ``ValidationFailed`` listing every broken discount rule, with paths
    ``("rows", i, ...)`` for lines and ``("discount",)`` / ``("discount_type",)`` for the
    document, and ``("rows",)`` when the rows add up to more than :data:`MAX_TOTAL` before
    discounts. Precision and range of each number are not checked here: callers use
    :func:`check_decimal` (and :func:`line_gross_error` for a row) first.
    """
    with localcontext(_EXACT):
        checked = _checked_amounts(lines, discount, discount_type)
        # Skipped when there is nothing to spread, so that lines which cannot carry a share
        # (a negative amount) still price without a document discount.
        shares = (
            spread(checked.document_discount, checked.weights)
            if checked.document_discount
            else [_ZERO_CENTS for _ in lines]
        )
        priced = []
        group_gross: dict[Decimal, Decimal] = {}
        for line, off, amount, share in zip(
            lines, checked.line_discounts, checked.amounts, shares, strict=True
        ):
            priced.append(PricedLine(line, off, amount, share))
            rate = line.tax_rate
            # amount - share: the line's total (PricedLine.total), without a second look-up.
            group_gross[rate] = group_gross.get(rate, _ZERO) + (amount - share)
        total = checked.total()
        groups = []
        for rate in sorted(group_gross, reverse=True):
            net, tax = vat(group_gross[rate], rate)
            groups.append(VatGroup(rate, group_gross[rate], net, tax))

    return DocumentPrice(tuple(priced), checked.document_discount, total, tuple(groups))


#: A posted row's numbers in storage units, each within its field's limits (converted by
#: :func:`quantity_units` and :func:`amount_units`): ``(quantity, price, discount,
#: discount_type)``, the quantity in thousandths (> 0), the price in cents (≥ 0), the discount in
#: cents off or hundredths of a percent (≥ 0). A plain tuple: every row of every invoice POST
#: builds one, and a NamedTuple's constructor costs some 30 times as much.
LineUnits: TypeAlias = tuple[int, int, int, DiscountType | None]


def document_total_cents(
    lines: Sequence[LineUnits], discount: int, discount_type: DiscountType | None
) -> int:
    """The total in cents that :func:`price_document` gives the same lines (all discountable)
    and document discount (cents, or hundredths of a percent, ≥ 0), raising the same
    ``ValidationFailed``; all a posted invoice needs (its station's sale prices it whole when it
    completes).

    The same rules in exact integers, without sharing out the document discount or working out
    VAT: the invoice POST's hot loop. ``tests/unit/domain/test_money.py`` holds it to
    :func:`price_document`.
    """
    errors = ErrorCollector()
    base = 0  # Σ line amounts: on an invoice every line takes a share of the document discount
    undiscounted = 0  # Σ round(gross)
    for index, (quantity, price, off, kind) in enumerate(lines):
        gross = quantity * price  # exact, in thousandths of a cent
        rounded = _divide_half_up(gross, 1000)
        undiscounted += rounded
        if kind is None:
            if off:
                errors.add(("rows", index, "discount_type"), _MSG_TYPE_MISSING)
            base += rounded
            continue
        if kind is DiscountType.PERCENT:
            if off > _PERCENT_MAX_UNITS:
                errors.add(("rows", index, "discount"), _MSG_PERCENT_MAX)
            # gross / 1000 cents × off / 10,000: a percentage of the exact gross, rounded once.
            off_cents = _divide_half_up(gross * off, 10_000_000)
        else:
            if 1000 * off > gross:
                errors.add(("rows", index, "discount"), _MSG_LINE_OVER)
            off_cents = off
        # round(gross − discount), never below zero (_line_amount says why it could).
        rest = gross - 1000 * off_cents
        base += _divide_half_up(rest, 1000) if rest > 0 else 0
    lines_ok = not errors
    if discount_type is None:
        if discount:
            errors.add(("discount_type",), _MSG_TYPE_MISSING)
        off_cents = 0
    elif discount_type is DiscountType.PERCENT:
        if discount > _PERCENT_MAX_UNITS:
            errors.add(("discount",), _MSG_PERCENT_MAX)
        off_cents = _divide_half_up(base * discount, 10_000)
    else:
        if lines_ok and discount > base:
            errors.add(("discount",), _MSG_DOCUMENT_OVER)
        off_cents = discount
    # As in _checked_amounts: bounding this sum bounds every figure of the document.
    if lines_ok and undiscounted > _MAX_TOTAL_CENTS:
        errors.add(("rows",), _rows_over_message(from_cents(undiscounted)))
    errors.raise_if_any()
    return base - off_cents


class _Amounts(NamedTuple):
    """A document's lines before the document discount, every rule checked."""

    line_discounts: list[Decimal]
    amounts: list[Decimal]
    #: The amounts the document discount is spread over (0 for a non-discountable line).
    weights: list[Decimal]
    document_discount: Decimal

    def total(self) -> Decimal:
        """The amount due (in the ``_EXACT`` context, as every sum here)."""
        return sum(self.amounts, _ZERO) - self.document_discount


def _checked_amounts(
    lines: Sequence[Line], discount: Decimal, discount_type: DiscountType | None
) -> _Amounts:
    """The line amounts and the document discount; raises ``ValidationFailed`` (see
    :func:`price_document`). Runs in the ``_EXACT`` context."""
    errors = ErrorCollector()
    line_discounts: list[Decimal] = []
    amounts: list[Decimal] = []
    rounded_grosses: list[Decimal] = []
    # One pass per line.
    for index, line in enumerate(lines):
        gross = line.quantity * line.price
        rounded = round_money(gross)
        rounded_grosses.append(rounded)
        if line.discount_type is None and not line.discount:
            off = _ZERO  # most lines: no discount, no rule to check
        else:
            _check_discount(errors, ("rows", index), line.discount, line.discount_type, gross=gross)
            off = line_discount(gross, line.discount, line.discount_type)
        line_discounts.append(off)
        amounts.append(_line_amount(gross, off, rounded))
    lines_ok = not errors
    _check_discount(errors, (), discount, discount_type)

    weights = [
        amount if line.discountable else _ZERO for line, amount in zip(lines, amounts, strict=True)
    ]
    base = sum(weights, _ZERO)
    if lines_ok and discount_type is DiscountType.AMOUNT and discount > max(base, _ZERO):
        errors.add(("discount",), _MSG_DOCUMENT_OVER)
    # Every figure of the document (line amounts and discounts, its total, VAT) is at most
    # this sum, so bounding it bounds them all: the total cannot exceed MAX_TOTAL.
    undiscounted = sum(rounded_grosses, _ZERO)
    if lines_ok and undiscounted > MAX_TOTAL:
        errors.add(("rows",), _rows_over_message(undiscounted))
    errors.raise_if_any()
    return _Amounts(line_discounts, amounts, weights, line_discount(base, discount, discount_type))


# --- helpers ------------------------------------------------------------------------------------


def _check_discount(
    errors: ErrorCollector,
    prefix: Path,
    discount: Decimal,
    discount_type: DiscountType | None,
    *,
    gross: Decimal | None = None,
) -> None:
    """Collect the discount rules shared by lines and documents.

    ``gross`` is the exact line gross; ``None`` for the document, whose base is checked once the
    line amounts are known.
    """
    if discount < 0:
        errors.add((*prefix, "discount"), _MSG_NEGATIVE)
    if discount_type is None:
        if discount != 0:
            errors.add((*prefix, "discount_type"), _MSG_TYPE_MISSING)
    elif discount_type is DiscountType.PERCENT:
        if discount > _HUNDRED:
            errors.add((*prefix, "discount"), _MSG_PERCENT_MAX)
    elif gross is not None and discount >= 0 and discount > gross:
        errors.add((*prefix, "discount"), _MSG_LINE_OVER)


def _line_amount(gross: Decimal, discount: Decimal, rounded_gross: Decimal) -> Decimal:
    """round(gross - discount), but never below zero for a non-negative gross.

    ``rounded_gross`` is round(gross), the amount without a discount, already worked out.

    A percentage rounded half-up on an unrounded gross can exceed that gross by less than a
    cent (0.125 at 100 % takes 0.13), and the literal rule would then give -0.01 or -0.00.
    Since the discount never exceeds round(gross), the clamp only ever yields
    round(gross) - discount = 0 and changes no other case.
    """
    amount = round_money(gross - discount) if discount else rounded_gross
    if gross >= 0 and amount <= 0:  # also turns -0.00 into 0.00
        return _ZERO_CENTS
    return amount


def _rows_over_message(undiscounted: Decimal) -> str:
    return (
        f"The rows add up to {json_number(undiscounted)} before discounts; one document"
        f" may not exceed {MAX_TOTAL}."
    )


def _divide_half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half-up, for ``numerator ≥ 0 < denominator``."""
    return (2 * numerator + denominator) // (2 * denominator)


def _round_ratio(numerator: Decimal, denominator: Decimal) -> Decimal:
    """``numerator / denominator`` rounded half-up (away from zero) to the cent, exactly.

    Done in integers so that a long or non-terminating quotient is never rounded to the context
    precision before it is rounded to the cent.
    """
    _require_finite(numerator)
    _require_finite(denominator)
    if not denominator:
        raise ValueError("division by zero")
    # numerator = a / b and denominator = c / d, so the result in cents is 100·a·d / (b·c).
    a, b = numerator.as_integer_ratio()
    c, d = denominator.as_integer_ratio()
    p, q = 100 * a * d, b * c
    negative = (p < 0) != (q < 0)
    cents = _divide_half_up(abs(p), abs(q))
    return from_minor(-cents if negative else cents, PRICE_PLACES)


def _common_integers(values: Sequence[Decimal]) -> list[int]:
    """Scale finite values by one common factor so that all become integers (ratios unchanged)."""
    ratios = [v.as_integer_ratio() for v in values]
    common = math.lcm(*(denominator for _, denominator in ratios))
    return [numerator * (common // denominator) for numerator, denominator in ratios]


def _require_finite(value: Decimal) -> None:
    """Refuse NaN and infinity, which no money or quantity may be."""
    if not value.is_finite():
        raise ValueError(f"{value} is not a finite number")
