"""Receipts, their rows and payments in SQL, and the fiscal counters kept on station and shift
rows (receipt numbers, chain head, shift volume)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from minipos import db
from minipos.db import Connection, Row, Table, insert_statement, select_in
from minipos.domain.receipt import ReceiptMode

REFUND_MODE = int(ReceiptMode.REFUND)

RECEIPT_COLUMNS = (
    "station_id", "shift_id", "invoice_id", "document_id", "mode", "state", "customer_id",
    "cashier_id", "cashier_name", "start_time", "print_time", "neto_amount", "bruto_amount",
    "changed_amount", "tax_amount", "discount", "discount_type", "discount_amount",
    "parent_station", "parent_document_id", "refunded_at", "request_id", "prev_hash", "hash",
)  # fmt: skip
ROW_COLUMNS = (
    "receipt_id", "position", "product_id", "product_name", "product_code", "barcode",
    "category_id", "category_name", "price", "tax", "tax_rate", "discount", "discount_type",
    "discount_amount", "quantity", "amount", "max_quantity", "max_amount",
)  # fmt: skip
PAYMENT_COLUMNS = (
    "receipt_id", "position", "method", "method_name", "method_code", "amount", "request_id",
    "transaction_id", "psp_reference", "poiid", "sale_id", "card_no",
)  # fmt: skip
_INSERT_RECEIPT = insert_statement("receipts", RECEIPT_COLUMNS)
ROWS = Table("receipt_rows", ROW_COLUMNS)
PAYMENTS = Table("receipt_payments", PAYMENT_COLUMNS)
#: A receipt with what its shapes repeat from the station and the shift.
_SELECT = (
    "SELECT r.id, " + ", ".join(f"r.{c}" for c in RECEIPT_COLUMNS) + ", st.name AS station_name,"
    " st.pos_id AS station_pos_id, st.chassis_id AS station_chassis_id, s.z_number"
    " FROM receipts r JOIN stations st ON st.id = r.station_id JOIN shifts s ON s.id = r.shift_id"
)


def insert(
    conn: Connection,
    receipt: dict[str, Any],
    rows: list[dict[str, Any]],
    payments: list[dict[str, Any]],
) -> None:
    """Insert a receipt with its rows and payments; fills in the new ``id``s."""
    receipt["id"] = conn.insert(_INSERT_RECEIPT, receipt)
    for children, table in ((rows, ROWS), (payments, PAYMENTS)):
        for child in children:
            child["receipt_id"] = receipt["id"]
        for child, new_id in zip(children, conn.insert_many(table.insert, children), strict=True):
            child["id"] = new_id


def get(conn: Connection, receipt_id: int) -> Row | None:
    return conn.fetchone(_SELECT + " WHERE r.id = :id", {"id": receipt_id})


def by_ids(conn: Connection, receipt_ids: Sequence[int]) -> list[Row]:
    """Several receipts in id order, in one query per 512."""
    return list(select_in(conn, _SELECT + " WHERE r.id IN ({}) ORDER BY r.id", set(receipt_ids)))


def by_request(conn: Connection, station_id: int, request_id: str) -> Row | None:
    return conn.fetchone(
        _SELECT + " WHERE r.station_id = :station AND r.request_id = :request",
        {"station": station_id, "request": request_id},
    )


def by_document(conn: Connection, station_id: int, document_id: str) -> Row | None:
    return conn.fetchone(
        _SELECT + " WHERE r.station_id = :station AND r.document_id = :document",
        {"station": station_id, "document": document_id},
    )


def of_invoices(conn: Connection, invoice_ids: Sequence[int]) -> list[Row]:
    """The receipts of several invoices in one query; each invoice's in issue order."""
    return select_in(
        conn,
        _SELECT + " WHERE r.invoice_id IN ({}) ORDER BY r.invoice_id, r.id",
        set(invoice_ids),
    )


def of_invoice(conn: Connection, invoice_id: int) -> list[Row]:
    # A plain ``= :id``: cheaper than select_in's IN list on every read of an invoice by id.
    return conn.fetchall(_SELECT + " WHERE r.invoice_id = :id ORDER BY r.id", {"id": invoice_id})


def ids_of_invoice(conn: Connection, invoice_id: int) -> list[int]:
    """The ids of an invoice's receipts, in issue order (``ix_receipts_invoice``)."""
    rows = conn.fetchall(
        "SELECT id FROM receipts WHERE invoice_id = :id ORDER BY id", {"id": invoice_id}
    )
    return [int(row["id"]) for row in rows]


def of_shift(conn: Connection, shift_id: int) -> list[Row]:
    return conn.fetchall(_SELECT + " WHERE r.shift_id = :id ORDER BY r.id", {"id": shift_id})


def of_station(conn: Connection, station_id: int) -> list[Row]:
    """Every receipt of a station in issue order (for verification)."""
    return conn.fetchall(
        _SELECT.replace("SELECT r.id, ", "SELECT r.id, r.chain_ids, ", 1)
        + " WHERE r.station_id = :id ORDER BY r.id",
        {"id": station_id},
    )


def _children(conn: Connection, table: Table, ids: Sequence[int]) -> list[Row]:
    # select_in asks in ascending chunks of ids, so the rows come back in receipt order.
    return select_in(
        conn, table.select + " WHERE receipt_id IN ({}) ORDER BY receipt_id, position", set(ids)
    )


def rows_of(conn: Connection, receipt_ids: Sequence[int]) -> list[Row]:
    """The rows of several receipts in one query (no N+1 on lists)."""
    return _children(conn, ROWS, receipt_ids)


def payments_of(conn: Connection, receipt_ids: Sequence[int]) -> list[Row]:
    return _children(conn, PAYMENTS, receipt_ids)


def lower_refundable(conn: Connection, row_id: int, quantity: int, amount: int) -> None:
    conn.execute(
        "UPDATE receipt_rows SET max_quantity = max_quantity - :quantity,"
        " max_amount = max_amount - :amount WHERE id = :id",
        {"quantity": quantity, "amount": amount, "id": row_id},
    )


def mark_refunded(conn: Connection, receipt_id: int, now_us: int) -> None:
    conn.execute(
        "UPDATE receipts SET refunded_at = :now WHERE id = :id", {"now": now_us, "id": receipt_id}
    )


_FILTERS = {
    "pos_id": "st.pos_number = :pos_id",
    "station_id": "r.station_id = :station_id",
    "z_number": "s.z_number = :z_number",
    "document_id": "r.document_id = :document_id",
    "store_id": "st.store_id = :store_id",
    "from_us": "r.print_time >= :from_us",
    "to_us": "r.print_time < :to_us",
    "cashier_id": "r.cashier_id = :cashier_id",
    "amount_min": "r.bruto_amount >= :amount_min",
    "amount_max": "r.bruto_amount <= :amount_max",
    "mode": "r.mode = :mode",
    "payment_method": (
        "EXISTS (SELECT 1 FROM receipt_payments p"
        " WHERE p.receipt_id = r.id AND p.method = :payment_method)"
    ),
    "after_id": "r.id > :after_id",
}


#: A period at most this long is read through ``ix_receipts_print_time`` and then sorted.
_SHORT_PERIOD_US = 92 * 86_400_000_000


def _order(filters: dict[str, Any]) -> str:
    """``r.id``, or ``r.id + 0`` for a short period: otherwise PostgreSQL walks the primary key
    from the oldest receipt to find the period's first ones (650 ms for the last month of a
    year of 1,000,000 receipts; ~100 ms through the time index and a sort)."""
    start, end = filters.get("from_us"), filters.get("to_us")
    if start is not None and end is not None and end - start <= _SHORT_PERIOD_US:
        return "r.id + 0"
    return "r.id"


def search(
    conn: Connection, filters: dict[str, Any], *, limit: int, offset: int
) -> tuple[list[Row], int]:
    return db.search(
        conn,
        select=_SELECT,
        count_from=(
            "receipts r JOIN stations st ON st.id = r.station_id JOIN shifts s ON s.id = r.shift_id"
        ),
        conditions=_FILTERS,
        filters=filters,
        order_by=_order(filters),
        limit=limit,
        offset=offset,
    )


def store_id_by_code(conn: Connection, code: str) -> int | None:
    """A chain's store by its code (the ``stores`` table is empty outside a centre)."""
    row = conn.fetchone("SELECT id FROM stores WHERE code = :code", {"code": code})
    return None if row is None else int(row["id"])


# --- the fiscal counters on station and shift rows ---------------------------------------------


def next_document_number(conn: Connection, station_id: int) -> tuple[int, str]:
    """The station's next receipt number and its chain head; locks the station row."""
    row = conn.fetchone(
        "UPDATE stations SET last_document_id = last_document_id + 1 WHERE id = :id"
        " RETURNING last_document_id, chain_head",
        {"id": station_id},
    )
    assert row is not None
    return int(row["last_document_id"]), str(row["chain_head"])


def set_chain_head(conn: Connection, station_id: int, head: str) -> None:
    conn.execute(
        "UPDATE stations SET chain_head = :head WHERE id = :id", {"head": head, "id": station_id}
    )


def add_to_volume(conn: Connection, shift_id: int, amount: int) -> int:
    """Add a receipt's total (cents) to its shift's running sum; returns the new sum."""
    row = conn.fetchone(
        "UPDATE shifts SET volume = volume + :amount WHERE id = :id RETURNING volume",
        {"amount": amount, "id": shift_id},
    )
    assert row is not None
    return int(row["volume"])


#: One hour of ``sales_hourly`` (docs/reports.md), in µs.
HOUR_US = 3_600_000_000


def add_to_sales(conn: Connection, receipt: dict[str, Any], discounts: int) -> None:
    """Add a receipt to its station's hour of ``sales_hourly`` (in the receipt's transaction,
    after the station row's lock, so two receipts of one station never race for the row)."""
    sign = -1 if receipt["mode"] == REFUND_MODE else 1
    conn.execute(
        "INSERT INTO sales_hourly (hour, station_id, sale_count, refund_count, gross, net, vat,"
        " refunds, discounts) VALUES (:hour, :station, :sales, :refund_count, :gross, :net,"
        " :vat, :refunds, :discounts) ON CONFLICT (hour, station_id) DO UPDATE SET"
        " sale_count = sales_hourly.sale_count + excluded.sale_count,"
        " refund_count = sales_hourly.refund_count + excluded.refund_count,"
        " gross = sales_hourly.gross + excluded.gross, net = sales_hourly.net + excluded.net,"
        " vat = sales_hourly.vat + excluded.vat,"
        " refunds = sales_hourly.refunds + excluded.refunds,"
        " discounts = sales_hourly.discounts + excluded.discounts",
        {
            "hour": receipt["print_time"] // HOUR_US * HOUR_US,
            "station": receipt["station_id"],
            "sales": 0 if sign < 0 else 1,
            "refund_count": 1 if sign < 0 else 0,
            "gross": sign * receipt["bruto_amount"],
            "net": sign * receipt["neto_amount"],
            "vat": sign * receipt["tax_amount"],
            "refunds": receipt["bruto_amount"] if sign < 0 else 0,
            "discounts": sign * discounts,
        },
    )


_ADD_TAX = (
    "INSERT INTO sales_hourly_tax (hour, station_id, tax, tax_rate, sale_count, refund_count,"
    " gross, vat, refunds, discounts, quantity) VALUES (:hour, :station, :tax, :tax_rate,"
    " :sales, :refund_count, :gross, :vat, :refunds, :discounts, :quantity)"
    " ON CONFLICT (hour, station_id, tax, tax_rate) DO UPDATE SET"
    " sale_count = sales_hourly_tax.sale_count + excluded.sale_count,"
    " refund_count = sales_hourly_tax.refund_count + excluded.refund_count,"
    " gross = sales_hourly_tax.gross + excluded.gross,"
    " vat = sales_hourly_tax.vat + excluded.vat,"
    " refunds = sales_hourly_tax.refunds + excluded.refunds,"
    " discounts = sales_hourly_tax.discounts + excluded.discounts,"
    " quantity = sales_hourly_tax.quantity + excluded.quantity"
)
_ADD_PAYMENT = (
    "INSERT INTO sales_hourly_payment (hour, station_id, method, method_name, sale_count,"
    " refund_count, gross, refunds) VALUES (:hour, :station, :method, :method_name, :sales,"
    " :refund_count, :gross, :refunds) ON CONFLICT (hour, station_id, method) DO UPDATE SET"
    " method_name = excluded.method_name,"
    " sale_count = sales_hourly_payment.sale_count + excluded.sale_count,"
    " refund_count = sales_hourly_payment.refund_count + excluded.refund_count,"
    " gross = sales_hourly_payment.gross + excluded.gross,"
    " refunds = sales_hourly_payment.refunds + excluded.refunds"
)


def add_to_sales_detail(
    conn: Connection,
    receipt: dict[str, Any],
    taxes: dict[tuple[int, int], tuple[int, int, int, int]],
    payments: dict[int, tuple[str, int]],
) -> None:
    """Add a receipt to its hour's sums per tax group and rate (``taxes``: (tax, rate) →
    (gross, VAT, discounts, quantity)) and per payment method (``payments``: method →
    (name, amount kept)); all unsigned, as the receipt has them."""
    refund = receipt["mode"] == REFUND_MODE
    sign = -1 if refund else 1
    common = {
        "hour": receipt["print_time"] // HOUR_US * HOUR_US,
        "station": receipt["station_id"],
        "sales": 0 if refund else 1,
        "refund_count": 1 if refund else 0,
    }
    if taxes:
        conn.execute_many(
        _ADD_TAX,
        [
            {
                **common, "tax": tax, "tax_rate": rate, "gross": sign * gross, "vat": sign * vat,
                "refunds": gross if refund else 0, "discounts": sign * discounts,
                "quantity": sign * quantity,
            }
            for (tax, rate), (gross, vat, discounts, quantity) in sorted(taxes.items())
        ],
    )  # fmt: skip
    if payments:
        conn.execute_many(
        _ADD_PAYMENT,
        [
            {
                **common, "method": method, "method_name": name, "gross": sign * kept,
                "refunds": kept if refund else 0,
            }
            for method, (name, kept) in sorted(payments.items())
        ],
    )  # fmt: skip


# --- what the audit reads -----------------------------------------------------------------------


def chains(conn: Connection) -> list[Row]:
    """Every station's chain: its head, how many numbers it issued, its grand total. At a
    chain's centre a store's station is named with its store's code (every store has a POS 1)."""
    return conn.fetchall(
        "SELECT st.id, COALESCE(so.code || ' ', '') || st.name AS name, st.chain_head,"
        " st.last_document_id, st.grand_total"
        " FROM stations st LEFT JOIN stores so ON so.id = st.store_id ORDER BY st.id"
    )


def z_reports(conn: Connection, station_id: int) -> list[Row]:
    """A station's shifts in Z order, with what their Z-report stored."""
    return conn.fetchall(
        "SELECT id, z_number, volume, close_date, grand_total, report, hash FROM shifts"
        " WHERE station_id = :id ORDER BY id",
        {"id": station_id},
    )
