"""Webhook use cases: endpoints (create, list, delete), the delivery log, and the
bookkeeping the sender does in the database (fan-out, outcomes). Each runs inside the
caller's unit of work; the sending itself is :mod:`minipos.webhooks.worker`'s."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from msgspec import UNSET

from minipos.db import Connection
from minipos.domain.errors import Conflict, NotFound, ValidationFailed
from minipos.domain.events import ALL, select_types, type_names
from minipos.events import repository as events
from minipos.events.service import event_out
from minipos.jsoncodec import encode
from minipos.timeutil import local_aware
from minipos.webhooks import repository
from minipos.webhooks.addresses import AddressRefused, Network, parse, resolve
from minipos.webhooks.repository import AttemptRow, DeliveryRow, WebhookRow
from minipos.webhooks.schemas import (
    AttemptOut,
    DeliveryOut,
    DeliveryQuery,
    WebhookCreated,
    WebhookIn,
    WebhookOut,
    WebhookPatch,
)
from minipos.webhooks.signing import new_secret

#: Events turned into deliveries per fan-out transaction.
FAN_OUT_BATCH = 1000


def check_url(url: str, networks: Sequence[Network]) -> None:
    """400 on ``url`` unless webhooks may go there (docs/webhooks.md; blocking DNS lookup)."""
    try:
        resolve(parse(url), networks)
    except AddressRefused as exc:
        raise ValidationFailed.single(("url",), str(exc)) from exc


def create(conn: Connection, data: WebhookIn, zone: ZoneInfo, now_us: int) -> WebhookCreated:
    """A new endpoint; it gets the events committed from now on (``cursor`` = the newest)."""
    types = select_types(data.events, ("events",))
    row: dict[str, Any] = {
        "url": data.url,
        "events": json.dumps(type_names(types)),
        "secret": new_secret(),
        "description": data.description,
        "active": data.active,
        "cursor": events.last_id(conn),
        "lease_owner": None,
        "lease_until": None,
        "created_at": now_us,
        "updated_at": now_us,
    }
    repository.insert(conn, row)
    return WebhookCreated(**_fields(row, zone), secret=row["secret"])


def change(
    conn: Connection, webhook_id: int, data: WebhookPatch, zone: ZoneInfo, now_us: int
) -> WebhookOut:
    """``PATCH``: the fields sent replace the stored ones (a new ``url`` is checked by the
    caller, outside the transaction: the check looks the host up)."""
    stored = get(conn, webhook_id)
    row = {
        "id": webhook_id,
        "url": stored["url"] if data.url is UNSET else data.url,
        "events": stored["events"]
        if data.events is UNSET
        else json.dumps(type_names(select_types(data.events, ("events",)))),
        "description": stored["description"] if data.description is UNSET else data.description,
        "active": bool(stored["active"]) if data.active is UNSET else data.active,
        "updated_at": now_us,
    }
    repository.update(conn, row)
    return webhook_out(get(conn, webhook_id), zone)


def get(conn: Connection, webhook_id: int) -> WebhookRow:
    found = repository.get(conn, webhook_id)
    if found is None:
        raise NotFound()
    return found


def list_all(conn: Connection, zone: ZoneInfo) -> list[WebhookOut]:
    return [webhook_out(row, zone) for row in repository.all_webhooks(conn)]


def delete(conn: Connection, webhook_id: int) -> None:
    if not repository.delete(conn, webhook_id):
        raise NotFound()


def webhook_out(row: WebhookRow, zone: ZoneInfo) -> WebhookOut:
    return WebhookOut(**_fields(row, zone))


def _fields(row: Any, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "id": row["id"],
        "url": row["url"],
        "events": json.loads(row["events"]),
        "description": row["description"],
        "active": bool(row["active"]),
        "created_at": local_aware(row["created_at"], zone),
        "updated_at": local_aware(row["updated_at"], zone),
    }


def subscribed(row: WebhookRow) -> frozenset[str] | None:
    """The endpoint's event types (None: all)."""
    names: list[str] = json.loads(row["events"])
    types = select_types(names, ("events",))
    return None if types == ALL else frozenset(types)


# --- the delivery log -----------------------------------------------------------------------


def deliveries(
    conn: Connection, webhook_id: int, query: DeliveryQuery, zone: ZoneInfo
) -> tuple[list[DeliveryOut], int]:
    get(conn, webhook_id)
    filters = {"status": query.status, "event_id": query.event_id, "after_id": query.after_id}
    rows, total = repository.search_deliveries(
        conn, webhook_id, filters, limit=query.limit, offset=query.offset
    )
    log = repository.attempts_of(conn, [row["id"] for row in rows])
    return [delivery_out(row, log[row["id"]], zone) for row in rows], total


def delivery_out(row: DeliveryRow, attempts: Sequence[AttemptRow], zone: ZoneInfo) -> DeliveryOut:
    pending = row["status"] == "pending"
    return DeliveryOut(
        id=row["id"],
        event_id=row["event_id"],
        event_type=row["event_type"],
        status=row["status"],
        attempts=row["attempts"],
        next_attempt_at=local_aware(row["next_attempt_at"], zone) if pending else None,
        last_status_code=row["last_status_code"],
        last_error=row["last_error"],
        created_at=local_aware(row["created_at"], zone) or "",
        delivered_at=local_aware(row["delivered_at"], zone),
        log=[
            AttemptOut(
                attempted_at=local_aware(a["attempted_at"], zone) or "",
                status_code=a["status_code"],
                error=a["error"],
                duration_ms=a["duration_ms"],
            )
            for a in attempts
        ],
    )


def redeliver(
    conn: Connection, webhook_id: int, delivery_id: int, zone: ZoneInfo, now_us: int
) -> DeliveryOut:
    """A failed delivery goes out again now (under its own id), ahead of anything pending."""
    get(conn, webhook_id)
    row = repository.get_delivery(conn, webhook_id, delivery_id)
    if row is None:
        raise NotFound()
    if row["status"] != "failed":
        raise Conflict(f"Delivery {delivery_id} is {row['status']}; only a failed one is retried.")
    repository.send_again(conn, delivery_id, now_us)
    found = repository.get_delivery(conn, webhook_id, delivery_id)
    assert found is not None
    return delivery_out(found, repository.attempts_of(conn, [delivery_id])[delivery_id], zone)


# --- the sender's bookkeeping ---------------------------------------------------------------


def fan_out(conn: Connection, webhook: WebhookRow, now_us: int) -> int:
    """Turn the events after the endpoint's cursor into its pending deliveries; how many.

    The cursor moves past events of other types too; ids are the commit order, so no event
    that commits later can appear behind it.
    """
    cursor = webhook["cursor"]
    wanted = subscribed(webhook)
    rows = events.after(conn, cursor, None, FAN_OUT_BATCH)
    if not rows:
        return 0
    chosen = [row for row in rows if wanted is None or row["type"] in wanted]
    repository.insert_deliveries(
        conn,
        [
            {
                "webhook_id": webhook["id"],
                "event_id": row["id"],
                "event_type": row["type"],
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now_us,
                "last_status_code": None,
                "last_error": None,
                "created_at": now_us,
                "updated_at": now_us,
                "delivered_at": None,
            }
            for row in chosen
        ],
    )
    repository.advance(conn, webhook["id"], rows[-1]["id"])
    return len(chosen)


@dataclass(frozen=True, slots=True)
class Due:
    """A delivery to send now: its id, the event's id and type, and the body to send."""

    delivery: DeliveryRow
    body: bytes | None  # None: the event is gone (retention) and cannot be sent


def due(conn: Connection, webhook_id: int, limit: int, zone: ZoneInfo) -> list[Due]:
    return [
        Due(delivery, None if event is None else encode(event_out(event, zone)))
        for delivery, event in repository.due(conn, webhook_id, limit)
    ]


@dataclass(frozen=True, slots=True)
class Attempt:
    """How one try went: ``status_code`` None when no answer came. A failed try is retried
    at ``retry_at``, or never (None: the delivery has failed for good)."""

    delivery: DeliveryRow
    attempted_at: int
    status_code: int | None
    error: str | None
    duration_ms: int
    retry_at: int | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def record(conn: Connection, attempts: Sequence[Attempt]) -> None:
    """Write the tries of one sending round to the delivery log."""
    repository.record_attempts(
        conn,
        [
            {
                "delivery_id": a.delivery["id"],
                "attempted_at": a.attempted_at,
                "status_code": a.status_code,
                "error": a.error,
                "duration_ms": a.duration_ms,
            }
            for a in attempts
        ],
    )
    for a in attempts:
        row = a.delivery
        values = {
            "id": row["id"],
            "attempts": row["attempts"] + 1,
            "last_status_code": a.status_code,
            "last_error": a.error,
            "updated_at": a.attempted_at,
            "next_attempt_at": row["next_attempt_at"],
            "delivered_at": None,
        }
        if a.ok:
            values.update(status="delivered", delivered_at=a.attempted_at)
        elif a.retry_at is None:
            values.update(status="failed")
        else:
            values.update(status="pending", next_attempt_at=a.retry_at)
        repository.update_delivery(conn, values)
