"""Who is calling: ``Authorization: Token <key>`` or ``Bearer <key>`` (docs/decisions.md §4),
or a back-office user's session cookie (docs/office.md), whose changes must carry the
session's CSRF token in ``X-CSRF-Token``."""

from __future__ import annotations

from typing import Protocol

from starlette.requests import Request

from minipos.api.jsonio import HTTPProblem
from minipos.auth import people
from minipos.auth.principal import Principal
from minipos.auth.service import KeyCache, verify
from minipos.db import Database
from minipos.timeutil import now_us

_CHALLENGE = {"WWW-Authenticate": "Token"}


class KeyStore(Protocol):
    """What checking a key needs of the process (``request.app.state.ctx``); the toolkit knows
    no more of the application than this."""

    db: Database
    pepper: bytes
    keys: KeyCache


async def authenticate(request: Request) -> Principal:
    header = request.headers.get("authorization")
    if not header and (token := request.cookies.get(people.SESSION_COOKIE)):
        return await _from_session(request, token)
    if not header:
        raise HTTPProblem(401, "Authentication credentials were not provided.", _CHALLENGE)
    scheme, _, key = header.strip().partition(" ")
    key = key.strip()
    if scheme.lower() not in ("token", "bearer") or not key or " " in key:
        raise HTTPProblem(401, "Invalid token header.", _CHALLENGE)
    ctx: KeyStore = request.app.state.ctx
    principal = ctx.keys.get(key)
    if principal is None:
        principal = await ctx.db.read(lambda conn: verify(conn, ctx.pepper, key))
        if principal is None:
            raise HTTPProblem(401, "Invalid token.", _CHALLENGE)
        ctx.keys.put(key, principal)
    request.state.principal = principal  # the access log names the key id and the station
    return principal


#: Methods that change nothing: a session needs no CSRF token for them.
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


async def session_of(request: Request, token: str) -> people.Session | None:
    ctx: KeyStore = request.app.state.ctx
    return await ctx.db.read(lambda conn: people.find_session(conn, token, now_us()))


async def _from_session(request: Request, token: str) -> Principal:
    """A signed-in user (the back office's pages). A change without the session's CSRF token
    is refused: another site can make the browser send the cookie, never the header."""
    session = await session_of(request, token)
    if session is None:
        raise HTTPProblem(401, "Your session has ended; sign in again.", _CHALLENGE)
    if request.method not in _SAFE and not people.csrf_ok(
        session, request.headers.get(people.CSRF_HEADER)
    ):
        raise HTTPProblem(403, "CSRF token missing or incorrect.")
    principal = session.principal()
    request.state.principal = principal
    return principal
