"""API keys: created at random, shown once, stored only as a peppered HMAC digest.

A key reads ``mpk_<key_id>_<secret>``. ``key_id`` is public (it names the key in listings and
logs and finds its row); the digest of the whole key is compared in constant time. The pepper
lives outside the database (environment or a file beside it), so a stolen database alone does
not let anyone test guesses offline.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from minipos.auth import repository
from minipos.auth.principal import Principal, Role
from minipos.db import Connection
from minipos.domain.errors import Forbidden

PREFIX = "mpk"


@dataclass(frozen=True, slots=True)
class NewKey:
    key: str
    principal: Principal


def load_pepper(secret_key: str, secret_file: str) -> bytes:
    """The configured secret, else one kept in ``secret_file`` (created 0600 on first use)."""
    if secret_key:
        return secret_key.encode()
    path = Path(secret_file)
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    value = secrets.token_hex(32).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(value + b"\n")
    return value


def digest(pepper: bytes, key: str) -> str:
    return hmac.new(pepper, key.encode(), hashlib.sha256).hexdigest()


def create_key(
    conn: Connection,
    pepper: bytes,
    role: Role,
    *,
    station_id: int | None = None,
    store_id: int | None = None,
    name: str | None = None,
    now_us: int,
) -> NewKey:
    if (role is Role.STATION) != (station_id is not None):
        raise ValueError("a station key needs --station, and only a station key takes one")
    if store_id is not None and role not in (Role.STORE, Role.INTEGRATOR):
        raise ValueError("only a store key or an integrator key is bound to a store")
    key_id = secrets.token_hex(6)
    key = f"{PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    row_id = repository.insert_key(
        conn,
        key_id=key_id,
        digest=digest(pepper, key),
        role=role.value,
        station_id=station_id,
        name=name,
        created_at=now_us,
        store_id=store_id,
    )
    return NewKey(key, Principal(row_id, key_id, role, station_id, store_id))


def parse_key_id(key: str) -> str | None:
    prefix, _, rest = key.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != PREFIX or not key_id or not secret:
        return None
    return key_id


def verify(conn: Connection, pepper: bytes, key: str) -> Principal | None:
    """The principal a presented key stands for, or None (unknown, wrong or revoked).

    Raises ``Forbidden`` for a station key whose station is disabled."""
    key_id = parse_key_id(key)
    if key_id is None:
        return None
    row = repository.get_key(conn, key_id)
    if row is None or row["revoked_at"] is not None:
        return None
    if not hmac.compare_digest(row["digest"], digest(pepper, key)):
        return None
    if row["station_disabled_at"] is not None:
        # Known and right, so say why: a till an admin disabled (stolen, retired) is refused.
        raise Forbidden(
            f"Station {row['station_id']} is disabled; an admin can enable it again"
            f" (PATCH /api/stations/{row['station_id']})."
        )
    return Principal(int(row["id"]), key_id, Role(row["role"]), row["station_id"], row["store_id"])


class KeyCache:
    """Remembers verified keys for a few seconds so a request costs no key lookup."""

    def __init__(self, ttl_seconds: float) -> None:
        self._ttl = ttl_seconds
        self._entries: dict[str, tuple[float, Principal]] = {}

    def get(self, key: str) -> Principal | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def forget(self, api_key_id: int) -> None:
        """Drop a revoked key at once (this process; others within their ``ttl_seconds``)."""
        for key, (_, principal) in list(self._entries.items()):
            if principal.api_key_id == api_key_id:
                self._entries.pop(key, None)

    def put(self, key: str, principal: Principal) -> None:
        if len(self._entries) > 10_000:  # bounded: a flood of bad keys is never cached anyway
            self._entries.clear()
        self._entries[key] = (time.monotonic() + self._ttl, principal)


def revoke(conn: Connection, row_id: int, now_us: int) -> bool:
    """Revoke the key with row ``row_id``; False if there is none. Servers that checked it in
    the last ``MINIPOS_AUTH_CACHE_SECONDS`` still take it until their cache forgets it."""
    if repository.listed_key(conn, row_id) is None:
        return False
    repository.revoke_key(conn, row_id, now_us)
    return True


def rotate_station_key(
    conn: Connection, pepper: bytes, station_id: int, name: str, now_us: int
) -> NewKey:
    """A new key for a station, its live ones revoked in the same transaction."""
    for row in repository.station_keys(conn, station_id):
        repository.revoke_key(conn, int(row["id"]), now_us)
    return create_key(conn, pepper, Role.STATION, station_id=station_id, name=name, now_us=now_us)
