"""Print job rows."""

from __future__ import annotations

from typing import Any

from minipos.db import Connection, Row, insert_statement

COLUMNS = (
    "station_id", "kind", "receipt_id", "invoice_id", "shift_id", "status", "is_copy",
    "attempts", "next_attempt_at", "last_error", "created_at", "printed_at",
)  # fmt: skip
_INSERT = insert_statement("print_jobs", COLUMNS)


def insert(conn: Connection, job: dict[str, Any]) -> int:
    return conn.insert(_INSERT, {name: job.get(name) for name in COLUMNS})


def of_station(conn: Connection, station_id: int, *, limit: int, after_id: int) -> list[Row]:
    return conn.fetchall(
        "SELECT id, " + ", ".join(COLUMNS) + " FROM print_jobs"
        " WHERE station_id = :station_id AND id > :after_id ORDER BY id LIMIT :limit",
        {"station_id": station_id, "after_id": after_id, "limit": limit},
    )
