"""Reference data that invoices and products point at: tax groups, fiscal sections, payment
methods (docs/decisions.md §2). Configurable per shop; these are the Latvian defaults.

A tax group's rate can change over time (docs/money.md, "VAT rates over time"): a group has a
base rate and dated changes, each in force from a local date-time in the shop's zone. A document
takes the rates in force at the moment it is issued (:meth:`ReferenceData.in_force`).
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)
#: Past any instant a clock gives (µs since the epoch).
_FOREVER = 2**63


@dataclass(frozen=True, slots=True)
class RateChange:
    """From ``valid_from`` (a naive local date-time in the shop's zone) the group's rate is
    ``rate``."""

    valid_from: datetime
    rate: Decimal


@dataclass(frozen=True, slots=True)
class TaxGroup:
    """A tax group. ``rate`` is its rate before the first of ``changes`` (its only rate when
    there are none); a document reads the rate in force through :meth:`rate_at` or a
    :meth:`ReferenceData.in_force` view, never ``rate`` of the configured group directly."""

    id: int
    rate: Decimal
    name: str
    #: Dated changes, oldest first, each ``valid_from`` later than the one before.
    changes: tuple[RateChange, ...] = ()

    def rate_at(self, instant_us: int, zone: ZoneInfo) -> Decimal:
        """The rate in force at ``instant_us`` (microseconds since the epoch, UTC)."""
        rate = self.rate
        for change in self.changes:
            if instant_us < effective_us(change.valid_from, zone):
                break
            rate = change.rate
        return rate

    def history(self) -> list[tuple[datetime | None, Decimal]]:
        """Every rate with the local date-time it starts (None: since always)."""
        return [(None, self.rate), *((c.valid_from, c.rate) for c in self.changes)]


def changes_problem(changes: Sequence[RateChange]) -> str | None:
    """Why a group's dated changes are unusable (not in order, or zoned), or None."""
    previous: datetime | None = None
    for change in changes:
        if change.valid_from.tzinfo is not None:
            return "valid_from is a local date-time without an offset (the shop's zone)."
        if change.rate < 0 or not change.rate.is_finite():
            return "A rate is a percentage of 0 or more."
        if previous is not None and change.valid_from <= previous:
            return "valid_from must increase from one rate to the next."
        previous = change.valid_from
    return None


@functools.lru_cache(maxsize=1024)
def effective_us(valid_from: datetime, zone: ZoneInfo) -> int:
    """The first instant (µs since the epoch) at which the shop's clock reads ``valid_from``
    or later.

    A time the clock shows twice (the autumn hour) counts from its first showing; a time it
    skips (the spring gap) from the jump, the first instant after which the clock reads later.
    """
    first = valid_from.replace(tzinfo=zone, fold=0)
    instant = _us(first.astimezone(UTC))
    if _local(instant, zone) == valid_from:
        return instant
    # In a gap: fold=1 reads the time with the offset after the jump, which lands before the
    # jump. The jump lies between that and fold=0; find its first microsecond by bisection.
    low = _us(valid_from.replace(tzinfo=zone, fold=1).astimezone(UTC))
    high = instant
    while high - low > 1:
        middle = (low + high) // 2
        if _local(middle, zone) >= valid_from:
            high = middle
        else:
            low = middle
    return high


def _us(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICRO


def _local(instant_us: int, zone: ZoneInfo) -> datetime:
    return (_EPOCH + timedelta(microseconds=instant_us)).astimezone(zone).replace(tzinfo=None)


@dataclass(frozen=True, slots=True)
class FiscalSection:
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class PaymentMethod:
    id: int
    code: int
    name: str
    #: Cash may exceed the amount due (the rest is change); other methods may not.
    is_cash: bool


#: Latvia's reduced rate for basic foods (bread, fresh milk, eggs, poultry): 12 % from
#: 2026-07-01, 21 % before (docs/money.md).
LV_BASIC_FOODS_FROM = datetime(2026, 7, 1)  # noqa: DTZ001 - local time in the shop's zone


@dataclass(frozen=True, slots=True)
class ReferenceData:
    taxes: Mapping[int, TaxGroup]
    fiscal_sections: Mapping[int, FiscalSection]
    payment_methods: Mapping[int, PaymentMethod]

    def in_force(self, instant_us: int, zone: ZoneInfo) -> ReferenceData:
        """The same data with every group's ``rate`` the one in force at ``instant_us``."""
        cached = _last_view
        if (
            cached is not None
            and cached[0] is self
            and cached[1] is zone
            and cached[2] <= instant_us < cached[3]
        ):
            return cached[4]
        if not any(group.changes for group in self.taxes.values()):
            return self
        taxes = {
            key: replace(group, rate=group.rate_at(instant_us, zone), changes=())
            for key, group in self.taxes.items()
        }
        view = replace(self, taxes=taxes)
        starts = sorted(
            effective_us(change.valid_from, zone)
            for group in self.taxes.values()
            for change in group.changes
        )
        index = bisect.bisect_right(starts, instant_us)  # starts[:index] are in force already
        window_from = starts[index - 1] if index else -_FOREVER
        window_until = starts[index] if index < len(starts) else _FOREVER
        _remember(self, zone, window_from, window_until, view)
        return view

    @classmethod
    def default(cls) -> ReferenceData:
        taxes = [
            TaxGroup(0, Decimal(21), "PVN 21%"),
            TaxGroup(1, Decimal(12), "PVN 12%"),
            TaxGroup(2, Decimal(5), "PVN 5%"),
            TaxGroup(3, Decimal(0), "PVN 0%"),
            TaxGroup(4, Decimal(0), "Atbrīvots no PVN"),
            TaxGroup(5, Decimal(0), "Neapliekams ar PVN"),
            # Products move into this group once; its rate then changes on the day by itself.
            TaxGroup(
                6,
                Decimal(21),
                "PVN pamatpārtika",
                (RateChange(LV_BASIC_FOODS_FROM, Decimal(12)),),
            ),
        ]
        methods = [
            PaymentMethod(1, 0, "Skaidrā nauda", is_cash=True),
            PaymentMethod(2, 1, "Karte", is_cash=False),
            PaymentMethod(3, 2, "Pārskaitījums", is_cash=False),
        ]
        return cls(
            taxes={t.id: t for t in taxes},
            fiscal_sections={n: FiscalSection(n, f"Nodaļa {n}") for n in range(1, 100)},
            payment_methods={m.id: m for m in methods},
        )


#: The last view :meth:`ReferenceData.in_force` made: ``(reference, zone, from_us, until_us,
#: view)``, the view holding for every instant in ``[from_us, until_us)`` (between two rate
#: changes). Every invoice asks, of the one reference a process has, and the rates change a few
#: times a year. Kept here, not on the (frozen) reference, so it is no field of the data.
_last_view: tuple[ReferenceData, ZoneInfo, int, int, ReferenceData] | None = None


def _remember(
    reference: ReferenceData, zone: ZoneInfo, from_us: int, until_us: int, view: ReferenceData
) -> None:
    global _last_view  # noqa: PLW0603 - one tuple, replaced whole: a reader sees old or new
    _last_view = (reference, zone, from_us, until_us, view)
