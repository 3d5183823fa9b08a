"""Invoice rows in SQL. Values are already in storage form (cents, thousandths, µs)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from minipos.db import Connection, Row

HEADER_COLUMNS = (
    "invoice_no", "mode", "status", "pos_id", "station_group", "station", "discount",
    "discount_type", "comment", "print_paper_receipt", "keep_drawer_closed", "is_auto_open",
    "info", "total_sum", "changed_sum", "printed_at", "print_station", "print_pos_id",
    "print_chassis_id", "check_num", "report", "common_id", "synchronized_at", "created_at",
    "updated_at", "request_hash",
)  # fmt: skip
ROW_COLUMNS = (
    "invoice_id", "position", "code", "text", "quantity", "maxquantity", "init_quantity",
    "price", "is_free_price", "is_weight", "tax", "tax_rate", "fiscal_section", "discount",
    "discount_type", "payload", "info",
)  # fmt: skip
PAYMENT_COLUMNS = ("invoice_id", "position", "method_id", "method_name", "amount")


def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    names = ", ".join(columns)
    values = ", ".join(f":{c}" for c in columns)
    return f"INSERT INTO {table} ({names}) VALUES ({values}) RETURNING id"


_INSERT_HEADER = _insert_sql("invoices", HEADER_COLUMNS)
_INSERT_ROW = _insert_sql("invoice_rows", ROW_COLUMNS)
_INSERT_PAYMENT = _insert_sql("invoice_payments", PAYMENT_COLUMNS)
_SELECT_HEADER = "SELECT id, " + ", ".join(HEADER_COLUMNS) + " FROM invoices"


def insert(
    conn: Connection,
    header: dict[str, Any],
    rows: list[dict[str, Any]],
    payments: list[dict[str, Any]],
) -> None:
    """Insert an invoice with its rows and payments; fills in the new ``id``s."""
    header["id"] = conn.insert(_INSERT_HEADER, header)
    for row in rows:
        row["invoice_id"] = header["id"]
        row["id"] = conn.insert(_INSERT_ROW, row)
    for payment in payments:
        payment["invoice_id"] = header["id"]
        payment["id"] = conn.insert(_INSERT_PAYMENT, payment)


def get(conn: Connection, invoice_id: int) -> Row | None:
    return conn.fetchone(_SELECT_HEADER + " WHERE id = :id", {"id": invoice_id})


def get_by_number(conn: Connection, invoice_no: str) -> Row | None:
    return conn.fetchone(_SELECT_HEADER + " WHERE invoice_no = :no", {"no": invoice_no})


def rows_of(conn: Connection, invoice_id: int) -> list[Row]:
    return conn.fetchall(
        "SELECT id, " + ", ".join(ROW_COLUMNS) + " FROM invoice_rows"
        " WHERE invoice_id = :id ORDER BY position",
        {"id": invoice_id},
    )


def payments_of(conn: Connection, invoice_id: int) -> list[Row]:
    return conn.fetchall(
        "SELECT id, " + ", ".join(PAYMENT_COLUMNS) + " FROM invoice_payments"
        " WHERE invoice_id = :id ORDER BY position",
        {"id": invoice_id},
    )


#: Filter name → SQL condition; every filter of the list endpoint is one of these.
_FILTERS = {
    "status": "status = :status",
    "mode": "mode = :mode",
    "invoice_no": "invoice_no = :invoice_no",
    "pos_id": "pos_id = :pos_id",
    "station_group": "station_group = :station_group",
    "created_from": "created_at >= :created_from",
    "created_to": "created_at <= :created_to",
    "updated_since": "updated_at >= :updated_since",
    "after_id": "id > :after_id",
}


def search(
    conn: Connection, filters: Mapping[str, Any], *, limit: int, offset: int
) -> tuple[list[Row], int]:
    """One page of invoices in id order, and how many match in all."""
    given = {name: value for name, value in filters.items() if value is not None}
    where = " AND ".join(_FILTERS[name] for name in given) or "1 = 1"
    page = conn.fetchall(
        f"{_SELECT_HEADER} WHERE {where} ORDER BY id LIMIT :limit OFFSET :offset",
        {**given, "limit": limit, "offset": offset},
    )
    counted = {k: v for k, v in given.items() if k != "after_id"}
    count_where = " AND ".join(_FILTERS[name] for name in counted) or "1 = 1"
    total = conn.fetchone(f"SELECT count(*) AS n FROM invoices WHERE {count_where}", counted)
    return page, int(total["n"]) if total else 0
