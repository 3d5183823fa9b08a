"""Run a POST at most once per ``Idempotency-Key``.

The record of the first response is written in the same transaction as the change it
describes, so a crash can never leave one without the other: a retry after a crash either
finds both or neither. A key still in flight in this process answers 409; in another process
(PostgreSQL) the unique index makes the second request wait for the first and then replay it.
Only successful responses are kept: a rejected request changed nothing and may be retried.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from minipos.api.jsonio import HTTPProblem
from minipos.db import Connection, Database
from minipos.domain.errors import Conflict, ValidationFailed
from minipos.idempotency import repository

MAX_KEY_LENGTH = 255


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status_code: int
    body: bytes
    replayed: bool = False


def fingerprint(method: str, path: str, canonical: bytes) -> str:
    """What a replay must match. ``canonical`` is the request in canonical form: the decoded
    body encoded again (or a digest of that), so other spacing or key order, or fields the
    server ignores, do not make it another request."""
    return hashlib.sha256(b"%s %s\n%s" % (method.encode(), path.encode(), canonical)).hexdigest()


class Idempotency:
    def __init__(self, ttl_us: int) -> None:
        self.ttl_us = ttl_us
        self._in_flight: set[tuple[int, str]] = set()

    async def run(
        self,
        db: Database,
        *,
        api_key_id: int,
        key: str | None,
        fingerprint: str,
        now_us: int,
        job: Callable[[Connection], StoredResponse],
    ) -> StoredResponse:
        if key is None:
            return await db.write(job)
        if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
            raise ValidationFailed.single(
                ("Idempotency-Key",),
                f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} printable characters.",
            )
        slot = (api_key_id, key)
        if slot in self._in_flight:
            raise Conflict("A request with this Idempotency-Key is still being processed.")
        self._in_flight.add(slot)
        try:
            return await db.write(
                lambda conn: self._once(
                    conn,
                    api_key_id=api_key_id,
                    key=key,
                    fingerprint=fingerprint,
                    now_us=now_us,
                    job=job,
                )
            )
        finally:
            self._in_flight.discard(slot)

    def _once(
        self,
        conn: Connection,
        *,
        api_key_id: int,
        key: str,
        fingerprint: str,
        now_us: int,
        job: Callable[[Connection], StoredResponse],
    ) -> StoredResponse:
        stored = repository.get(conn, api_key_id, key)
        if stored is not None and stored["created_at"] < now_us - self.ttl_us:
            repository.delete(conn, stored["id"])
            stored = None
        if stored is not None:
            if stored["fingerprint"] != fingerprint:
                raise HTTPProblem(422, "This Idempotency-Key was used with a different request.")
            return StoredResponse(stored["status_code"], bytes(stored["body"]), replayed=True)
        response = job(conn)
        repository.put(
            conn,
            api_key_id=api_key_id,
            key=key,
            fingerprint=fingerprint,
            status_code=response.status_code,
            body=response.body,
            created_at=now_us,
        )
        return response
