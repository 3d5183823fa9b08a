"""A stored receipt as the API shows it: one mapper for both documented shapes.

``GET /api/receipts`` and the receipts embedded in ``GET /api/invoice/{id}`` carry the same
values under partly different names, and with times with or without the UTC offset. Each shape
is declared once (its structs, its renames, its clock); :func:`shaped` fills any of them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

from msgspec import Struct

from minipos.domain.money import (
    shown_cents,
    shown_thousandths,
)
from minipos.receipts.schemas import (
    InvoiceReceiptOut,
    InvoiceReceiptPaymentOut,
    InvoiceReceiptRowOut,
    ReceiptOut,
    ReceiptPaymentOut,
    ReceiptRowOut,
)
from minipos.timeutil import local_aware, local_naive

Out = TypeVar("Out", bound=Struct)
Clock = Callable[[int | None, ZoneInfo], str | None]
#: How one output field is filled: from a stored row and the shop's zone.
Field = Callable[[Any, ZoneInfo], Any]

#: Stored columns in cents or thousandths, shown as decimals.
_MONEY = frozenset(
    {
        "neto_amount", "bruto_amount", "changed_amount", "tax_amount", "discount",
        "discount_amount", "price", "tax_rate", "amount", "max_amount",
    }
)  # fmt: skip
_QUANTITY = frozenset({"quantity", "max_quantity"})


@dataclass(frozen=True, slots=True)
class Shape(Generic[Out]):
    """One documented receipt shape: how each field of the receipt, of its rows and of its
    payments is filled, in the structs' field order."""

    receipt: type[Out]
    row: type[Struct]
    payment: type[Struct]
    receipt_fields: tuple[Field, ...]
    row_fields: tuple[Field, ...]
    payment_fields: tuple[Field, ...]


def _shape(
    receipt: type[Out],
    row: type[Struct],
    payment: type[Struct],
    renames: Mapping[str, str],
    clock: Clock,
) -> Shape[Out]:
    """``renames``: output field → stored column where the names differ (one map serves the
    receipt, its rows and its payments)."""

    def fields(struct: type[Struct]) -> tuple[Field, ...]:
        return tuple(
            _field(renames.get(name, name), clock)
            for name in struct.__struct_fields__
            if name not in ("rows", "payments")  # filled by shaped()
        )

    return Shape(receipt, row, payment, fields(receipt), fields(row), fields(payment))


def _field(column: str, clock: Clock) -> Field:
    if column in _MONEY:
        return lambda row, zone: shown_cents(row[column])
    if column in _QUANTITY:
        return lambda row, zone: shown_thousandths(row[column])
    if column == "print_time":  # every receipt has one: never null in either shape
        return lambda row, zone: clock(row[column], zone) or ""
    if column in ("start_time", "refunded_at"):
        return lambda row, zone: clock(row[column], zone)
    return lambda row, zone: row[column]


RECEIPTS = _shape(
    ReceiptOut,
    ReceiptRowOut,
    ReceiptPaymentOut,
    {
        "station": "station_id",
        "cashier": "cashier_id",
        "product": "product_id",
        "receipt": "receipt_id",
        "category": "category_id",
    },
    local_aware,
)
INVOICE_RECEIPTS = _shape(
    InvoiceReceiptOut,
    InvoiceReceiptRowOut,
    InvoiceReceiptPaymentOut,
    {"cash_shift_id": "shift_id", "tax_id": "tax", "method_id": "method"},
    local_naive,
)


def shaped(
    shape: Shape[Out], receipt: Any, rows: Sequence[Any], payments: Sequence[Any], zone: ZoneInfo
) -> Out:
    """A stored ``receipt`` with its stored ``rows`` and ``payments`` in ``shape`` (both shapes
    end with ``rows`` and ``payments``)."""
    return shape.receipt(
        *[fill(receipt, zone) for fill in shape.receipt_fields],
        [shape.row(*[fill(row, zone) for fill in shape.row_fields]) for row in rows],
        [shape.payment(*[fill(p, zone) for fill in shape.payment_fields]) for p in payments],
    )
