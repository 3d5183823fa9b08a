"""Invoice rules: modes, the status state machine, and what makes a posted invoice valid.

The validator reads the request through the ``*Input`` protocols below, so any object with
those attributes will do (the API's msgspec structs, or test doubles); it returns the amount
due or raises ``ValidationFailed`` naming every broken field.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from enum import IntEnum
from typing import Protocol

from minipos.domain import blocks
from minipos.domain.errors import Conflict, ErrorCollector, FieldError, Path, ValidationFailed
from minipos.domain.money import (
    MAX_PRICE,
    MAX_QUANTITY,
    PRICE_PLACES,
    QUANTITY_PLACES,
    DiscountType,
    Line,
    amount_error,
    check_decimal,
    document_total,
    json_number,
    quantity_error,
    valid_line_gross_error,
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


def validate_invoice(invoice: InvoiceInput, reference: ReferenceData) -> Decimal:
    """Check every rule of a posted invoice and return its amount due (docs/decisions.md
    §2–§3). Only the total: the station's sale prices the invoice whole when it completes."""
    errors = ErrorCollector()
    _check_mode(invoice, errors)
    for index, row in enumerate(invoice.rows):
        _check_row(("rows", index), row, reference, errors)
    _check_money(("discount",), invoice.discount, errors)
    for path, block in invoice.print_blocks():
        errors.extend(path, block.problems())
    errors.extend((), blocks.budget_problems(_document_blocks(invoice)))
    errors.extend((), invoice.other_problems())
    _check_payment_methods(invoice.payments, reference, errors)
    errors.raise_if_any()

    # Positional: a third cheaper than keywords for a frozen dataclass, once per row.
    lines = [
        Line(
            row.quantity, row.price, reference.taxes[row.tax].rate, row.discount, row.discount_type
        )
        for row in invoice.rows
    ]
    total = document_total(lines, invoice.discount, invoice.discount_type)
    _check_payment_plan(invoice.payments, total, reference)
    return total


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


def row_problems(row: RowInput) -> Iterator[FieldError]:
    """A row's rules that need no reference data (quantities and money). Also checked on the
    rows that decoded when another part of the request did not, so one response names both."""
    quantity_message = quantity_error(row.quantity)
    if quantity_message:
        yield FieldError(("quantity",), quantity_message)
    if row.init_quantity is not None:
        message = check_decimal(
            row.init_quantity, places=QUANTITY_PLACES, minimum=ZERO, maximum=MAX_QUANTITY
        )
        if message:
            yield FieldError(("init_quantity",), message)
    price_message = amount_error(row.price)
    if price_message:
        yield FieldError(("price",), price_message)
    # line_gross_error's rule, without checking the quantity and the price a second time.
    if (
        not quantity_message
        and not price_message
        and (message := valid_line_gross_error(row.quantity, row.price))
    ):
        yield FieldError(("quantity",), message)
    if row.discount and (message := amount_error(row.discount)):
        yield FieldError(("discount",), message)


def _check_row(path: Path, row: RowInput, reference: ReferenceData, errors: ErrorCollector) -> None:
    errors.extend(path, row_problems(row))
    if row.tax not in reference.taxes:
        errors.add((*path, "tax"), f'"{row.tax}" is not a valid choice.')
    if row.fiscal_section not in reference.fiscal_sections:
        errors.add((*path, "fiscal_section"), f'"{row.fiscal_section}" is not a valid choice.')
    for block_path, block in row.print_blocks():
        errors.extend((*path, *block_path), block.problems())


def _check_money(path: Path, value: Decimal, errors: ErrorCollector) -> None:
    message = amount_error(value)
    if message:
        errors.add(path, message)


def _check_payment_methods(
    payments: Sequence[PaymentInput], reference: ReferenceData, errors: ErrorCollector
) -> None:
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
            continue
        message = check_decimal(
            payment.amount,
            places=PRICE_PLACES,
            minimum=ZERO,
            maximum=MAX_PRICE,
            exclusive_minimum=True,
        )
        if message:
            errors.add(("payments", index, "amount"), message)


def _check_payment_plan(
    payments: Sequence[PaymentInput], total: Decimal, reference: ReferenceData
) -> None:
    """Cash may exceed the amount due (the rest is change); other methods may not."""
    non_cash = sum(
        (
            p.amount
            for p in payments
            if p.amount is not None and not reference.payment_methods[p.method_id].is_cash
        ),
        ZERO,
    )
    if non_cash > total:
        raise ValidationFailed.single(
            ("payments",),
            f"Non-cash payments ({json_number(non_cash)}) exceed the amount due"
            f" ({json_number(total)}).",
        )
