"""Stations and their shifts in SQL."""

from __future__ import annotations

from typing import Any

from minipos import db
from minipos.db import Connection, Row, insert_statement
from minipos.domain.invoice import InvoiceStatus
from minipos.domain.receipt import ReceiptMode

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
#: ``disabled_at`` is not in ``STATION_COLUMNS``: a new station is never disabled, and a
#: centre's copies of a store's stations are written with those columns only.
_SELECT_STATION = (
    "SELECT id, " + ", ".join(STATION_COLUMNS) + ", disabled_at, training FROM stations"
)
#: A station with its open shift, if any, in one statement (a list of N stations is one query).
_SELECT_STATION_AND_SHIFT = (
    "SELECT st.id, " + ", ".join(f"st.{c}" for c in STATION_COLUMNS) + ", st.disabled_at,"
    " st.training,"
    " s.id AS open_shift, s.z_number AS open_z_number,"
    # Its last receipt by number: one lookup in uq_receipts_station_document.
    " (SELECT r.print_time FROM receipts r WHERE r.station_id = st.id"
    " AND r.document_id = CAST(st.last_document_id AS TEXT)) AS last_receipt_at"
    " FROM stations st LEFT JOIN shifts s ON s.station_id = st.id AND s.close_date IS NULL"
)
#: A shift with the station fields its documented shape repeats.
_SELECT_SHIFT = (
    "SELECT s.id, " + ", ".join(f"s.{c}" for c in SHIFT_COLUMNS) + ", s.local_id,"
    " s.counted_cash, s.details,"
    " s.reconciled_at, s.reconcile_note, st.name AS station_name,"
    " st.pos_id AS station_pos_id, st.chassis_id AS station_chassis_id, so.code AS store"
    " FROM shifts s JOIN stations st ON st.id = s.station_id"
    " LEFT JOIN stores so ON so.id = st.store_id"
)


def insert_station(conn: Connection, station: dict[str, Any]) -> int:
    return conn.insert(_INSERT_STATION, station)


def get_station(conn: Connection, station_id: int) -> Row | None:
    return conn.fetchone(_SELECT_STATION + " WHERE id = :id", {"id": station_id})


def get_station_by_pos(conn: Connection, pos_id: str) -> Row | None:
    return conn.fetchone(_SELECT_STATION + " WHERE pos_number = :pos", {"pos": int(pos_id)})


def describe_station(conn: Connection, station_id: int) -> Row | None:
    """The station with ``open_shift`` and ``open_z_number`` (null without an open shift)."""
    return conn.fetchone(_SELECT_STATION_AND_SHIFT + " WHERE st.id = :id", {"id": station_id})


def describe_stations(conn: Connection) -> list[Row]:
    """Every station as :func:`describe_station` gives it."""
    return conn.fetchall(_SELECT_STATION_AND_SHIFT + " ORDER BY st.id")


def update_station(conn: Connection, station_id: int, values: dict[str, Any]) -> None:
    """Set some of ``name``, ``station_group``, ``disabled_at``, ``training`` (the keys of
    ``values``)."""
    allowed = ("name", "station_group", "disabled_at", "training")
    sets = ", ".join(f"{name} = :{name}" for name in allowed if name in values)
    if sets:
        conn.execute(
            f"UPDATE stations SET {sets} WHERE id = :id",
            {**{n: values[n] for n in allowed if n in values}, "id": station_id},
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
        " report = :report, hash = :hash, counted_cash = :counted_cash, details = :details"
        " WHERE id = :id",
        {**values, "id": shift_id},
    )


# --- the cash drawer and the Z's counts ---------------------------------------------------------


def add_cash_movement(conn: Connection, movement: dict[str, Any]) -> int:
    return conn.insert(
        insert_statement(
            "cash_movements",
            ("station_id", "shift_id", "kind", "amount", "reason", "employee_name", "created_at"),
        ),
        movement,
    )


def cash_movements(conn: Connection, shift_id: int) -> list[Row]:
    return conn.fetchall(
        "SELECT kind, amount, reason, employee_name, created_at FROM cash_movements"
        " WHERE shift_id = :id ORDER BY id",
        {"id": shift_id},
    )


def document_counts(
    conn: Connection, station_id: int, shift_id: int, start_us: int, end_us: int
) -> Row:
    """What a Z counts besides receipts: the supporting documents the station issued in the
    shift (its journal), the invoices cancelled at it and its training documents."""
    row = conn.fetchone(
        "SELECT (SELECT COUNT(*) FROM journal WHERE station_id = :station"
        " AND kind = 'supporting_document' AND issued_at >= :start AND issued_at <= :end)"
        " AS supporting,"
        " (SELECT COUNT(*) FROM invoices WHERE station = :station AND status = :cancelled"
        " AND updated_at >= :start AND updated_at <= :end) AS cancelled,"
        " (SELECT COUNT(*) FROM training_receipts WHERE shift_id = :shift) AS training",
        {
            "station": station_id,
            "shift": shift_id,
            "start": start_us,
            "end": end_us,
            "cancelled": int(InvoiceStatus.CANCELLED),
        },
    )
    assert row is not None
    return row


_SHIFT_FILTERS = {
    "station_id": "s.station_id = :station_id",
    "z_number_from": "s.z_number >= :z_number_from",
    "z_number_to": "s.z_number <= :z_number_to",
    "store_id": "s.station_id IN (SELECT id FROM stations WHERE store_id = :store_id)",
    # Open at some moment of [from, to): started before its end, not closed before its start.
    "from_us": "(s.close_date IS NULL OR s.close_date >= :from_us)",
    "to_us": "s.start_date < :to_us",
    "is_open": "(s.close_date IS NULL) = :is_open",
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


def held_invoice(conn: Connection, station_id: int, now_us: int) -> Row | None:
    """An invoice the station holds under a live claim (a shift with one may not close).

    Read here rather than through the invoice lifecycle, which builds on stations."""
    return conn.fetchone(
        "SELECT id FROM invoices WHERE station = :station"
        f" AND status = {int(InvoiceStatus.OPENED)} AND lease_expires_at >= :now",
        {"station": station_id, "now": now_us},
    )


def cash_rounding(conn: Connection, shift_id: int) -> int:
    """Cents the shift's receipts were rounded by in cash (docs/money.md, "Cash rounding"):
    per receipt, what was paid less the change less the total; refunds count negative."""
    row = conn.fetchone(
        "SELECT SUM(CASE WHEN r.mode = :refund THEN -1 ELSE 1 END"
        " * (COALESCE(p.paid, 0) - r.changed_amount - r.bruto_amount)) AS rounding"
        " FROM receipts r LEFT JOIN (SELECT receipt_id, SUM(amount) AS paid"
        " FROM receipt_payments GROUP BY receipt_id) p ON p.receipt_id = r.id"
        " WHERE r.shift_id = :shift",
        {"shift": shift_id, "refund": int(ReceiptMode.REFUND)},
    )
    return int(row["rounding"] or 0) if row is not None else 0


def lock_station(conn: Connection, station_id: int) -> None:
    """Take the station row's lock until commit (PostgreSQL; SQLite has one writer)."""
    conn.execute("UPDATE stations SET training = training WHERE id = :id", {"id": station_id})
