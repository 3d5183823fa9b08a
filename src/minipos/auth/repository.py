"""API key rows."""

from __future__ import annotations

from typing import TypedDict, cast

from minipos.db import Connection, Row, search


class KeyRow(TypedDict):
    """What the key check reads of an ``api_keys`` row."""

    id: int
    digest: str  # the peppered HMAC of the whole key
    role: str
    station_id: int | None
    store_id: int | None
    revoked_at: int | None  # µs since the epoch, UTC
    #: A station key's station, when it is disabled (``PATCH /api/stations/{id}``).
    station_disabled_at: int | None


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
        "SELECT k.id, k.digest, k.role, k.station_id, k.store_id, k.revoked_at,"
        " st.disabled_at AS station_disabled_at"
        " FROM api_keys k LEFT JOIN stations st ON st.id = k.station_id WHERE k.key_id = :key_id",
        {"key_id": key_id},
    )
    # A typing view only (the row stays the driver's): mypy checks the column names read.
    return cast("KeyRow | None", row)


#: What a listing shows of a key: never its digest.
_KEY_LISTED = (
    "SELECT k.id, k.key_id, k.role, k.name, k.station_id, k.store_id, k.created_at,"
    " k.revoked_at FROM api_keys k"
)
_KEY_FILTERS = {
    "role": "k.role = :role",
    "station_id": "k.station_id = :station_id",
    "revoked": "(k.revoked_at IS NOT NULL) = :revoked",
    "after_id": "k.id > :after_id",
}


def list_keys(
    conn: Connection, filters: dict[str, object], *, limit: int, offset: int
) -> tuple[list[Row], int]:
    return search(
        conn,
        select=_KEY_LISTED,
        count_from="api_keys k",
        conditions=_KEY_FILTERS,
        filters=filters,
        order_by="k.id",
        limit=limit,
        offset=offset,
    )


def listed_key(conn: Connection, row_id: int) -> Row | None:
    return conn.fetchone(_KEY_LISTED + " WHERE k.id = :id", {"id": row_id})


def revoke_key(conn: Connection, row_id: int, now_us: int) -> None:
    """Revoke a key (once: a key revoked before keeps its time)."""
    conn.execute(
        "UPDATE api_keys SET revoked_at = :now WHERE id = :id AND revoked_at IS NULL",
        {"now": now_us, "id": row_id},
    )


def station_keys(conn: Connection, station_id: int) -> list[Row]:
    """The live keys of a station."""
    return conn.fetchall(
        "SELECT id FROM api_keys WHERE station_id = :station AND revoked_at IS NULL",
        {"station": station_id},
    )
