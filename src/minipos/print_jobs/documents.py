"""Printable documents built from the stored rows, at the moment they are printed or previewed.

A print job stores which receipt, invoice or shift it prints, never bytes: the document is
built here from the receipt (rows, payments, chain hash), its invoice (``info`` header, footer
and slip blocks, row blocks, ``keep_drawer_closed``), the station and the shift, so what is
printed is what is stored, and the preview shows the same thing.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

import minipos
from minipos.db import Connection, Row
from minipos.domain.errors import Conflict, NotFound
from minipos.domain.fiscal import FISCAL_CORE_VERSION, FiscalProfile
from minipos.domain.invoice import InvoiceMode
from minipos.domain.money import (
    DiscountType,
    from_cents,
    from_thousandths,
    line_discount,
    vat,
)
from minipos.domain.receipt import ReceiptMode
from minipos.invoices import repository as invoices
from minipos.invoices.schemas import InvoiceInfo, RowInfo
from minipos.print_jobs.service import JobKind
from minipos.printing import (
    Document,
    PaymentLine,
    PrintableReceipt,
    PrintableSlip,
    PrintableZReport,
    ReceiptLine,
    ShopInfo,
    VatLine,
    ZDetails,
)
from minipos.printing.blocks import Blocks, TextBlock
from minipos.receipts import repository as receipts
from minipos.stations import repository as stations
from minipos.timeutil import to_datetime

_INFO = msgspec.json.Decoder(InvoiceInfo)
_ROW_INFO = msgspec.json.Decoder(RowInfo)
ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class PrintContext:
    """What a document needs besides its rows: the shop, the clock's zone, the cash methods,
    the fiscal profile (``lv``: a copy is a supporting document) and the versions a Z prints."""

    shop: ShopInfo
    zone: ZoneInfo
    cash_methods: frozenset[int]
    profile: FiscalProfile = FiscalProfile.LV
    software_version: str = minipos.__version__
    fiscal_version: str = FISCAL_CORE_VERSION


def tax_letter(tax_id: int) -> str:
    """The mark printed beside a row's amount: tax group 0 is A, 1 is B, …"""
    return chr(ord("A") + tax_id) if 0 <= tax_id < 26 else ""


def job_document(conn: Connection, job: Row, ctx: PrintContext) -> Document | None:
    """What a print job prints now; ``None`` when there is nothing (a slip removed since)."""
    is_copy = bool(job["is_copy"])
    kind = JobKind(job["kind"])
    if kind is JobKind.RECEIPT:
        return receipt_document(
            conn,
            job["receipt_id"],
            ctx,
            is_copy=is_copy,
            supporting_number=job["supporting_number"],
        )
    if kind is JobKind.SLIP:
        return slip_document(conn, job["invoice_id"], is_copy=is_copy)
    if kind is JobKind.TRAINING:
        return training_document(conn, job["training_receipt_id"], is_copy=is_copy)
    return z_report_document(conn, job["shift_id"], ctx, is_copy=is_copy)


@dataclass(frozen=True, slots=True)
class ReceiptSource:
    """What a printed receipt is drawn from, in the shape the database gives it: the receipt
    (``receipts.repository.get``), its rows and payments, its invoice and the invoice's rows
    (``None`` and empty without an invoice)."""

    receipt: Any
    rows: Sequence[Any]
    payments: Sequence[Any]
    invoice: Any | None
    invoice_rows: Sequence[Any]


def receipt_source(conn: Connection, receipt_id: int) -> ReceiptSource:
    """A stored receipt's :class:`ReceiptSource`, read from the database."""
    receipt = receipts.get(conn, receipt_id)
    if receipt is None:
        raise NotFound()
    invoice = invoices.get(conn, receipt["invoice_id"]) if receipt["invoice_id"] else None
    return ReceiptSource(
        receipt,
        receipts.rows_of(conn, [receipt_id]),
        receipts.payments_of(conn, [receipt_id]),
        invoice,
        invoices.rows_of(conn, invoice["id"]) if invoice is not None else (),
    )


def receipt_document(
    conn: Connection,
    receipt_id: int,
    ctx: PrintContext,
    *,
    is_copy: bool = False,
    supporting_number: int | None = None,
) -> PrintableReceipt:
    """A receipt as printed; its ``supporting_number``-th supporting document when given."""
    return printable_receipt(
        receipt_source(conn, receipt_id),
        ctx,
        is_copy=is_copy,
        supporting_number=supporting_number,
    )


def printable_receipt(
    source: ReceiptSource,
    ctx: PrintContext,
    *,
    is_copy: bool = False,
    supporting_number: int | None = None,
) -> PrintableReceipt:
    """The one drawing of a receipt, from stored rows or from those a sale has just stored."""
    receipt, rows, payments, invoice = source.receipt, source.rows, source.payments, source.invoice
    info = _info(invoice)
    by_position = {row["position"]: row for row in source.invoice_rows}
    lines = tuple(_line(row, by_position.get(row["position"])) for row in rows)
    cash = any(p["method"] in ctx.cash_methods for p in payments)
    keep_closed = bool(invoice["keep_drawer_closed"]) if invoice is not None else False
    refund = receipt["mode"] == ReceiptMode.REFUND
    return PrintableReceipt(
        shop=ctx.shop,
        lines=lines,
        vat_lines=_vat_lines(rows),
        total=from_cents(receipt["bruto_amount"]),
        payments=tuple(PaymentLine(p["method_name"], from_cents(p["amount"])) for p in payments),
        station_name=receipt["station_name"],
        pos_id=receipt["station_pos_id"],
        document_id=receipt["document_id"],
        printed_at=to_datetime(receipt["print_time"], ctx.zone),
        chain_hash=receipt["hash"],
        z_number=receipt["z_number"],
        cashier=receipt["cashier_name"],
        header=_blocks(info.header),
        footer=_blocks(info.footer),
        document_discount=from_cents(receipt["discount_amount"]),
        change=from_cents(receipt["changed_amount"]),
        # Not stored apart: what the payments cover beyond the total (and the change).
        rounding=from_cents(
            sum(p["amount"] for p in payments) - receipt["changed_amount"] - receipt["bruto_amount"]
        ),
        refund_of=(receipt["parent_document_id"] or "") if refund else None,
        is_copy=is_copy,
        open_drawer=cash and not keep_closed,
        chassis_id=receipt["station_chassis_id"],
        supporting_number=supporting_number,
    )


def _line(row: Row, invoice_row: Row | None) -> ReceiptLine:
    """A stored row as printed: the amount before the document discount, the line discount."""
    quantity = from_thousandths(row["quantity"])
    price = from_cents(row["price"])
    kind = DiscountType(row["discount_type"]) if row["discount_type"] else None
    own = line_discount(quantity * price, from_cents(row["discount"]), kind)
    # discount_amount = own discount + the row's share of the document discount
    before_document = from_cents(row["amount"]) + from_cents(row["discount_amount"]) - own
    blocks: Blocks = ()
    if invoice_row is not None and invoice_row["info"]:
        found = _ROW_INFO.decode(invoice_row["info"]).blocks
        blocks = _blocks(found)
    return ReceiptLine(
        name=row["product_name"],
        quantity=quantity,
        unit_price=price,
        amount=before_document,
        vat_rate=from_cents(row["tax_rate"]),
        vat_letter=tax_letter(row["tax"]),
        discount=own,
        unit="kg" if invoice_row is not None and invoice_row["is_weight"] else "",
        blocks=blocks,
    )


def _vat_lines(rows: Sequence[Row]) -> tuple[VatLine, ...]:
    """VAT per rate on the row totals, highest rate first (as the receipt was priced)."""
    gross: dict[Decimal, Decimal] = defaultdict(Decimal)
    letters: dict[Decimal, set[str]] = defaultdict(set)
    for row in rows:
        rate = from_cents(row["tax_rate"])
        gross[rate] += from_cents(row["amount"])
        letters[rate].add(tax_letter(row["tax"]))
    out = []
    for rate in sorted(gross, reverse=True):
        net, tax = vat(gross[rate], rate)
        out.append(VatLine(rate, net, tax, gross[rate], "".join(sorted(letters[rate]))))
    return tuple(out)


def slip_document(
    conn: Connection, invoice_id: int, *, is_copy: bool = False
) -> PrintableSlip | None:
    """The invoice's ``info.slip``; ``None`` if it has none."""
    invoice = invoices.get(conn, invoice_id)
    if invoice is None:
        raise NotFound()
    blocks = _blocks(_info(invoice).slip)
    return PrintableSlip(blocks, is_copy=is_copy) if blocks else None


def training_document(conn: Connection, training_id: int, *, is_copy: bool) -> PrintableSlip:
    """A training-mode document, its text as drawn when it was issued (already marked
    non-fiscal), between the slip's own non-fiscal marks."""
    found = conn.fetchone("SELECT text FROM training_receipts WHERE id = :id", {"id": training_id})
    if found is None:
        raise NotFound()
    lines = str(found["text"]).splitlines()
    return PrintableSlip(tuple(TextBlock(content=line) for line in lines), is_copy=is_copy)


def z_report_document(
    conn: Connection, shift_id: int, ctx: PrintContext, *, is_copy: bool = False
) -> PrintableZReport:
    shift = stations.get_shift(conn, shift_id)
    if shift is None:
        raise NotFound()
    if shift["close_date"] is None or not shift["report"]:
        raise Conflict("This shift is still open: its Z-report exists once it is closed.")
    report: dict[str, Any] = json.loads(shift["report"])
    return PrintableZReport(
        details=_z_details(json.loads(shift["details"])) if shift["details"] else None,
        shop=ctx.shop,
        station_name=shift["station_name"],
        pos_id=shift["station_pos_id"],
        z_number=shift["z_number"],
        opened_at=to_datetime(shift["start_date"], ctx.zone),
        closed_at=to_datetime(shift["close_date"], ctx.zone),
        receipts=int(report["receipts"]),
        sales=Decimal(report["sales"]),
        refunds=Decimal(report["refunds"]),
        turnover=Decimal(report["turnover"]),
        tax=Decimal(report["tax"]),
        vat_lines=tuple(
            VatLine(Decimal(v["rate"]), Decimal(v["net"]), Decimal(v["tax"]), Decimal(v["gross"]))
            for v in report["vat"]
        ),
        payments=tuple(
            PaymentLine(p["method_name"], Decimal(p["amount"])) for p in report["payments"]
        ),
        grand_total=from_cents(shift["grand_total"] or 0),
        cashier=shift["close_employee_name"],
        chain_hash=shift["hash"] or "",
        is_copy=is_copy,
        chassis_id=shift["station_chassis_id"],
        opened_by=shift["start_employee_name"],
        software_version=ctx.software_version,
        fiscal_version=ctx.fiscal_version,
    )


def _z_details(found: dict[str, Any]) -> ZDetails:
    """``shifts.details`` as ``stations.service.z_details`` froze it at close."""
    box = found["drawer"]
    counted, difference = box["counted"], box["difference"]
    return ZDetails(
        sale_count=int(found["sale_count"]),
        refund_count=int(found["refund_count"]),
        supporting_documents=int(found["supporting_documents"]),
        cancelled_invoices=int(found["cancelled_invoices"]),
        training=int(found["training"]),
        sale_discounts=Decimal(found["sale_discounts"]),
        refund_discounts=Decimal(found["refund_discounts"]),
        opening_float=Decimal(box["opening_float"]),
        cash_sales=Decimal(box["cash_sales"]),
        change=Decimal(box["change"]),
        cash_refunds=Decimal(box["cash_refunds"]),
        cash_in=Decimal(box["cash_in"]),
        cash_out=Decimal(box["cash_out"]),
        expected=Decimal(box["expected"]),
        counted=None if counted is None else Decimal(counted),
        difference=None if difference is None else Decimal(difference),
        movements=tuple(
            (m["kind"], m["reason"] or "", Decimal(m["amount"]))
            for m in box["movements"]
            if m["kind"] != "float"  # the float has its own line
        ),
        cash_rounding=Decimal(found.get("cash_rounding", "0")),
    )


def invoice_documents(conn: Connection, invoice_id: int, ctx: PrintContext) -> tuple[Document, ...]:
    """What an invoice prints: its receipt(s) (once it is done), then its slip.

    A non-fiscal slip invoice (mode 3) prints its slip whatever its status. Raises ``NotFound``
    when there is nothing to print yet (a sale not completed, without a slip).
    """
    invoice = invoices.get(conn, invoice_id)
    if invoice is None:
        raise NotFound()
    documents: list[Document] = [
        receipt_document(conn, receipt["id"], ctx)
        for receipt in receipts.of_invoice(conn, invoice_id)
    ]
    slip = slip_document(conn, invoice_id)
    if slip is not None and (documents or invoice["mode"] == InvoiceMode.SLIP):
        documents.append(slip)
    if not documents:
        raise NotFound(
            f"Invoice {invoice_id} has nothing to print yet: its receipt is issued when it is "
            "completed."
        )
    return tuple(documents)


def _info(invoice: Row | None) -> InvoiceInfo:
    if invoice is None or not invoice["info"]:
        return InvoiceInfo()
    return _INFO.decode(invoice["info"])


def _blocks(found: Any) -> Blocks:
    return tuple(found) if isinstance(found, list) else ()
