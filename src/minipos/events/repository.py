"""The ``events`` table: appended in commit order, read by id, trimmed from the oldest end."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, TypedDict, cast

from minipos.db import Connection, insert_statement

_COLUMNS = ("type", "resource", "resource_id", "created_at", "data")
_INSERT = insert_statement("events", _COLUMNS).removesuffix(" RETURNING id")
#: Any constant shared by every writer: the PostgreSQL advisory lock that orders event commits.
_ORDER_LOCK = 0x4D504F5345  # "MPOSE"


class EventRow(TypedDict):
    """A row of ``events`` as read (the webhook fan-out and the event API use it)."""

    id: int
    type: str
    resource: str
    resource_id: int
    created_at: int  # µs since the epoch, UTC
    data: str  # the resource's JSON as the API answered it


def append(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Write a unit of work's events, last thing before its COMMIT.

    SQLite has one writer, so ids are handed out in commit order anyway. PostgreSQL hands out
    sequence numbers as transactions run, and a reader could pass an id whose transaction
    commits later; the transaction lock (released at COMMIT) makes the id order the commit
    order, at the price of event-writing commits taking turns (docs/events.md).
    """
    if conn.dialect == "postgresql":
        conn.execute("SELECT pg_advisory_xact_lock(:key)", {"key": _ORDER_LOCK})
    conn.execute_many(_INSERT, rows)


def after(
    conn: Connection, cursor: int, types: Collection[str] | None, limit: int
) -> list[EventRow]:
    """The next ``limit`` events after ``cursor`` in id order, of ``types`` (None: all)."""
    if types is None:
        rows = conn.fetchall(
            "SELECT * FROM events WHERE id > :cursor ORDER BY id LIMIT :limit",
            {"cursor": cursor, "limit": limit},
        )
    else:
        names = sorted(types)
        marks = ", ".join(f":t{i}" for i in range(len(names)))
        params: dict[str, Any] = {f"t{i}": name for i, name in enumerate(names)}
        rows = conn.fetchall(
            f"SELECT * FROM events WHERE type IN ({marks}) AND id > :cursor"
            " ORDER BY id LIMIT :limit",
            {**params, "cursor": cursor, "limit": limit},
        )
    # A typing view only (rows stay the driver's): mypy checks the column names read.
    return cast("list[EventRow]", rows)


def last_id(conn: Connection) -> int:
    row = conn.fetchone("SELECT max(id) AS id FROM events")
    return int(row["id"]) if row and row["id"] is not None else 0


def purge(conn: Connection, older_than_us: int, batch: int) -> int:
    """Remove up to ``batch`` of the oldest events created before ``older_than_us``.

    Walks the primary key from the oldest end, so each call costs ``batch`` rows however long
    the log. The newest event always stays: SQLite hands out max(rowid) + 1, so ids never go
    back (PostgreSQL's sequence never does anyway).
    """
    row = conn.fetchone(
        "SELECT max(id) AS id FROM (SELECT id, created_at FROM events ORDER BY id LIMIT :batch) "
        "AS oldest WHERE created_at < :cutoff",
        {"batch": batch, "cutoff": older_than_us},
    )
    if row is None or row["id"] is None:
        return 0
    upto = min(int(row["id"]), last_id(conn) - 1)
    count: int = conn.execute("DELETE FROM events WHERE id <= :upto", {"upto": upto}).rowcount
    return max(count, 0)
