"""The sales report (docs/reports.md): totals of the receipts of a period, per group.

Days and hours are the shop's (``MINIPOS_TIMEZONE``). Per day, hour, station and store the
report adds up ``sales_hourly``, the hourly sums each receipt adds to in its own transaction:
a month is a few hundred rows, however many receipts it holds. It reads the receipts themselves
where those sums cannot answer: other groupings, a period that does not start and end on a
whole hour, and a zone whose UTC offset is not whole hours. A chain's centre adds each store's
receipt copy to the same sums as it ingests it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from minipos.db import Connection, Row
from minipos.domain.errors import ValidationFailed
from minipos.domain.money import shown_cents, shown_thousandths
from minipos.domain.receipt import ReceiptMode
from minipos.domain.reference import ReferenceData
from minipos.reports import repository
from minipos.reports.schemas import SalesFigures, SalesGroup, SalesQuery, SalesReport
from minipos.timeutil import parse_period, to_datetime

HOUR_US = 3_600_000_000
QUARTER_US = 900_000_000
DAY_US = 24 * HOUR_US
#: The longest period one report covers.
MAX_DAYS = 400
_TIME_GROUPS = ("day", "hour")
_AGGREGATED = ("day", "hour", "station", "store", "tax_group", "payment_method")


@dataclass(frozen=True, slots=True)
class ReportContext:
    zone: ZoneInfo
    reference: ReferenceData
    #: Payment method ids paid in cash (the change goes back out of them).
    cash_methods: frozenset[int]


@dataclass
class Figures:
    """A group's sums in storage units (cents; thousandths for quantity)."""

    sale_count: int = 0
    refund_count: int = 0
    gross: int = 0
    net: int | None = 0
    vat: int | None = 0
    refunds: int = 0
    discounts: int | None = 0
    quantity: int | None = None

    def add(self, other: Figures) -> None:
        """Add ``other`` in; a figure neither has stays ``None`` (no meaning here)."""
        for f in fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if theirs is not None:
                setattr(self, f.name, theirs if mine is None else mine + theirs)

    @classmethod
    def empty(cls) -> Figures:
        return cls(net=None, vat=None, discounts=None, quantity=None)

    @classmethod
    def of(cls, row: Row, *, quantity: bool = False) -> Figures:
        def value(name: str) -> int | None:
            found = row[name]
            return None if found is None else int(found)  # PostgreSQL sums are numeric

        return cls(
            sale_count=value("sale_count") or 0,
            refund_count=value("refund_count") or 0,
            gross=value("gross") or 0,
            net=value("net"),
            vat=value("vat"),
            refunds=value("refunds") or 0,
            discounts=value("discounts"),
            quantity=value("quantity") if quantity else None,
        )

    def shown(self) -> dict[str, Any]:
        def money(cents: int | None) -> Decimal | None:
            return None if cents is None else shown_cents(cents)

        return {
            "count": self.sale_count,
            "refund_count": self.refund_count,
            "gross": shown_cents(self.gross),
            "net": money(self.net),
            "vat": money(self.vat),
            "refunds": shown_cents(self.refunds),
            "discounts": money(self.discounts),
            "quantity": None if self.quantity is None else shown_thousandths(self.quantity),
        }


@dataclass
class Group:
    key: str
    label: str
    figures: Figures
    order: Any = None


def sales(conn: Connection, query: SalesQuery, ctx: ReportContext, now_us: int) -> SalesReport:
    from_us, to_us = _period(query, ctx.zone, now_us)
    filters: dict[str, Any] = {
        "from_us": from_us,
        "to_us": to_us,
        "station_id": query.station_id,
        "store_id": None if query.store is None else _store(conn, query.store),
    }
    aggregated = query.group_by in _AGGREGATED and _hourly_answers(ctx, from_us, to_us)
    if not aggregated:
        repository.without_jit(conn)
    groups = _GROUPINGS[query.group_by](conn, filters, ctx, aggregated)
    if query.group_by in _TIME_GROUPS:
        groups = _fill_time(groups, query.group_by, from_us, to_us, ctx.zone)
    elif query.group_by in ("product", "category"):
        groups.sort(key=lambda g: (-g.figures.gross, g.key))
    else:
        groups.sort(key=lambda g: (g.order is None, g.order if g.order is not None else 0, g.key))
    total = Figures.empty() if query.group_by == "payment_method" else Figures()
    for group in groups:
        total.add(group.figures)
    shown = groups if query.limit is None else groups[: query.limit]
    return SalesReport(
        group_by=query.group_by,
        from_=to_datetime(from_us, ctx.zone).isoformat(),
        to=to_datetime(to_us, ctx.zone).isoformat(),
        timezone=str(ctx.zone),
        groups=[SalesGroup(**g.figures.shown(), key=g.key, label=g.label) for g in shown],
        total=SalesFigures(**total.shown()),
        source="aggregates" if aggregated else "receipts",
    )


def _period(query: SalesQuery, zone: ZoneInfo, now_us: int) -> tuple[int, int]:
    try:
        from_us, to_us = parse_period(query.from_, query.to, zone, ("from", "to"))
    except ValueError as exc:
        raise ValidationFailed.single((exc.args[0],), exc.args[1]) from None
    today = to_datetime(now_us, zone).date()
    if to_us is None:
        to_us = _day_start(today + timedelta(days=1), zone)
    if from_us is None:
        from_us = _day_start(today - timedelta(days=29), zone)
    if to_us <= from_us:
        raise ValidationFailed.single(("to",), "Ensure this is later than from.")
    if to_us - from_us > MAX_DAYS * DAY_US + HOUR_US:
        raise ValidationFailed.single(("to",), f"A report covers at most {MAX_DAYS} days.")
    return from_us, to_us


def _day_start(day: date, zone: ZoneInfo) -> int:
    moment = datetime(day.year, day.month, day.day, tzinfo=zone)
    return int(moment.timestamp()) * 1_000_000


def _store(conn: Connection, code: str) -> int:
    store_id = repository.store_id_by_code(conn, code)
    if store_id is None:
        raise ValidationFailed.single(("store",), f"No store has code {code!r}.")
    return store_id


def _hourly_answers(ctx: ReportContext, from_us: int, to_us: int) -> bool:
    """Can the hourly sums answer for this period exactly? Whole UTC hours at both ends, and
    the zone's offset whole hours throughout (checked at each day's start and at the end)."""
    if from_us % HOUR_US or to_us % HOUR_US:
        return False
    moment = from_us
    while True:
        offset = to_datetime(moment, ctx.zone).utcoffset()
        if offset is None or offset.total_seconds() % 3600:
            return False
        if moment >= to_us:
            return True
        moment = min(moment + DAY_US, to_us)


# --- the groupings ------------------------------------------------------------------------------

Grouping = Callable[[Connection, dict[str, Any], ReportContext, bool], list[Group]]


def _by_time(
    conn: Connection, filters: dict[str, Any], ctx: ReportContext, agg: bool
) -> list[Group]:
    rows = (
        repository.hourly_by_hour(conn, filters)
        if agg
        else repository.receipts_by_bucket(conn, filters, QUARTER_US)
    )
    return [Group(str(int(r["bucket"])), "", Figures.of(r)) for r in rows]


def _station_groups(
    conn: Connection, filters: dict[str, Any], agg: bool
) -> tuple[list[tuple[int, Figures]], dict[int, tuple[str, int | None]]]:
    rows = (
        repository.hourly_by_station(conn, filters)
        if agg
        else repository.receipts_by_station(conn, filters)
    )
    found = [(int(r["grp"]), Figures.of(r)) for r in rows]
    return found, repository.station_names(conn, {s for s, _ in found})


def _by_station(
    conn: Connection, filters: dict[str, Any], ctx: ReportContext, agg: bool
) -> list[Group]:
    found, names = _station_groups(conn, filters, agg)
    return [Group(str(s), names.get(s, ("", None))[0], f, s) for s, f in found]


def _by_store(
    conn: Connection, filters: dict[str, Any], ctx: ReportContext, agg: bool
) -> list[Group]:
    found, names = _station_groups(conn, filters, agg)
    stores = repository.stores(conn)
    groups: dict[str, Group] = {}
    for station_id, figures in found:
        store_id = names.get(station_id, ("", None))[1]
        code, name = stores.get(store_id, ("", "")) if store_id is not None else ("", "")
        group = groups.setdefault(code, Group(code, name or "this shop", Figures(), code))
        group.figures.add(figures)
    return list(groups.values())


def _by_employee(
    conn: Connection, filters: dict[str, Any], ctx: ReportContext, agg: bool
) -> list[Group]:
    groups = []
    for r in repository.receipts_by_employee(conn, filters):
        if r["grp"] is not None:
            key, order = str(r["grp"]), int(r["grp"])
        else:
            key, order = "" if r["grp_name"] is None else f"name:{r['grp_name']}", None
        groups.append(Group(key, r["label"] or "", Figures.of(r), order))
    return groups


def _by_tax_group(
    conn: Connection, filters: dict[str, Any], ctx: ReportContext, agg: bool
) -> list[Group]:
    groups = []
    rows = (
        repository.hourly_tax_groups(conn, filters) if agg else repository.tax_groups(conn, filters)
    )
    for r in rows:
        tax = ctx.reference.taxes.get(int(r["grp"]))
        rate = shown_cents(int(r["rate"]))
        if tax is None or rate not in {r for _, r in tax.history()}:
            label = f"{rate}%"
        else:  # a group whose rate changed has a line per rate (docs/money.md)
            label = f"{tax.name} {rate}%" if tax.changes else tax.name
        figures = Figures.of(r, quantity=True)
        groups.append(Group(f"{int(r['grp'])}:{rate}", label, figures, (int(r["grp"]), -rate)))
    return groups


def _by_rows(dimension: str) -> Grouping:
    def grouping(
        conn: Connection, filters: dict[str, Any], ctx: ReportContext, agg: bool
    ) -> list[Group]:
        names = repository.category_names(conn) if dimension == "category" else {}
        groups = []
        for r in repository.rows_by(conn, filters, dimension):
            if r["grp"] is not None:
                key = str(r["grp"])
                label = names.get(int(r["grp"])) or r["label"] or ""
            else:
                key = "" if r["grp_name"] is None else f"name:{r['grp_name']}"
                label = r["label"] or ""
            groups.append(Group(key, label, Figures.of(r, quantity=True)))
        return groups

    return grouping


def _by_payment_method(
    conn: Connection, filters: dict[str, Any], ctx: ReportContext, agg: bool
) -> list[Group]:
    """What each method took, the change given back out of cash subtracted (as on the
    Z-report); ``count``: receipts paid (in part) with it."""
    if agg:
        return [
            Group(str(int(r["grp"])), r["label"], Figures.of(r), int(r["grp"]))
            for r in repository.hourly_payments(conn, filters)
        ]
    groups: dict[int, Group] = {}
    receipt_id, change_left = -1, 0
    seen: set[tuple[int, int]] = set()
    for p in repository.payments(conn, filters):
        if int(p["receipt_id"]) != receipt_id:
            receipt_id, change_left = int(p["receipt_id"]), int(p["changed_amount"])
        refund = p["mode"] == ReceiptMode.REFUND
        amount = int(p["amount"])
        if p["method"] in ctx.cash_methods and change_left:
            returned = min(change_left, amount)
            amount, change_left = amount - returned, change_left - returned
        method = int(p["method"])
        group = groups.setdefault(
            method,
            Group(str(method), p["method_name"], Figures.empty(), method),
        )
        figures = group.figures
        if (receipt_id, method) not in seen:
            seen.add((receipt_id, method))
            if refund:
                figures.refund_count += 1
            else:
                figures.sale_count += 1
        figures.gross += -amount if refund else amount
        if refund:
            figures.refunds += amount
    return list(groups.values())


_GROUPINGS: dict[str, Grouping] = {
    "day": _by_time,
    "hour": _by_time,
    "station": _by_station,
    "store": _by_store,
    "employee": _by_employee,
    "payment_method": _by_payment_method,
    "tax_group": _by_tax_group,
    "product": _by_rows("product"),
    "category": _by_rows("category"),
}


def _fill_time(
    buckets: list[Group], group_by: str, from_us: int, to_us: int, zone: ZoneInfo
) -> list[Group]:
    """UTC buckets as the shop's days or hours, every one of the period, empty ones too."""

    def label(us: int) -> str:
        moment = to_datetime(us, zone)
        if group_by == "day":
            return moment.date().isoformat()
        return moment.replace(minute=0, second=0, microsecond=0).isoformat(timespec="minutes")

    groups: dict[str, Group] = {}
    step = HOUR_US if group_by == "hour" else DAY_US
    moment = from_us
    while moment < to_us:
        name = label(moment)
        groups.setdefault(name, Group(name, name, Figures()))
        moment += step if group_by == "hour" else _next_day(moment, zone) - moment
    for bucket in buckets:
        name = label(int(bucket.key))
        groups.setdefault(name, Group(name, name, Figures())).figures.add(bucket.figures)
    return sorted(groups.values(), key=lambda g: g.key)


def _next_day(us: int, zone: ZoneInfo) -> int:
    return _day_start(to_datetime(us, zone).date() + timedelta(days=1), zone)


# --- CSV ----------------------------------------------------------------------------------------

CSV_COLUMNS = (
    "key", "label", "count", "refund_count", "gross", "net", "vat", "refunds", "discounts",
    "quantity",
)  # fmt: skip


def as_csv(report: SalesReport) -> bytes:
    """The report for a spreadsheet in Latvia: UTF-8 with a BOM, ``;`` between fields, a
    decimal comma, money with two decimals; the total last."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    rows: Iterable[tuple[str, str, SalesFigures]] = [(g.key, g.label, g) for g in report.groups]
    for key, label, figures in [*rows, ("total", "", report.total)]:
        writer.writerow(
            [
                _text_cell(key),
                _text_cell(label),
                figures.count,
                figures.refund_count,
                *(
                    _comma(getattr(figures, name), 2)
                    for name in ("gross", "net", "vat", "refunds", "discounts")
                ),
                _comma(figures.quantity, 3),
            ]
        )
    return "\ufeff".encode() + out.getvalue().encode()


#: What a spreadsheet reads as the start of a formula (OWASP's "CSV injection" list).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text_cell(text: str) -> str:
    """A name as text even where a spreadsheet would run it: a product or cashier named
    ``=HYPERLINK(…)`` becomes ``'=HYPERLINK(…)``, which Excel shows without the quote."""
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def _comma(value: Decimal | None, places: int) -> str:
    if value is None:
        return ""
    text = f"{value:.{places}f}" if places == 2 else format(value.normalize(), "f")
    return text.replace(".", ",")
