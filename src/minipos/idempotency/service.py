"""Run a POST at most once per ``Idempotency-Key`` (docs/api-conventions.md, "Idempotency").

Every POST endpoint goes through ``Idempotency.serve`` (``build_routes`` wraps them all).
Without the header it only calls the handler. With it, the request becomes a ``Claim``, set
as the database's ``write_guard`` while the handler runs: the first write job the handler
hands to ``Database.write`` looks the key up inside its own transaction and, finding a record,
does not run (the first answer is replayed, or another request's body gets 422); otherwise it
runs and the key is recorded in that same transaction, so a crash can never leave the change
without its record or the record without its change.

A job that returns a ``StoredResponse`` (the routes that make their answer inside the
transaction) has its answer recorded with the change. For the other routes the answer is made
after the transaction: the record is written without it (``NO_ANSWER``) and a second write
fills it in right after. A crash between the two leaves a record of a request that was carried
out and whose answer is lost: a retry gets a 409 saying so, never a second execution.

Only 2xx answers are kept: a request refused after its write was recorded has the record
removed, so it may be retried with the same key. A key still in flight in this process answers
409; on PostgreSQL a request from another process waits on the unique index for the first to
commit, then has its own change undone and answers as the first did.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import parse_qsl, urlencode

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive

from minipos.api.jsonio import HTTPProblem, JSONResponse
from minipos.auth.principal import Principal
from minipos.db import Connection, Database, Row, write_guard
from minipos.domain.errors import Conflict, ValidationFailed
from minipos.idempotency import repository
from minipos.idempotency.repository import NO_ANSWER
from minipos.timeutil import now_us

log = logging.getLogger(__name__)

T = TypeVar("T")
Handler = Callable[[Request, Principal], Awaitable[Response]]

MAX_KEY_LENGTH = 255
REPLAYED = {"Idempotent-Replayed": "true"}


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """An answer made inside the write job: recorded in the job's transaction."""

    status_code: int
    body: bytes


def fingerprint(method: str, path: str, canonical: bytes) -> str:
    """What a replay must match. ``canonical`` is the request in canonical form: the decoded
    body encoded again (or a digest of that), so other spacing or key order, or fields the
    server ignores, do not make it another request."""
    return hashlib.sha256(b"%s %s\n%s" % (method.encode(), path.encode(), canonical)).hexdigest()


def canonical_json(body: bytes) -> bytes:
    """``body`` decoded and encoded again with sorted keys; a body that is not JSON (a CSV
    file, or one the handler refuses anyway) as it is."""
    try:
        return msgspec.json.encode(msgspec.json.decode(body), order="sorted")
    except msgspec.MsgspecError:
        return body


def describe(canonical: Callable[[], bytes]) -> None:
    """Give the request's canonical form as the route knows it (its typed body encoded
    again), to compare instead of the generic JSON form; only called for a request that
    carries the header."""
    claim = write_guard.get()
    if isinstance(claim, Claim):
        claim.canonical = canonical


class _Replay(Exception):  # not an error: it carries the stored answer out of the job
    """Raised by the write job that found the first answer: the job did not run, and
    ``serve`` answers with the stored response instead of the handler."""

    def __init__(self, stored: StoredResponse) -> None:
        super().__init__("replayed")
        self.stored = stored


class Claim:
    """One request under an ``Idempotency-Key``: the ``write_guard`` of its write jobs."""

    def __init__(
        self, *, api_key_id: int, key: str, request: Request, ttl_us: int, now_us: int
    ) -> None:
        self.api_key_id = api_key_id
        self.key = key
        self.ttl_us = ttl_us
        self.now_us = now_us
        self.method: str = request.scope["method"]
        self.path: str = request.scope["path"]
        self.query: bytes = request.scope["query_string"]
        #: The body as the handler read it (``reading``).
        self.chunks: list[bytes] = []
        #: The route's own canonical form of the request (``describe``).
        self.canonical: Callable[[], bytes] | None = None
        #: Set by the write job that recorded the key.
        self.record_id: int | None = None
        self.answered = False
        #: Set when the handler is done: writes after it (its own follow-up, or a task it
        #: started, which inherits the context) are not the request's change.
        self.closed = False
        self._fingerprint: str | None = None

    def reading(self, receive: Receive) -> Receive:
        """``receive`` that keeps a copy of the body, for the fingerprint."""

        async def tee() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                self.chunks.append(message.get("body", b""))
            return message

        return tee

    def fingerprint(self) -> str:
        if self._fingerprint is None:
            if self.canonical is not None:
                self._fingerprint = fingerprint(self.method, self.path, self.canonical())
            else:
                query = urlencode(sorted(parse_qsl(self.query.decode("latin-1"), True))).encode()
                body = canonical_json(b"".join(self.chunks))
                self._fingerprint = fingerprint(self.method, self.path, b"%s\n%s" % (query, body))
        return self._fingerprint

    def around(self, job: Callable[[Connection], T], conn: Connection) -> T:
        """Run the request's first write job once per key, recording the key with it."""
        if self.closed or self.record_id is not None:
            return job(conn)  # the request's later writes: the key is recorded already
        found = self._stored(conn)
        if found is not None:
            raise self._settled(found)
        result = job(conn)
        answer = result if isinstance(result, StoredResponse) else None
        row_id = repository.put(
            conn,
            api_key_id=self.api_key_id,
            key=self.key,
            fingerprint=self.fingerprint(),
            status_code=NO_ANSWER if answer is None else answer.status_code,
            body=b"" if answer is None else answer.body,
            created_at=self.now_us,
        )
        if row_id is None:
            # Another process's request with this key committed first: the exception undoes
            # this job's change, and the request answers as that one did.
            found = self._stored(conn)
            assert found is not None, "the conflicting record is committed"
            raise self._settled(found)
        self.record_id = row_id
        self.answered = answer is not None
        return result

    def _stored(self, conn: Connection) -> Row | None:
        found = repository.get(conn, self.api_key_id, self.key)
        if found is not None and found["created_at"] < self.now_us - self.ttl_us:
            repository.delete(conn, found["id"])  # expired: the key is free again
            return None
        return found

    def _settled(self, found: Row) -> Exception:
        if found["fingerprint"] != self.fingerprint():
            return HTTPProblem(422, "This Idempotency-Key was used with a different request.")
        if found["status_code"] == NO_ANSWER:
            return Conflict(
                "A request with this Idempotency-Key was carried out, and its answer is not"
                " kept (or not yet: try again in a moment). It was not carried out again."
            )
        return _Replay(StoredResponse(found["status_code"], bytes(found["body"])))


class Idempotency:
    def __init__(self, ttl_us: int, db: Database) -> None:
        self.ttl_us = ttl_us
        self.db = db
        self._in_flight: set[tuple[int, str]] = set()

    def serve(
        self, request: Request, principal: Principal, handler: Handler
    ) -> Awaitable[Response]:
        """The handler's answer, or with ``Idempotency-Key`` the first answer to the key."""
        key = request.headers.get("idempotency-key")
        if key is None:
            return handler(request, principal)  # the handler's own coroutine: no extra frame
        if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
            raise ValidationFailed.single(
                ("Idempotency-Key",),
                f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} printable characters.",
            )
        slot = (principal.api_key_id, key)
        if slot in self._in_flight:
            raise Conflict("A request with this Idempotency-Key is still being processed.")
        return self._once(request, principal, handler, key, slot)

    async def _once(
        self,
        request: Request,
        principal: Principal,
        handler: Handler,
        key: str,
        slot: tuple[int, str],
    ) -> Response:
        self._in_flight.add(slot)  # no await since serve's check: no other request came in
        try:
            claim = Claim(
                api_key_id=principal.api_key_id,
                key=key,
                request=request,
                ttl_us=self.ttl_us,
                now_us=now_us(),
            )
            return await self._run(claim, request, principal, handler)
        finally:
            self._in_flight.discard(slot)  # only once the answer is kept or the key freed

    async def _run(
        self, claim: Claim, request: Request, principal: Principal, handler: Handler
    ) -> Response:
        token = write_guard.set(claim)
        try:
            response = await handler(
                Request(request.scope, claim.reading(request.receive)), principal
            )
        except _Replay as replay:
            stored = replay.stored
            return JSONResponse(stored.body, status_code=stored.status_code, headers=REPLAYED)
        except Exception:
            await self._refused(claim)
            raise
        finally:
            claim.closed = True
            write_guard.reset(token)
        if claim.record_id is None:
            return response  # nothing was written (validateonly, a dry run): nothing to keep
        if not 200 <= response.status_code < 300:
            await self._refused(claim)
        elif not claim.answered:
            await self._keep(claim.record_id, response)
        return response

    async def _refused(self, claim: Claim) -> None:
        """Only 2xx answers are kept: the key may be used again."""
        claim.closed = True
        record_id = claim.record_id
        if record_id is None:
            return
        try:
            await self.db.write(lambda conn: repository.delete(conn, record_id))
        except Exception:
            log.exception("could not remove the Idempotency-Key record of a refused request")

    async def _keep(self, record_id: int, response: Response) -> None:
        """Fill in the answer the handler made after its transaction. If this fails, the
        record stays without it: a retry is told the request was carried out."""
        status, body = response.status_code, bytes(response.body)
        try:
            await self.db.write(lambda conn: repository.answer(conn, record_id, status, body))
        except Exception:
            log.exception("could not keep the answer of an Idempotency-Key request")
