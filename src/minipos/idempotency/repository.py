"""Stored first responses, keyed by (API key, Idempotency-Key)."""

from __future__ import annotations

from minipos.db import Connection, Row

#: ``status_code`` of a record whose request was carried out but whose answer is not (yet)
#: kept: the routes whose answer is only made after their transaction fill it in right after.
NO_ANSWER = 0


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
) -> int | None:
    """The new record's id; None if another transaction committed one for this key first
    (on PostgreSQL this waits for that transaction to end)."""
    row = conn.fetchone(
        "INSERT INTO idempotency_keys (api_key_id, key, fingerprint, status_code, body, created_at)"
        " VALUES (:api_key_id, :key, :fingerprint, :status_code, :body, :created_at)"
        " ON CONFLICT (api_key_id, key) DO NOTHING RETURNING id",
        {
            "api_key_id": api_key_id,
            "key": key,
            "fingerprint": fingerprint,
            "status_code": status_code,
            "body": body,
            "created_at": created_at,
        },
    )
    return None if row is None else int(row["id"])


def answer(conn: Connection, row_id: int, status_code: int, body: bytes) -> None:
    conn.execute(
        "UPDATE idempotency_keys SET status_code = :status_code, body = :body"
        " WHERE id = :id AND status_code = :no_answer",
        {"id": row_id, "status_code": status_code, "body": body, "no_answer": NO_ANSWER},
    )


def delete(conn: Connection, row_id: int) -> None:
    conn.execute("DELETE FROM idempotency_keys WHERE id = :id", {"id": row_id})


def purge(conn: Connection, older_than: int) -> int:
    cursor = conn.execute(
        "DELETE FROM idempotency_keys WHERE created_at < :cutoff", {"cutoff": older_than}
    )
    return int(cursor.rowcount)
