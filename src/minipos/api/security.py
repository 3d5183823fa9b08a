"""Who is calling: ``Authorization: Token <key>`` or ``Bearer <key>`` (docs/decisions.md §4)."""

from __future__ import annotations

from typing import Protocol

from starlette.requests import Request

from minipos.api.jsonio import HTTPProblem
from minipos.auth.principal import Principal
from minipos.auth.service import KeyCache, verify
from minipos.db import Database

_CHALLENGE = {"WWW-Authenticate": "Token"}


class KeyStore(Protocol):
    """What checking a key needs of the process (``request.app.state.ctx``); the toolkit knows
    no more of the application than this."""

    db: Database
    pepper: bytes
    keys: KeyCache


async def authenticate(request: Request) -> Principal:
    header = request.headers.get("authorization")
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
