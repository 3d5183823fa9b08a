"""Print job and printer rows.

Job states: ``queued`` → ``sending`` (claimed by one worker) → ``printed``; back to ``queued``
when nothing reached the printer; ``failed`` when something may have (or the job cannot be
printed). Every change of state is a conditional UPDATE, so two server processes never act on
the same job at once.
"""

from __future__ import annotations

from typing import Any

from minipos import db
from minipos.db import Connection, Row, claims, insert_statement

COLUMNS = (
    "station_id", "kind", "receipt_id", "invoice_id", "shift_id", "status", "is_copy",
    "attempts", "next_attempt_at", "last_error", "created_at", "printed_at",
    "supporting_number", "training_receipt_id",
)  # fmt: skip
WORKER_COLUMNS = ("claimed_at", "claim_token", "may_have_printed")
_ALL = ", ".join(("id", *COLUMNS, *WORKER_COLUMNS))
_INSERT = insert_statement("print_jobs", COLUMNS)
_SELECT = f"SELECT {_ALL} FROM print_jobs"

PRINTER_COLUMNS = (
    "station_id", "kind", "address", "columns", "code_page", "code_page_number", "model",
    "dots_per_line", "cut", "partial_cut", "drawer_pin", "drawer_on_ms", "drawer_off_ms",
    "connect_timeout_ms", "write_timeout_ms", "status_timeout_ms", "check_status", "updated_at",
)  # fmt: skip
#: Insert or replace: one printer per station (``uq_printers_station``).
_UPSERT_PRINTER = (
    f"INSERT INTO printers ({', '.join(PRINTER_COLUMNS)})"
    f" VALUES ({', '.join(':' + c for c in PRINTER_COLUMNS)})"
    " ON CONFLICT (station_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in PRINTER_COLUMNS if c != "station_id")
)
_SELECT_PRINTER = "SELECT id, " + ", ".join(PRINTER_COLUMNS) + " FROM printers"


# --- jobs ---------------------------------------------------------------------------------------


def insert(conn: Connection, job: dict[str, Any]) -> int:
    return conn.insert(_INSERT, {name: job.get(name) for name in COLUMNS})


def get(conn: Connection, job_id: int) -> Row | None:
    return conn.fetchone(_SELECT + " WHERE id = :id", {"id": job_id})


def of_station(conn: Connection, station_id: int, *, limit: int, after_id: int) -> list[Row]:
    return conn.fetchall(
        _SELECT + " WHERE station_id = :station_id AND id > :after_id ORDER BY id LIMIT :limit",
        {"station_id": station_id, "after_id": after_id, "limit": limit},
    )


_FILTERS = {
    "station_id": "station_id = :station_id",
    "status": "status = :status",
    "kind": "kind = :kind",
    "after_id": "id > :after_id",
}


def search(
    conn: Connection, filters: dict[str, Any], *, limit: int, offset: int
) -> tuple[list[Row], int]:
    return db.search(
        conn,
        select=_SELECT,
        count_from="print_jobs",
        conditions=_FILTERS,
        filters=filters,
        order_by="id",
        limit=limit,
        offset=offset,
    )


def count_by_status(conn: Connection, station_id: int) -> dict[str, int]:
    rows = conn.fetchall(
        "SELECT status, count(*) AS n FROM print_jobs"
        " WHERE station_id = :station AND status IN ('queued', 'sending', 'failed')"
        " GROUP BY status",
        {"station": station_id},
    )
    return {row["status"]: int(row["n"]) for row in rows}


#: The station has a printer that prints (not ``none``).
_PRINTS = "EXISTS (SELECT 1 FROM printers p WHERE p.station_id = j.station_id AND p.kind <> 'none')"


def due(conn: Connection, now_us: int, limit: int) -> list[Row]:
    """Each station's oldest queued job, if it is due and nothing of the station is being sent.

    A station's jobs print in order (the receipt before its slip): a job waits while an older
    one of its station is queued (even if not yet due: backing off) or being sent. Only
    stations with a printer: the others' jobs are settled by :func:`settle_unprinted`.
    """
    return conn.fetchall(
        _SELECT + f" j WHERE j.status = 'queued' AND j.next_attempt_at <= :now AND {_PRINTS}"
        " AND NOT EXISTS (SELECT 1 FROM print_jobs e WHERE e.station_id = j.station_id"
        " AND e.status = 'queued' AND e.id < j.id)"
        " AND NOT EXISTS (SELECT 1 FROM print_jobs e WHERE e.station_id = j.station_id"
        " AND e.status = 'sending')"
        " ORDER BY j.id LIMIT :limit",
        {"now": now_us, "limit": limit},
    )


def has_unprinted(conn: Connection) -> bool:
    """Whether a queued job belongs to a station without a printer (or with ``none``)."""
    return (
        conn.fetchone(
            f"SELECT j.id FROM print_jobs j WHERE j.status = 'queued' AND NOT {_PRINTS} LIMIT 1"
        )
        is not None
    )


def settle_unprinted(conn: Connection, now_us: int) -> int:
    """Mark printed, in one statement, the queued jobs of stations that print nothing."""
    cursor = conn.execute(
        "UPDATE print_jobs SET status = 'printed', printed_at = :now WHERE status = 'queued'"
        " AND NOT EXISTS (SELECT 1 FROM printers p WHERE p.station_id = print_jobs.station_id"
        " AND p.kind <> 'none')",
        {"now": now_us},
    )
    return int(cursor.rowcount)


def claim(conn: Connection, job_id: int, token: str, now_us: int) -> Row | None:
    """queued → sending for this worker, or ``None`` if another worker was first."""
    return claims.claim(
        conn, "print_jobs", job_id, token=token, now_us=now_us, waiting="queued", returning=_ALL
    )


def renew(conn: Connection, job_id: int, token: str, now_us: int) -> bool:
    """Renew the lease of a job this worker is sending."""
    return claims.renew(conn, "print_jobs", job_id, token, now_us)


def mark_printed(conn: Connection, job_id: int, token: str, now_us: int) -> bool:
    """sending → printed, if this attempt still owns the job.

    Also from ``failed``: a lease that ran out while the send went on (the database was away)
    had the job marked failed, but the printer did take it, and that is the truth to record.
    """
    cursor = conn.execute(
        "UPDATE print_jobs SET status = 'printed', printed_at = :now, last_error = NULL"
        " WHERE id = :id AND claim_token = :token AND status IN ('sending', 'failed')",
        {"id": job_id, "token": token, "now": now_us},
    )
    return int(cursor.rowcount) == 1


def requeue(conn: Connection, job_id: int, token: str, next_attempt_us: int, error: str) -> bool:
    """sending → queued for a later attempt (nothing reached the printer)."""
    cursor = conn.execute(
        "UPDATE print_jobs SET status = 'queued', next_attempt_at = :next, last_error = :error"
        " WHERE id = :id AND claim_token = :token AND status = 'sending'",
        {"id": job_id, "token": token, "next": next_attempt_us, "error": error[:2000]},
    )
    return int(cursor.rowcount) == 1


def fail(conn: Connection, job_id: int, token: str, error: str, *, may_have_printed: bool) -> bool:
    """sending → failed: a person decides (a retry prints a copy if it may have printed)."""
    cursor = conn.execute(
        "UPDATE print_jobs SET status = 'failed', last_error = :error,"
        " may_have_printed = :maybe WHERE id = :id AND claim_token = :token"
        " AND status = 'sending'",
        {"id": job_id, "token": token, "error": error[:2000], "maybe": may_have_printed},
    )
    return int(cursor.rowcount) == 1


def stale_sending(conn: Connection, cutoff_us: int) -> list[Row]:
    """Jobs left ``sending`` whose lease ran out before ``cutoff_us``."""
    return claims.stale(conn, "print_jobs", cutoff_us)


def fail_stale(conn: Connection, cutoff_us: int, error: str) -> list[int]:
    """sending → failed for every job whose lease ran out: its sender is gone mid-send."""
    rows = conn.fetchall(
        "UPDATE print_jobs SET status = 'failed', last_error = :error, may_have_printed = :yes"
        " WHERE status = 'sending' AND claimed_at < :cutoff RETURNING id",
        {"cutoff": cutoff_us, "error": error, "yes": True},
    )
    return [int(row["id"]) for row in rows]


def retry(conn: Connection, job_id: int, now_us: int) -> Row | None:
    """failed or queued → queued now; a job that may have printed comes back as a copy."""
    return conn.fetchone(
        "UPDATE print_jobs SET status = 'queued', next_attempt_at = :now,"
        " is_copy = (is_copy OR may_have_printed), may_have_printed = :no"
        f" WHERE id = :id AND status IN ('queued', 'failed') RETURNING {_ALL}",
        {"id": job_id, "now": now_us, "no": False},
    )


def hurry_station(conn: Connection, station_id: int, now_us: int) -> None:
    """Make a station's queued jobs due now (its printer was just configured)."""
    conn.execute(
        "UPDATE print_jobs SET next_attempt_at = :now"
        " WHERE station_id = :station AND status = 'queued' AND next_attempt_at > :now",
        {"station": station_id, "now": now_us},
    )


# --- printers -----------------------------------------------------------------------------------


def get_printer(conn: Connection, station_id: int) -> Row | None:
    return conn.fetchone(_SELECT_PRINTER + " WHERE station_id = :id", {"id": station_id})


def put_printer(conn: Connection, printer: dict[str, Any]) -> None:
    """Insert or replace the station's printer."""
    conn.execute(_UPSERT_PRINTER, {name: printer[name] for name in PRINTER_COLUMNS})


# --- the electronic journal ---------------------------------------------------------------------

JOURNAL_COLUMNS = (
    "station_id", "seq", "kind", "receipt_id", "shift_id", "supporting_number", "document_no",
    "chassis_id", "issued_at", "render", "text", "prev_hash", "hash",
)  # fmt: skip
_INSERT_JOURNAL = insert_statement("journal", JOURNAL_COLUMNS)
_SELECT_JOURNAL = "SELECT id, " + ", ".join(JOURNAL_COLUMNS) + " FROM journal"
_JOURNAL_FILTERS = {
    "station_id": "station_id = :station_id",
    "from_us": "issued_at >= :from_us",
    "to_us": "issued_at < :to_us",
    "after_id": "id > :after_id",
}


def next_journal_number(conn: Connection, station_id: int) -> tuple[int, str, int | None]:
    """The station's next journal number, its journal head and its printer's columns (``None``
    without a printer: what the entry is drawn at, read in the same statement); locks the
    station row (the receipt's numbering already holds it inside a sale)."""
    row = conn.fetchone(
        "UPDATE stations SET journal_seq = journal_seq + 1 WHERE id = :id"
        " RETURNING journal_seq, journal_head,"
        " (SELECT columns FROM printers WHERE station_id = :id) AS printer_columns",
        {"id": station_id},
    )
    assert row is not None
    return int(row["journal_seq"]), str(row["journal_head"]), row["printer_columns"]


def append_journal(conn: Connection, entry: dict[str, Any]) -> int:
    entry_id = conn.insert(_INSERT_JOURNAL, entry)
    conn.execute(
        "UPDATE stations SET journal_head = :head WHERE id = :id",
        {"head": entry["hash"], "id": entry["station_id"]},
    )
    return entry_id


def supporting_documents(conn: Connection, receipt_id: int) -> int:
    """How many supporting documents a receipt has got."""
    row = conn.fetchone(
        "SELECT count(*) AS n FROM journal WHERE receipt_id = :id AND kind = :kind",
        {"id": receipt_id, "kind": "supporting_document"},
    )
    return int(row["n"]) if row is not None else 0


def search_journal(
    conn: Connection, filters: dict[str, Any], *, limit: int, offset: int
) -> tuple[list[Row], int]:
    return db.search(
        conn,
        select=_SELECT_JOURNAL,
        count_from="journal",
        conditions=_JOURNAL_FILTERS,
        filters=filters,
        order_by="id",
        limit=limit,
        offset=offset,
    )


def journal_of_station(
    conn: Connection, station_id: int, from_us: int | None = None, to_us: int | None = None
) -> list[Row]:
    """A station's journal in order (between two moments, when given)."""
    return conn.fetchall(
        _SELECT_JOURNAL + " WHERE station_id = :station_id"
        " AND issued_at >= :from_us AND issued_at < :to_us ORDER BY seq",
        {
            "station_id": station_id,
            "from_us": -(2**62) if from_us is None else from_us,
            "to_us": 2**62 if to_us is None else to_us,
        },
    )


def journal_heads(conn: Connection) -> list[Row]:
    return conn.fetchall("SELECT id, name, journal_seq, journal_head FROM stations ORDER BY id")
