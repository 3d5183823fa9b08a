"""Stored first responses, keyed by (API key, Idempotency-Key)."""

from __future__ import annotations

from minipos.db import Connection, Row


def get(conn: Connection, api_key_id: int, key: str) -> Row | None:
    return conn.fetchone(
        "SELECT id, fingerprint, status_code, body, created_at FROM idempotency_keys"
        " WHERE api_key_id = :api_key_id AND key = :key",
        {"api_key_id": api_key_id, "key": key},
    )


def put(
    conn: Connection,
    *,
    api_key_id: int,
    key: str,
    fingerprint: str,
    status_code: int,
    body: bytes,
    created_at: int,
) -> None:
    conn.execute(
        "INSERT INTO idempotency_keys (api_key_id, key, fingerprint, status_code, body, created_at)"
        " VALUES (:api_key_id, :key, :fingerprint, :status_code, :body, :created_at)",
        {
            "api_key_id": api_key_id,
            "key": key,
            "fingerprint": fingerprint,
            "status_code": status_code,
            "body": body,
            "created_at": created_at,
        },
    )


def delete(conn: Connection, row_id: int) -> None:
    conn.execute("DELETE FROM idempotency_keys WHERE id = :id", {"id": row_id})


def purge(conn: Connection, older_than: int) -> int:
    cursor = conn.execute(
        "DELETE FROM idempotency_keys WHERE created_at < :cutoff", {"cutoff": older_than}
    )
    return int(cursor.rowcount)
