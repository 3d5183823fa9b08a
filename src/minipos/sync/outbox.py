"""A store's outbox (docs/stores.md): every fact the centre must get, written in the
transaction of its change, so it exists exactly when the change does (invariant I1).

:func:`record` is the database's change hook in store mode (``Database.on_change``): the areas
record their events as always and know nothing of sync.
"""

from __future__ import annotations

from typing import Any

from minipos.db import Connection
from minipos.domain.events import EventType
from minipos.domain.sync import KIND_OF_EVENT, canonical, content_hash
from minipos.sync import bodies, repository


def record(conn: Connection, event_type: Any, resource_id: int, data: Any, now_us: int) -> None:
    """Queue the outbox item for a change; written just before its COMMIT."""
    kind = KIND_OF_EVENT.get(EventType(event_type))
    if kind is None:
        return
    # Built now, not at flush: an invoice opened and done in one unit of work sends both.
    item = bodies.build(conn, kind, resource_id)
    if item is None:
        return
    data_bytes = canonical(item.body)
    conn.batch(repository.append_outbox).append(
        {
            "kind": item.kind.value,
            "local_id": item.local_id,
            "lane": item.lane,
            "body": data_bytes.decode(),
            "hash": content_hash(data_bytes),
            "status": repository.PENDING,
            "created_at": now_us,
        }
    )
