"""Invoice rules: modes, the status state machine, and what makes a posted invoice valid.

The validator reads the request through the ``*Input`` protocols below, so any object with
those attributes will do (the API's msgspec structs, or test doubles); it returns the invoice's
numbers in storage units with its amount due, or raises ``ValidationFailed`` naming every broken
field.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from enum import IntEnum
from typing import NamedTuple, Protocol

from minipos.domain import blocks
from minipos.domain.errors import Conflict, ErrorCollector, FieldError, Path, ValidationFailed
from minipos.domain.money import (
    MAX_PRICE,
    MAX_QUANTITY,
    PRICE_PLACES,
    QUANTITY_PLACES,
    DiscountType,
    LineUnits,
    amount_units,
    document_total_cents,
    from_cents,
    json_number,
    minor_units,
    quantity_units,
    row_gross_error,
)
from minipos.domain.reference import ReferenceData

ZERO = Decimal(0)


class InvoiceMode(IntEnum):
    SALE = 1
    REFUND = 2
    SLIP = 3  # non-fiscal: prints, never becomes a receipt


class InvoiceStatus(IntEnum):
    NEW = 10
    OPENED = 20  # claimed by a station
    DONE = 30
    CANCELLED = 40

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self]


_STATUS_LABELS = {
    InvoiceStatus.NEW: "New",
    InvoiceStatus.OPENED: "Opened",
    InvoiceStatus.DONE: "Done",
    InvoiceStatus.CANCELLED: "Cancelled",
}

#: docs/decisions.md §2. Done and Cancelled are final.
TRANSITIONS: dict[InvoiceStatus, frozenset[InvoiceStatus]] = {
    InvoiceStatus.NEW: frozenset({InvoiceStatus.OPENED, InvoiceStatus.CANCELLED}),
    InvoiceStatus.OPENED: frozenset(
        {InvoiceStatus.NEW, InvoiceStatus.DONE, InvoiceStatus.CANCELLED}
    ),
    InvoiceStatus.DONE: frozenset(),
    InvoiceStatus.CANCELLED: frozenset(),
}


def check_transition(current: InvoiceStatus, target: InvoiceStatus) -> None:
    if target not in TRANSITIONS[current]:
        raise Conflict(f"An invoice that is {current.label} cannot become {target.label}.")


class PrintBlock(Protocol):
    def problems(self) -> Iterable[FieldError]:
        """Rule violations, with paths relative to the block."""
        ...

    def cost(self, enlarged: bool) -> blocks.PrintCost:
        """What the block costs to print (:func:`minipos.domain.blocks.budget_problems`)."""
        ...


class RowInput(Protocol):
    @property
    def quantity(self) -> Decimal: ...
    @property
    def init_quantity(self) -> Decimal | None: ...
    @property
    def price(self) -> Decimal: ...
    @property
    def tax(self) -> int: ...
    @property
    def fiscal_section(self) -> int: ...
    @property
    def discount(self) -> Decimal: ...
    @property
    def discount_type(self) -> DiscountType | None: ...
    def print_blocks(self) -> Iterable[tuple[Path, PrintBlock]]: ...


class PaymentInput(Protocol):
    @property
    def method_id(self) -> int: ...
    @property
    def amount(self) -> Decimal | None: ...


class InvoiceInput(Protocol):
    @property
    def mode(self) -> InvoiceMode: ...
    @property
    def discount(self) -> Decimal: ...
    @property
    def discount_type(self) -> DiscountType | None: ...
    @property
    def rows(self) -> Sequence[RowInput]: ...
    @property
    def payments(self) -> Sequence[PaymentInput]: ...
    def has_slip(self) -> bool: ...
    def print_blocks(self) -> Iterable[tuple[Path, PrintBlock]]:
        """Every block in ``info`` (header, footer, slip) with its path."""
        ...

    def other_problems(self) -> Iterable[FieldError]:
        """Rules on fields the invoice rules below do not read (customer contacts, …)."""
        ...


class CheckedInvoice(NamedTuple):
    """A valid invoice's numbers in storage units (cents, thousandths), converted once."""

    #: The amount due, in cents.
    total: int
    #: The document discount: cents, or hundredths of a percent.
    discount: int
    #: One per row, in order.
    lines: list[LineUnits]
    #: One per row: the ``init_quantity`` sent, in thousandths (None: not sent).
    init_quantities: list[int | None]
    #: One per payment, in cents (None: the rest).
    payments: list[int | None]


def validate_invoice(invoice: InvoiceInput, reference: ReferenceData) -> CheckedInvoice:
    """Check every rule of a posted invoice and work out its amount due (docs/decisions.md
    §2–§3). Only the total: the station's sale prices the invoice whole when it completes."""
    errors = ErrorCollector()
    _check_mode(invoice, errors)
    lines: list[LineUnits] = []
    init_quantities: list[int | None] = []
    for index, row in enumerate(invoice.rows):
        path: Path = ("rows", index)
        units = row_units(row)
        if isinstance(units, tuple):
            lines.append(units[0])
            init_quantities.append(units[1])
        else:
            errors.extend(path, units)
        _check_row_references(path, row, reference, errors)
    discount = _units_or_report(("discount",), amount_units(invoice.discount), errors)
    for path, block in invoice.print_blocks():
        errors.extend(path, block.problems())
    errors.extend((), blocks.budget_problems(_document_blocks(invoice)))
    errors.extend((), invoice.other_problems())
    payments = _payment_units(invoice.payments, reference, errors)
    errors.raise_if_any()

    total = document_total_cents(lines, discount, invoice.discount_type)
    _check_payment_plan(invoice.payments, payments, total, reference)
    return CheckedInvoice(total, discount, lines, init_quantities, payments)


def _document_blocks(invoice: InvoiceInput) -> Iterator[tuple[Path, PrintBlock]]:
    """Every block of the invoice, rows' too: one print budget covers them all."""
    yield from invoice.print_blocks()
    for index, row in enumerate(invoice.rows):
        for path, block in row.print_blocks():
            yield ("rows", index, *path), block


def _check_mode(invoice: InvoiceInput, errors: ErrorCollector) -> None:
    if invoice.mode is InvoiceMode.SLIP:
        if invoice.rows:
            errors.add(("rows",), "A non-fiscal slip (mode 3) carries no rows.")
        if invoice.payments:
            errors.add(("payments",), "A non-fiscal slip (mode 3) takes no payments.")
        if not invoice.has_slip():
            errors.add(("info", "slip"), "A non-fiscal slip (mode 3) needs blocks to print.")
        if invoice.discount != ZERO:
            errors.add(("discount",), "A non-fiscal slip (mode 3) has no discount.")
    elif not invoice.rows:
        errors.add(("rows",), "This list may not be empty.")


def row_units(row: RowInput) -> tuple[LineUnits, int | None] | list[FieldError]:
    """A row's numbers in storage units (its init_quantity apart, None if not sent), or every
    rule on them that it breaks (paths relative to the row): the row's rules that need no
    reference data."""
    quantity = quantity_units(row.quantity)
    init_quantity = (
        None
        if row.init_quantity is None
        else minor_units(
            row.init_quantity, places=QUANTITY_PLACES, minimum=ZERO, maximum=MAX_QUANTITY
        )
    )
    price = amount_units(row.price)
    discount = amount_units(row.discount) if row.discount else 0
    gross_message = (
        row_gross_error(quantity, price)
        if isinstance(quantity, int) and isinstance(price, int)
        else None
    )
    if (
        isinstance(quantity, int)
        and isinstance(price, int)
        and isinstance(discount, int)
        and not isinstance(init_quantity, str)
        and gross_message is None
    ):
        return (quantity, price, discount, row.discount_type), init_quantity
    problems = []
    if isinstance(quantity, str):
        problems.append(FieldError(("quantity",), quantity))
    if isinstance(init_quantity, str):
        problems.append(FieldError(("init_quantity",), init_quantity))
    if isinstance(price, str):
        problems.append(FieldError(("price",), price))
    if gross_message is not None:
        problems.append(FieldError(("quantity",), gross_message))
    if isinstance(discount, str):
        problems.append(FieldError(("discount",), discount))
    return problems


def row_problems(row: RowInput) -> list[FieldError]:
    """:func:`row_units`'s verdict only. Also checked on the rows that decoded when another part
    of the request did not, so one response names both."""
    units = row_units(row)
    return [] if isinstance(units, tuple) else units


def _check_row_references(
    path: Path, row: RowInput, reference: ReferenceData, errors: ErrorCollector
) -> None:
    if row.tax not in reference.taxes:
        errors.add((*path, "tax"), f'"{row.tax}" is not a valid choice.')
    if row.fiscal_section not in reference.fiscal_sections:
        errors.add((*path, "fiscal_section"), f'"{row.fiscal_section}" is not a valid choice.')
    for block_path, block in row.print_blocks():
        errors.extend((*path, *block_path), block.problems())


def _units_or_report(path: Path, units: int | str, errors: ErrorCollector) -> int:
    """``units``, or 0 once its message is reported (the validator raises before using it)."""
    if isinstance(units, str):
        errors.add(path, units)
        return 0
    return units


def _payment_units(
    payments: Sequence[PaymentInput], reference: ReferenceData, errors: ErrorCollector
) -> list[int | None]:
    """Each payment's amount in cents (None: the rest), its rules checked."""
    amounts: list[int | None] = []
    rest_seen = False
    for index, payment in enumerate(payments):
        if payment.method_id not in reference.payment_methods:
            errors.add(
                ("payments", index, "method_id"), f'"{payment.method_id}" is not a valid choice.'
            )
        if payment.amount is None:
            if rest_seen:
                errors.add(
                    ("payments", index, "amount"),
                    "Only one payment may take the rest (amount null).",
                )
            rest_seen = True
            amounts.append(None)
            continue
        units = minor_units(
            payment.amount,
            places=PRICE_PLACES,
            minimum=ZERO,
            maximum=MAX_PRICE,
            exclusive_minimum=True,
        )
        amounts.append(_units_or_report(("payments", index, "amount"), units, errors))
    return amounts


def _check_payment_plan(
    payments: Sequence[PaymentInput],
    amounts: Sequence[int | None],
    total: int,
    reference: ReferenceData,
) -> None:
    """Cash may exceed the amount due (the rest is change); other methods may not. Amounts and
    the total are in cents."""
    non_cash = sum(
        amount
        for payment, amount in zip(payments, amounts, strict=True)
        if amount is not None and not reference.payment_methods[payment.method_id].is_cash
    )
    if non_cash > total:
        raise ValidationFailed.single(
            ("payments",),
            f"Non-cash payments ({json_number(from_cents(non_cash))}) exceed the amount due"
            f" ({json_number(from_cents(total))}).",
        )
