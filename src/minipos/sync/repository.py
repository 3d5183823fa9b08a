"""SQL of the sync tables: the store's outbox and state, the centre's ingest memory."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from minipos.db import Connection, Row
from minipos.db.database import insert_statement
from minipos.domain.sync import SyncKind

OUTBOX_COLUMNS = ("kind", "local_id", "lane", "body", "hash", "status", "created_at")
_INSERT_OUTBOX = insert_statement("sync_outbox", OUTBOX_COLUMNS)

PENDING = "pending"
ACKED = "acked"
QUARANTINED = "quarantined"

#: The kinds whose lane (a station's chain) must arrive in order, as SQL.
_ORDERED = ", ".join(f"'{kind.value}'" for kind in SyncKind if kind.ordered)
#: The id of sync_state's one row.
STATE_ID = 1


def append_outbox(conn: Connection, items: list[dict[str, Any]]) -> None:
    """Write queued items (a ``Connection.batch`` flush). An item without a ``local_id`` (an
    invoice state change) is keyed by its own row id, which is never handed out twice."""
    ids = conn.insert_many(_INSERT_OUTBOX, items)
    unkeyed = [i for i, item in zip(ids, items, strict=True) if item["local_id"] is None]
    if unkeyed:
        conn.execute_many(
            "UPDATE sync_outbox SET local_id = :key WHERE id = :id",
            [{"id": i, "key": str(i)} for i in unkeyed],
        )


def pending(conn: Connection, limit: int, skip: Collection[str] = ()) -> list[Row]:
    """The next items to send, in id (commit) order, but for the lanes in ``skip``. An item
    of an ordered lane waits while an earlier item of that lane is quarantined: a station's
    chain must arrive without holes, and only a person can decide what the held item
    becomes."""
    lanes = {f"skip{n}": lane for n, lane in enumerate(skip)}
    skipped = f" AND o.lane NOT IN ({', '.join(':' + k for k in lanes)})" if lanes else ""
    return conn.fetchall(
        "SELECT o.id, o.kind, o.local_id, o.lane, o.body, o.hash, o.attempts FROM sync_outbox o"
        f" WHERE o.status = :status{skipped} AND NOT EXISTS (SELECT 1 FROM sync_outbox q"
        f" WHERE q.status = :quarantined AND q.lane = o.lane AND q.kind IN ({_ORDERED})"
        " AND q.id < o.id) ORDER BY o.id LIMIT :limit",
        {"status": PENDING, "quarantined": QUARANTINED, "limit": limit, **lanes},
    )


def mark_acked(conn: Connection, outbox_id: int, common_id: int | None, now_us: int) -> bool:
    """Acknowledge a pending item; False when it was not pending (a replay already written)."""
    cursor = conn.execute(
        "UPDATE sync_outbox SET status = :acked, acked_at = :now, common_id = :common_id,"
        " last_error = NULL WHERE id = :id AND status = :pending",
        {
            "acked": ACKED,
            "pending": PENDING,
            "now": now_us,
            "common_id": common_id,
            "id": outbox_id,
        },
    )
    return bool(cursor.rowcount == 1)


def quarantine(conn: Connection, outbox_id: int, error: str, *, attempted: bool) -> bool:
    """Hold a pending item for good; False when it was not pending."""
    cursor = conn.execute(
        "UPDATE sync_outbox SET status = :quarantined, last_error = :error,"
        " attempts = attempts + :tried WHERE id = :id AND status = :pending",
        {
            "quarantined": QUARANTINED,
            "pending": PENDING,
            "error": error,
            "tried": 1 if attempted else 0,
            "id": outbox_id,
        },
    )
    return bool(cursor.rowcount == 1)


def note_failure(conn: Connection, outbox_id: int, error: str, *, attempted: bool) -> None:
    """Keep a pending item pending with why it was not taken (and count a refused try)."""
    conn.execute(
        "UPDATE sync_outbox SET last_error = :error, attempts = attempts + :tried"
        " WHERE id = :id AND status = :pending",
        {"error": error, "tried": 1 if attempted else 0, "id": outbox_id, "pending": PENDING},
    )


def set_invoice_ids(conn: Connection, invoice_id: int, common_id: int | None, now_us: int) -> None:
    """The centre's id and the ack time on the store's invoice: bookkeeping, not a change of
    the invoice, so ``updated_at`` stays and no event is recorded."""
    conn.execute(
        "UPDATE invoices SET common_id = COALESCE(common_id, :common_id),"
        " synchronized_at = :now WHERE id = :id",
        {"common_id": common_id, "now": now_us, "id": invoice_id},
    )


def set_invoice_synchronized(
    conn: Connection, *, local_id: int | None, common_id: int | None, now_us: int
) -> None:
    """An invoice's state change reached the centre: its copy there is as new as ours."""
    if local_id is not None:
        conn.execute(
            "UPDATE invoices SET synchronized_at = :now WHERE id = :id",
            {"now": now_us, "id": local_id},
        )
    elif common_id is not None:
        conn.execute(
            "UPDATE invoices SET synchronized_at = :now WHERE common_id = :common_id",
            {"now": now_us, "common_id": common_id},
        )


def set_receipt_ids(conn: Connection, receipt_id: int, common_id: int | None, now_us: int) -> None:
    conn.execute(
        "UPDATE receipts SET common_id = COALESCE(common_id, :common_id),"
        " synchronized_at = :now WHERE id = :id",
        {"common_id": common_id, "now": now_us, "id": receipt_id},
    )


def set_shift_ids(conn: Connection, shift_id: int, common_shift: int | None) -> None:
    conn.execute(
        "UPDATE shifts SET common_shift = COALESCE(common_shift, :common_shift),"
        " local_id = id WHERE id = :id",
        {"common_shift": common_shift, "id": shift_id},
    )


def ensure_state(conn: Connection) -> None:
    """Create sync_state's one row (cursors at zero) if this store has none yet."""
    conn.execute(
        "INSERT INTO sync_state (id) VALUES (:id) ON CONFLICT (id) DO NOTHING", {"id": STATE_ID}
    )


def state(conn: Connection) -> Row | None:
    return conn.fetchone("SELECT * FROM sync_state WHERE id = :id", {"id": STATE_ID})


def record_contact(conn: Connection, now_us: int, skew_ms: int | None, clears: str) -> None:
    """The centre answered: the link works (and, from a push, how far its clock is). Clears
    only an error of the same loop (``clears``, its prefix): a push that works does not hide
    a pull that fails."""
    conn.execute(
        "UPDATE sync_state SET last_contact_at = :now,"
        " last_error = CASE WHEN last_error LIKE :clears THEN NULL ELSE last_error END,"
        " skew_ms = COALESCE(:skew, skew_ms) WHERE id = :id",
        {"now": now_us, "skew": skew_ms, "id": STATE_ID, "clears": f"{clears}%"},
    )


def record_error(conn: Connection, error: str) -> None:
    conn.execute(
        "UPDATE sync_state SET last_error = :error WHERE id = :id", {"error": error, "id": STATE_ID}
    )


def purge_acked(conn: Connection, older_than_us: int, batch: int) -> int:
    """Drop acknowledged items acked before ``older_than_us``, a batch at a time. The newest
    row always stays, so SQLite never hands its id out again (``invoice.state`` items are
    keyed by their row id). Pending and quarantined items stay whatever their age."""
    cursor = conn.execute(
        "DELETE FROM sync_outbox WHERE id IN (SELECT id FROM sync_outbox"
        " WHERE status = :acked AND acked_at < :cutoff"
        " AND id < (SELECT MAX(id) FROM sync_outbox) ORDER BY id LIMIT :batch)",
        {"acked": ACKED, "cutoff": older_than_us, "batch": batch},
    )
    return int(cursor.rowcount)


def outbox_totals(conn: Connection) -> Row:
    """Waiting and quarantined items in all, and when the oldest waiting one was written."""
    row = conn.fetchone(
        "SELECT SUM(CASE WHEN status = :pending THEN 1 ELSE 0 END) AS waiting,"
        " MIN(CASE WHEN status = :pending THEN created_at END) AS oldest,"
        " SUM(CASE WHEN status = :quarantined THEN 1 ELSE 0 END) AS quarantined"
        " FROM sync_outbox WHERE status IN (:pending, :quarantined)",
        {"pending": PENDING, "quarantined": QUARANTINED},
    )
    assert row is not None  # an aggregate always answers one row
    return row


def lanes(conn: Connection) -> list[Row]:
    """Per lane with items waiting or held: how many, and the oldest waiting. Read through
    the (status, id) index, so it costs what is waiting, not the whole outbox."""
    return conn.fetchall(
        "SELECT lane,"
        " SUM(CASE WHEN status = :pending THEN 1 ELSE 0 END) AS waiting,"
        " MIN(CASE WHEN status = :pending THEN created_at END) AS oldest,"
        " SUM(CASE WHEN status = :quarantined THEN 1 ELSE 0 END) AS quarantined"
        " FROM sync_outbox WHERE status IN (:pending, :quarantined) GROUP BY lane",
        {"pending": PENDING, "quarantined": QUARANTINED},
    )


def station_lanes(conn: Connection) -> list[str]:
    """Every station's lane (its ``pos_id``), idle ones included."""
    return [str(r["pos_id"]) for r in conn.fetchall("SELECT pos_id FROM stations")]


def last_acked(conn: Connection, lane: str) -> str | None:
    """The local id of the lane's newest acknowledged item: read backwards from the newest
    ack, so a lane that synced lately answers at once."""
    row = conn.fetchone(
        "SELECT local_id FROM sync_outbox WHERE status = :acked AND lane = :lane"
        " ORDER BY id DESC LIMIT 1",
        {"acked": ACKED, "lane": lane},
    )
    return None if row is None else str(row["local_id"])


def quarantined(conn: Connection) -> list[Row]:
    return conn.fetchall(
        "SELECT id, kind, local_id, lane, created_at, attempts, last_error FROM sync_outbox"
        " WHERE status = :quarantined ORDER BY id",
        {"quarantined": QUARANTINED},
    )


def requeue(conn: Connection, outbox_id: int) -> bool:
    """Put a quarantined item back in line, its tries forgotten; False if it is not held."""
    cursor = conn.execute(
        "UPDATE sync_outbox SET status = :pending, attempts = 0, last_error = NULL"
        " WHERE id = :id AND status = :quarantined",
        {"pending": PENDING, "quarantined": QUARANTINED, "id": outbox_id},
    )
    return bool(cursor.rowcount == 1)


#: Each store a centre serves with its sync figures, one statement for the whole list: what
#: ``GET /api/stores`` and the centre's ``/api/sync/status`` both show.
_STORE_STATUS = (
    "SELECT s.id, s.code, s.name, s.api_key_id, s.last_contact_at, s.last_skew_ms,"
    " s.last_error, s.created_at,"
    " (SELECT count(*) FROM sync_ingest i WHERE i.store_id = s.id) AS items_received,"
    " (SELECT count(*) FROM sync_conflicts c WHERE c.store_id = s.id"
    "  AND c.resolved_at IS NULL) AS conflicts_open,"
    # From the ingest memory (its flags copy the receipt's): narrowed by its key's index.
    " (SELECT count(*) FROM sync_ingest f WHERE f.store_id = s.id AND f.kind = 'receipt'"
    "  AND f.flags IS NOT NULL) AS receipts_flagged,"
    " (SELECT count(*) FROM shifts sh JOIN stations st ON st.id = sh.station_id"
    "  WHERE st.store_id = s.id AND sh.close_date IS NOT NULL"
    "  AND sh.reconciled_at IS NULL) AS shifts_unreconciled"
    " FROM stores s"
)


def stores_with_status(conn: Connection) -> list[Row]:
    return conn.fetchall(_STORE_STATUS + " ORDER BY s.id")


def store_with_status(conn: Connection, store_id: int) -> Row | None:
    return conn.fetchone(_STORE_STATUS + " WHERE s.id = :id", {"id": store_id})
