"""The conversion of a stored timestamp to shop time, and its memo of the last conversion."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from minipos import timeutil
from minipos.timeutil import parse_period, to_datetime

RIGA = ZoneInfo("Europe/Riga")
#: 2026-11-30 14:08:47.123456 UTC
US = 1_796_047_727_123_456


def test_a_timestamp_in_shop_time_to_the_microsecond() -> None:
    moment = to_datetime(US, RIGA)
    assert moment == datetime(2026, 11, 30, 14, 8, 47, 123456, tzinfo=UTC)
    assert moment.isoformat() == "2026-11-30T16:08:47.123456+02:00"


def test_the_memo_answers_only_the_same_moment_in_the_same_zone() -> None:
    first = to_datetime(US, RIGA)
    assert to_datetime(US, RIGA) is first
    assert to_datetime(US, ZoneInfo("UTC")).isoformat() == "2026-11-30T14:08:47.123456+00:00"
    assert to_datetime(US + 1, RIGA).microsecond == 123457
    assert to_datetime(US, RIGA) == first


def test_the_memo_stays_small_and_right() -> None:
    moments = [to_datetime(US + n, RIGA) for n in range(200)]
    assert len(timeutil._RECENT) <= timeutil._RECENT_SIZE
    assert [to_datetime(US + n, RIGA) for n in range(200)] == moments
    assert {m.microsecond - 123456 for m in moments} == set(range(200))


@pytest.mark.parametrize("zone", ["Europe/Riga", "Pacific/Kiritimati", "Etc/GMT+12"])
def test_a_period_takes_the_dates_its_message_names_in_every_zone(zone: str) -> None:
    """``from=1970-01-02`` was refused in Riga with "Ensure this date is between 1970-01-02
    and 9999-12-29": the bound was UTC's, the date the shop's."""
    shop = ZoneInfo(zone)
    names = ("from", "to")
    first, last = parse_period("1970-01-02", "9999-12-29", shop, names)
    assert first is not None
    assert last is not None
    assert 0 < first < last
    assert to_datetime(first, shop).replace(tzinfo=None) == datetime(1970, 1, 2)
    # 9999-12-31 as ``to`` ends past datetime's last year: it was "wrong format".
    for early, late in (("1970-01-01T23:59", None), (None, "9999-12-30"), (None, "9999-12-31")):
        with pytest.raises(ValueError, match="between 1970-01-02 and 9999-12-29"):
            parse_period(early, late, shop, names)
