"""Fiscal receipt rules: settling payments, refund limits and the tamper-evident hash chain.

Every receipt a station issues is hashed together with the previous receipt's hash
(SHA-256 over the previous hash and the receipt's canonical content). Changing, removing or
reordering any stored receipt breaks every hash after it, which ``minipos verify`` detects.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum
from typing import Any, Protocol

from minipos.domain.errors import ErrorCollector, FieldError, ValidationFailed
from minipos.domain.money import (
    MAX_PRICE,
    MAX_TOTAL,
    PRICE_PLACES,
    check_decimal,
    json_number,
    round_cash,
)
from minipos.domain.reference import PaymentMethod

#: The hash a station's chain starts from.
GENESIS_HASH = "0" * 64
ZERO = Decimal(0)


class ReceiptMode(IntEnum):
    SALE = 1  # walk-in sale at the station
    INVOICE_SALE = 2  # sale from an integrator's invoice
    REFUND = 3


def parent_problems(
    is_refund: bool, refund_mode: int, document_id: str | None, pos_id: str | None
) -> Iterator[FieldError]:
    """A refund's original is named by both its number and its POS, and only a refund names
    one (decisions §6): half a reference would be matched against a POS nobody named.
    ``refund_mode`` is the refund's number in the caller's own modes (invoice 2, receipt 3)."""
    if document_id is None and pos_id is None:
        return
    if not is_refund:
        yield FieldError(
            ("parent_document_id",), f"Only a refund (mode {int(refund_mode)}) has a parent."
        )
    elif document_id is None or pos_id is None:
        yield FieldError(("parent_pos_id",), "Give both parent_document_id and parent_pos_id.")


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
    #: Cash rounding: what the cash part was rounded by (+ up, − down); the payments cover
    #: ``total + rounding`` and the change is what exceeds that.
    rounding: Decimal = ZERO


def settle(
    total: Decimal,
    tenders: Sequence[TenderInput],
    methods: Mapping[int, PaymentMethod],
    *,
    refund: bool = False,
    cash_step: Decimal | None = None,
) -> Settlement:
    """Resolve the payments of a ``total`` (docs/decisions.md §3).

    ``amount: null`` takes what remains. Cash may exceed the total; the excess is the change.
    Card and transfer may not exceed what remains. A refund pays out exactly the total. All
    payments together are at most ``MAX_TOTAL``, so the change is too.

    With a ``cash_step`` (cash rounding, docs/money.md) the cash part (the total less the card
    and transfer payments) is due rounded to the step when cash is among the payments; card
    and transfer amounts never round.
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

    has_cash = cash_step is not None and any(methods[t.method_id].is_cash for t in tenders)
    rest = max(total - fixed, ZERO)
    if has_cash and rest_index is not None and methods[tenders[rest_index].method_id].is_cash:
        assert cash_step is not None
        # Cash takes the rest: it pays the cash part rounded, less the cash already given.
        fixed_cash = sum((t.amount or ZERO for t in tenders if methods[t.method_id].is_cash), ZERO)
        cash_part = max(total - (fixed - fixed_cash), ZERO)
        rest = max(round_cash(cash_part, cash_step) - fixed_cash, ZERO)
    resolved = []
    for index, tender in enumerate(tenders):
        amount = tender.amount if tender.amount is not None else rest
        if amount > ZERO:
            resolved.append(Tender(index, methods[tender.method_id], amount))
    paid = sum((t.amount for t in resolved), ZERO)
    non_cash = sum((t.amount for t in resolved if not t.method.is_cash), ZERO)
    rounding = ZERO
    if has_cash and total > non_cash:
        assert cash_step is not None
        rounding = round_cash(total - non_cash, cash_step) - (total - non_cash)
    due = total + rounding
    if paid < due:
        raise ValidationFailed.single(
            ("payments",),
            f"Underpaid: {json_number(due - paid)} of {json_number(due)} is still due.",
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
    if refund and paid != due:
        raise ValidationFailed.single(
            ("payments",),
            f"A refund pays out exactly {json_number(due)}, not {json_number(paid)}.",
        )
    return Settlement(tuple(resolved), paid - due, rounding)


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
