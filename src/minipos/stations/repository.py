"""Stations, shifts and the invoice claim in SQL."""

from __future__ import annotations

from typing import Any

from minipos import db
from minipos.db import Connection, Row, insert_statement
from minipos.domain.invoice import InvoiceStatus

STATION_COLUMNS = (
    "name", "pos_id", "pos_number", "chassis_id", "station_group", "last_document_id",
    "last_z_number", "grand_total", "chain_head", "created_at",
)  # fmt: skip
SHIFT_COLUMNS = (
    "station_id", "z_number", "start_date", "close_date", "grand_total", "start_employee",
    "start_employee_name", "close_employee", "close_employee_name", "common_shift", "report",
    "hash", "volume",
)  # fmt: skip
_INSERT_STATION = insert_statement("stations", STATION_COLUMNS)
_INSERT_SHIFT = insert_statement("shifts", SHIFT_COLUMNS)
_SELECT_STATION = "SELECT id, " + ", ".join(STATION_COLUMNS) + " FROM stations"
#: A shift with the station fields its documented shape repeats.
_SELECT_SHIFT = (
    "SELECT s.id, " + ", ".join(f"s.{c}" for c in SHIFT_COLUMNS) + ", st.name AS station_name,"
    " st.pos_id AS station_pos_id, st.chassis_id AS station_chassis_id"
    " FROM shifts s JOIN stations st ON st.id = s.station_id"
)

NEW, OPENED = int(InvoiceStatus.NEW), int(InvoiceStatus.OPENED)


def insert_station(conn: Connection, station: dict[str, Any]) -> int:
    return conn.insert(_INSERT_STATION, station)


def get_station(conn: Connection, station_id: int) -> Row | None:
    return conn.fetchone(_SELECT_STATION + " WHERE id = :id", {"id": station_id})


def get_station_by_pos(conn: Connection, pos_id: str) -> Row | None:
    return conn.fetchone(_SELECT_STATION + " WHERE pos_number = :pos", {"pos": int(pos_id)})


def list_stations(conn: Connection) -> list[Row]:
    return conn.fetchall(_SELECT_STATION + " ORDER BY id")


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


def next_z_number(conn: Connection, station_id: int) -> int:
    row = conn.fetchone(
        "UPDATE stations SET last_z_number = last_z_number + 1 WHERE id = :id"
        " RETURNING last_z_number",
        {"id": station_id},
    )
    assert row is not None
    return int(row["last_z_number"])


def add_grand_total(conn: Connection, station_id: int, amount: int) -> int:
    row = conn.fetchone(
        "UPDATE stations SET grand_total = grand_total + :amount WHERE id = :id"
        " RETURNING grand_total",
        {"amount": amount, "id": station_id},
    )
    assert row is not None
    return int(row["grand_total"])


def add_to_volume(conn: Connection, shift_id: int, amount: int) -> int:
    """Add a receipt's total (cents) to its shift's running sum; returns the new sum."""
    row = conn.fetchone(
        "UPDATE shifts SET volume = volume + :amount WHERE id = :id RETURNING volume",
        {"amount": amount, "id": shift_id},
    )
    assert row is not None
    return int(row["volume"])


def insert_shift(conn: Connection, shift: dict[str, Any]) -> int:
    return conn.insert(_INSERT_SHIFT, shift)


def open_shift(conn: Connection, station_id: int) -> Row | None:
    return conn.fetchone(
        _SELECT_SHIFT + " WHERE s.station_id = :id AND s.close_date IS NULL", {"id": station_id}
    )


def get_shift(conn: Connection, shift_id: int) -> Row | None:
    return conn.fetchone(_SELECT_SHIFT + " WHERE s.id = :id", {"id": shift_id})


def close_shift(conn: Connection, shift_id: int, values: dict[str, Any]) -> None:
    conn.execute(
        "UPDATE shifts SET close_date = :close_date, grand_total = :grand_total,"
        " close_employee = :close_employee, close_employee_name = :close_employee_name,"
        " report = :report, hash = :hash WHERE id = :id",
        {**values, "id": shift_id},
    )


_SHIFT_FILTERS = {
    "station_id": "s.station_id = :station_id",
    "z_number_from": "s.z_number >= :z_number_from",
    "z_number_to": "s.z_number <= :z_number_to",
    "after_id": "s.id > :after_id",
}


def search_shifts(
    conn: Connection, filters: dict[str, Any], *, limit: int, offset: int
) -> tuple[list[Row], int]:
    return db.search(
        conn,
        select=_SELECT_SHIFT,
        count_from="shifts s",
        conditions=_SHIFT_FILTERS,
        filters=filters,
        order_by="s.id",
        limit=limit,
        offset=offset,
    )


# --- the invoice claim ----------------------------------------------------------------------

#: Invoices a station may take: its own pos_id, or none within its group.
_VISIBLE = "station_group = :group AND (pos_id IS NULL OR pos_id = :pos)"
#: Claimable: New, or Opened under a lease that ran out (or already held by this station).
_CLAIMABLE = (
    f"(status = {NEW} OR (status = {OPENED} AND (station = :station OR lease_expires_at < :now)))"
)


#: The feed as four index range scans (New for any POS of the group, New for this POS, held by
#: this station, lease run out) merged by id: one OR'ed condition would scan every New invoice.
_FEED = " UNION ".join(
    f"SELECT id FROM (SELECT id FROM invoices WHERE {where} ORDER BY id LIMIT :limit) AS part{n}"
    for n, where in enumerate(
        (
            f"status = {NEW} AND station_group = :group AND pos_id IS NULL",
            f"status = {NEW} AND station_group = :group AND pos_id = :pos",
            f"status = {OPENED} AND station = :station",
            f"status = {OPENED} AND lease_expires_at < :now AND {_VISIBLE}",
        )
    )
)


def feed(conn: Connection, station: Row, now_us: int, limit: int) -> list[Row]:
    """Invoice ids for a station, oldest first: what it may take, and what it holds."""
    return conn.fetchall(
        f"SELECT id FROM ({_FEED}) AS feed ORDER BY id LIMIT :limit",
        {
            "group": station["station_group"],
            "pos": station["pos_number"],
            "station": station["id"],
            "now": now_us,
            "limit": limit,
        },
    )


def claim(conn: Connection, invoice_id: int, station: Row, now_us: int, lease_us: int) -> bool:
    """Take (or renew) the invoice for ``station`` if nobody else holds it. Atomic: of two
    stations racing, the second UPDATE re-reads the row after the first commits and misses."""
    cursor = conn.execute(
        f"UPDATE invoices SET status = {OPENED}, station = :station,"
        " lease_expires_at = :expires, updated_at = :now"
        f" WHERE id = :id AND {_VISIBLE} AND {_CLAIMABLE}",
        {
            "id": invoice_id,
            "group": station["station_group"],
            "pos": station["pos_number"],
            "station": station["id"],
            "now": now_us,
            "expires": now_us + lease_us,
        },
    )
    return int(cursor.rowcount) == 1


def lock_invoice(conn: Connection, invoice_id: int) -> None:
    """Take the invoice's row lock for the rest of the transaction (a no-op write)."""
    conn.execute("UPDATE invoices SET status = status WHERE id = :id", {"id": invoice_id})


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


def mark_done(conn: Connection, invoice_id: int, values: dict[str, Any]) -> None:
    conn.execute(
        f"UPDATE invoices SET status = {int(InvoiceStatus.DONE)}, lease_expires_at = NULL,"
        " station = :station, printed_at = :printed_at, print_station = :print_station,"
        " print_pos_id = :print_pos_id, print_chassis_id = :print_chassis_id,"
        " check_num = :check_num, total_sum = :total_sum, changed_sum = :changed_sum,"
        " complete_request_id = :complete_request_id, updated_at = :updated_at WHERE id = :id",
        {**values, "id": invoice_id},
    )


def update_invoice_row(conn: Connection, row_id: int, quantity: int, price: int) -> None:
    conn.execute(
        "UPDATE invoice_rows SET quantity = :quantity, price = :price WHERE id = :id",
        {"quantity": quantity, "price": price, "id": row_id},
    )
