"""Recording events with the change they tell of, and reading the log back.

``record`` only queues the event on the unit of work; the database writes it just before the
COMMIT that also carries the change (``Connection.batch``). So an event exists exactly when
its change does: a rolled-back change leaves no event, a committed one always has its event,
whatever crashes afterwards (the transactional outbox).
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from minipos.db import Connection
from minipos.domain.events import ALL, EventType, select_types
from minipos.events import repository
from minipos.events.repository import EventRow
from minipos.events.schemas import EventOut
from minipos.jsoncodec import encode
from minipos.timeutil import local_aware


def record(
    conn: Connection, event_type: EventType, resource_id: int, data: Any, now_us: int
) -> None:
    """Tell of a change made in this unit of work; written (or dropped) with it.

    ``data`` is encoded as the API encodes it: byte for byte what the resource's GET would
    have answered at that moment. The connection's change hook (a store's outbox) hears of it
    even when the event log is off."""
    if conn.on_change is not None:
        conn.on_change(conn, event_type, resource_id, data, now_us)
    if not conn.events:
        return
    conn.batch(repository.append).append(
        {
            "type": event_type.value,
            "resource": event_type.resource,
            "resource_id": resource_id,
            "created_at": now_us,
            "data": encode(data).decode(),
        }
    )


def encoded(data: Any) -> msgspec.Raw:
    """``data`` as the API encodes it, once: a route answers with it and ``record`` stores it
    as it is (a ``Raw`` is encoded by copying)."""
    return msgspec.Raw(encode(data))


def wanted(type_filter: str | None) -> frozenset[str] | None:
    """The types a ``type`` query names (None: every type)."""
    if type_filter is None:
        return None
    types = select_types(type_filter.split(","), ("type",))
    return None if types == ALL else frozenset(types)


def after(
    conn: Connection, cursor: int, types: frozenset[str] | None, limit: int, zone: ZoneInfo
) -> list[EventOut]:
    return [event_out(row, zone) for row in repository.after(conn, cursor, types, limit)]


def event_out(row: EventRow, zone: ZoneInfo) -> EventOut:
    return EventOut(
        id=row["id"],
        type=row["type"],
        created_at=local_aware(row["created_at"], zone) or "",
        resource=row["resource"],
        resource_id=row["resource_id"],
        data=msgspec.Raw(row["data"].encode()),
    )
