"""Station use cases: register, shifts (open, X, close = Z), the invoice feed, claim, release,
cancel and complete (decisions.md §6). Each runs inside the caller's unit of work."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from minipos.auth.access import may_take
from minipos.auth.service import Role, create_key
from minipos.catalogue import repository as catalogue
from minipos.db import Connection, Row, UniqueViolation
from minipos.domain.errors import (
    Conflict,
    ErrorCollector,
    Forbidden,
    NotFound,
    Path,
    ValidationFailed,
)
from minipos.domain.events import EventType
from minipos.domain.invoice import InvoiceMode, InvoiceStatus, check_transition
from minipos.domain.money import (
    PRICE_PLACES,
    QUANTITY_PLACES,
    DiscountType,
    DocumentPrice,
    amount_error,
    from_minor,
    json_number,
    line_gross_error,
    quantity_error,
    to_minor,
)
from minipos.domain.receipt import (
    GENESIS_HASH,
    ReceiptMode,
    Refundable,
    chain_hash,
    check_refund,
    settle,
)
from minipos.domain.shift import ShiftTotals, check_grand_total_room
from minipos.ereceipts.service import queue_receipt
from minipos.events import service as events
from minipos.invoices import repository as invoices
from minipos.invoices import service as invoice_service
from minipos.invoices.schemas import InvoiceDetail
from minipos.invoices.service import InvoiceContext
from minipos.print_jobs.service import JobKind, enqueue
from minipos.receipts import repository as receipts
from minipos.receipts import service as receipt_service
from minipos.receipts.schemas import ReceiptOut
from minipos.receipts.service import Issue, SaleLine, TenderDetails, price_lines
from minipos.stations import repository
from minipos.stations.schemas import (
    CashierIn,
    CompleteIn,
    MethodTotal,
    SaleIn,
    SaleRowIn,
    ShiftOut,
    ShiftQuery,
    ShiftReport,
    ShiftWithReport,
    StationCreated,
    StationIn,
    StationOut,
    VatTotal,
)
from minipos.timeutil import local_aware

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class StationContext:
    invoices: InvoiceContext
    pepper: bytes
    lease_us: int

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
    out = station_out(station, None, ctx)
    return StationCreated(**{f: getattr(out, f) for f in out.__struct_fields__}, key=key.key)


def get_station(conn: Connection, station_id: int) -> Row:
    station = repository.get_station(conn, station_id)
    if station is None:
        raise NotFound()
    return station


def station_out(station: Any, open_shift: Any, ctx: StationContext) -> StationOut:
    return StationOut(
        id=station["id"],
        name=station["name"],
        pos_id=station["pos_id"],
        chassis_id=station["chassis_id"],
        station_group=station["station_group"],
        created_at=local_aware(station["created_at"], ctx.invoices.zone) or "",
        open_shift=open_shift["id"] if open_shift else None,
        z_number=open_shift["z_number"] if open_shift else (station["last_z_number"] or None),
        last_document_id=str(station["last_document_id"]) if station["last_document_id"] else None,
    )


def describe(conn: Connection, station_id: int, ctx: StationContext) -> StationOut:
    station = get_station(conn, station_id)
    return station_out(station, repository.open_shift(conn, station_id), ctx)


def list_all(conn: Connection, ctx: StationContext) -> list[StationOut]:
    return [
        station_out(s, repository.open_shift(conn, s["id"]), ctx)
        for s in repository.list_stations(conn)
    ]


# --- shifts ------------------------------------------------------------------------------------


def open_shift(
    conn: Connection, station_id: int, cashier: CashierIn, ctx: StationContext, now_us: int
) -> ShiftOut:
    station = get_station(conn, station_id)
    if repository.open_shift(conn, station_id) is not None:
        raise Conflict("This station already has an open shift; close it first.")
    check_grand_total_room(from_minor(station["grand_total"], PRICE_PLACES))
    z_number = repository.next_z_number(conn, station_id)
    shift_id = repository.insert_shift(
        conn,
        {
            "station_id": station_id,
            "z_number": z_number,
            "start_date": now_us,
            "close_date": None,
            "grand_total": None,
            "start_employee": cashier.cashier_id,
            "start_employee_name": cashier.cashier_name,
            "close_employee": None,
            "close_employee_name": None,
            "common_shift": None,
            "report": None,
            "hash": None,
            "volume": 0,
        },
    )
    shift = repository.get_shift(conn, shift_id)
    assert shift is not None
    out = shift_out(shift, ctx)
    events.record(conn, EventType.SHIFT_OPENED, shift_id, out, now_us)
    return out


def current_shift(conn: Connection, station_id: int) -> Row:
    shift = repository.open_shift(conn, station_id)
    if shift is None:
        raise Conflict("This station has no open shift; open one first.")
    return shift


def x_report(conn: Connection, station_id: int, ctx: StationContext) -> ShiftWithReport:
    get_station(conn, station_id)
    shift = current_shift(conn, station_id)
    totals = receipt_service.shift_totals(conn, shift["id"], ctx.cash_methods)
    return with_report(shift, totals, ctx)


def close_shift(
    conn: Connection, station_id: int, cashier: CashierIn, ctx: StationContext, now_us: int
) -> ShiftWithReport:
    """The Z-report: totals frozen, hashed onto the receipt chain, grand total carried on."""
    get_station(conn, station_id)
    shift = current_shift(conn, station_id)
    held = conn.fetchone(
        "SELECT id FROM invoices WHERE station = :station AND status = :opened"
        " AND lease_expires_at >= :now",
        {"station": station_id, "opened": int(InvoiceStatus.OPENED), "now": now_us},
    )
    if held is not None:
        raise Conflict(
            f"Invoice {held['id']} is still open at this station; complete or release it first."
        )
    totals = receipt_service.shift_totals(conn, shift["id"], ctx.cash_methods)
    content = receipt_service.report_content(totals)
    last = receipts.of_shift(conn, shift["id"])
    previous = last[-1]["hash"] if last else GENESIS_HASH
    grand_total = repository.add_grand_total(conn, station_id, to_minor(totals.sales, PRICE_PLACES))
    repository.close_shift(
        conn,
        shift["id"],
        {
            "close_date": now_us,
            "grand_total": grand_total,
            "close_employee": cashier.cashier_id,
            "close_employee_name": cashier.cashier_name,
            "report": json.dumps(content, sort_keys=True),
            "hash": chain_hash(previous, content),
        },
    )
    enqueue(conn, station_id=station_id, kind=JobKind.Z_REPORT, shift_id=shift["id"], now_us=now_us)
    closed = repository.get_shift(conn, shift["id"])
    assert closed is not None
    out = with_report(closed, totals, ctx)
    events.record(conn, EventType.SHIFT_CLOSED, shift["id"], out, now_us)
    return out


def search_shifts(
    conn: Connection, query: ShiftQuery, ctx: StationContext
) -> tuple[list[ShiftOut], int]:
    rows, total = repository.search_shifts(
        conn,
        {
            "station_id": query.station_id,
            "z_number_from": query.z_number_from,
            "z_number_to": query.z_number_to,
            "after_id": query.after_id,
        },
        limit=query.limit,
        offset=query.offset,
    )
    return [shift_out(row, ctx) for row in rows], total


def shift_out(shift: Any, ctx: StationContext) -> ShiftOut:
    zone = ctx.invoices.zone
    return ShiftOut(
        id=shift["id"],
        z_number=shift["z_number"],
        start_date=local_aware(shift["start_date"], zone) or "",
        close_date=local_aware(shift["close_date"], zone),
        grand_total=None
        if shift["grand_total"] is None
        else json_number(from_minor(shift["grand_total"], PRICE_PLACES)),
        station=shift["station_id"],
        station_name=shift["station_name"],
        station_pos_id=shift["station_pos_id"],
        station_chassis_id=shift["station_chassis_id"],
        start_employee=shift["start_employee"],
        start_employee_name=shift["start_employee_name"],
        close_employee=shift["close_employee"],
        close_employee_name=shift["close_employee_name"],
        common_shift=shift["common_shift"],
        local_id=shift["id"],
    )


def with_report(shift: Any, totals: ShiftTotals, ctx: StationContext) -> ShiftWithReport:
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
    )
    return ShiftWithReport(**{f: getattr(base, f) for f in base.__struct_fields__}, report=report)


# --- the invoice feed and claims ---------------------------------------------------------------


def feed(
    conn: Connection, station_id: int, ctx: StationContext, now_us: int, limit: int
) -> list[InvoiceDetail]:
    station = get_station(conn, station_id)
    return [
        invoice_service.get(conn, row["id"], ctx.invoices)
        for row in repository.feed(conn, station, now_us, limit)
    ]


def _visible_invoice(conn: Connection, station: Row, invoice_id: int) -> Row:
    invoice = invoices.get(conn, invoice_id)
    if invoice is None or not may_take(station, invoice):
        raise NotFound()
    return invoice


def claim(
    conn: Connection, station_id: int, invoice_id: int, ctx: StationContext, now_us: int
) -> InvoiceDetail:
    station = get_station(conn, station_id)
    if not repository.claim(conn, invoice_id, station, now_us, ctx.lease_us):
        invoice = _visible_invoice(conn, station, invoice_id)
        status = InvoiceStatus(invoice["status"])
        if status is InvoiceStatus.OPENED:
            raise Conflict(f"Invoice {invoice_id} is open at station {invoice['station']}.")
        raise Conflict(f"Invoice {invoice_id} is {status.label} and cannot be opened.")
    return _changed(conn, EventType.INVOICE_OPENED, invoice_id, ctx, now_us)


def _changed(
    conn: Connection, event_type: EventType, invoice_id: int, ctx: StationContext, now_us: int
) -> InvoiceDetail:
    """The invoice as it is now, told to the event log as ``event_type``."""
    out = invoice_service.get(conn, invoice_id, ctx.invoices)
    events.record(conn, event_type, invoice_id, out, now_us)
    return out


def expire_leases(conn: Connection, ctx: StationContext, now_us: int) -> int:
    """Claims a silent station stopped renewing go back to New (decisions §6)."""
    expired = repository.expire_leases(conn, now_us)
    for invoice_id in expired:
        _changed(conn, EventType.INVOICE_RELEASED, invoice_id, ctx, now_us)
    return len(expired)


def _held(conn: Connection, station: Row, invoice_id: int, now_us: int) -> Row:
    """The invoice, if this station holds it now."""
    invoice = _visible_invoice(conn, station, invoice_id)
    if invoice["status"] != InvoiceStatus.OPENED or invoice["station"] != station["id"]:
        raise Conflict(f"Invoice {invoice_id} is not open at this station; open (claim) it first.")
    return invoice


def release(
    conn: Connection, station_id: int, invoice_id: int, ctx: StationContext, now_us: int
) -> InvoiceDetail:
    station = get_station(conn, station_id)
    _held(conn, station, invoice_id, now_us)
    repository.set_status(conn, invoice_id, int(InvoiceStatus.NEW), now_us, station=None)
    return _changed(conn, EventType.INVOICE_RELEASED, invoice_id, ctx, now_us)


def cancel(
    conn: Connection,
    station_id: int | None,
    invoice_id: int,
    ctx: StationContext,
    now_us: int,
    *,
    posted_by: int | None,
) -> InvoiceDetail:
    """A station cancels what it holds; otherwise (``station_id`` None) any open invoice, or with
    ``posted_by`` (an integrator's key id) only one that key posted or that names no poster."""
    if station_id is not None:
        invoice = _held(conn, get_station(conn, station_id), invoice_id, now_us)
    else:
        found = invoices.get(conn, invoice_id)
        if found is None:
            raise NotFound()
        invoice = found
        if posted_by is not None and invoice["created_by"] not in (None, posted_by):
            raise Forbidden("An integrator key may cancel only the invoices it posted.")
    check_transition(InvoiceStatus(invoice["status"]), InvoiceStatus.CANCELLED)
    repository.set_status(
        conn, invoice_id, int(InvoiceStatus.CANCELLED), now_us, station=invoice["station"]
    )
    return _changed(conn, EventType.INVOICE_CANCELLED, invoice_id, ctx, now_us)


# --- completing an invoice ---------------------------------------------------------------------


def complete(
    conn: Connection,
    *,
    station_id: int,
    invoice_id: int,
    request: CompleteIn,
    ctx: StationContext,
    now_us: int,
) -> InvoiceDetail:
    """Payment taken: issue the fiscal receipt, mark the invoice Done, queue the printing."""
    station = get_station(conn, station_id)
    # Lock the invoice row first: a concurrent complete (or claim) waits, then sees Done.
    repository.lock_invoice(conn, invoice_id)
    invoice = _visible_invoice(conn, station, invoice_id)
    if (
        invoice["status"] == InvoiceStatus.DONE
        and invoice["complete_request_id"] == request.request_id
        and invoice["station"] == station_id  # another station's request_id gets no receipt
    ):
        return invoice_service.get(conn, invoice_id, ctx.invoices)  # a retry: already done
    _held(conn, station, invoice_id, now_us)
    mode = InvoiceMode(invoice["mode"])
    rows = invoices.rows_of(conn, invoice_id)
    receipt: dict[str, Any] | None = None
    total = ZERO
    change = ZERO
    if mode is InvoiceMode.SLIP:
        if request.payments or request.rows:
            raise ValidationFailed.single((), "A non-fiscal slip takes no payments or row edits.")
    else:
        shift = current_shift(conn, station_id)
        lines = _edited_lines(rows, request)
        price = price_lines(
            lines,
            from_minor(invoice["discount"], PRICE_PLACES),
            DiscountType(invoice["discount_type"]) if invoice["discount_type"] else None,
        )
        refund = mode is InvoiceMode.REFUND
        tenders = request.payments or _planned_payments(conn, invoice_id)
        settlement = settle(
            price.total, tenders, ctx.invoices.reference.payment_methods, refund=refund
        )
        parent = (
            _refund_parent(
                conn,
                invoice["parent_document_id"],
                invoice["parent_pos_id"],
                Refunded(lines, price),
                now_us,
            )
            if refund
            else None
        )
        receipt = receipt_service.issue(
            conn,
            Issue(
                station=station,
                shift_id=shift["id"],
                mode=ReceiptMode.REFUND if refund else ReceiptMode.INVOICE_SALE,
                lines=lines,
                price=price,
                discount=from_minor(invoice["discount"], PRICE_PLACES),
                discount_type=invoice["discount_type"],
                settlement=settlement,
                details=[_tender_details(t) for t in request.payments],
                now_us=now_us,
                request_id=f"invoice:{invoice_id}",
                invoice_id=invoice_id,
                cashier_id=request.cashier_id,
                cashier_name=request.cashier_name,
                start_time=invoice["updated_at"],
                parent_station=parent["station_id"] if parent else None,
                parent_document_id=parent["document_id"] if parent else None,
            ),
        )
        for row, line in zip(rows, lines, strict=True):
            repository.update_invoice_row(
                conn,
                row["id"],
                to_minor(line.quantity, QUANTITY_PLACES),
                to_minor(line.price, PRICE_PLACES),
            )
        total, change = price.total, settlement.change
    repository.mark_done(
        conn,
        invoice_id,
        {
            "station": station_id,
            "printed_at": now_us,
            "print_station": station_id,
            "print_pos_id": station["pos_id"],
            "print_chassis_id": station["chassis_id"],
            "check_num": receipt["document_id"] if receipt else None,
            "total_sum": to_minor(total, PRICE_PLACES),
            "changed_sum": to_minor(change, PRICE_PLACES),
            "complete_request_id": request.request_id,
            "updated_at": now_us,
        },
    )
    _queue_printing(conn, station_id, invoice, receipt, now_us)
    queue_receipt(conn, invoice, receipt, now_us)  # e-receipts (info.customer), if a receipt
    done = _changed(conn, EventType.INVOICE_DONE, invoice_id, ctx, now_us)
    if receipt is not None:
        _issued(conn, receipt["id"], ctx, now_us)
    return done


def _issued(conn: Connection, receipt_id: int, ctx: StationContext, now_us: int) -> ReceiptOut:
    """The new receipt, told to the event log as a receipt or a refund."""
    out = receipt_service.get(conn, receipt_id, ctx.invoices.zone)
    refund = out.mode == ReceiptMode.REFUND
    kind = EventType.REFUND_CREATED if refund else EventType.RECEIPT_CREATED
    events.record(conn, kind, receipt_id, out, now_us)
    return out


def _edited_lines(rows: Sequence[Row], request: CompleteIn) -> list[SaleLine]:
    """The invoice rows as sold, with the edits their flags allow (``is_weight``: quantity,
    ``is_free_price``: price)."""
    by_id = {row["id"]: row for row in rows}
    edits: dict[int, tuple[Decimal | None, Decimal | None]] = {}
    errors = ErrorCollector()
    for index, edit in enumerate(request.rows):
        row = by_id.get(edit.id)
        if row is None:
            errors.add(("rows", index, "id"), "No such row on this invoice.")
            continue
        if edit.quantity is not None:
            if not row["is_weight"]:
                errors.add(
                    ("rows", index, "quantity"),
                    "This row's quantity is fixed (it is not is_weight).",
                )
            elif message := quantity_error(edit.quantity):
                errors.add(("rows", index, "quantity"), message)
        if edit.price is not None:
            if not row["is_free_price"]:
                errors.add(
                    ("rows", index, "price"), "This row's price is fixed (it is not is_free_price)."
                )
            elif message := amount_error(edit.price):
                errors.add(("rows", index, "price"), message)
        edits[edit.id] = (edit.quantity, edit.price)
    errors.raise_if_any()
    lines = []
    for row in rows:
        quantity, price = edits.get(row["id"], (None, None))
        lines.append(
            SaleLine(
                product_name=row["text"],
                product_code=row["code"],
                price=price if price is not None else from_minor(row["price"], PRICE_PLACES),
                quantity=quantity
                if quantity is not None
                else from_minor(row["quantity"], QUANTITY_PLACES),
                tax=row["tax"],
                tax_rate=from_minor(row["tax_rate"], PRICE_PLACES),
                discount=from_minor(row["discount"], PRICE_PLACES),
                discount_type=row["discount_type"],
            )
        )
    position = {row["id"]: n for n, row in enumerate(rows)}
    for index, edit in enumerate(request.rows):
        line = lines[position[edit.id]]
        if message := line_gross_error(line.quantity, line.price):
            errors.add(("rows", index, "quantity"), message)
    errors.raise_if_any()
    return lines


@dataclass(frozen=True, slots=True)
class _Planned:
    method_id: int
    amount: Decimal | None


def _planned_payments(conn: Connection, invoice_id: int) -> list[_Planned]:
    """No payments reported: the integrator's plan is taken as paid."""
    return [
        _Planned(
            p["method_id"], None if p["amount"] is None else from_minor(p["amount"], PRICE_PLACES)
        )
        for p in invoices.payments_of(conn, invoice_id)
    ]


def _tender_details(tender: Any) -> TenderDetails:
    return TenderDetails(
        request_id=tender.request_id,
        transaction_id=tender.transaction_id,
        psp_reference=tender.psp_reference,
        poiid=tender.poiid,
        sale_id=tender.sale_id,
        card_no=tender.card_no,
    )


@dataclass(frozen=True, slots=True)
class Refunded:
    """The lines of a refund and their priced form."""

    lines: Sequence[SaleLine]
    price: DocumentPrice


def _refund_parent(
    conn: Connection,
    document_id: str | None,
    pos_id: str | None,
    refunded: Refunded,
    now_us: int,
) -> Row | None:
    """Check a refund against what its original receipt still allows, and lower that."""
    if not document_id:
        return None
    parent_station = repository.get_station_by_pos(conn, pos_id or "0")
    original = None
    if parent_station is not None:
        original = receipts.by_document(conn, parent_station["id"], document_id)
    if original is None or original["mode"] == ReceiptMode.REFUND:
        raise ValidationFailed.single(
            ("parent_document_id",), "No sale receipt with this number at that POS."
        )
    lines, price = refunded.lines, refunded.price
    original_rows = receipts.rows_of(conn, [original["id"]])
    matched = []
    errors = ErrorCollector()
    taken: set[int] = set()
    for index, line in enumerate(lines):
        match = next(
            (
                r
                for r in original_rows
                if r["id"] not in taken
                and r["product_name"] == line.product_name
                and r["price"] == to_minor(line.price, PRICE_PLACES)
            ),
            None,
        )
        if match is None:
            errors.add(
                ("rows", index), "The original receipt has no such row (same text and price)."
            )
            continue
        taken.add(match["id"])
        matched.append((match, line, price.lines[index]))
    errors.raise_if_any()
    check_refund(
        [(line.quantity, priced.total) for _, line, priced in matched],
        [
            Refundable(
                from_minor(r["max_quantity"], QUANTITY_PLACES),
                from_minor(r["max_amount"], PRICE_PLACES),
            )
            for r, _, _ in matched
        ],
    )
    for row, line, priced in matched:
        receipts.lower_refundable(
            conn,
            row["id"],
            to_minor(line.quantity, QUANTITY_PLACES),
            to_minor(priced.total, PRICE_PLACES),
        )
    receipts.mark_refunded(conn, original["id"], now_us)
    return original


def _queue_printing(
    conn: Connection, station_id: int, invoice: Row, receipt: dict[str, Any] | None, now_us: int
) -> None:
    """The fiscal receipt first (unless paper is off), then the invoice's slip if it has one."""
    paper = invoice["print_paper_receipt"]
    if receipt is not None and (paper is None or bool(paper)):
        enqueue(
            conn,
            station_id=station_id,
            kind=JobKind.RECEIPT,
            receipt_id=receipt["id"],
            now_us=now_us,
        )
    if "slip" in json.loads(invoice["info"]):
        enqueue(
            conn, station_id=station_id, kind=JobKind.SLIP, invoice_id=invoice["id"], now_us=now_us
        )


# --- walk-in sales ---------------------------------------------------------------------------


def sell(
    conn: Connection, *, station_id: int, request: SaleIn, ctx: StationContext, now_us: int
) -> ReceiptOut:
    """A sale (or refund) rung up at the station, with no invoice: products by barcode or
    code, or free text. Same money rules, numbering and chain as invoice sales."""
    station = get_station(conn, station_id)
    zone = ctx.invoices.zone
    request_id = f"sale:{request.request_id}"
    done = receipts.by_request(conn, station_id, request_id)
    if done is not None:
        return receipt_service.get(conn, done["id"], zone)  # a retry
    shift = current_shift(conn, station_id)
    mode = ReceiptMode(request.mode)
    refund = mode is ReceiptMode.REFUND
    errors = ErrorCollector()
    lines = [
        line
        for index, row in enumerate(request.rows)
        if (line := _sale_line(conn, ("rows", index), row, ctx, errors)) is not None
    ]
    _check_amount(("discount",), request.discount, errors)
    if request.parent_document_id is not None and not refund:
        errors.add(("parent_document_id",), "Only a refund (mode 3) has a parent.")
    errors.raise_if_any()
    price = price_lines(lines, request.discount, request.discount_type)
    methods = ctx.invoices.reference.payment_methods
    settlement = settle(price.total, request.payments, methods, refund=refund)
    parent = None
    if refund:
        parent = _refund_parent(
            conn,
            request.parent_document_id,
            request.parent_pos_id,
            Refunded(lines, price),
            now_us,
        )
    receipt = receipt_service.issue(
        conn,
        Issue(
            station=station,
            shift_id=shift["id"],
            mode=mode,
            lines=lines,
            price=price,
            discount=request.discount,
            discount_type=request.discount_type.value if request.discount_type else None,
            settlement=settlement,
            details=[_tender_details(t) for t in request.payments],
            now_us=now_us,
            request_id=request_id,
            cashier_id=request.cashier_id,
            cashier_name=request.cashier_name,
            parent_station=parent["station_id"] if parent else None,
            parent_document_id=parent["document_id"] if parent else None,
        ),
    )
    enqueue(
        conn, station_id=station_id, kind=JobKind.RECEIPT, receipt_id=receipt["id"], now_us=now_us
    )
    return _issued(conn, receipt["id"], ctx, now_us)


def _sale_line(
    conn: Connection, path: Path, row: SaleRowIn, ctx: StationContext, errors: ErrorCollector
) -> SaleLine | None:
    """What one walk-in row sells, or None with its problems added to ``errors``."""
    given = [name for name in ("barcode", "code", "text") if getattr(row, name) is not None]
    if len(given) != 1:
        errors.add(path, "Give exactly one of barcode, code or text.")
        return None
    product = None
    if row.barcode is not None:
        product = catalogue.for_sale_by_barcode(conn, row.barcode)
    elif row.code is not None:
        product = catalogue.for_sale_by_code(conn, row.code)
    if product is None and row.text is None:
        errors.add((*path, given[0]), f"No product has this {given[0]}.")
        return None
    if product is None:
        return _free_text_line(path, row, ctx, errors)
    if row.price is not None and not product["is_free_price"]:
        errors.add((*path, "price"), "This product's price is fixed (it is not is_free_price).")
        return None
    tax = product["tax"]
    if tax not in ctx.invoices.reference.taxes:
        errors.add((*path, "tax"), f'"{tax}" is not a valid choice.')
        return None
    if row.discount is not None:
        discount, discount_type = row.discount, _value(row.discount_type)
    else:  # the barcode's own discount (none when sold by code)
        discount = from_minor(product["barcode_discount"] or 0, PRICE_PLACES)
        discount_type = product["barcode_discount_type"]
    line = SaleLine(
        product_name=product["name"],
        product_code=None if product["code"] is None else str(product["code"]),
        price=row.price if row.price is not None else from_minor(product["price"], PRICE_PLACES),
        quantity=row.quantity if row.quantity is not None else _default_quantity(product),
        tax=tax,
        tax_rate=ctx.invoices.reference.taxes[tax].rate,
        discount=discount,
        discount_type=discount_type,
        product_id=product["id"],
        barcode=product["barcode"],
        category_id=product["category"],
        category_name=product["category_name"],
        discountable=not product["no_discount"],
    )
    return line if _line_numbers_ok(path, line, errors) else None


def _free_text_line(
    path: Path, row: SaleRowIn, ctx: StationContext, errors: ErrorCollector
) -> SaleLine | None:
    if row.price is None:
        errors.add((*path, "price"), "A free-text row needs a price.")
        return None
    tax = row.tax if row.tax is not None else 0
    if tax not in ctx.invoices.reference.taxes:
        errors.add((*path, "tax"), f'"{tax}" is not a valid choice.')
        return None
    line = SaleLine(
        product_name=str(row.text),
        product_code=None,
        price=row.price,
        quantity=row.quantity if row.quantity is not None else Decimal(1),
        tax=tax,
        tax_rate=ctx.invoices.reference.taxes[tax].rate,
        discount=row.discount if row.discount is not None else ZERO,
        discount_type=_value(row.discount_type),
    )
    return line if _line_numbers_ok(path, line, errors) else None


def _line_numbers_ok(path: Path, line: SaleLine, errors: ErrorCollector) -> bool:
    before = len(errors.errors)
    quantity = quantity_error(line.quantity)
    if quantity:
        errors.add((*path, "quantity"), quantity)
    _check_amount((*path, "price"), line.price, errors)
    if message := line_gross_error(line.quantity, line.price):
        errors.add((*path, "quantity"), message)
    _check_amount((*path, "discount"), line.discount, errors)
    return len(errors.errors) == before


def _check_amount(path: Path, value: Decimal, errors: ErrorCollector) -> None:
    message = amount_error(value)
    if message:
        errors.add(path, message)


def _value(choice: DiscountType | None) -> str | None:
    return None if choice is None else choice.value


def _default_quantity(product: Row) -> Decimal:
    """The barcode's default quantity (a six-pack scans as 6), else the product's, else 1."""
    units = product["barcode_quantity"] or product["default_quantity"]
    return from_minor(units, QUANTITY_PLACES) if units else Decimal(1)
