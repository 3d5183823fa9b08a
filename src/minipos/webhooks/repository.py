"""Tables ``webhooks``, ``webhook_deliveries`` and ``webhook_attempts``."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any, TypedDict, cast

from minipos import db
from minipos.db import Connection, insert_statement, select_in
from minipos.events.repository import EventRow
from minipos.webhooks.schemas import DeliveryStatus

# Rows as the service and the sender read them. A typing view only (``cast``: the rows stay the
# driver's, read by column name), so mypy checks each column name and type that is read.
# Times are µs since the epoch, UTC.


class WebhookRow(TypedDict):
    id: int
    url: str
    events: str  # JSON array of event types
    secret: str
    description: str
    active: int  # 0/1 on SQLite, a bool on PostgreSQL
    cursor: int  # the last event id turned into deliveries
    lease_owner: str | None
    lease_until: int | None
    created_at: int
    updated_at: int


class DeliveryRow(TypedDict):
    id: int
    webhook_id: int
    event_id: int
    event_type: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: int
    last_status_code: int | None
    last_error: str | None
    created_at: int
    updated_at: int
    delivered_at: int | None


class AttemptRow(TypedDict):
    id: int
    delivery_id: int
    attempted_at: int
    status_code: int | None
    error: str | None
    duration_ms: int


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


def get(conn: Connection, webhook_id: int) -> WebhookRow | None:
    row = conn.fetchone("SELECT * FROM webhooks WHERE id = :id", {"id": webhook_id})
    return cast("WebhookRow | None", row)


def all_webhooks(conn: Connection) -> list[WebhookRow]:
    return cast("list[WebhookRow]", conn.fetchall("SELECT * FROM webhooks ORDER BY id"))


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


def due(conn: Connection, webhook_id: int, limit: int) -> list[tuple[DeliveryRow, EventRow | None]]:
    """The endpoint's undelivered deliveries in event order, each with its event (None once
    retention removed it)."""
    rows = conn.fetchall(
        "SELECT d.*, e.id AS found_event, e.type, e.created_at AS event_created_at,"
        " e.resource, e.resource_id, e.data FROM webhook_deliveries d"
        " LEFT JOIN events e ON e.id = d.event_id"
        " WHERE d.webhook_id = :webhook AND d.status = 'pending' ORDER BY d.event_id LIMIT :limit",
        {"webhook": webhook_id, "limit": limit},
    )
    return [
        (
            cast("DeliveryRow", row),
            None
            if row["found_event"] is None
            else EventRow(
                id=row["found_event"],
                type=row["type"],
                created_at=row["event_created_at"],
                resource=row["resource"],
                resource_id=row["resource_id"],
                data=row["data"],
            ),
        )
        for row in rows
    ]


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


def get_delivery(conn: Connection, webhook_id: int, delivery_id: int) -> DeliveryRow | None:
    row = conn.fetchone(
        "SELECT * FROM webhook_deliveries WHERE id = :id AND webhook_id = :webhook",
        {"id": delivery_id, "webhook": webhook_id},
    )
    return cast("DeliveryRow | None", row)


def search_deliveries(
    conn: Connection, webhook_id: int, filters: Mapping[str, Any], *, limit: int, offset: int
) -> tuple[list[DeliveryRow], int]:
    rows, total = db.search(
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
    return cast("list[DeliveryRow]", rows), total


def attempts_of(conn: Connection, delivery_ids: Collection[int]) -> dict[int, list[AttemptRow]]:
    found: dict[int, list[AttemptRow]] = {delivery_id: [] for delivery_id in delivery_ids}
    rows = select_in(
        conn, "SELECT * FROM webhook_attempts WHERE delivery_id IN ({}) ORDER BY id", found
    )
    for row in cast("Iterator[AttemptRow]", rows):
        found[row["delivery_id"]].append(row)
    return found
