"""Effective-dated VAT: which rate a tax group has at an instant (docs/money.md, "VAT rates over
time"), at the boundaries to the microsecond, across daylight saving time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from minipos.domain.reference import (
    RateChange,
    ReferenceData,
    TaxGroup,
    changes_problem,
    effective_us,
)

RIGA = ZoneInfo("Europe/Riga")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def us(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def local(*parts: int) -> datetime:
    return datetime(*parts)


def group(*changes: tuple[datetime, str]) -> TaxGroup:
    return TaxGroup(9, Decimal(21), "T", tuple(RateChange(v, Decimal(r)) for v, r in changes))


BASIC_FOODS = ReferenceData.default().taxes[6]


def test_latvian_basic_foods_change_at_midnight_riga_time() -> None:
    # 2026-07-01 00:00 in Riga (summer, UTC+3) is 2026-06-30 21:00 UTC.
    change = us(datetime(2026, 6, 30, 21, tzinfo=UTC))
    assert BASIC_FOODS.rate_at(change - 1, RIGA) == Decimal(21)
    assert BASIC_FOODS.rate_at(change, RIGA) == Decimal(12)
    assert BASIC_FOODS.rate_at(change + 1, RIGA) == Decimal(12)


def test_the_other_latvian_groups_have_one_rate() -> None:
    taxes = ReferenceData.default().taxes
    at = us(datetime(2026, 7, 1, 12, tzinfo=UTC))
    assert [taxes[n].rate_at(at, RIGA) for n in range(6)] == [21, 12, 5, 0, 0, 0]
    assert all(not taxes[n].changes for n in range(6))


def test_several_changes_each_from_its_moment() -> None:
    tax = group((local(2026, 1, 1), "5"), (local(2026, 2, 1), "12"))
    jan = us(datetime(2025, 12, 31, 22, tzinfo=UTC))  # 2026-01-01 00:00 Riga (UTC+2)
    feb = us(datetime(2026, 1, 31, 22, tzinfo=UTC))
    assert tax.rate_at(jan - 1, RIGA) == 21
    assert tax.rate_at(jan, RIGA) == 5
    assert tax.rate_at(feb - 1, RIGA) == 5
    assert tax.rate_at(feb, RIGA) == 12
    assert tax.history() == [
        (None, Decimal(21)),
        (local(2026, 1, 1), Decimal(5)),
        (local(2026, 2, 1), Decimal(12)),
    ]


def test_a_change_on_the_day_clocks_go_forward() -> None:
    # 2026-03-29: Riga goes from 03:00 EET to 04:00 EEST (01:00 UTC). Midnight is UTC+2.
    tax = group((local(2026, 3, 29), "12"))
    start = us(datetime(2026, 3, 28, 22, tzinfo=UTC))
    assert (tax.rate_at(start - 1, RIGA), tax.rate_at(start, RIGA)) == (21, 12)


def test_a_change_after_the_clocks_went_forward_uses_the_new_offset() -> None:
    tax = group((local(2026, 3, 29, 12), "12"))
    start = us(datetime(2026, 3, 29, 9, tzinfo=UTC))  # noon EEST (UTC+3)
    assert (tax.rate_at(start - 1, RIGA), tax.rate_at(start, RIGA)) == (21, 12)


def test_a_change_inside_the_skipped_hour_starts_at_the_jump() -> None:
    # 03:30 never shows on 2026-03-29: the clock jumps from 02:59:59.999999 EET to 04:00 EEST
    # at 01:00 UTC, the first instant it reads 03:30 or later.
    jump = us(datetime(2026, 3, 29, 1, tzinfo=UTC))
    assert effective_us(local(2026, 3, 29, 3, 30), RIGA) == jump
    tax = group((local(2026, 3, 29, 3, 30), "12"))
    assert (tax.rate_at(jump - 1, RIGA), tax.rate_at(jump, RIGA)) == (21, 12)


def test_a_change_inside_the_repeated_hour_starts_at_its_first_showing() -> None:
    # 2026-10-25: 04:00 EEST goes back to 03:00 EET at 01:00 UTC; 03:30 shows twice, first at
    # 00:30 UTC (EEST).
    first = us(datetime(2026, 10, 25, 0, 30, tzinfo=UTC))
    tax = group((local(2026, 10, 25, 3, 30), "12"))
    assert (tax.rate_at(first - 1, RIGA), tax.rate_at(first, RIGA)) == (21, 12)
    # The second showing (01:30 UTC) does not bring the old rate back.
    assert tax.rate_at(us(datetime(2026, 10, 25, 1, 29, tzinfo=UTC)), RIGA) == 12


def test_the_zone_decides_the_instant() -> None:
    tax = group((local(2026, 7, 1), "12"))
    midnight_utc = us(datetime(2026, 7, 1, tzinfo=UTC))
    assert tax.rate_at(midnight_utc - 1, ZoneInfo("UTC")) == 21
    assert tax.rate_at(midnight_utc - 1, RIGA) == 12  # Riga passed midnight 3 hours earlier


def test_in_force_is_a_view_of_one_moment() -> None:
    reference = ReferenceData.default()
    before = reference.in_force(us(datetime(2026, 6, 1, tzinfo=UTC)), RIGA)
    after = reference.in_force(us(datetime(2026, 8, 1, tzinfo=UTC)), RIGA)
    assert (before.taxes[6].rate, after.taxes[6].rate) == (21, 12)
    assert before.taxes[0].rate == after.taxes[0].rate == 21
    assert after.payment_methods is reference.payment_methods
    plain = ReferenceData({0: TaxGroup(0, Decimal(21), "x")}, {}, {})
    assert plain.in_force(0, RIGA) is plain  # nothing dated: the same object


def test_in_force_reuses_its_view_only_between_two_changes() -> None:
    reference = ReferenceData(
        {9: group((local(2026, 7, 1), "12"), (local(2027, 1, 1), "5"))}, {}, {}
    )
    change = effective_us(local(2026, 7, 1), RIGA)
    view = reference.in_force(change, RIGA)
    assert reference.in_force(change + 10**9, RIGA) is view  # the same rates: the same view
    assert reference.in_force(change - 1, RIGA).taxes[9].rate == 21
    assert reference.in_force(change, RIGA).taxes[9].rate == 12
    next_change = effective_us(local(2027, 1, 1), RIGA)
    assert reference.in_force(next_change - 1, RIGA).taxes[9].rate == 12
    assert reference.in_force(next_change, RIGA).taxes[9].rate == 5
    # Another zone reads the same dates at other instants: never the other zone's view.
    assert reference.in_force(change - 1, ZoneInfo("UTC")).taxes[9].rate == 21
    assert reference.in_force(change - 1, RIGA).taxes[9].rate == 21
    assert reference.in_force(change, RIGA).taxes[9].rate == 12
    assert reference.in_force(change, ZoneInfo("UTC")).taxes[9].rate == 21


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ([(local(2026, 2, 1), "5"), (local(2026, 1, 1), "12")], "increase"),
        ([(local(2026, 1, 1), "5"), (local(2026, 1, 1), "12")], "increase"),
        ([(datetime(2026, 1, 1, tzinfo=UTC), "5")], "offset"),
        ([(local(2026, 1, 1), "-1")], "0 or more"),
    ],
)
def test_changes_out_of_order_or_zoned_are_refused(
    changes: list[tuple[datetime, str]], problem: str
) -> None:
    found = changes_problem([RateChange(v, Decimal(r)) for v, r in changes])
    assert found is not None
    assert problem in found


def test_changes_in_order_are_fine() -> None:
    assert changes_problem([RateChange(local(2026, 1, 1), Decimal(5))]) is None
    assert changes_problem([]) is None
