"""Station use cases: the registry (register, describe, list) and shifts (open, X-report,
close = Z-report, search); docs/decisions.md §6. Each runs inside the caller's unit of work."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from minipos.auth import repository as auth_repository
from minipos.auth.principal import Role
from minipos.auth.service import create_key, rotate_station_key
from minipos.db import Connection, Row, UniqueViolation
from minipos.domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from minipos.domain.events import EventType
from minipos.domain.money import (
    MAX_TOTAL,
    check_decimal,
    from_cents,
    json_number,
    to_cents,
)
from minipos.domain.receipt import GENESIS_HASH, chain_hash
from minipos.domain.reference import ReferenceData
from minipos.domain.shift import (
    CashKind,
    CashMovement,
    Drawer,
    ShiftTotals,
    check_cash_out,
    check_grand_total_room,
    drawer,
)
from minipos.employees import service as employees
from minipos.events import service as events
from minipos.receipts import audit
from minipos.receipts import repository as receipts
from minipos.receipts import service as receipt_service
from minipos.stations import repository
from minipos.stations.schemas import (
    CashierIn,
    CashMoveIn,
    CashMoveOut,
    DocumentCounts,
    DrawerOut,
    MethodTotal,
    ShiftCloseIn,
    ShiftDetail,
    ShiftOpenIn,
    ShiftOut,
    ShiftQuery,
    ShiftReport,
    ShiftWithReport,
    StationCreated,
    StationIn,
    StationKey,
    StationOut,
    StationPatch,
    VatTotal,
)
from minipos.timeutil import local_aware


class ShopSettings(Protocol):
    """What stations read of the shop-wide configuration (``invoices.service.ShopConfig``
    fits); a protocol, so stations need not import the invoice area that builds on them."""

    @property
    def reference(self) -> ReferenceData: ...
    @property
    def zone(self) -> ZoneInfo: ...
    @property
    def station_group(self) -> str: ...


class ZReportPrinter(Protocol):
    def __call__(self, conn: Connection, *, station_id: int, shift_id: int, now_us: int) -> None:
        """Queue the closed shift's Z-report for the station's printer."""


@dataclass(frozen=True, slots=True)
class StationContext:
    invoices: ShopSettings
    pepper: bytes
    lease_us: int
    #: Queues the Z-report's printing in the closing transaction. The print queue sits above
    #: stations (it reads shifts to print them), so the composition root hands it in.
    print_z_report: ZReportPrinter

    @property
    def cash_methods(self) -> set[int]:
        return {m.id for m in self.invoices.reference.payment_methods.values() if m.is_cash}


# --- registry ---------------------------------------------------------------------------------


def register(conn: Connection, data: StationIn, ctx: StationContext, now_us: int) -> StationCreated:
    station: dict[str, Any] = {
        "name": data.name,
        "pos_id": data.pos_id,
        "pos_number": int(data.pos_id),
        "chassis_id": data.chassis_id,
        "station_group": data.station_group or ctx.invoices.station_group,
        "last_document_id": 0,
        "last_z_number": 0,
        "grand_total": 0,
        "chain_head": GENESIS_HASH,
        "created_at": now_us,
    }
    if repository.get_station_by_pos(conn, data.pos_id) is not None:
        raise ValidationFailed.single(("pos_id",), "A station with this pos_id already exists.")
    try:
        with conn.savepoint("station"):
            station["id"] = repository.insert_station(conn, station)
    except UniqueViolation:
        raise ValidationFailed.single(
            ("pos_id",), "A station with this pos_id already exists."
        ) from None
    key = create_key(
        conn,
        ctx.pepper,
        Role.STATION,
        station_id=station["id"],
        name=f"station {data.name}",
        now_us=now_us,
    )
    out = station_out(
        {
            **station,
            "open_shift": None,
            "open_z_number": None,
            "disabled_at": None,
            "training": False,
            "last_receipt_at": None,
        },
        ctx,
    )
    return StationCreated(**{f: getattr(out, f) for f in out.__struct_fields__}, key=key.key)


def get_station(conn: Connection, station_id: int) -> Row:
    """A station that may work: open a shift, claim, sell, release. A disabled one is a 403."""
    station = find_station(conn, station_id)
    if station["disabled_at"] is not None:
        raise Forbidden(
            f"Station {station_id} is disabled; an admin can enable it again"
            f" (PATCH /api/stations/{station_id})."
        )
    return station


def find_station(conn: Connection, station_id: int) -> Row:
    """A station, disabled or not (its reports; closing its shift)."""
    station = repository.get_station(conn, station_id)
    if station is None:
        raise NotFound()
    return station


def update(
    conn: Connection, station_id: int, data: StationPatch, ctx: StationContext, now_us: int
) -> StationOut:
    """Rename, move to another group, disable or enable a station. Disabling refuses its key
    from the next check on (each server caches a checked key ``MINIPOS_AUTH_CACHE_SECONDS``)."""
    station = find_station(conn, station_id)
    values: dict[str, Any] = {}
    if data.name is not None:
        values["name"] = data.name
    if data.station_group is not None:
        values["station_group"] = data.station_group
    if data.disabled is not None and data.disabled != (station["disabled_at"] is not None):
        values["disabled_at"] = now_us if data.disabled else None
    if data.training is not None:
        values["training"] = data.training
    repository.update_station(conn, station_id, values)
    return describe(conn, station_id, ctx)


def new_key(conn: Connection, station_id: int, ctx: StationContext, now_us: int) -> StationKey:
    """Rotate a station's key: a new one (shown once), every old one revoked at once."""
    station = find_station(conn, station_id)
    revoked = [int(row["id"]) for row in auth_repository.station_keys(conn, station_id)]
    new = rotate_station_key(conn, ctx.pepper, station_id, f"station {station['name']}", now_us)
    return StationKey(
        station=station_id,
        id=new.principal.api_key_id,
        key_id=new.principal.key_id,
        key=new.key,
        revoked=revoked,
    )


def station_out(station: Any, ctx: StationContext) -> StationOut:
    """A station row as :func:`repository.describe_station` gives it (with its open shift)."""
    return StationOut(
        id=station["id"],
        name=station["name"],
        pos_id=station["pos_id"],
        chassis_id=station["chassis_id"],
        station_group=station["station_group"],
        created_at=local_aware(station["created_at"], ctx.invoices.zone) or "",
        open_shift=station["open_shift"],
        z_number=station["open_z_number"]
        if station["open_shift"]
        else (station["last_z_number"] or None),
        last_document_id=str(station["last_document_id"]) if station["last_document_id"] else None,
        disabled=station["disabled_at"] is not None,
        disabled_at=local_aware(station["disabled_at"], ctx.invoices.zone),
        last_receipt_at=local_aware(station["last_receipt_at"], ctx.invoices.zone),
        training=bool(station["training"]),
    )


def describe(conn: Connection, station_id: int, ctx: StationContext) -> StationOut:
    station = repository.describe_station(conn, station_id)
    if station is None:
        raise NotFound()
    return station_out(station, ctx)


def list_all(conn: Connection, ctx: StationContext) -> list[StationOut]:
    return [station_out(s, ctx) for s in repository.describe_stations(conn)]


# --- shifts ------------------------------------------------------------------------------------


def open_shift(
    conn: Connection, station_id: int, cashier: CashierIn, ctx: StationContext, now_us: int
) -> ShiftOut:
    """Open a shift; with ``opening_float``, the cash put in the drawer to start with."""
    opening_float = cashier.opening_float if isinstance(cashier, ShiftOpenIn) else None
    if opening_float is not None:
        _check_cash(("opening_float",), opening_float, positive=False)
    station = get_station(conn, station_id)
    if repository.open_shift(conn, station_id) is not None:
        raise Conflict("This station already has an open shift; close it first.")
    cashier_id, cashier_name = employees.cashier(
        conn, station_id, cashier.cashier_id, cashier.cashier_name
    )
    check_grand_total_room(from_cents(station["grand_total"]))
    z_number = repository.next_z_number(conn, station_id)
    shift_id = repository.insert_shift(
        conn,
        {
            "station_id": station_id,
            "z_number": z_number,
            "start_date": now_us,
            "close_date": None,
            "grand_total": None,
            "start_employee": cashier_id,
            "start_employee_name": cashier_name,
            "close_employee": None,
            "close_employee_name": None,
            "common_shift": None,
            "report": None,
            "hash": None,
            "volume": 0,
        },
    )
    if opening_float:
        _add_movement(
            conn,
            station_id=station_id,
            shift_id=shift_id,
            kind=CashKind.FLOAT,
            amount=opening_float,
            reason=None,
            cashier=cashier,
            now_us=now_us,
        )
    shift = repository.get_shift(conn, shift_id)
    assert shift is not None
    out = shift_out(shift, ctx)
    events.record(conn, EventType.SHIFT_OPENED, shift_id, out, now_us)
    return out


def _check_cash(path: tuple[str, ...], amount: Decimal, *, positive: bool) -> None:
    """A drawer amount: money of one document at most (``MAX_TOTAL``), 2 places; a 400 naming
    the field otherwise."""
    message = check_decimal(
        amount, places=2, minimum=Decimal(0), maximum=MAX_TOTAL, exclusive_minimum=positive
    )
    if message:
        raise ValidationFailed.single(path, message)


def _add_movement(
    conn: Connection,
    *,
    station_id: int,
    shift_id: int,
    kind: CashKind,
    amount: Decimal,
    reason: str | None,
    cashier: CashierIn | CashMoveIn,
    now_us: int,
) -> None:
    repository.add_cash_movement(
        conn,
        {
            "station_id": station_id,
            "shift_id": shift_id,
            "kind": kind.value,
            "amount": to_cents(amount),
            "reason": reason,
            "employee_name": employees.cashier(
                conn, station_id, getattr(cashier, "cashier_id", None), cashier.cashier_name
            )[1],
            "created_at": now_us,
        },
    )


def move_cash(
    conn: Connection,
    station_id: int,
    *,
    kind: CashKind,
    data: CashMoveIn,
    ctx: StationContext,
    now_us: int,
) -> ShiftWithReport:
    """Cash put in (``in``) or taken out (``out``) of the drawer during the shift, with its
    reason; answers with the X figures after it. Taking out more than the drawer should hold
    is a 409."""
    _check_cash(("amount",), data.amount, positive=True)
    get_station(conn, station_id)
    # The station row's lock first (as a sale takes it), so the drawer read below is current.
    repository.lock_station(conn, station_id)
    shift = current_shift(conn, station_id)
    if kind is CashKind.OUT:
        totals = audit.shift_totals(conn, shift["id"], ctx.cash_methods)
        check_cash_out(_drawer(conn, shift, totals, None), data.amount)
    _add_movement(
        conn,
        station_id=station_id,
        shift_id=shift["id"],
        kind=kind,
        amount=data.amount,
        reason=data.reason,
        cashier=data,
        now_us=now_us,
    )
    return x_report(conn, station_id, ctx, now_us)


def _drawer(conn: Connection, shift: Row, totals: ShiftTotals, counted: Decimal | None) -> Drawer:
    movements = [
        CashMovement(
            kind=CashKind(m["kind"]),
            amount=from_cents(m["amount"]),
            reason=m["reason"],
            employee=m["employee_name"],
            at_us=m["created_at"],
        )
        for m in repository.cash_movements(conn, shift["id"])
    ]
    return drawer(totals, movements, counted)


def z_details(
    conn: Connection, shift: Row, totals: ShiftTotals, counted: Decimal | None, end_us: int
) -> dict[str, Any]:
    """What the X and Z show besides the receipt figures (``audit.report_content``): the
    discounts, the counts by document type and the drawer, in storage form (decimals as
    strings, times in µs). Frozen in ``shifts.details`` at close."""
    counts = repository.document_counts(
        conn, shift["station_id"], shift["id"], shift["start_date"], end_us
    )
    box = _drawer(conn, shift, totals, counted)
    return {
        "sale_count": totals.sale_count,
        "refund_count": totals.refund_count,
        "supporting_documents": int(counts["supporting"]),
        "cancelled_invoices": int(counts["cancelled"]),
        "training": int(counts["training"]),
        "sale_discounts": str(totals.sale_discounts),
        "refund_discounts": str(totals.refund_discounts),
        "cash_rounding": str(from_cents(repository.cash_rounding(conn, shift["id"]))),
        "drawer": {
            "opening_float": str(box.opening_float),
            "cash_sales": str(box.cash_sales),
            "change": str(box.change),
            "cash_refunds": str(box.cash_refunds),
            "cash_in": str(box.cash_in),
            "cash_out": str(box.cash_out),
            "expected": str(box.expected),
            "counted": None if box.counted is None else str(box.counted),
            "difference": None if box.difference is None else str(box.difference),
            "movements": [
                {
                    "kind": m.kind.value,
                    "amount": str(m.amount),
                    "reason": m.reason,
                    "cashier_name": m.employee,
                    "at": m.at_us,
                }
                for m in box.movements
            ],
        },
    }


def current_shift(conn: Connection, station_id: int) -> Row:
    shift = repository.open_shift(conn, station_id)
    if shift is None:
        raise Conflict("This station has no open shift; open one first.")
    return shift


def x_report(
    conn: Connection, station_id: int, ctx: StationContext, now_us: int | None = None
) -> ShiftWithReport:
    find_station(conn, station_id)
    shift = current_shift(conn, station_id)
    totals = audit.shift_totals(conn, shift["id"], ctx.cash_methods)
    details = z_details(conn, shift, totals, None, now_us if now_us is not None else 2**62)
    return with_report(shift, totals, ctx, details)


def close_shift(
    conn: Connection, station_id: int, cashier: CashierIn, ctx: StationContext, now_us: int
) -> ShiftWithReport:
    """The Z-report: totals frozen, hashed onto the receipt chain, grand total carried on;
    with ``counted_cash``, the drawer's count against the expected cash. A disabled station's
    shift may still be closed (by an admin)."""
    counted = cashier.counted_cash if isinstance(cashier, ShiftCloseIn) else None
    if counted is not None:
        _check_cash(("counted_cash",), counted, positive=False)
    find_station(conn, station_id)
    shift = current_shift(conn, station_id)
    cashier_id, cashier_name = employees.cashier(
        conn, station_id, cashier.cashier_id, cashier.cashier_name
    )
    held = repository.held_invoice(conn, station_id, now_us)
    if held is not None:
        raise Conflict(
            f"Invoice {held['id']} is still open at this station; complete or release it first."
        )
    totals = audit.shift_totals(conn, shift["id"], ctx.cash_methods)
    content = audit.report_content(totals)
    details = z_details(conn, shift, totals, counted, now_us)
    last = receipts.of_shift(conn, shift["id"])
    previous = last[-1]["hash"] if last else GENESIS_HASH
    grand_total = repository.add_grand_total(conn, station_id, to_cents(totals.sales))
    repository.close_shift(
        conn,
        shift["id"],
        {
            "close_date": now_us,
            "grand_total": grand_total,
            "close_employee": cashier_id,
            "close_employee_name": cashier_name,
            "report": json.dumps(content, sort_keys=True),
            "hash": chain_hash(previous, content),
            "counted_cash": None if counted is None else to_cents(counted),
            "details": json.dumps(details, sort_keys=True),
        },
    )
    ctx.print_z_report(conn, station_id=station_id, shift_id=shift["id"], now_us=now_us)
    closed = repository.get_shift(conn, shift["id"])
    assert closed is not None
    out = with_report(closed, totals, ctx, details)
    events.record(conn, EventType.SHIFT_CLOSED, shift["id"], out, now_us)
    return out


def search_shifts(
    conn: Connection, query: ShiftQuery, ctx: StationContext
) -> tuple[list[ShiftOut], int]:
    from_us, to_us = receipt_service.period(query.from_, query.to, ctx.invoices.zone)
    rows, total = repository.search_shifts(
        conn,
        {
            "station_id": query.station_id,
            "from_us": from_us,
            "to_us": to_us,
            "is_open": query.open,
            "z_number_from": query.z_number_from,
            "z_number_to": query.z_number_to,
            "store_id": None
            if query.store is None
            else receipt_service.store_named(conn, query.store),
            "after_id": query.after_id,
        },
        limit=query.limit,
        offset=query.offset,
    )
    return [shift_out(row, ctx) for row in rows], total


def shift_detail(conn: Connection, shift_id: int, ctx: StationContext) -> ShiftDetail:
    """A shift with its figures: a closed one's Z-report exactly as frozen (and hashed) at
    close, however the configuration changed since; an open one's X figures now."""
    shift = repository.get_shift(conn, shift_id)
    if shift is None:
        raise NotFound()
    if shift["report"] is not None:
        details = json.loads(shift["details"]) if shift["details"] else None
        report, kind = stored_report(json.loads(shift["report"]), details, ctx), "Z"
    else:
        totals = audit.shift_totals(conn, shift_id, ctx.cash_methods)
        found = z_details(conn, shift, totals, None, 2**62)
        report, kind = with_report(shift, totals, ctx, found).report, "X"
    base = shift_out(shift, ctx)
    return ShiftDetail(
        **{f: getattr(base, f) for f in base.__struct_fields__}, report=report, report_type=kind
    )


def stored_report(
    content: dict[str, Any], details: dict[str, Any] | None, ctx: StationContext
) -> ShiftReport:
    """A Z-report as ``audit.report_content`` stored it (decimals as strings), with its
    ``details`` (null before migration 0014)."""

    def number(text: str) -> Decimal:
        return json_number(Decimal(text))

    return ShiftReport(
        receipts=int(content["receipts"]),
        sales=number(content["sales"]),
        refunds=number(content["refunds"]),
        turnover=number(content["turnover"]),
        tax=number(content["tax"]),
        vat=[
            VatTotal(
                rate=number(v["rate"]),
                gross=number(v["gross"]),
                net=number(v["net"]),
                tax=number(v["tax"]),
            )
            for v in content["vat"]
        ],
        payments=[
            MethodTotal(method_name=p["method_name"], amount=number(p["amount"]))
            for p in content["payments"]
        ],
        **_details_out(details, ctx),
    )


def _details_out(details: dict[str, Any] | None, ctx: StationContext) -> dict[str, Any]:
    """The ``ShiftReport`` fields from :func:`z_details`' storage form."""
    if details is None:
        return {}

    def number(text: str | None) -> Decimal | None:
        return None if text is None else json_number(Decimal(text))

    box = details["drawer"]
    money = {
        name: json_number(Decimal(box[name]))
        for name in (
            "opening_float", "cash_sales", "change", "cash_refunds", "cash_in", "cash_out",
            "expected",
        )
    }  # fmt: skip
    return {
        "sale_discounts": number(details["sale_discounts"]),
        "refund_discounts": number(details["refund_discounts"]),
        # Absent from a Z closed before cash rounding was recorded.
        "cash_rounding": number(details.get("cash_rounding", "0")),
        "counts": DocumentCounts(
            sales=details["sale_count"],
            refunds=details["refund_count"],
            supporting_documents=details["supporting_documents"],
            cancelled_invoices=details["cancelled_invoices"],
            training=details["training"],
        ),
        "drawer": DrawerOut(
            **money,
            counted=number(box["counted"]),
            difference=number(box["difference"]),
            movements=[
                CashMoveOut(
                    kind=m["kind"],
                    amount=json_number(Decimal(m["amount"])),
                    reason=m["reason"],
                    cashier_name=m["cashier_name"],
                    at=local_aware(m["at"], ctx.invoices.zone) or "",
                )
                for m in box["movements"]
            ],
        ),
    }


def shift_out(shift: Any, ctx: StationContext) -> ShiftOut:
    zone = ctx.invoices.zone
    return ShiftOut(
        id=shift["id"],
        z_number=shift["z_number"],
        start_date=local_aware(shift["start_date"], zone) or "",
        close_date=local_aware(shift["close_date"], zone),
        grand_total=None
        if shift["grand_total"] is None
        else json_number(from_cents(shift["grand_total"])),
        station=shift["station_id"],
        station_name=shift["station_name"],
        station_pos_id=shift["station_pos_id"],
        station_chassis_id=shift["station_chassis_id"],
        start_employee=shift["start_employee"],
        start_employee_name=shift["start_employee_name"],
        close_employee=shift["close_employee"],
        close_employee_name=shift["close_employee_name"],
        common_shift=shift["common_shift"],
        # A centre's copy of a store's shift keeps the store's id; elsewhere it is its own.
        local_id=shift["id"] if shift["local_id"] is None else shift["local_id"],
        store=shift["store"],
        reconciled_at=local_aware(shift["reconciled_at"], zone),
        reconcile_note=shift["reconcile_note"],
    )


def with_report(
    shift: Any,
    totals: ShiftTotals,
    ctx: StationContext,
    details: dict[str, Any] | None = None,
) -> ShiftWithReport:
    """The shift with its figures; ``details`` (:func:`z_details`) adds the drawer, discounts
    and counts (a centre's copy of a store's shift has none: they stay at the store)."""
    base = shift_out(shift, ctx)
    report = ShiftReport(
        receipts=totals.receipts,
        sales=json_number(totals.sales),
        refunds=json_number(totals.refunds),
        turnover=json_number(totals.turnover),
        tax=json_number(totals.tax),
        vat=[
            VatTotal(
                rate=json_number(rate), gross=json_number(g), net=json_number(n), tax=json_number(t)
            )
            for rate, (g, n, t) in sorted(totals.vat.items(), reverse=True)
        ],
        payments=[
            MethodTotal(method_name=name, amount=json_number(amount))
            for name, amount in sorted(totals.payments.items())
        ],
        **_details_out(details, ctx),
    )
    return ShiftWithReport(**{f: getattr(base, f) for f in base.__struct_fields__}, report=report)
