"""API key rows."""

from __future__ import annotations

from minipos.db import Connection, Row


def insert_key(
    conn: Connection,
    *,
    key_id: str,
    digest: str,
    role: str,
    station_id: int | None,
    name: str | None,
    created_at: int,
) -> int:
    return conn.insert(
        "INSERT INTO api_keys (key_id, digest, role, station_id, name, created_at)"
        " VALUES (:key_id, :digest, :role, :station_id, :name, :created_at) RETURNING id",
        {
            "key_id": key_id,
            "digest": digest,
            "role": role,
            "station_id": station_id,
            "name": name,
            "created_at": created_at,
        },
    )


def get_key(conn: Connection, key_id: str) -> Row | None:
    return conn.fetchone(
        "SELECT id, digest, role, station_id, revoked_at FROM api_keys WHERE key_id = :key_id",
        {"key_id": key_id},
    )
