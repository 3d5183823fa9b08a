"""Tables ``webhooks``, ``webhook_deliveries`` and ``webhook_attempts``."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from minipos import db
from minipos.db import Connection, Row, insert_statement, select_in

_INSERT_WEBHOOK = insert_statement(
    "webhooks",
    (
        "url", "events", "secret", "description", "active", "cursor", "lease_owner",
        "lease_until", "created_at", "updated_at",
    ),
)  # fmt: skip
_INSERT_DELIVERY = insert_statement(
    "webhook_deliveries",
    (
        "webhook_id", "event_id", "event_type", "status", "attempts", "next_attempt_at",
        "last_status_code", "last_error", "created_at", "updated_at", "delivered_at",
    ),
)  # fmt: skip
_INSERT_ATTEMPT = insert_statement(
    "webhook_attempts", ("delivery_id", "attempted_at", "status_code", "error", "duration_ms")
)


def insert(conn: Connection, webhook: dict[str, Any]) -> int:
    webhook["id"] = conn.insert(_INSERT_WEBHOOK, webhook)
    return int(webhook["id"])


def get(conn: Connection, webhook_id: int) -> Row | None:
    return conn.fetchone("SELECT * FROM webhooks WHERE id = :id", {"id": webhook_id})


def all_webhooks(conn: Connection) -> list[Row]:
    return conn.fetchall("SELECT * FROM webhooks ORDER BY id")


def update(conn: Connection, webhook: Mapping[str, Any]) -> None:
    conn.execute(
        "UPDATE webhooks SET url = :url, events = :events, description = :description,"
        " active = :active, updated_at = :updated_at WHERE id = :id",
        webhook,
    )


def delete(conn: Connection, webhook_id: int) -> bool:
    # Attempts and deliveries go with it (ON DELETE CASCADE; SQLite enforces it per connection).
    conn.execute(
        "DELETE FROM webhook_attempts WHERE delivery_id IN"
        " (SELECT id FROM webhook_deliveries WHERE webhook_id = :id)",
        {"id": webhook_id},
    )
    conn.execute("DELETE FROM webhook_deliveries WHERE webhook_id = :id", {"id": webhook_id})
    return bool(conn.execute("DELETE FROM webhooks WHERE id = :id", {"id": webhook_id}).rowcount)


def take_lease(conn: Connection, webhook_id: int, owner: str, now_us: int, until_us: int) -> bool:
    """Become (or stay) the one process sending this endpoint's events."""
    cursor = conn.execute(
        "UPDATE webhooks SET lease_owner = :owner, lease_until = :until WHERE id = :id"
        " AND active AND (lease_owner IS NULL OR lease_owner = :owner OR lease_until < :now)",
        {"owner": owner, "until": until_us, "now": now_us, "id": webhook_id},
    )
    return bool(cursor.rowcount)


def drop_leases(conn: Connection) -> None:
    """SQLite: this process is the only one; a lease left by a killed one means nothing."""
    conn.execute("UPDATE webhooks SET lease_owner = NULL, lease_until = NULL")


def advance(conn: Connection, webhook_id: int, cursor: int) -> None:
    conn.execute(
        "UPDATE webhooks SET cursor = :cursor WHERE id = :id", {"cursor": cursor, "id": webhook_id}
    )


def insert_deliveries(conn: Connection, deliveries: Sequence[Mapping[str, Any]]) -> None:
    conn.insert_many(_INSERT_DELIVERY, deliveries)


def due(conn: Connection, webhook_id: int, limit: int) -> list[Row]:
    """The endpoint's undelivered deliveries in event order, each with its event (NULL once
    retention removed it)."""
    return conn.fetchall(
        "SELECT d.*, e.id AS found_event, e.type, e.created_at AS event_created_at,"
        " e.resource, e.resource_id, e.data FROM webhook_deliveries d"
        " LEFT JOIN events e ON e.id = d.event_id"
        " WHERE d.webhook_id = :webhook AND d.status = 'pending' ORDER BY d.event_id LIMIT :limit",
        {"webhook": webhook_id, "limit": limit},
    )


def record_attempts(conn: Connection, attempts: Sequence[Mapping[str, Any]]) -> None:
    conn.insert_many(_INSERT_ATTEMPT, attempts)


def update_delivery(conn: Connection, values: Mapping[str, Any]) -> None:
    conn.execute(
        "UPDATE webhook_deliveries SET status = :status, attempts = :attempts,"
        " next_attempt_at = :next_attempt_at, last_status_code = :last_status_code,"
        " last_error = :last_error, updated_at = :updated_at, delivered_at = :delivered_at"
        " WHERE id = :id",
        values,
    )


def send_again(conn: Connection, delivery_id: int, now_us: int) -> None:
    """A failed delivery back to pending, due now; its log and counts stay."""
    conn.execute(
        "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = :now,"
        " updated_at = :now WHERE id = :id",
        {"now": now_us, "id": delivery_id},
    )


def purge_deliveries(conn: Connection, older_than_us: int, batch: int) -> int:
    """Remove up to ``batch`` finished deliveries (and their tries) last touched before
    ``older_than_us``; pending ones stay whatever their age."""
    finished = (
        "SELECT id FROM webhook_deliveries WHERE status <> 'pending'"
        " AND updated_at < :cutoff ORDER BY id LIMIT :batch"
    )
    params = {"cutoff": older_than_us, "batch": batch}
    conn.execute(f"DELETE FROM webhook_attempts WHERE delivery_id IN ({finished})", params)
    cursor = conn.execute(f"DELETE FROM webhook_deliveries WHERE id IN ({finished})", params)
    return max(int(cursor.rowcount), 0)


def get_delivery(conn: Connection, webhook_id: int, delivery_id: int) -> Row | None:
    return conn.fetchone(
        "SELECT * FROM webhook_deliveries WHERE id = :id AND webhook_id = :webhook",
        {"id": delivery_id, "webhook": webhook_id},
    )


def search_deliveries(
    conn: Connection, webhook_id: int, filters: Mapping[str, Any], *, limit: int, offset: int
) -> tuple[list[Row], int]:
    return db.search(
        conn,
        select="SELECT * FROM webhook_deliveries",
        count_from="webhook_deliveries",
        conditions={
            "webhook_id": "webhook_id = :webhook_id",
            "status": "status = :status",
            "event_id": "event_id = :event_id",
            "after_id": "id > :after_id",
        },
        filters={**filters, "webhook_id": webhook_id},
        order_by="id",
        limit=limit,
        offset=offset,
    )


def attempts_of(conn: Connection, delivery_ids: Collection[int]) -> dict[int, list[Row]]:
    found: dict[int, list[Row]] = {delivery_id: [] for delivery_id in delivery_ids}
    for row in select_in(
        conn, "SELECT * FROM webhook_attempts WHERE delivery_id IN ({}) ORDER BY id", found
    ):
        found[row["delivery_id"]].append(row)
    return found
