"""Invoices in SQL: storing and reading them, and their lifecycle (the station's waiting list,
claim, release, cancel, lease expiry, done). Values are in storage form (cents, thousandths, µs)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from minipos import db
from minipos.auth.access import INVOICE_SEEN_BY
from minipos.db import Connection, Row, Table, select_in, tuples
from minipos.domain.invoice import InvoiceStatus

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


#: Each table's columns once: the POST inserts positionally (SQLite binds ~250 named values
#: an invoice slower) and the reads below give tuples in the same order, ``id`` first.
HEADERS = Table("invoices", HEADER_COLUMNS)
#: At a chain's centre: an invoice posted for a store (its number is unique in that store).
STORE_HEADERS = Table("invoices", (*HEADER_COLUMNS, "store_id", "down_revision"))
ROWS = Table("invoice_rows", ROW_COLUMNS)
PAYMENTS = Table("invoice_payments", PAYMENT_COLUMNS)


def insert(
    conn: Connection,
    header: dict[str, Any],
    rows: list[dict[str, Any]],
    payments: list[dict[str, Any]],
) -> None:
    """Insert an invoice with its rows and payments; fills in the new ``id``s. A header with
    ``store_id`` (and ``down_revision``) is a centre's invoice for that store."""
    table = STORE_HEADERS if "store_id" in header else HEADERS
    header["id"] = conn.insert_values(table.insert, table.values(header))
    _insert_children(conn, header["id"], rows, payments)


def _insert_children(
    conn: Connection, invoice_id: int, rows: list[dict[str, Any]], payments: list[dict[str, Any]]
) -> None:
    """An invoice's rows and payments, a statement each; fills in their ``id``s."""
    for children, table in ((rows, ROWS), (payments, PAYMENTS)):
        for child in children:
            child["invoice_id"] = invoice_id
        new_ids = conn.insert_many_values(table.insert, [table.values(c) for c in children])
        for child, new_id in zip(children, new_ids, strict=True):
            child["id"] = new_id


def get(conn: Connection, invoice_id: int, seen_by: int | None = None) -> Row | None:
    """The invoice; with ``seen_by``, only if that station may see it."""
    if seen_by is None:
        return conn.fetchone(HEADERS.select + " WHERE id = :id", {"id": invoice_id})
    return conn.fetchone(
        f"{HEADERS.select} WHERE id = :id AND {INVOICE_SEEN_BY}",
        {"id": invoice_id, "seen_by": seen_by},
    )


def get_tuple(
    conn: Connection, invoice_id: int, seen_by: int | None = None
) -> tuple[Any, ...] | None:
    """``get`` as ``HEADERS.as_tuple`` gives it."""
    row = get(conn, invoice_id, seen_by)
    return None if row is None else tuples(conn, [row])[0]


def row_tuples_of(conn: Connection, invoice_id: int) -> list[tuple[Any, ...]]:
    """One invoice's rows in order (as ``ROWS.as_tuple``). A plain ``= :id``: one invoice's read is
    the API's hottest, and ``select_in``'s padded IN list costs more to bind and run."""
    return tuples(
        conn,
        conn.fetchall(
            ROWS.select + " WHERE invoice_id = :id ORDER BY position", {"id": invoice_id}
        ),
    )


def payment_tuples_of(conn: Connection, invoice_id: int) -> list[tuple[Any, ...]]:
    """One invoice's payments in order (as ``PAYMENTS.as_tuple``)."""
    return tuples(
        conn,
        conn.fetchall(
            PAYMENTS.select + " WHERE invoice_id = :id ORDER BY position", {"id": invoice_id}
        ),
    )


def get_by_number(conn: Connection, invoice_no: str, store_id: int | None = None) -> Row | None:
    """The invoice with this number: numbers are unique per store at a centre."""
    if store_id is None:
        return conn.fetchone(
            HEADERS.select + " WHERE invoice_no = :no AND store_id IS NULL", {"no": invoice_no}
        )
    return conn.fetchone(
        HEADERS.select + " WHERE invoice_no = :no AND store_id = :store",
        {"no": invoice_no, "store": store_id},
    )


# --- a chain's centre: invoices posted for a store (docs/stores.md, "Down") -----------------


def store_by_code(conn: Connection, code: str) -> Row | None:
    """A store of the chain (the ``stores`` table is empty outside a centre)."""
    return conn.fetchone("SELECT id, code FROM stores WHERE code = :code", {"code": code})


def take_down_revision(conn: Connection, store_id: int) -> int:
    """Number the next invoice for the store. The UPDATE holds the store's row lock until
    commit, so its invoices commit in revision order and a pull cursor never skips one."""
    row = conn.fetchone(
        "UPDATE stores SET down_revision = down_revision + 1 WHERE id = :id"
        " RETURNING down_revision",
        {"id": store_id},
    )
    assert row is not None, "the store was found before"
    return int(row["down_revision"])


def ownership(conn: Connection, invoice_id: int) -> Row | None:
    """Whose an invoice is at a centre: its store (code), and whether it was delivered."""
    return conn.fetchone(
        "SELECT i.store_id, i.down_revision, i.delivered_at, s.code AS store_code"
        " FROM invoices i LEFT JOIN stores s ON s.id = i.store_id WHERE i.id = :id",
        {"id": invoice_id},
    )


def down_page(conn: Connection, store_id: int, after: int, limit: int) -> list[Row]:
    """The next centre-posted invoices of a store after its cursor, delivered or not."""
    return conn.fetchall(
        "SELECT id, down_revision FROM invoices WHERE store_id = :store"
        " AND down_revision > :after ORDER BY down_revision LIMIT :limit",
        {"store": store_id, "after": after, "limit": limit},
    )


def deliver(conn: Connection, invoice_ids: Collection[int], now_us: int) -> list[Row]:
    """Mark as delivered those still New and undelivered, then give every delivered one of
    ``invoice_ids``: a cancel at the centre won before (never served), a lost answer is
    served again. The UPDATE takes the row locks a centre cancel waits on."""
    if not invoice_ids:
        return []
    marks = ", ".join(f":i{n}" for n in range(len(invoice_ids)))
    ids = {f"i{n}": i for n, i in enumerate(invoice_ids)}
    conn.execute(
        f"UPDATE invoices SET delivered_at = :now WHERE id IN ({marks})"
        f" AND status = {NEW} AND delivered_at IS NULL",
        {**ids, "now": now_us},
    )
    return conn.fetchall(
        f"SELECT id, down_revision, {', '.join(HEADER_COLUMNS)} FROM invoices"
        f" WHERE id IN ({marks}) AND delivered_at IS NOT NULL ORDER BY down_revision",
        ids,
    )


def existing_common_ids(conn: Connection, common_ids: Collection[int]) -> set[int]:
    """Which of the centre's invoices this store already holds (a page pulled again)."""
    return {
        int(r["common_id"])
        for r in select_in(
            conn, "SELECT common_id FROM invoices WHERE common_id IN ({})", common_ids
        )
    }


def rows_of(conn: Connection, invoice_id: int) -> list[Row]:
    return rows_of_many(conn, [invoice_id])


def payments_of(conn: Connection, invoice_id: int) -> list[Row]:
    return payments_of_many(conn, [invoice_id])


def rows_of_many(conn: Connection, invoice_ids: Collection[int]) -> list[Row]:
    """The rows of several invoices in one query (no N+1 on lists), each invoice's in order."""
    return _children(conn, ROWS, invoice_ids)


def payments_of_many(conn: Connection, invoice_ids: Collection[int]) -> list[Row]:
    return _children(conn, PAYMENTS, invoice_ids)


def _children(conn: Connection, table: Table, invoice_ids: Collection[int]) -> list[Row]:
    # select_in asks in ascending chunks of ids, so the rows come back grouped by invoice.
    return select_in(
        conn,
        table.select + " WHERE invoice_id IN ({}) ORDER BY invoice_id, position",
        set(invoice_ids),
    )


#: Filter name → SQL condition; every filter of the list endpoint is one of these.
_FILTERS = {
    "status": "status = :status",
    "mode": "mode = :mode",
    "invoice_no": "invoice_no = :invoice_no",
    "pos_id": "pos_id = :pos_id",
    "station_group": "station_group = :station_group",
    "store_id": "store_id = :store_id",
    "seen_by": INVOICE_SEEN_BY,
    "created_from": "created_at >= :created_from",
    "created_to": "created_at <= :created_to",
    "updated_since": "updated_at >= :updated_since",
    "after_id": "id > :after_id",
}


def search(
    conn: Connection, filters: Mapping[str, Any], *, limit: int, offset: int
) -> tuple[list[tuple[Any, ...]], int]:
    """One page of invoices in id order (as ``HEADERS.as_tuple``), and how many match in all."""
    rows, total = db.search(
        conn,
        select=HEADERS.select,
        count_from="invoices",
        conditions=_FILTERS,
        filters=filters,
        order_by="id",
        limit=limit,
        offset=offset,
    )
    return tuples(conn, rows), total


# --- the lifecycle ------------------------------------------------------------------------------

NEW, OPENED, DONE = int(InvoiceStatus.NEW), int(InvoiceStatus.OPENED), int(InvoiceStatus.DONE)
#: Invoices a station may take: its own pos_id, or none within its group (the same rule as
#: ``auth.access.may_take``, in SQL).
_TAKEABLE = "station_group = :group AND (pos_id IS NULL OR pos_id = :pos)"
#: Claimable: New, or Opened under a lease that ran out (or already held by this station).
_CLAIMABLE = (
    f"(status = {NEW} OR (status = {OPENED} AND (station = :station OR lease_expires_at < :now)))"
)

#: Waiting for a station, as four index range scans (New for any POS of the group, New for this
#: POS, held by this station, lease run out) merged by id: one OR'ed condition would scan every
#: New invoice.
_WAITING = " UNION ".join(
    f"SELECT id FROM (SELECT id FROM invoices WHERE {where} ORDER BY id LIMIT :limit) AS part{n}"
    for n, where in enumerate(
        (
            f"status = {NEW} AND station_group = :group AND pos_id IS NULL",
            f"status = {NEW} AND station_group = :group AND pos_id = :pos",
            f"status = {OPENED} AND station = :station",
            f"status = {OPENED} AND lease_expires_at < :now AND {_TAKEABLE}",
        )
    )
)


def _station_params(station: Row, now_us: int) -> dict[str, Any]:
    return {
        "group": station["station_group"],
        "pos": station["pos_number"],
        "station": station["id"],
        "now": now_us,
    }


def waiting_for(conn: Connection, station: Row, now_us: int, limit: int) -> list[tuple[Any, ...]]:
    """The invoices a station may take, and those it holds, oldest first (one statement; as
    ``HEADERS.as_tuple``)."""
    found = conn.fetchall(
        f"{HEADERS.select} WHERE id IN"
        f" (SELECT id FROM ({_WAITING}) AS waiting ORDER BY id LIMIT :limit) ORDER BY id",
        {**_station_params(station, now_us), "limit": limit},
    )
    return tuples(conn, found)


def claim(conn: Connection, invoice_id: int, station: Row, now_us: int, lease_us: int) -> bool:
    """Take (or renew) the invoice for ``station`` if nobody else holds it. Atomic: of two
    stations racing, the second UPDATE re-reads the row after the first commits and misses."""
    cursor = conn.execute(
        f"UPDATE invoices SET status = {OPENED}, station = :station,"
        " lease_expires_at = :expires, updated_at = :now"
        f" WHERE id = :id AND {_TAKEABLE} AND {_CLAIMABLE}",
        {**_station_params(station, now_us), "id": invoice_id, "expires": now_us + lease_us},
    )
    return int(cursor.rowcount) == 1


#: The first of the two int4 keys of the advisory locks on automatic invoice numbers. Locks on
#: two int4 keys never meet locks on one bigint key (the event log's numbering lock).
_NUMBER_LOCKS = 0x4D504F49  # "MPOI"


def reserve_number(conn: Connection, invoice_no: str) -> bool:
    """Claim ``invoice_no`` for this transaction, or ``False`` at once if another transaction
    is trying it now. Only PostgreSQL runs writers side by side; with SQLite's one writer the
    number is always free of others in flight."""
    if conn.dialect != "postgresql":
        return True
    row = conn.fetchone(
        "SELECT pg_try_advisory_xact_lock(:space, hashtext(:number)) AS ours",
        {"space": _NUMBER_LOCKS, "number": invoice_no},
    )
    return bool(row and row["ours"])


def lock(conn: Connection, invoice_id: int) -> None:
    """Take the invoice's row lock for the rest of the transaction. Only PostgreSQL runs
    writers side by side; SQLite's one writer runs each job alone, so it needs no statement."""
    if conn.dialect == "postgresql":
        # FOR UPDATE locks the row without writing a new version of it, as UPDATE would.
        conn.execute("SELECT id FROM invoices WHERE id = :id FOR UPDATE", {"id": invoice_id})


def set_status(
    conn: Connection, invoice_id: int, status: int, now_us: int, *, station: int | None
) -> None:
    conn.execute(
        "UPDATE invoices SET status = :status, station = :station, lease_expires_at = NULL,"
        " updated_at = :now WHERE id = :id",
        {"status": status, "station": station, "now": now_us, "id": invoice_id},
    )


def expire_leases(conn: Connection, now_us: int) -> list[int]:
    """Put invoices whose claim ran out back to New; their ids."""
    rows = conn.fetchall(
        f"UPDATE invoices SET status = {NEW}, station = NULL, lease_expires_at = NULL,"
        f" updated_at = :now WHERE status = {OPENED} AND lease_expires_at < :now RETURNING id",
        {"now": now_us},
    )
    return sorted(row["id"] for row in rows)


def mark_done(conn: Connection, invoice_id: int, values: Mapping[str, Any]) -> None:
    conn.execute(
        f"UPDATE invoices SET status = {DONE}, lease_expires_at = NULL,"
        " station = :station, printed_at = :printed_at, print_station = :print_station,"
        " print_pos_id = :print_pos_id, print_chassis_id = :print_chassis_id,"
        " check_num = :check_num, total_sum = :total_sum, changed_sum = :changed_sum,"
        " complete_request_id = :complete_request_id, updated_at = :updated_at,"
        " report = :report WHERE id = :id",
        {"report": None, **values, "id": invoice_id},
    )


def update_row(conn: Connection, row_id: int, quantity: int, price: int, tax_rate: int) -> None:
    """A row as sold: the quantity weighed, the price given for a free-price row, the VAT rate
    in force when the receipt was issued."""
    conn.execute(
        "UPDATE invoice_rows SET quantity = :quantity, price = :price, tax_rate = :tax_rate"
        " WHERE id = :id",
        {"quantity": quantity, "price": price, "tax_rate": tax_rate, "id": row_id},
    )
