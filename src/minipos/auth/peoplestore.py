"""Rows of the back office's people: ``office_users``, ``office_sessions`` and
``office_login_failures`` (docs/office.md)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict, cast

from minipos.db import Connection


class UserRow(TypedDict):
    id: int
    name: str
    role: str
    password_hash: str
    language: str | None
    disabled_at: int | None


class SessionRow(TypedDict):
    id: int
    user_id: int
    csrf_token: str
    expires_at: int
    name: str
    role: str
    language: str | None


_USER = "id, name, role, password_hash, language, disabled_at"


def insert_user(
    conn: Connection, *, name: str, role: str, password_hash: str, created_at: int
) -> int:
    return conn.insert(
        "INSERT INTO office_users (name, role, password_hash, created_at)"
        " VALUES (:name, :role, :hash, :at) RETURNING id",
        {"name": name, "role": role, "hash": password_hash, "at": created_at},
    )


def user_by_name(conn: Connection, name: str) -> UserRow | None:
    row = conn.fetchone(f"SELECT {_USER} FROM office_users WHERE name = :name", {"name": name})  # noqa: S608
    return cast("UserRow | None", row)


def user_by_id(conn: Connection, user_id: int) -> UserRow | None:
    row = conn.fetchone(f"SELECT {_USER} FROM office_users WHERE id = :id", {"id": user_id})  # noqa: S608
    return cast("UserRow | None", row)


def list_users(conn: Connection) -> list[UserRow]:
    return cast("list[UserRow]", conn.fetchall(f"SELECT {_USER} FROM office_users ORDER BY name"))  # noqa: S608


def update_user(
    conn: Connection,
    user_id: int,
    *,
    password_hash: str | None = None,
    role: str | None = None,
    disabled_at: int | None = None,
    enable: bool = False,
) -> None:
    if password_hash is not None:
        conn.execute(
            "UPDATE office_users SET password_hash = :h WHERE id = :id",
            {"h": password_hash, "id": user_id},
        )
    if role is not None:
        conn.execute("UPDATE office_users SET role = :r WHERE id = :id", {"r": role, "id": user_id})
    if disabled_at is not None or enable:
        conn.execute(
            "UPDATE office_users SET disabled_at = :d WHERE id = :id",
            {"d": None if enable else disabled_at, "id": user_id},
        )


def insert_session(
    conn: Connection,
    *,
    digest: str,
    user_id: int,
    csrf_token: str,
    client: str | None,
    created_at: int,
    expires_at: int,
) -> int:
    return conn.insert(
        "INSERT INTO office_sessions (digest, user_id, csrf_token, client, created_at, expires_at)"
        " VALUES (:digest, :user_id, :csrf, :client, :created_at, :expires_at) RETURNING id",
        {
            "digest": digest,
            "user_id": user_id,
            "csrf": csrf_token,
            "client": client,
            "created_at": created_at,
            "expires_at": expires_at,
        },
    )


def session_by_digest(conn: Connection, digest: str, now_us: int) -> SessionRow | None:
    """A live session of an enabled user."""
    row = conn.fetchone(
        "SELECT s.id, s.user_id, s.csrf_token, s.expires_at, u.name, u.role, u.language"
        " FROM office_sessions s JOIN office_users u ON u.id = s.user_id"
        " WHERE s.digest = :digest AND s.expires_at > :now AND u.disabled_at IS NULL",
        {"digest": digest, "now": now_us},
    )
    return cast("SessionRow | None", row)


def delete_session(conn: Connection, digest: str) -> int:
    return int(
        conn.execute("DELETE FROM office_sessions WHERE digest = :d", {"d": digest}).rowcount
    )


def delete_user_sessions(conn: Connection, user_id: int) -> None:
    conn.execute("DELETE FROM office_sessions WHERE user_id = :u", {"u": user_id})


def purge_expired(conn: Connection, now_us: int, older_than_us: int) -> None:
    conn.execute("DELETE FROM office_sessions WHERE expires_at <= :now", {"now": now_us})
    conn.execute("DELETE FROM office_login_failures WHERE at < :t", {"t": older_than_us})


def add_failure(conn: Connection, subject: str, at: int) -> int:
    return conn.insert(
        "INSERT INTO office_login_failures (subject, at) VALUES (:s, :at) RETURNING id",
        {"s": subject, "at": at},
    )


def delete_failures(conn: Connection, ids: Sequence[int]) -> None:
    for failure_id in ids:
        conn.execute("DELETE FROM office_login_failures WHERE id = :id", {"id": failure_id})


def failures_since(conn: Connection, subject: str, since_us: int) -> tuple[int, int | None]:
    """How many failures ``subject`` had since ``since_us``, and when the last one was."""
    row = conn.fetchone(
        "SELECT COUNT(*) AS n, MAX(at) AS last FROM office_login_failures"
        " WHERE subject = :s AND at >= :since",
        {"s": subject, "since": since_us},
    )
    if row is None:
        return 0, None
    return int(row["n"]), None if row["last"] is None else int(row["last"])


def clear_failures(conn: Connection, subject: str) -> None:
    conn.execute("DELETE FROM office_login_failures WHERE subject = :s", {"s": subject})
