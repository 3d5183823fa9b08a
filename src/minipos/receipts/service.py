"""Issuing receipts, reading them back in both documented shapes, and verifying the chains."""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from minipos.db import Connection, Row
from minipos.domain.errors import NotFound
from minipos.domain.money import (
    MAX_GRAND_TOTAL,
    MAX_SHIFT_TOTAL,
    MAX_TOTAL,
    PRICE_PLACES,
    QUANTITY_PLACES,
    DiscountType,
    DocumentPrice,
    Line,
    from_minor,
    json_number,
    price_document,
    shown,
    to_minor,
    vat,
)
from minipos.domain.receipt import (
    GENESIS_HASH,
    ReceiptMode,
    ReceiptState,
    Settlement,
    chain_hash,
)
from minipos.domain.shift import ReceiptFigures, ShiftTotals, add_up, check_shift_room
from minipos.receipts import repository
from minipos.receipts.schemas import (
    InvoiceReceiptOut,
    InvoiceReceiptPaymentOut,
    InvoiceReceiptRowOut,
    ReceiptOut,
    ReceiptPaymentOut,
    ReceiptQuery,
    ReceiptRowOut,
)
from minipos.stations import repository as stations
from minipos.timeutil import local_aware, local_naive


@dataclass(frozen=True, slots=True)
class SaleLine:
    """One line as it goes on the receipt (what was sold, at which rate)."""

    product_name: str
    product_code: str | None
    price: Decimal
    quantity: Decimal
    tax: int
    tax_rate: Decimal
    discount: Decimal
    discount_type: str | None
    product_id: int | None = None
    barcode: str | None = None
    category_id: int | None = None
    category_name: str | None = None
    #: False for ``no_discount`` products: no share of a document discount.
    discountable: bool = True


def price_lines(
    lines: Sequence[SaleLine], discount: Decimal, discount_type: DiscountType | None
) -> DocumentPrice:
    """Price sale lines by the money rules (decisions.md §3)."""
    return price_document(
        [
            Line(
                quantity=line.quantity,
                price=line.price,
                tax_rate=line.tax_rate,
                discount=line.discount,
                discount_type=DiscountType(line.discount_type) if line.discount_type else None,
                discountable=line.discountable,
            )
            for line in lines
        ],
        discount,
        discount_type,
    )


@dataclass(frozen=True, slots=True)
class TenderDetails:
    """Card-terminal references a station reports with a payment (all optional)."""

    request_id: str | None = None
    transaction_id: str | None = None
    psp_reference: str | None = None
    poiid: str | None = None
    sale_id: str | None = None
    card_no: str | None = None


@dataclass(frozen=True, slots=True)
class Issue:
    station: Row
    shift_id: int
    mode: ReceiptMode
    lines: Sequence[SaleLine]
    price: DocumentPrice
    discount: Decimal
    discount_type: str | None
    settlement: Settlement
    details: Sequence[TenderDetails]  # by tender index in the request
    now_us: int
    request_id: str
    invoice_id: int | None = None
    cashier_id: int | None = None
    cashier_name: str | None = None
    start_time: int | None = None
    parent_station: int | None = None
    parent_document_id: str | None = None


def issue(conn: Connection, sale: Issue) -> dict[str, Any]:
    """Number, hash and store a receipt in the caller's transaction; returns its storage form.

    Raises ``Conflict`` if the receipt would take its shift past ``MAX_SHIFT_TOTAL``.
    """
    station = sale.station
    number, previous = stations.next_document_number(conn, station["id"])
    # After the station row's lock (the order close_shift takes too); the refusal rolls back.
    volume = stations.add_to_volume(conn, sale.shift_id, _cents(sale.price.total))
    check_shift_room(from_minor(volume, PRICE_PLACES))
    receipt: dict[str, Any] = {
        "station_id": station["id"],
        "shift_id": sale.shift_id,
        "invoice_id": sale.invoice_id,
        "document_id": str(number),
        "mode": int(sale.mode),
        "state": int(ReceiptState.VALID),
        "customer_id": None,
        "cashier_id": sale.cashier_id,
        "cashier_name": sale.cashier_name,
        "start_time": sale.start_time,
        "print_time": sale.now_us,
        "neto_amount": _cents(sale.price.net),
        "bruto_amount": _cents(sale.price.total),
        "changed_amount": _cents(sale.settlement.change),
        "tax_amount": _cents(sale.price.tax),
        "discount": _cents(sale.discount),
        "discount_type": sale.discount_type,
        "discount_amount": _cents(sale.price.document_discount),
        "parent_station": sale.parent_station,
        "parent_document_id": sale.parent_document_id,
        "refunded_at": None,
        "request_id": sale.request_id,
        "prev_hash": previous,
    }
    rows = [
        {
            "position": position,
            "product_id": line.product_id,
            "product_name": line.product_name,
            "product_code": line.product_code,
            "barcode": line.barcode,
            "category_id": line.category_id,
            "category_name": line.category_name,
            "price": _cents(line.price),
            "tax": line.tax,
            "tax_rate": _cents(line.tax_rate),
            "discount": _cents(line.discount),
            "discount_type": line.discount_type,
            "discount_amount": _cents(priced.discount_amount),
            "quantity": to_minor(line.quantity, QUANTITY_PLACES),
            "amount": _cents(priced.total),
            "max_quantity": to_minor(line.quantity, QUANTITY_PLACES),
            "max_amount": _cents(priced.total),
        }
        for position, (line, priced) in enumerate(zip(sale.lines, sale.price.lines, strict=True))
    ]
    payments = [
        {
            "position": position,
            "method": tender.method.id,
            "method_name": tender.method.name,
            "method_code": tender.method.code,
            "amount": _cents(tender.amount),
            **_details(sale.details, tender.index),
        }
        for position, tender in enumerate(sale.settlement.tenders)
    ]
    receipt["hash"] = chain_hash(previous, hash_content(receipt, rows, payments))
    repository.insert(conn, receipt, rows, payments)
    stations.set_chain_head(conn, station["id"], receipt["hash"])
    return receipt


def _details(details: Sequence[TenderDetails], index: int) -> dict[str, str | None]:
    found = details[index] if index < len(details) else TenderDetails()
    return {
        "request_id": found.request_id,
        "transaction_id": found.transaction_id,
        "psp_reference": found.psp_reference,
        "poiid": found.poiid,
        "sale_id": found.sale_id,
        "card_no": found.card_no,
    }


def hash_content(receipt: Any, rows: Sequence[Any], payments: Sequence[Any]) -> dict[str, Any]:
    """What the chain hash covers: everything fiscal, not what a later refund may change
    (``max_quantity``, ``max_amount``, ``refunded_at``). Storage values (ints, strings), so the
    same dict comes out of a fresh receipt and of the database."""
    header = (
        "station_id", "shift_id", "invoice_id", "document_id", "mode", "state", "cashier_id",
        "cashier_name", "print_time", "neto_amount", "bruto_amount", "changed_amount",
        "tax_amount", "discount", "discount_type", "discount_amount", "parent_station",
        "parent_document_id",
    )  # fmt: skip
    row_fields = (
        "position", "product_id", "product_name", "product_code", "barcode", "price", "tax",
        "tax_rate", "discount", "discount_type", "discount_amount", "quantity", "amount",
    )  # fmt: skip
    payment_fields = ("position", "method", "method_name", "method_code", "amount", "card_no")
    return {
        **{name: receipt[name] for name in header},
        "rows": [{name: row[name] for name in row_fields} for row in rows],
        "payments": [{name: p[name] for name in payment_fields} for p in payments],
    }


def _cents(value: Decimal) -> int:
    return to_minor(value, PRICE_PLACES)


def _money(units: int) -> Decimal:
    return shown(units, PRICE_PLACES)


def _quantity(units: int) -> Decimal:
    return shown(units, QUANTITY_PLACES)


# --- reading ---------------------------------------------------------------------------------


def _children(
    conn: Connection, receipts: Sequence[Any]
) -> tuple[dict[int, list[Row]], dict[int, list[Row]]]:
    ids = [r["id"] for r in receipts]
    rows: dict[int, list[Row]] = defaultdict(list)
    payments: dict[int, list[Row]] = defaultdict(list)
    for row in repository.rows_of(conn, ids):
        rows[row["receipt_id"]].append(row)
    for payment in repository.payments_of(conn, ids):
        payments[payment["receipt_id"]].append(payment)
    return rows, payments


def for_invoice(conn: Connection, invoice_id: int, zone: ZoneInfo) -> list[InvoiceReceiptOut]:
    receipts = repository.of_invoice(conn, invoice_id)
    rows, payments = _children(conn, receipts)
    return [invoice_receipt_out(r, rows[r["id"]], payments[r["id"]], zone) for r in receipts]


def search(conn: Connection, query: ReceiptQuery, zone: ZoneInfo) -> tuple[list[ReceiptOut], int]:
    pos = int(query.pos_id) if query.pos_id and query.pos_id.isdigit() else None
    if query.pos_id and pos is None:
        return [], 0  # POS numbers are digits: nothing else can match
    receipts, total = repository.search(
        conn,
        {
            "pos_id": pos,
            "station_id": query.station_id,
            "z_number": query.z_number,
            "document_id": query.document_id,
            "after_id": query.after_id,
        },
        limit=query.limit,
        offset=query.offset,
    )
    rows, payments = _children(conn, receipts)
    return [receipt_out(r, rows[r["id"]], payments[r["id"]], zone) for r in receipts], total


def get(conn: Connection, receipt_id: int, zone: ZoneInfo) -> ReceiptOut:
    found = repository.get(conn, receipt_id)
    if found is None:
        raise NotFound()
    rows, payments = _children(conn, [found])
    return receipt_out(found, rows[found["id"]], payments[found["id"]], zone)


def receipt_out(r: Any, rows: Sequence[Any], payments: Sequence[Any], zone: ZoneInfo) -> ReceiptOut:
    return ReceiptOut(
        id=r["id"],
        document_id=r["document_id"],
        mode=r["mode"],
        state=r["state"],
        start_time=local_aware(r["start_time"], zone),
        print_time=local_aware(r["print_time"], zone) or "",
        neto_amount=_money(r["neto_amount"]),
        bruto_amount=_money(r["bruto_amount"]),
        changed_amount=_money(r["changed_amount"]),
        tax_amount=_money(r["tax_amount"]),
        discount=_money(r["discount"]),
        discount_type=r["discount_type"],
        discount_amount=_money(r["discount_amount"]),
        station=r["station_id"],
        station_name=r["station_name"],
        station_pos_id=r["station_pos_id"],
        cashier=r["cashier_id"],
        z_number=r["z_number"],
        rows=[
            ReceiptRowOut(
                id=row["id"],
                product=row["product_id"],
                product_id=row["product_id"],
                product_name=row["product_name"],
                product_code=row["product_code"],
                barcode=row["barcode"],
                category_name=row["category_name"],
                price=_money(row["price"]),
                tax_rate=_money(row["tax_rate"]),
                discount=_money(row["discount"]),
                discount_type=row["discount_type"],
                discount_amount=_money(row["discount_amount"]),
                quantity=_quantity(row["quantity"]),
                amount=_money(row["amount"]),
                max_quantity=_quantity(row["max_quantity"]),
                max_amount=_money(row["max_amount"]),
                receipt=row["receipt_id"],
                category=row["category_id"],
                tax=row["tax"],
            )
            for row in rows
        ],
        payments=[
            ReceiptPaymentOut(
                id=p["id"],
                method_name=p["method_name"],
                method_code=p["method_code"],
                amount=_money(p["amount"]),
                request_id=p["request_id"],
                transaction_id=p["transaction_id"],
                psp_reference=p["psp_reference"],
                poiid=p["poiid"],
                sale_id=p["sale_id"],
                card_no=p["card_no"],
                receipt=p["receipt_id"],
                method=p["method"],
            )
            for p in payments
        ],
    )


def invoice_receipt_out(
    r: Any, rows: Sequence[Any], payments: Sequence[Any], zone: ZoneInfo
) -> InvoiceReceiptOut:
    return InvoiceReceiptOut(
        id=r["id"],
        mode=r["mode"],
        customer_id=r["customer_id"],
        document_id=r["document_id"],
        invoice_id=r["invoice_id"],
        station_id=r["station_id"],
        station_name=r["station_name"],
        cash_shift_id=r["shift_id"],
        cashier_id=r["cashier_id"],
        cashier_name=r["cashier_name"],
        state=r["state"],
        start_time=local_naive(r["start_time"], zone),
        print_time=local_naive(r["print_time"], zone) or "",
        neto_amount=_money(r["neto_amount"]),
        bruto_amount=_money(r["bruto_amount"]),
        changed_amount=_money(r["changed_amount"]),
        tax_amount=_money(r["tax_amount"]),
        discount=_money(r["discount"]),
        discount_type=r["discount_type"],
        discount_amount=_money(r["discount_amount"]),
        parent_station=r["parent_station"],
        parent_document_id=r["parent_document_id"],
        refunded_at=local_naive(r["refunded_at"], zone),
        rows=[
            InvoiceReceiptRowOut(
                id=row["id"],
                receipt_id=row["receipt_id"],
                product_id=row["product_id"],
                product_name=row["product_name"],
                product_code=row["product_code"],
                barcode=row["barcode"],
                category_id=row["category_id"],
                category_name=row["category_name"],
                price=_money(row["price"]),
                tax_id=row["tax"],
                tax_rate=_money(row["tax_rate"]),
                discount=_money(row["discount"]),
                discount_type=row["discount_type"],
                discount_amount=_money(row["discount_amount"]),
                quantity=_quantity(row["quantity"]),
                amount=_money(row["amount"]),
                max_quantity=_quantity(row["max_quantity"]),
                max_amount=_money(row["max_amount"]),
            )
            for row in rows
        ],
        payments=[
            InvoiceReceiptPaymentOut(
                id=p["id"],
                receipt_id=p["receipt_id"],
                method_id=p["method"],
                method_name=p["method_name"],
                method_code=p["method_code"],
                amount=_money(p["amount"]),
                request_id=p["request_id"],
                transaction_id=p["transaction_id"],
                psp_reference=p["psp_reference"],
                poiid=p["poiid"],
                sale_id=p["sale_id"],
                card_no=p["card_no"],
            )
            for p in payments
        ],
    )


# --- shift totals and verification -----------------------------------------------------------


def figures(
    receipt: Any, rows: Sequence[Any], payments: Sequence[Any], cash: set[int]
) -> ReceiptFigures:
    """A stored receipt as the Z-report counts it; VAT per rate recomputed from its rows."""
    # Sum whole cents per rate first: a Z-report adds up thousands of rows, and Decimal
    # arithmetic per row is what would make closing a busy shift slow.
    cents: dict[int, int] = defaultdict(int)
    for row in rows:
        cents[row["tax_rate"]] += row["amount"]
    vat_lines = tuple(
        (rate, gross, *vat(gross, rate))
        for rate, gross in (
            (from_minor(units, PRICE_PLACES), from_minor(total, PRICE_PLACES))
            for units, total in sorted(cents.items(), reverse=True)
        )
    )
    return ReceiptFigures(
        mode=ReceiptMode(receipt["mode"]),
        gross=from_minor(receipt["bruto_amount"], PRICE_PLACES),
        net=from_minor(receipt["neto_amount"], PRICE_PLACES),
        tax=from_minor(receipt["tax_amount"], PRICE_PLACES),
        vat=vat_lines,
        payments=tuple(
            (p["method_name"], from_minor(p["amount"], PRICE_PLACES), p["method"] in cash)
            for p in payments
        ),
        change=from_minor(receipt["changed_amount"], PRICE_PLACES),
    )


def shift_totals(conn: Connection, shift_id: int, cash: set[int]) -> ShiftTotals:
    receipts = repository.of_shift(conn, shift_id)
    rows, payments = _children(conn, receipts)
    return add_up(figures(r, rows[r["id"]], payments[r["id"]], cash) for r in receipts)


def report_content(totals: ShiftTotals) -> dict[str, Any]:
    """The Z-report as stored (and hashed): decimals as strings, so it reads back exactly."""
    return {
        "receipts": totals.receipts,
        "sales": str(totals.sales),
        "refunds": str(totals.refunds),
        "turnover": str(totals.turnover),
        "tax": str(totals.tax),
        "vat": [
            {"rate": str(rate), "gross": str(g), "net": str(n), "tax": str(t)}
            for rate, (g, n, t) in sorted(totals.vat.items(), reverse=True)
        ],
        "payments": [
            {"method_name": name, "amount": str(amount)}
            for name, amount in sorted(totals.payments.items())
        ],
    }


def verify(conn: Connection, cash: set[int]) -> Iterator[str]:
    """Every break in every station's receipt chain, numbering and Z-reports, and every figure
    past the money limits, in order."""
    for station in stations.list_stations(conn):
        yield from _verify_station(conn, station, cash)


def _verify_station(conn: Connection, station: Row, cash: set[int]) -> Iterator[str]:
    name = f"station {station['id']} ({station['name']})"
    receipts = repository.of_station(conn, station["id"])
    rows, payments = _children(conn, receipts)
    head = GENESIS_HASH
    for expected_number, receipt in enumerate(receipts, start=1):
        label = f"{name} receipt {receipt['document_id']}"
        if receipt["document_id"] != str(expected_number):
            yield f"{label}: expected number {expected_number} (a gap or a reordering)"
        if receipt["prev_hash"] != head:
            yield f"{label}: does not follow the previous receipt (chain broken)"
        computed = chain_hash(
            receipt["prev_hash"],
            hash_content(receipt, rows[receipt["id"]], payments[receipt["id"]]),
        )
        if computed != receipt["hash"]:
            yield f"{label}: content does not match its hash (altered)"
        for field in ("bruto_amount", "changed_amount"):
            if past := _past(receipt[field], MAX_TOTAL):
                yield f"{label}: {field} {past} of one document"
        head = receipt["hash"]
    if station["chain_head"] != head:
        yield f"{name}: the last receipt is not the chain head (receipts removed?)"
    if station["last_document_id"] != len(receipts):
        yield f"{name}: {station['last_document_id']} numbers issued, {len(receipts)} receipts kept"
    if past := _past(station["grand_total"], MAX_GRAND_TOTAL):
        yield f"{name}: grand total {past} of a station"

    by_shift: dict[int, list[Any]] = defaultdict(list)
    for receipt in receipts:
        by_shift[receipt["shift_id"]].append(receipt)
    shifts, _ = stations.search_shifts(
        conn, {"station_id": station["id"]}, limit=1_000_000, offset=0
    )
    grand_total = 0
    for expected_z, shift in zip(itertools.count(1), shifts, strict=False):
        label = f"{name} Z {shift['z_number']}"
        if shift["z_number"] != expected_z:
            yield f"{label}: expected Z number {expected_z}"
        own = by_shift[shift["id"]]
        volume = sum(r["bruto_amount"] for r in own)
        if shift["volume"] != volume:
            yield f"{label}: volume {shift['volume']} is not the sum of its receipts ({volume})"
        if past := _past(volume, MAX_SHIFT_TOTAL):
            yield f"{label}: receipts add up to {past} of one shift"
        if shift["close_date"] is None:
            continue
        totals = add_up(figures(r, rows[r["id"]], payments[r["id"]], cash) for r in own)
        content = report_content(totals)
        if json.loads(shift["report"] or "null") != content:
            yield f"{label}: stored totals differ from the sum of its receipts"
        grand_total += _cents(totals.sales)
        if shift["grand_total"] != grand_total:
            yield f"{label}: grand total {shift['grand_total']} is not cumulative ({grand_total})"
        if past := _past(shift["grand_total"], MAX_GRAND_TOTAL):
            yield f"{label}: grand total {past} of a station"
        if shift["hash"] != chain_hash(own[-1]["hash"] if own else GENESIS_HASH, content):
            yield f"{label}: Z-report does not match its hash (altered)"


def _past(cents: int, limit: Decimal) -> str | None:
    """What is wrong with a stored amount below zero or above ``limit`` (a figure no request
    can make), or None."""
    amount = from_minor(cents, PRICE_PLACES)
    return None if 0 <= amount <= limit else f"{json_number(amount)}, past the limit {limit}"
