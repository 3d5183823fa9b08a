"""Timestamps: stored as integer microseconds since the epoch (UTC), shown in shop time.

The MIDserver side (invoices) shows naive local time with microseconds, the CRMserver side
(products, shifts, receipts) local time with its UTC offset — both as the public docs show.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo


def now_us() -> int:
    return time.time_ns() // 1000


#: Recent conversions by moment and zone: a completion converts a few moments (its ``now_us``,
#: the invoice's own times) a dozen times over (invoice, receipt, journal, answer). Emptied when
#: full; a dict's get, set and clear are atomic and a datetime is immutable, so threads share it.
_RECENT: dict[tuple[int, ZoneInfo], datetime] = {}
_RECENT_SIZE = 64


def to_datetime(us: int, zone: ZoneInfo) -> datetime:
    key = (us, zone)
    found = _RECENT.get(key)
    if found is None:
        found = (
            datetime.fromtimestamp(us / 1_000_000, UTC)
            .replace(microsecond=us % 1_000_000)
            .astimezone(zone)
        )
        if len(_RECENT) >= _RECENT_SIZE:
            _RECENT.clear()
        _RECENT[key] = found
    return found


def local_naive(us: int | None, zone: ZoneInfo) -> str | None:
    """``2026-02-17T16:50:13.428620`` (always six fraction digits, as documented)."""
    if us is None:
        return None
    return to_datetime(us, zone).strftime("%Y-%m-%dT%H:%M:%S.%f")


def local_aware(us: int | None, zone: ZoneInfo) -> str | None:
    """``2026-01-09T10:13:28.357056+02:00``."""
    if us is None:
        return None
    return to_datetime(us, zone).isoformat(timespec="microseconds")


def parse_local(text: str, zone: ZoneInfo) -> int:
    """A timestamp from a query string: ISO date or date-time, naive ones in shop time."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond


PERIOD_FORMAT = "Datetime has wrong format. Use YYYY-MM-DD or YYYY-MM-DDThh:mm:ss."
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PERIOD_RANGE = "Ensure this date is between 1970-01-02 and 9999-12-29."
#: The moments a period may name, in the shop's own time (as the message shows them): far
#: enough inside datetime's years that shown back in any zone they stay dates.
#: Wall times, compared as if in UTC.
_EARLIEST = datetime(1970, 1, 2, tzinfo=UTC)
_LATEST = datetime(9999, 12, 30, tzinfo=UTC)  # a plain ``to`` of 9999-12-29 ends here


def parse_period(
    text_from: str | None, text_to: str | None, zone: ZoneInfo, names: tuple[str, str]
) -> tuple[int | None, int | None]:
    """``from``/``to`` query values (local ISO dates or date-times) as microseconds, ``to``
    exclusive: a plain date as ``to`` takes in that whole day. A bad one is a ``ValueError`` with
    the parameter's name and the message for it."""
    found: list[int | None] = []
    for name, text, day_after in ((names[0], text_from, False), (names[1], text_to, True)):
        if text is None:
            found.append(None)
            continue
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(name, PERIOD_FORMAT) from None
        try:  # a well-formed date past what the period may name overflows below
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=zone)
            if day_after and len(text) == 10:  # the whole day, DST days included
                moment = (moment.replace(tzinfo=None) + timedelta(days=1)).replace(tzinfo=zone)
            elif day_after:
                moment += timedelta(microseconds=1)
            us = (moment - _EPOCH) // timedelta(microseconds=1)  # exact, no float
            local = moment.astimezone(zone).replace(tzinfo=UTC)  # the shop's wall time
        except (ValueError, OverflowError):
            raise ValueError(name, PERIOD_RANGE) from None
        if not _EARLIEST <= local <= _LATEST:
            raise ValueError(name, PERIOD_RANGE)
        found.append(us)
    return found[0], found[1]
