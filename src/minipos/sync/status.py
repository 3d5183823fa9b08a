"""The sync status (``GET /api/sync/status``, ``minipos sync status``): at a store, how its
outbox and link stand; at the centre, each store's last contact and what arrived.

Read straight from the sync tables (and the centre's ``stores`` table by SQL: ``sync`` does
not import the stores registry), so the CLI answers the same with the server stopped.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import msgspec

from minipos.db import Connection
from minipos.domain.sync import STORE_LANE
from minipos.sync import repository
from minipos.timeutil import local_aware

#: No successful contact for this long and a store calls itself offline (the pull runs every
#: 5 s, so three missed pulls).
OFFLINE_AFTER_US = 15_000_000


class LaneStatus(msgspec.Struct):
    #: A station's ``pos_id``, or ``-`` for invoices and their state changes.
    lane: str
    waiting: int
    oldest_waiting_at: str | None
    quarantined: int
    #: The store's id of the lane's newest item the centre acknowledged.
    last_acked_local_id: str | None


class StandaloneStatus(msgspec.Struct, tag_field="mode", tag="standalone"):
    """A shop on its own: nothing to sync."""


class StoreStatus(msgspec.Struct, tag_field="mode", tag="store"):
    centre: str
    last_contact_at: str | None
    last_error: str | None
    #: The centre's clock minus the store's, estimated at the last push (reported only:
    #: order comes from sequence numbers, never from clocks).
    skew_seconds: float | None
    #: No successful contact with the centre in the last 15 seconds.
    offline: bool
    waiting: int
    oldest_waiting_at: str | None
    quarantined: int
    lanes: list[LaneStatus]


class StoreAtCentre(msgspec.Struct):
    code: str
    name: str
    last_contact_at: str | None
    skew_seconds: float | None
    last_error: str | None
    #: Items ingested from the store, ever.
    received: int
    #: Offers that clashed with what arrived before, not yet resolved.
    conflicts: int


class CentralStatus(msgspec.Struct, tag_field="mode", tag="central"):
    stores: list[StoreAtCentre]


SyncStatus = StandaloneStatus | StoreStatus | CentralStatus


def _seconds(ms: int | None) -> float | None:
    return None if ms is None else ms / 1000


def store_status(conn: Connection, centre: str, zone: ZoneInfo, now_us: int) -> StoreStatus:
    state = repository.state(conn)
    totals = repository.outbox_totals(conn)
    busy = {str(r["lane"]): r for r in repository.lanes(conn)}
    names = sorted({STORE_LANE, *repository.station_lanes(conn), *busy})
    lanes = []
    for name in names:
        row = busy.get(name)
        lanes.append(
            LaneStatus(
                lane=name,
                waiting=int(row["waiting"] or 0) if row else 0,
                oldest_waiting_at=local_aware(row["oldest"], zone) if row else None,
                quarantined=int(row["quarantined"] or 0) if row else 0,
                last_acked_local_id=repository.last_acked(conn, name),
            )
        )
    contact = None if state is None else state["last_contact_at"]
    return StoreStatus(
        centre=centre,
        last_contact_at=local_aware(contact, zone),
        last_error=None if state is None else state["last_error"],
        skew_seconds=None if state is None else _seconds(state["skew_ms"]),
        offline=contact is None or now_us - int(contact) > OFFLINE_AFTER_US,
        waiting=int(totals["waiting"] or 0),
        oldest_waiting_at=local_aware(totals["oldest"], zone),
        quarantined=int(totals["quarantined"] or 0),
        lanes=lanes,
    )


def central_status(conn: Connection, zone: ZoneInfo) -> CentralStatus:
    rows = sorted(repository.stores_with_status(conn), key=lambda r: str(r["code"]))
    return CentralStatus(
        stores=[
            StoreAtCentre(
                code=r["code"],
                name=r["name"],
                last_contact_at=local_aware(r["last_contact_at"], zone),
                skew_seconds=_seconds(r["last_skew_ms"]),
                last_error=r["last_error"],
                received=int(r["items_received"]),
                conflicts=int(r["conflicts_open"]),
            )
            for r in rows
        ]
    )


def status(conn: Connection, mode: str, centre: str, zone: ZoneInfo, now_us: int) -> SyncStatus:
    if mode == "store":
        return store_status(conn, centre, zone, now_us)
    if mode == "central":
        return central_status(conn, zone)
    return StandaloneStatus()
