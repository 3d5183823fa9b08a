"""Fiscal receipt rules: settling payments, refund limits and the tamper-evident hash chain.

Every receipt a station issues is hashed together with the previous receipt's hash
(SHA-256 over the previous hash and the receipt's canonical content). Changing, removing or
reordering any stored receipt breaks every hash after it, which ``minipos verify`` detects.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum
from typing import Any, Protocol

from minipos.domain.errors import ErrorCollector, ValidationFailed
from minipos.domain.money import MAX_PRICE, MAX_TOTAL, PRICE_PLACES, check_decimal, json_number
from minipos.domain.reference import PaymentMethod

#: The hash a station's chain starts from.
GENESIS_HASH = "0" * 64
ZERO = Decimal(0)


class ReceiptMode(IntEnum):
    SALE = 1  # walk-in sale at the station
    INVOICE_SALE = 2  # sale from an integrator's invoice
    REFUND = 3


class ReceiptState(IntEnum):
    VALID = 1


class TenderInput(Protocol):
    @property
    def method_id(self) -> int: ...
    @property
    def amount(self) -> Decimal | None: ...


@dataclass(frozen=True, slots=True)
class Tender:
    index: int  # position in the request, for error paths and card details
    method: PaymentMethod
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Settlement:
    tenders: tuple[Tender, ...]
    change: Decimal


def settle(
    total: Decimal,
    tenders: Sequence[TenderInput],
    methods: Mapping[int, PaymentMethod],
    *,
    refund: bool = False,
) -> Settlement:
    """Resolve the payments of a ``total`` (docs/decisions.md §3).

    ``amount: null`` takes what remains. Cash may exceed the total; the excess is the change.
    Card and transfer may not exceed what remains. A refund pays out exactly the total. All
    payments together are at most ``MAX_TOTAL``, so the change is too.
    """
    errors = ErrorCollector()
    rest_index: int | None = None
    fixed = ZERO
    for index, tender in enumerate(tenders):
        if tender.method_id not in methods:
            errors.add(
                ("payments", index, "method_id"), f'"{tender.method_id}" is not a valid choice.'
            )
        if tender.amount is None:
            if rest_index is not None:
                errors.add(
                    ("payments", index, "amount"),
                    "Only one payment may take the rest (amount null).",
                )
            rest_index = index
            continue
        message = check_decimal(
            tender.amount,
            places=PRICE_PLACES,
            minimum=ZERO,
            maximum=MAX_PRICE,
            exclusive_minimum=True,
        )
        if message:
            errors.add(("payments", index, "amount"), message)
        else:
            fixed += tender.amount
    if not tenders and total > ZERO:
        errors.add(("payments",), "This list may not be empty.")
    errors.raise_if_any()

    resolved = []
    for index, tender in enumerate(tenders):
        amount = tender.amount if tender.amount is not None else max(total - fixed, ZERO)
        if amount > ZERO:
            resolved.append(Tender(index, methods[tender.method_id], amount))
    paid = sum((t.amount for t in resolved), ZERO)
    non_cash = sum((t.amount for t in resolved if not t.method.is_cash), ZERO)
    if paid < total:
        raise ValidationFailed.single(
            ("payments",),
            f"Underpaid: {json_number(total - paid)} of {json_number(total)} is still due.",
        )
    if non_cash > total:
        raise ValidationFailed.single(
            ("payments",),
            f"Card and transfer payments ({json_number(non_cash)}) may not exceed the amount due"
            f" ({json_number(total)}); only cash gives change.",
        )
    if paid > MAX_TOTAL:
        raise ValidationFailed.single(
            ("payments",),
            f"Payments add up to {json_number(paid)}; one receipt takes at most {MAX_TOTAL}.",
        )
    if refund and paid != total:
        raise ValidationFailed.single(
            ("payments",),
            f"A refund pays out exactly {json_number(total)}, not {json_number(paid)}.",
        )
    return Settlement(tuple(resolved), paid - total)


@dataclass(frozen=True, slots=True)
class Refundable:
    """What remains refundable on one row of the original receipt."""

    quantity: Decimal
    amount: Decimal


def check_refund(
    requested: Sequence[tuple[Decimal, Decimal]], remaining: Sequence[Refundable]
) -> None:
    """Each refunded (quantity, amount) must fit in what the original row still allows."""
    errors = ErrorCollector()
    for index, ((quantity, amount), left) in enumerate(zip(requested, remaining, strict=True)):
        if quantity > left.quantity:
            errors.add(
                ("rows", index, "quantity"),
                f"Only {json_number(left.quantity)} of this row may still be refunded.",
            )
        elif amount > left.amount:
            errors.add(
                ("rows", index, "amount"),
                f"Only {json_number(left.amount)} of this row may still be refunded.",
            )
    errors.raise_if_any()


def chain_hash(previous: str, content: Mapping[str, Any]) -> str:
    """SHA-256 over the previous hash and the canonical JSON of ``content``."""
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(previous.encode() + canonical.encode()).hexdigest()
