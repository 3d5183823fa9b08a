"""Invoice rows in SQL. Values are already in storage form (cents, thousandths, µs)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from minipos import db
from minipos.auth.access import INVOICE_SEEN_BY
from minipos.db import Connection, Row, insert_statement

HEADER_COLUMNS = (
    "invoice_no", "mode", "status", "pos_id", "station_group", "station", "discount",
    "discount_type", "comment", "print_paper_receipt", "keep_drawer_closed", "is_auto_open",
    "info", "total_sum", "changed_sum", "printed_at", "print_station", "print_pos_id",
    "print_chassis_id", "check_num", "report", "common_id", "synchronized_at", "created_at",
    "updated_at", "request_hash", "lease_expires_at", "complete_request_id", "parent_document_id",
    "parent_pos_id", "created_by",
)  # fmt: skip
ROW_COLUMNS = (
    "invoice_id", "position", "code", "text", "quantity", "maxquantity", "init_quantity",
    "price", "is_free_price", "is_weight", "tax", "tax_rate", "fiscal_section", "discount",
    "discount_type", "payload", "info",
)  # fmt: skip
PAYMENT_COLUMNS = ("invoice_id", "position", "method_id", "method_name", "amount")


_INSERT_HEADER = insert_statement("invoices", HEADER_COLUMNS)
_INSERT_ROW = insert_statement("invoice_rows", ROW_COLUMNS)
_INSERT_PAYMENT = insert_statement("invoice_payments", PAYMENT_COLUMNS)
_SELECT_HEADER = "SELECT id, " + ", ".join(HEADER_COLUMNS) + " FROM invoices"


def insert(
    conn: Connection,
    header: dict[str, Any],
    rows: list[dict[str, Any]],
    payments: list[dict[str, Any]],
) -> None:
    """Insert an invoice with its rows and payments; fills in the new ``id``s."""
    header["id"] = conn.insert(_INSERT_HEADER, header)
    for children, statement in ((rows, _INSERT_ROW), (payments, _INSERT_PAYMENT)):
        for child in children:
            child["invoice_id"] = header["id"]
        for child, new_id in zip(children, conn.insert_many(statement, children), strict=True):
            child["id"] = new_id


def get(conn: Connection, invoice_id: int, seen_by: int | None = None) -> Row | None:
    """The invoice; with ``seen_by``, only if that station may see it."""
    if seen_by is None:
        return conn.fetchone(_SELECT_HEADER + " WHERE id = :id", {"id": invoice_id})
    return conn.fetchone(
        f"{_SELECT_HEADER} WHERE id = :id AND {INVOICE_SEEN_BY}",
        {"id": invoice_id, "seen_by": seen_by},
    )


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
    "seen_by": INVOICE_SEEN_BY,
    "created_from": "created_at >= :created_from",
    "created_to": "created_at <= :created_to",
    "updated_since": "updated_at >= :updated_since",
    "after_id": "id > :after_id",
}


def search(
    conn: Connection, filters: Mapping[str, Any], *, limit: int, offset: int
) -> tuple[list[Row], int]:
    """One page of invoices in id order, and how many match in all."""
    return db.search(
        conn,
        select=_SELECT_HEADER,
        count_from="invoices",
        conditions=_FILTERS,
        filters=filters,
        order_by="id",
        limit=limit,
        offset=offset,
    )
