"""SQL of the sync tables: the store's outbox and state, the centre's ingest memory."""

from __future__ import annotations

from typing import Any

from minipos.db import Connection, Row
from minipos.db.database import insert_statement

OUTBOX_COLUMNS = ("kind", "local_id", "lane", "body", "hash", "status", "created_at")
_INSERT_OUTBOX = insert_statement("sync_outbox", OUTBOX_COLUMNS)

PENDING = "pending"
ACKED = "acked"
QUARANTINED = "quarantined"


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


def pending(conn: Connection, limit: int) -> list[Row]:
    return conn.fetchall(
        "SELECT id, kind, local_id, lane, body, hash, attempts FROM sync_outbox"
        " WHERE status = :status ORDER BY id LIMIT :limit",
        {"status": PENDING, "limit": limit},
    )
