"""The centre's use cases: the stores registry (a store and its key, the list with each store's
sync status) and taking in a store's push. Each runs inside the caller's unit of work."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from minipos.auth.principal import Role
from minipos.auth.service import create_key
from minipos.db import Connection, UniqueViolation
from minipos.domain.errors import Conflict, NotFound, ValidationFailed
from minipos.invoices.service import ShopConfig
from minipos.stations.service import StationContext
from minipos.stores import ingest, repository
from minipos.stores.schemas import ConflictOut, StoreCreated, StoreIn, StoreOut
from minipos.sync import repository as sync_repository
from minipos.sync.wire import PushRequest, PushResponse
from minipos.timeutil import local_aware

CENTRAL = "central"


def require_centre(mode: str) -> None:
    """Stores are registered at, and push to, a centre only."""
    if mode != CENTRAL:
        raise Conflict(
            f"This server runs as MINIPOS_MODE={mode}; stores are registered at and sync with"
            " the centre (MINIPOS_MODE=central)."
        )


def add(
    conn: Connection, data: StoreIn, pepper: bytes, zone: ZoneInfo, now_us: int
) -> StoreCreated:
    """Register a store and make its key (role ``store``), shown this once."""
    duplicate = f"code: a store with code {data.code} already exists."
    if repository.store_by_code(conn, data.code) is not None:
        raise Conflict(duplicate)
    try:
        with conn.savepoint("store"):
            store_id = repository.insert_store(conn, data.code, data.name, now_us)
    except UniqueViolation:
        raise Conflict(duplicate) from None  # a concurrent add of the same code
    key = create_key(
        conn, pepper, Role.STORE, store_id=store_id, name=f"store {data.code}", now_us=now_us
    )
    repository.set_store_key(conn, store_id, key.principal.api_key_id)
    row = sync_repository.store_with_status(conn, store_id)
    assert row is not None
    out = store_out(row, zone)
    return StoreCreated(**{f: getattr(out, f) for f in out.__struct_fields__}, key=key.key)


def list_all(conn: Connection, zone: ZoneInfo) -> list[StoreOut]:
    return [store_out(row, zone) for row in sync_repository.stores_with_status(conn)]


def store_out(row: Any, zone: ZoneInfo) -> StoreOut:
    return StoreOut(
        id=row["id"],
        code=row["code"],
        name=row["name"],
        created_at=local_aware(row["created_at"], zone) or "",
        last_contact_at=local_aware(row["last_contact_at"], zone),
        last_skew_ms=row["last_skew_ms"],
        last_error=row["last_error"],
        items_received=int(row["items_received"]),
        conflicts_open=int(row["conflicts_open"]),
        receipts_flagged=int(row["receipts_flagged"]),
        shifts_unreconciled=int(row["shifts_unreconciled"]),
    )


def conflicts(conn: Connection, code: str, zone: ZoneInfo) -> list[ConflictOut]:
    """What a store offered against the centre's stored items (``minipos store conflicts``)."""
    return [
        ConflictOut(
            id=row["id"],
            kind=row["kind"],
            local_id=row["local_id"],
            stored_hash=row["stored_hash"],
            offered_hash=row["offered_hash"],
            offered_body=row["offered_body"],
            received_at=local_aware(row["received_at"], zone) or "",
            resolved_at=local_aware(row["resolved_at"], zone),
        )
        for row in repository.conflicts(conn, _store_id(conn, code))
    ]


def resolve(conn: Connection, code: str, conflict_id: int, now_us: int) -> None:
    """Mark a conflict dealt with (the store's quarantined item settled by a person)."""
    if not repository.resolve_conflict(conn, _store_id(conn, code), conflict_id, now_us):
        raise NotFound(f"Store {code} has no open conflict {conflict_id}.")


def _store_id(conn: Connection, code: str) -> int:
    row = repository.store_by_code(conn, code)
    if row is None:
        raise NotFound(f"No store has code {code!r}.")
    return int(row["id"])


def store_id_for_key(conn: Connection, code: str) -> int:
    """The store ``minipos key create --store CODE`` binds a key to (ValueError: none)."""
    row = repository.store_by_code(conn, code)
    if row is None:
        raise ValueError(f"--store: no store has code {code!r} (minipos store list)")
    return int(row["id"])


def store_id_named(conn: Connection, code: str, field: str = "store") -> int:
    """The store a query names by code; an unknown code is a 400 naming the parameter."""
    row = repository.store_by_code(conn, code)
    if row is None:
        raise ValidationFailed.single((field,), f"No store has code {code!r}.")
    return int(row["id"])


def push(
    conn: Connection,
    store_id: int,
    request: PushRequest,
    *,
    shop: ShopConfig,
    stations: StationContext,
    now_us: int,
) -> PushResponse:
    store = repository.get_store(conn, store_id)
    if store is None:
        raise NotFound("This key's store is not registered here.")
    return ingest.push(conn, store, request, shop=shop, stations=stations, now_us=now_us)
