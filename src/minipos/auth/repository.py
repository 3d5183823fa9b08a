"""API key rows."""

from __future__ import annotations

from typing import TypedDict, cast

from minipos.db import Connection


class KeyRow(TypedDict):
    """What the key check reads of an ``api_keys`` row."""

    id: int
    digest: str  # the peppered HMAC of the whole key
    role: str
    station_id: int | None
    store_id: int | None
    revoked_at: int | None  # µs since the epoch, UTC


def insert_key(
    conn: Connection,
    *,
    key_id: str,
    digest: str,
    role: str,
    station_id: int | None,
    name: str | None,
    created_at: int,
    store_id: int | None = None,
) -> int:
    return conn.insert(
        "INSERT INTO api_keys (key_id, digest, role, station_id, store_id, name, created_at)"
        " VALUES (:key_id, :digest, :role, :station_id, :store_id, :name, :created_at)"
        " RETURNING id",
        {
            "key_id": key_id,
            "digest": digest,
            "role": role,
            "station_id": station_id,
            "store_id": store_id,
            "name": name,
            "created_at": created_at,
        },
    )


def get_key(conn: Connection, key_id: str) -> KeyRow | None:
    row = conn.fetchone(
        "SELECT id, digest, role, station_id, store_id, revoked_at FROM api_keys"
        " WHERE key_id = :key_id",
        {"key_id": key_id},
    )
    # A typing view only (the row stays the driver's): mypy checks the column names read.
    return cast("KeyRow | None", row)
