"""Message rows (table ``messages``, migration 0005).

States: ``pending`` → ``sending`` (claimed by one worker, with a token and a lease) → ``sent``;
back to ``pending`` after a temporary failure or when the sender's lease ran out; ``failed``
after a permanent failure or at the give-up time. Every change of state is a conditional
UPDATE, so two server processes never act on the same message at once.
"""

from __future__ import annotations

from typing import Any

from minipos import db
from minipos.db import Connection, Row, claims, insert_statement

COLUMNS = (
    "channel", "recipient", "receipt_id", "invoice_id", "status", "attempts",
    "next_attempt_at", "last_error", "created_at", "updated_at", "sent_at",
)  # fmt: skip
WORKER_COLUMNS = ("claim_token", "claimed_at")
_ALL = ", ".join(("id", *COLUMNS, *WORKER_COLUMNS))
_INSERT = insert_statement("messages", COLUMNS)
_SELECT = f"SELECT {_ALL} FROM messages"
#: Longest ``last_error`` kept (SMTP replies can be long).
ERROR_CHARS = 2000


def insert(conn: Connection, message: dict[str, Any]) -> int:
    return conn.insert(_INSERT, {name: message.get(name) for name in COLUMNS})


def get(conn: Connection, message_id: int) -> Row | None:
    return conn.fetchone(_SELECT + " WHERE id = :id", {"id": message_id})


_FILTERS = {
    "receipt_id": "receipt_id = :receipt_id",
    "invoice_id": "invoice_id = :invoice_id",
    "status": "status = :status",
    "channel": "channel = :channel",
    "after_id": "id > :after_id",
}


def search(
    conn: Connection, filters: dict[str, Any], *, limit: int, offset: int
) -> tuple[list[Row], int]:
    return db.search(
        conn,
        select=_SELECT,
        count_from="messages",
        conditions=_FILTERS,
        filters=filters,
        order_by="id",
        limit=limit,
        offset=offset,
    )


def due(conn: Connection, now_us: int, limit: int, channels: tuple[str, ...]) -> list[Row]:
    """Pending messages of these channels whose time has come, the longest waiting first."""
    if not channels:
        return []
    names = {f"c{i}": channel for i, channel in enumerate(channels)}
    placeholders = ", ".join(f":{name}" for name in names)
    return conn.fetchall(
        _SELECT + f" WHERE status = 'pending' AND next_attempt_at <= :now"
        f" AND channel IN ({placeholders}) ORDER BY next_attempt_at, id LIMIT :limit",
        {"now": now_us, "limit": limit, **names},
    )


def claim(conn: Connection, message_id: int, token: str, now_us: int) -> Row | None:
    """pending → sending for this worker, or ``None`` if another worker was first."""
    return claims.claim(
        conn,
        "messages",
        message_id,
        token=token,
        now_us=now_us,
        waiting="pending",
        returning=_ALL,
        touch=("updated_at",),
    )


def renew(conn: Connection, message_id: int, token: str, now_us: int) -> bool:
    """Renew the lease of a message this worker is sending."""
    return claims.renew(conn, "messages", message_id, token, now_us)


def mark_sent(conn: Connection, message_id: int, token: str, now_us: int) -> Row | None:
    """sending → sent, if this attempt still owns the message.

    Also from ``pending`` under the same token: the lease ran out while the send went on (the
    database was away) and the message was put back, but this attempt did hand it over. The
    token proves it is the same attempt; recording ``sent`` spares the customer a second copy.
    """
    return conn.fetchone(
        "UPDATE messages SET status = 'sent', sent_at = :now, updated_at = :now,"
        " last_error = NULL WHERE id = :id AND claim_token = :token"
        f" AND status IN ('sending', 'pending') RETURNING {_ALL}",
        {"id": message_id, "token": token, "now": now_us},
    )


def requeue(
    conn: Connection, message_id: int, token: str, *, next_attempt_us: int, error: str, now_us: int
) -> bool:
    """sending → pending for a later attempt (a temporary failure)."""
    cursor = conn.execute(
        "UPDATE messages SET status = 'pending', next_attempt_at = :next, last_error = :error,"
        " updated_at = :now WHERE id = :id AND claim_token = :token AND status = 'sending'",
        {
            "id": message_id,
            "token": token,
            "next": next_attempt_us,
            "error": error[:ERROR_CHARS],
            "now": now_us,
        },
    )
    return int(cursor.rowcount) == 1


def fail(conn: Connection, message_id: int, token: str, error: str, now_us: int) -> Row | None:
    """sending → failed (permanent, or given up): an admin may retry it."""
    return conn.fetchone(
        "UPDATE messages SET status = 'failed', last_error = :error, updated_at = :now"
        f" WHERE id = :id AND claim_token = :token AND status = 'sending' RETURNING {_ALL}",
        {"id": message_id, "token": token, "error": error[:ERROR_CHARS], "now": now_us},
    )


def fail_pending(conn: Connection, channel: str, error: str, now_us: int) -> list[Row]:
    """pending → failed for every message of a channel this installation cannot send."""
    return conn.fetchall(
        "UPDATE messages SET status = 'failed', last_error = :error, updated_at = :now"
        f" WHERE status = 'pending' AND channel = :channel RETURNING {_ALL}",
        {"channel": channel, "error": error, "now": now_us},
    )


def has_pending(conn: Connection, channel: str) -> bool:
    return (
        conn.fetchone(
            "SELECT id FROM messages WHERE status = 'pending' AND channel = :channel LIMIT 1",
            {"channel": channel},
        )
        is not None
    )


def stale_sending(conn: Connection, cutoff_us: int) -> list[Row]:
    """Messages left ``sending`` whose lease ran out before ``cutoff_us``."""
    return claims.stale(conn, "messages", cutoff_us)


def release_stale(conn: Connection, cutoff_us: int, error: str, now_us: int) -> list[int]:
    """sending → pending, due now, for every message whose lease ran out: its sender is gone.

    The claim token stays: if that sender was only cut off from the database and did hand
    the message over, its late ``sent`` still lands (:func:`mark_sent`).
    """
    rows = conn.fetchall(
        "UPDATE messages SET status = 'pending', next_attempt_at = :now, last_error = :error,"
        " updated_at = :now WHERE status = 'sending' AND claimed_at < :cutoff RETURNING id",
        {"cutoff": cutoff_us, "error": error, "now": now_us},
    )
    return [int(row["id"]) for row in rows]


def retry(conn: Connection, message_id: int, now_us: int) -> Row | None:
    """failed or pending → pending, due now, with a fresh retry window (attempts from 0)."""
    return conn.fetchone(
        "UPDATE messages SET status = 'pending', next_attempt_at = :now, attempts = 0,"
        " updated_at = :now WHERE id = :id AND status IN ('pending', 'failed')"
        f" RETURNING {_ALL}",
        {"id": message_id, "now": now_us},
    )
