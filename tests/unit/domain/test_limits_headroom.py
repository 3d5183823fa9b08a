"""The money limits' headroom arithmetic (docs/security.md, "Money"), checked, not just stated."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from minipos.domain.errors import Conflict, FieldError, ValidationFailed
from minipos.domain.money import (
    CENT,
    MAX_GRAND_TOTAL,
    MAX_PRICE,
    MAX_SHIFT_TOTAL,
    MAX_TOTAL,
    to_cents,
)
from minipos.domain.receipt import settle
from minipos.domain.reference import ReferenceData
from minipos.domain.shift import check_grand_total_room, check_shift_room

INT64_MAX = 2**63 - 1  # BIGINT on PostgreSQL, INTEGER on SQLite


def test_every_stored_figure_and_sum_fits_in_int64() -> None:
    # The one SQL addition on the sale path: shifts.volume plus one more receipt.
    assert to_cents(MAX_SHIFT_TOTAL) + to_cents(MAX_TOTAL) < INT64_MAX
    # Closing a full shift on top of the largest grand total a shift may open with.
    assert to_cents(MAX_GRAND_TOTAL - MAX_SHIFT_TOTAL) + to_cents(MAX_SHIFT_TOTAL) < INT64_MAX
    # A SUM over the grand totals of nine stations.
    assert 9 * to_cents(MAX_GRAND_TOTAL) < INT64_MAX


def test_the_limits_leave_room_for_years_of_full_shifts() -> None:
    assert MAX_SHIFT_TOTAL // MAX_TOTAL == 10  # ten documents of the largest size per shift
    full_shifts = MAX_GRAND_TOTAL // MAX_SHIFT_TOTAL
    assert full_shifts == 100_000
    assert full_shifts / (3 * 365) > 90  # three full shifts a day for over 90 years


def test_the_api_payments_alone_cannot_reach_the_document_limit() -> None:
    assert 20 * MAX_PRICE < MAX_TOTAL  # 20 payments a request, each at most MAX_PRICE


@dataclass(frozen=True)
class Tender:
    method_id: int
    amount: Decimal | None


def test_settle_refuses_payments_past_the_document_limit() -> None:
    methods = ReferenceData.default().payment_methods
    over = [Tender(1, MAX_PRICE)] * 101  # 10,099,999,998.99: what a domain caller could send
    with pytest.raises(ValidationFailed) as caught:
        settle(Decimal(1), over, methods)
    assert caught.value.errors == (
        FieldError(
            ("payments",),
            "Payments add up to 10099999998.99; one receipt takes at most 9999999999.99.",
        ),
    )
    settled = settle(Decimal(1), [Tender(1, MAX_PRICE)] * 100, methods)
    assert settled.change == MAX_PRICE * 100 - 1


def test_the_shift_and_grand_total_checks_stop_exactly_at_their_limits() -> None:
    check_shift_room(MAX_SHIFT_TOTAL)
    with pytest.raises(Conflict, match=r"past the shift limit of 99999999999\.99"):
        check_shift_room(MAX_SHIFT_TOTAL + CENT)
    check_grand_total_room(MAX_GRAND_TOTAL - MAX_SHIFT_TOTAL)
    with pytest.raises(Conflict, match="register a new station"):
        check_grand_total_room(MAX_GRAND_TOTAL - MAX_SHIFT_TOTAL + CENT)
