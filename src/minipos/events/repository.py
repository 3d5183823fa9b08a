"""The ``events`` table: appended by writers, numbered in commit order, read by number, trimmed
from the oldest end.

On SQLite an event's id is its number at once (one writer). On PostgreSQL a writer stores its
events under a negative staging id (the column default, ``-nextval``), without any lock; the
first reader that finds committed staged events numbers them (``settle``), many writers' at a
time, in one step under a transaction lock that only readers take. Readers page by
``id > cursor ≥ 0``, so staged rows are never read before they are numbered (docs/events.md).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, TypedDict, cast

from minipos.db import Connection, Table

_INSERT = Table("events", ("type", "resource", "resource_id", "created_at", "data")).append
#: The PostgreSQL transaction lock that makes numbering steps take turns (readers only).
_NUMBERING_LOCK = 0x4D504F5345  # "MPOSE"
#: The newest event's ``xact`` is the horizon of the step that numbered it: every transaction
#: older than that had finished, so its events were numbered then (or before). Only the
#: staged events of later transactions need looking at; the partial index
#: ``ix_events_staged`` (xact, WHERE id < 0) finds them without walking the entries of the
#: events numbered before (dead until VACUUM).
_HORIZON = "coalesce((SELECT xact FROM events WHERE id > 0 ORDER BY id DESC LIMIT 1), '0'::xid8)"
#: Ordered by the index's column, so that no estimate makes it a scan of the table.
_ANY_STAGED = (
    f"SELECT 1 AS staged FROM events WHERE id < 0 AND xact >= {_HORIZON} ORDER BY xact LIMIT 1"
)
#: One statement: the staged events get the next numbers after the newest, oldest first
#: (``-nextval``: the later insert, the lower), and this snapshot's horizon (every older
#: transaction had finished).
_NUMBER = (
    "UPDATE events SET id = staged.number, xact = staged.horizon FROM ("
    " SELECT id, (SELECT coalesce(max(id), 0) FROM events WHERE id > 0)"
    " + row_number() OVER (ORDER BY id DESC) AS number,"
    " pg_snapshot_xmin(pg_current_snapshot()) AS horizon"
    f" FROM events WHERE id < 0 AND xact >= {_HORIZON}) AS staged"
    " WHERE events.id = staged.id"
)
#: The step's lock, and a plan that no table statistics can turn into a scan of the whole log
#: (each staged event is found through the primary key), a start of parallel workers or a JIT
#: compilation (either takes milliseconds, for a batch that takes microseconds); for the rest
#: of this transaction only, a reader's, whose other statements each read one table by an index.
_LOCK = (
    "SELECT pg_advisory_xact_lock(:key), set_config('enable_hashjoin', 'off', true),"
    " set_config('enable_mergejoin', 'off', true),"
    " set_config('max_parallel_workers_per_gather', '0', true), set_config('jit', 'off', true)"
)


class EventRow(TypedDict):
    """A row of ``events`` as read (the webhook fan-out and the event API use it)."""

    id: int
    type: str
    resource: str
    resource_id: int
    created_at: int  # µs since the epoch, UTC
    data: str  # the resource's JSON as the API answered it


def append(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Write a unit of work's events, last thing before its COMMIT (staged on PostgreSQL)."""
    if len(rows) == 1:
        # Most units tell one event; psycopg's executemany costs ~30 µs more for one row.
        conn.execute(_INSERT, rows[0])
    else:
        conn.execute_many(_INSERT, rows)


def settle(conn: Connection) -> None:
    """Number the committed staged events (PostgreSQL; SQLite's are numbered at insert).

    After this, every event whose transaction committed before it is readable: a reader calls
    it first, so a client reads its own event right after its write. Numbering steps take
    turns under a transaction lock (released by COMMIT); after the lock, the next statement's
    fresh snapshot sees the previous step's numbers. Rows committed while it runs wait for the
    next step, and get higher numbers than every row numbered now: so numbers follow commit
    order across steps, and within a step the order the events were written in, in which an
    event always follows any event whose commit its transaction could have seen.
    """
    if conn.dialect != "postgresql":
        return
    # No lock and no write when there is nothing to number (the usual case for most reads).
    if conn.fetchone(_ANY_STAGED) is None:
        return
    conn.execute(_LOCK, {"key": _NUMBERING_LOCK})
    conn.execute(_NUMBER)


def after(
    conn: Connection, cursor: int, types: Collection[str] | None, limit: int
) -> list[EventRow]:
    """The next ``limit`` events after ``cursor`` (≥ 0: never a staged one) in commit order, of
    ``types`` (None: all)."""
    settle(conn)
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
    """The newest event's number, after numbering every committed one (a cursor from here on
    gets only events committed later)."""
    settle(conn)
    row = conn.fetchone("SELECT max(id) AS id FROM events WHERE id > 0")
    return int(row["id"]) if row and row["id"] is not None else 0


def purge(conn: Connection, older_than_us: int, batch: int) -> int:
    """Remove up to ``batch`` of the oldest events created before ``older_than_us``.

    Walks the primary key from the oldest end, so each call costs ``batch`` rows however long
    the log. The newest event always stays, so numbers never go back: SQLite hands out
    max(rowid) + 1, and PostgreSQL's numbering continues from max(id). Staged events (negative
    ids) are numbered first, and those committed meanwhile are never removed.
    """
    settle(conn)
    row = conn.fetchone(
        "SELECT max(id) AS id FROM (SELECT id, created_at FROM events WHERE id > 0"
        " ORDER BY id LIMIT :batch) AS oldest WHERE created_at < :cutoff",
        {"batch": batch, "cutoff": older_than_us},
    )
    if row is None or row["id"] is None:
        return 0
    upto = min(int(row["id"]), last_id(conn) - 1)
    count: int = conn.execute(
        "DELETE FROM events WHERE id > 0 AND id <= :upto", {"upto": upto}
    ).rowcount
    return max(count, 0)
