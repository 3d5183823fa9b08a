"""Checkout: payment taken, the fiscal receipt issued (docs/decisions.md §6).

A sale comes from an invoice (``complete``: the invoice turns Done) or is rung up at the station
(``sell``). Both end in :func:`_check_out`, the one path from priced lines, payments and the
open shift to a receipt: settle, check a refund against its original, issue the receipt, queue
its printing and e-receipts, record the events. Each runs inside the caller's unit of work.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec

from minipos.checkout import training
from minipos.checkout.lines import check_amount, edited_lines, walk_in_line
from minipos.checkout.refunds import (
    Refunded,
    check_against_original,
    matching_rows,
    original_receipt,
)
from minipos.checkout.schemas import CompleteIn, SaleIn, TenderIn, TrainingReceiptOut
from minipos.db import Connection, Row
from minipos.domain.errors import ErrorCollector
from minipos.domain.events import EventType
from minipos.domain.invoice import InvoiceMode, InvoiceStatus
from minipos.domain.money import (
    DiscountType,
    DocumentPrice,
    from_cents,
    json_number,
    to_cents,
    to_thousandths,
)
from minipos.domain.receipt import ReceiptMode, TenderInput, parent_problems, settle
from minipos.employees import service as employees
from minipos.ereceipts.service import queue_receipt
from minipos.events import service as events
from minipos.invoices import lifecycle
from minipos.invoices import repository as invoices
from minipos.invoices import service as invoice_service
from minipos.invoices.schemas import InvoiceDetail
from minipos.invoices.service import ShopConfig
from minipos.print_jobs.documents import ReceiptSource
from minipos.print_jobs.journal import JournalContext, record_receipt
from minipos.print_jobs.service import JobKind, enqueue
from minipos.receipts import repository as receipts
from minipos.receipts import service as receipt_service
from minipos.receipts.schemas import ReceiptOut
from minipos.receipts.service import Issued, ReceiptDraft, SaleLine, TenderDetails, price_lines
from minipos.stations.repository import open_shift as repository_open_shift
from minipos.stations.service import current_shift, get_station

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Completing:
    """The invoice a sale completes: its stored row, its rows in the order of the sale's lines,
    and the station's ``request_id`` for this attempt."""

    header: Row
    rows: Sequence[Row]
    request_id: str
    #: The invoice's ``report`` once Done: the rows whose VAT rate changed since posting.
    report: str | None = None


@dataclass(frozen=True, slots=True)
class Sale:
    """Priced lines on their way to a receipt, from an invoice or rung up at the station."""

    station: Row
    shift_id: int
    z_number: int
    mode: ReceiptMode
    lines: Sequence[SaleLine]
    price: DocumentPrice
    discount: Decimal
    discount_type: str | None
    tenders: Sequence[TenderInput]
    #: Card-terminal references, by index of the payment in the request.
    details: Sequence[TenderDetails]
    #: The receipt's request id: a station issues one receipt per request id.
    request_id: str
    cashier_id: int | None
    cashier_name: str | None
    parent_document_id: str | None
    parent_pos_id: str | None
    invoice: Completing | None = None


def complete(
    conn: Connection,
    *,
    station_id: int,
    invoice_id: int,
    request: CompleteIn,
    ctx: ShopConfig,
    now_us: int,
    journal: JournalContext | None = None,
) -> InvoiceDetail | msgspec.Raw:
    """Payment taken for an invoice: its receipt issued, the invoice Done, printing queued
    (the invoice answered as :func:`~minipos.invoices.service.get` shows it, or encoded)."""
    station = get_station(conn, station_id)
    # Lock the invoice row first: a concurrent complete (or claim) waits, then sees Done.
    invoices.lock(conn, invoice_id)
    invoice = lifecycle.visible(conn, station, invoice_id)
    if (
        invoice["status"] == InvoiceStatus.DONE
        and invoice["complete_request_id"] == request.request_id
        and invoice["station"] == station_id  # another station's request_id gets no receipt
    ):
        return invoice_service.get(conn, invoice_id, ctx)  # a retry: already done
    lifecycle.check_held(station, invoice)
    training.refuse_invoice(station)
    mode = InvoiceMode(invoice["mode"])
    completing = Completing(invoice, invoices.rows_of(conn, invoice_id), request.request_id)
    if mode is InvoiceMode.SLIP:  # non-fiscal: no receipt, only the slip printed
        errors = ErrorCollector()
        for name in ("payments", "rows"):
            if getattr(request, name):
                errors.add((name,), f"A non-fiscal slip takes no {name}: it issues no receipt.")
        errors.raise_if_any()
        _queue_documents(conn, station_id, invoice, None, now_us)
        return _done(conn, station, completing, ctx, now_us, receipt=None, total=ZERO, change=ZERO)
    shift = current_shift(conn, station_id)
    lines = edited_lines(completing.rows, request)
    if invoice["parent_document_id"] is None:  # a refund takes its original's rates instead
        lines, report = _rates_in_force(lines, completing, ctx, now_us)
        completing = dataclasses.replace(completing, report=report)
    discount = from_cents(invoice["discount"])
    discount_type = invoice["discount_type"]
    _, done = _check_out(
        conn,
        Sale(
            station=station,
            shift_id=shift["id"],
            z_number=shift["z_number"],
            mode=ReceiptMode.REFUND if mode is InvoiceMode.REFUND else ReceiptMode.INVOICE_SALE,
            lines=lines,
            price=price_lines(
                lines, discount, DiscountType(discount_type) if discount_type else None
            ),
            discount=discount,
            discount_type=discount_type,
            tenders=request.payments or _planned_payments(conn, invoice_id),
            details=[_tender_details(t) for t in request.payments],
            request_id=f"invoice:{invoice_id}",
            cashier_id=request.cashier_id,
            cashier_name=request.cashier_name,
            parent_document_id=invoice["parent_document_id"],
            parent_pos_id=invoice["parent_pos_id"],
            invoice=completing,
        ),
        ctx,
        now_us,
        journal,
    )
    assert done is not None  # a sale that completes an invoice answers with it
    return done


def sell(
    conn: Connection,
    *,
    station_id: int,
    request: SaleIn,
    ctx: ShopConfig,
    now_us: int,
    journal: JournalContext | None = None,
) -> ReceiptOut | TrainingReceiptOut:
    """A sale (or refund) rung up at the station, with no invoice: products by barcode or
    code, or free text. Same money rules, numbering and chain as invoice sales; at a station
    in training mode, a training document instead (``checkout.training``)."""
    station = get_station(conn, station_id)
    request_id = f"sale:{request.request_id}"
    if training.in_training(station):
        found = training.previous(conn, station_id, request_id, ctx.zone)
        if found is not None:
            return found  # a retry
    done = receipts.by_request(conn, station_id, request_id)
    if done is not None:
        return receipt_service.get(conn, done["id"], ctx.zone)  # a retry
    if training.in_training(station):
        return _train(
            conn,
            station,
            request=request,
            request_id=request_id,
            ctx=ctx,
            now_us=now_us,
            journal=journal,
        )
    shift = current_shift(conn, station_id)
    mode, lines = _walk_in_lines(conn, request, ctx, now_us)
    receipt, _ = _check_out(
        conn,
        Sale(
            station=station,
            shift_id=shift["id"],
            z_number=shift["z_number"],
            mode=mode,
            lines=lines,
            price=price_lines(lines, request.discount, request.discount_type),
            discount=request.discount,
            discount_type=request.discount_type.value if request.discount_type else None,
            tenders=request.payments,
            details=[_tender_details(t) for t in request.payments],
            request_id=request_id,
            cashier_id=request.cashier_id,
            cashier_name=request.cashier_name,
            parent_document_id=request.parent_document_id,
            parent_pos_id=request.parent_pos_id,
        ),
        ctx,
        now_us,
        journal,
    )
    return receipt


def _walk_in_lines(
    conn: Connection, request: SaleIn, ctx: ShopConfig, now_us: int
) -> tuple[ReceiptMode, list[SaleLine]]:
    """A walk-in's mode and lines, every rule of its request checked (the same for a real sale
    and a training one): the rows found or typed, the discount, the refund's reference."""
    mode = ReceiptMode(request.mode)
    errors = ErrorCollector()
    reference = ctx.reference.in_force(now_us, ctx.zone)  # the rates of this moment
    lines = [
        line
        for index, row in enumerate(request.rows)
        if (line := walk_in_line(conn, ("rows", index), row, reference, errors)) is not None
    ]
    check_amount(("discount",), request.discount, errors)
    for problem in parent_problems(
        mode is ReceiptMode.REFUND,
        ReceiptMode.REFUND,
        request.parent_document_id,
        request.parent_pos_id,
    ):
        errors.add(problem.path, problem.message)
    errors.raise_if_any()
    return mode, lines


def _train(
    conn: Connection,
    station: Row,
    *,
    request: SaleIn,
    request_id: str,
    ctx: ShopConfig,
    now_us: int,
    journal: JournalContext | None,
) -> TrainingReceiptOut:
    """A walk-in sale at a station in training mode: priced, checked and settled as a real
    one, but issued as a training document; no open shift is needed (one, if open, counts it)."""
    shift = repository_open_shift(conn, station["id"])
    _, cashier_name = employees.cashier(
        conn, station["id"], request.cashier_id, request.cashier_name
    )
    mode, lines = _walk_in_lines(conn, request, ctx, now_us)
    if request.parent_document_id is not None:
        # A training refund lowers nothing on its original, but the original must exist.
        original_receipt(conn, request.parent_document_id, request.parent_pos_id)
    price = price_lines(lines, request.discount, request.discount_type)
    settlement = settle(
        price.total,
        request.payments,
        ctx.reference.payment_methods,
        refund=mode is ReceiptMode.REFUND,
        cash_step=ctx.cash_rounding,
    )
    return training.issue(
        conn,
        station=station,
        shift_id=None if shift is None else shift["id"],
        mode=mode,
        lines=lines,
        price=price,
        settlement=settlement,
        cashier_name=cashier_name,
        request_id=request_id,
        journal=journal,
        zone=ctx.zone,
        now_us=now_us,
    )


def _check_out(
    conn: Connection,
    sale: Sale,
    ctx: ShopConfig,
    now_us: int,
    journal: JournalContext | None,
) -> tuple[ReceiptOut, msgspec.Raw | None]:
    """The one path from a priced sale to its receipt; with the invoice it completes, Done.
    With ``journal``, the receipt's printed text goes to the electronic journal too."""
    cashier_id, cashier_name = employees.cashier(
        conn, sale.station["id"], sale.cashier_id, sale.cashier_name
    )
    refund = sale.mode is ReceiptMode.REFUND
    settlement = settle(
        sale.price.total,
        sale.tenders,
        ctx.reference.payment_methods,
        refund=refund,
        cash_step=ctx.cash_rounding,
    )
    parent = (
        check_against_original(
            conn,
            sale.parent_document_id,
            sale.parent_pos_id,
            Refunded(sale.lines, sale.price),
            now_us,
        )
        if refund
        else None
    )
    if parent is not None:
        sale = _at_original_rates(conn, sale, parent)
    completing = sale.invoice
    issued = receipt_service.issue(
        conn,
        ReceiptDraft(
            station=sale.station,
            shift_id=sale.shift_id,
            z_number=sale.z_number,
            mode=sale.mode,
            lines=sale.lines,
            price=sale.price,
            discount=sale.discount,
            discount_type=sale.discount_type,
            settlement=settlement,
            details=sale.details,
            now_us=now_us,
            request_id=sale.request_id,
            invoice_id=completing.header["id"] if completing else None,
            cashier_id=cashier_id,
            cashier_name=cashier_name,
            start_time=completing.header["updated_at"] if completing else None,
            parent_station=parent["station_id"] if parent else None,
            parent_document_id=parent["document_id"] if parent else None,
        ),
    )
    receipt = issued.receipt
    station_id = sale.station["id"]
    if journal is not None:  # the control tape, in the same transaction as the receipt
        # Drawn from what was just stored, and the invoice as read for the sale (the rows
        # sold at other values are updated below, after the drawing, as before).
        source = ReceiptSource(
            receipt,
            issued.rows,
            issued.payments,
            completing.header if completing else None,
            completing.rows if completing else (),
        )
        record_receipt(conn, journal, source, now_us)
    _queue_documents(conn, station_id, completing.header if completing else None, receipt, now_us)
    done = None
    if completing is not None:
        sold_rows: list[Row] = []
        for row, line in zip(completing.rows, sale.lines, strict=True):
            sold = (to_thousandths(line.quantity), to_cents(line.price), to_cents(line.tax_rate))
            # Most rows are sold as posted: no statement (and no page written) for those.
            as_posted = sold == (row["quantity"], row["price"], row["tax_rate"])
            if not as_posted:
                invoices.update_row(conn, row["id"], *sold)
            sold_rows.append(row if as_posted else _as_sold(row, sold))
        done = _done(
            conn,
            sale.station,
            dataclasses.replace(completing, rows=sold_rows),
            ctx,
            now_us,
            receipt=issued,
            total=sale.price.total,
            change=settlement.change,
        )
    # After the invoice's event: a reader sees the invoice Done, then its receipt.
    out = receipt_service.issued_out(issued, ctx.zone)
    kind = EventType.REFUND_CREATED if refund else EventType.RECEIPT_CREATED
    events.record(conn, kind, receipt["id"], out, now_us)
    return out, done


def _done(
    conn: Connection,
    station: Row,
    completing: Completing,
    ctx: ShopConfig,
    now_us: int,
    *,
    receipt: Issued | None,
    total: Decimal,
    change: Decimal,
) -> msgspec.Raw:
    """The completed invoice marked Done with its receipt's number and where it printed."""
    return lifecycle.done(
        conn,
        completing.header,
        {
            "station": station["id"],
            "printed_at": now_us,
            "print_station": station["id"],
            "print_pos_id": station["pos_id"],
            "print_chassis_id": station["chassis_id"],
            "check_num": receipt.receipt["document_id"] if receipt else None,
            "total_sum": to_cents(total),
            "changed_sum": to_cents(change),
            "complete_request_id": completing.request_id,
            "updated_at": now_us,
            "report": completing.report,
        },
        ctx,
        now_us,
        rows=completing.rows,
        receipt=receipt,
    )


def _as_sold(row: Row, sold: tuple[int, int, int]) -> dict[str, Any]:
    """An invoice row as ``invoices.update_row`` leaves it: sold at other values."""
    kept = {name: row[name] for name in ("id", *invoices.ROW_COLUMNS)}
    return {**kept, "quantity": sold[0], "price": sold[1], "tax_rate": sold[2]}


def _queue_documents(
    conn: Connection,
    station_id: int,
    invoice: Row | None,
    receipt: dict[str, Any] | None,
    now_us: int,
) -> None:
    """In the sale's transaction: the receipt's print job (unless its invoice turned paper
    off), then the invoice's slip if it has one, and the e-receipts for the invoice's
    customer."""
    paper = invoice["print_paper_receipt"] if invoice is not None else None
    if receipt is not None and (paper is None or bool(paper)):
        enqueue(
            conn,
            station_id=station_id,
            kind=JobKind.RECEIPT,
            receipt_id=receipt["id"],
            now_us=now_us,
        )
    if invoice is None:
        return
    if "slip" in json.loads(invoice["info"]):
        enqueue(
            conn, station_id=station_id, kind=JobKind.SLIP, invoice_id=invoice["id"], now_us=now_us
        )
    queue_receipt(conn, invoice, receipt, now_us)  # e-receipts (info.customer), if a receipt


_REPORT = msgspec.json.Encoder(decimal_format="number")


def _at_original_rates(conn: Connection, sale: Sale, original: Row) -> Sale:
    """A refund's lines at the VAT rates of the rows they refund: a refund corrects the
    original sale, so a sale before a rate change is refunded at the old rate (docs/money.md).
    Prices include VAT, so the total (and the settlement) stay the same."""
    rows = matching_rows(conn, original, sale.lines)
    lines = [
        line if row is None else dataclasses.replace(line, tax_rate=from_cents(row["tax_rate"]))
        for line, row in zip(sale.lines, rows, strict=True)
    ]
    if all(a.tax_rate == b.tax_rate for a, b in zip(lines, sale.lines, strict=True)):
        return sale
    kind = DiscountType(sale.discount_type) if sale.discount_type else None
    price = price_lines(lines, sale.discount, kind)
    assert price.total == sale.price.total  # rates move VAT within the total, never the total
    return dataclasses.replace(sale, lines=lines, price=price)


def _rates_in_force(
    lines: Sequence[SaleLine], completing: Completing, ctx: ShopConfig, now_us: int
) -> tuple[list[SaleLine], str | None]:
    """The invoice's lines at the VAT rates in force now, when its receipt is issued (rows
    keep the rate they were posted with until then), and the invoice's ``report`` naming the
    rows whose rate changed (None when none did). Prices include VAT, so the total stays."""
    taxes = ctx.reference.in_force(now_us, ctx.zone).taxes
    out: list[SaleLine] = []
    changed: list[dict[str, Any]] = []
    for line, row in zip(lines, completing.rows, strict=True):
        group = taxes.get(line.tax)
        if group is None or group.rate == line.tax_rate:  # a group since removed keeps its rate
            out.append(line)
            continue
        changed.append(
            {
                "row": row["id"],
                "tax": line.tax,
                "posted_rate": json_number(line.tax_rate),
                "applied_rate": json_number(group.rate),
            }
        )
        out.append(dataclasses.replace(line, tax_rate=group.rate))
    report = _REPORT.encode({"tax_rate_changes": changed}).decode() if changed else None
    return out, report


@dataclass(frozen=True, slots=True)
class _Planned:
    method_id: int
    amount: Decimal | None


def _planned_payments(conn: Connection, invoice_id: int) -> list[_Planned]:
    """No payments reported: the integrator's plan is taken as paid."""
    return [
        _Planned(p["method_id"], None if p["amount"] is None else from_cents(p["amount"]))
        for p in invoices.payments_of(conn, invoice_id)
    ]


def _tender_details(tender: TenderIn) -> TenderDetails:
    return TenderDetails(
        request_id=tender.request_id,
        transaction_id=tender.transaction_id,
        psp_reference=tender.psp_reference,
        poiid=tender.poiid,
        sale_id=tender.sale_id,
        card_no=tender.card_no,
    )
