"""Issuing receipts (numbered, hashed onto the station's chain) and reading them back."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from minipos.db import Connection, Row
from minipos.domain.errors import NotFound, ValidationFailed
from minipos.domain.money import (
    MAX_TOTAL,
    DiscountType,
    DocumentPrice,
    Line,
    PricedLine,
    from_cents,
    price_document,
    to_cents,
    to_thousandths,
    vat,
)
from minipos.domain.receipt import ReceiptMode, ReceiptState, Settlement, chain_hash
from minipos.domain.shift import check_shift_room
from minipos.receipts import repository
from minipos.receipts.schemas import InvoiceReceiptOut, ReceiptOut, ReceiptQuery
from minipos.receipts.shapes import INVOICE_RECEIPTS, RECEIPTS, shaped
from minipos.timeutil import parse_period


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
    """Price sale lines by the money rules (docs/decisions.md §3)."""
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
class ReceiptDraft:
    """A priced and settled sale, ready to be numbered and stored as a receipt."""

    station: Row
    shift_id: int
    #: The shift's Z number, which reads of the receipt join in.
    z_number: int
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


@dataclass(frozen=True, slots=True)
class Issued:
    """A receipt just stored, as reading it back would give it (``repository.get``, ``rows_of``,
    ``payments_of``): so what the sale goes on to draw and answer needs no second read."""

    receipt: dict[str, Any]
    rows: list[dict[str, Any]]
    payments: list[dict[str, Any]]


def issue(conn: Connection, sale: ReceiptDraft) -> Issued:
    """Number, hash and store a receipt in the caller's transaction; returns its stored form.

    Raises ``Conflict`` if the receipt would take its shift past ``MAX_SHIFT_TOTAL``.
    """
    station = sale.station
    number, previous = repository.next_document_number(conn, station["id"])
    # After the station row's lock (the order close_shift takes too); the refusal rolls back.
    volume = repository.add_to_volume(conn, sale.shift_id, _cents(sale.price.total))
    check_shift_room(from_cents(volume))
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
        _row(position, line, priced)
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
    repository.set_chain_head(conn, station["id"], receipt["hash"])
    cash = frozenset(t.method.id for t in sale.settlement.tenders if t.method.is_cash)
    add_to_sales_totals(conn, receipt, rows, payments, cash)
    # What reads join in from the station and the shift (``repository._SELECT``).
    receipt["station_name"] = station["name"]
    receipt["station_pos_id"] = station["pos_id"]
    receipt["station_chassis_id"] = station["chassis_id"]
    receipt["z_number"] = sale.z_number
    return Issued(receipt, rows, payments)


def _row(position: int, line: SaleLine, priced: PricedLine) -> dict[str, Any]:
    """A receipt row's storage form; all of it refundable so far."""
    quantity, amount = to_thousandths(line.quantity), _cents(priced.total)
    return {
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
        "quantity": quantity,
        "amount": amount,
        "max_quantity": quantity,
        "max_amount": amount,
    }


def add_to_sales_totals(
    conn: Connection,
    receipt: dict[str, Any],
    rows: Sequence[dict[str, Any]],
    payments: Sequence[dict[str, Any]],
    cash_methods: frozenset[int],
) -> None:
    """Add a stored receipt (storage form, its ``station_id`` set) to the hourly sales sums
    the reports read (docs/reports.md): at issue, and at a chain's centre for a store's copy."""
    repository.add_to_sales(conn, receipt, sum(int(row["discount_amount"] or 0) for row in rows))
    repository.add_to_sales_detail(
        conn, receipt, _tax_parts(rows), _kept(payments, receipt["changed_amount"], cash_methods)
    )


def _tax_parts(rows: Sequence[dict[str, Any]]) -> dict[tuple[int, int], tuple[int, int, int, int]]:
    """(tax group, rate) → (gross, VAT, discounts, quantity) of a receipt's rows, in storage
    units; VAT per group and rate as ``domain.money.vat`` works it out."""
    sums: dict[tuple[int, int], list[int]] = {}
    for row in rows:
        entry = sums.setdefault((row["tax"], row["tax_rate"]), [0, 0, 0])
        entry[0] += row["amount"]
        entry[1] += row["discount_amount"]
        entry[2] += row["quantity"]
    return {
        (tax, rate): (gross, to_cents(vat(from_cents(gross), from_cents(rate))[1]), off, qty)
        for (tax, rate), (gross, off, qty) in sums.items()
    }


def _kept(
    payments: Sequence[dict[str, Any]], change: int, cash_methods: frozenset[int]
) -> dict[int, tuple[str, int]]:
    """Method → (name, cents kept): the change goes back out of the cash payments in order,
    as the Z-report counts it (``domain.shift.add_up``)."""
    kept: dict[int, tuple[str, int]] = {}
    for payment in payments:
        amount = int(payment["amount"])
        if payment["method"] in cash_methods and change:
            returned = min(change, amount)
            amount, change = amount - returned, change - returned
        _, before = kept.get(payment["method"], ("", 0))
        kept[payment["method"]] = (payment["method_name"], before + amount)
    return kept


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
    return to_cents(value)


# --- reading ---------------------------------------------------------------------------------


def children(
    conn: Connection, receipts: Sequence[Any]
) -> tuple[dict[int, list[Row]], dict[int, list[Row]]]:
    """The rows and the payments of ``receipts``, by receipt id (two queries for any number)."""
    ids = [r["id"] for r in receipts]
    rows: dict[int, list[Row]] = defaultdict(list)
    payments: dict[int, list[Row]] = defaultdict(list)
    for row in repository.rows_of(conn, ids):
        rows[row["receipt_id"]].append(row)
    for payment in repository.payments_of(conn, ids):
        payments[payment["receipt_id"]].append(payment)
    return rows, payments


def for_invoices(
    conn: Connection, invoice_ids: Sequence[int], zone: ZoneInfo
) -> dict[int, list[InvoiceReceiptOut]]:
    """The receipts of several invoices, by invoice id, in the invoice detail's shape."""
    receipts = repository.of_invoices(conn, invoice_ids)
    rows, payments = children(conn, receipts)
    found: dict[int, list[InvoiceReceiptOut]] = defaultdict(list)
    for r in receipts:
        found[r["invoice_id"]].append(
            shaped(INVOICE_RECEIPTS, r, rows[r["id"]], payments[r["id"]], zone)
        )
    return found


def for_invoice(conn: Connection, invoice_id: int, zone: ZoneInfo) -> list[InvoiceReceiptOut]:
    """``for_invoices`` of one invoice (its read by id, the API's hottest)."""
    receipts = repository.of_invoice(conn, invoice_id)
    if not receipts:
        return []
    rows, payments = children(conn, receipts)
    return [shaped(INVOICE_RECEIPTS, r, rows[r["id"]], payments[r["id"]], zone) for r in receipts]


def _pos_number(text: str | None) -> int | None:
    """``text`` as a POS number, or None: ASCII digits only (``str.isdigit`` also takes "²")
    and no more than a stored integer holds."""
    if not text or not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if number < 2**63 else None  # SQLite's and PostgreSQL's bigint


def search(conn: Connection, query: ReceiptQuery, zone: ZoneInfo) -> tuple[list[ReceiptOut], int]:
    pos = _pos_number(query.pos_id)
    if query.pos_id and pos is None:
        return [], 0  # POS numbers are digits that fit the column: nothing else can match
    from_us, to_us = period(query.from_, query.to, zone)
    receipts, total = repository.search(
        conn,
        {
            "pos_id": pos,
            "station_id": query.station_id,
            "z_number": query.z_number,
            "document_id": query.document_id,
            "store_id": None if query.store is None else store_named(conn, query.store),
            "from_us": from_us,
            "to_us": to_us,
            "cashier_id": query.cashier_id,
            "amount_min": _amount(query.amount_min, "amount_min"),
            "amount_max": _amount(query.amount_max, "amount_max"),
            "mode": query.mode,
            "payment_method": query.payment_method,
            "after_id": query.after_id,
        },
        limit=query.limit,
        offset=query.offset,
    )
    rows, payments = children(conn, receipts)
    return [shaped(RECEIPTS, r, rows[r["id"]], payments[r["id"]], zone) for r in receipts], total


def period(
    text_from: str | None, text_to: str | None, zone: ZoneInfo
) -> tuple[int | None, int | None]:
    """A ``from``/``to`` query pair as microseconds (``to`` exclusive); a bad one is a 400."""
    try:
        return parse_period(text_from, text_to, zone, ("from", "to"))
    except ValueError as exc:
        raise ValidationFailed.single((exc.args[0],), exc.args[1]) from None


def _amount(value: Decimal | None, name: str) -> int | None:
    """A money filter in cents; more than 2 decimals or past the money limits is a 400."""
    if value is None:
        return None
    if not value.is_finite() or value < 0 or value > MAX_TOTAL:
        raise ValidationFailed.single((name,), f"Ensure this value is between 0 and {MAX_TOTAL}.")
    try:
        return to_cents(value)
    except ValueError:
        raise ValidationFailed.single(
            (name,), "Ensure that there are no more than 2 decimal places."
        ) from None


def get_many(conn: Connection, receipt_ids: Sequence[int], zone: ZoneInfo) -> list[ReceiptOut]:
    """Several receipts in id order, in their API shape (a centre's batch of store copies)."""
    found = repository.by_ids(conn, receipt_ids)
    rows, payments = children(conn, found)
    return [shaped(RECEIPTS, r, rows[r["id"]], payments[r["id"]], zone) for r in found]


def store_named(conn: Connection, code: str) -> int:
    """The store a ``?store=`` filter names (a chain's centre); an unknown code is a 400."""
    store_id = repository.store_id_by_code(conn, code)
    if store_id is None:
        raise ValidationFailed.single(("store",), f"No store has code {code!r}.")
    return store_id


def get(conn: Connection, receipt_id: int, zone: ZoneInfo) -> ReceiptOut:
    found = repository.get(conn, receipt_id)
    if found is None:
        raise NotFound()
    rows, payments = children(conn, [found])
    return shaped(RECEIPTS, found, rows[found["id"]], payments[found["id"]], zone)


def issued_out(issued: Issued, zone: ZoneInfo) -> ReceiptOut:
    """A receipt just issued in its API shape, as :func:`get` would read it back."""
    return shaped(RECEIPTS, issued.receipt, issued.rows, issued.payments, zone)


def of_invoice(
    conn: Connection, invoice_id: int, issued: Issued | None, zone: ZoneInfo
) -> list[InvoiceReceiptOut]:
    """An invoice's receipts in the invoice detail's shape, as :func:`for_invoices` reads them;
    ``issued`` (a receipt of the invoice just issued) shaped as it is when it is the only one,
    as it is once the invoice completes (no read of the receipt back)."""
    if issued is not None and repository.ids_of_invoice(conn, invoice_id) == [issued.receipt["id"]]:
        return [shaped(INVOICE_RECEIPTS, issued.receipt, issued.rows, issued.payments, zone)]
    return for_invoice(conn, invoice_id, zone)
