"""``/office/``: sign-in and sign-out for back-office users, the session the pages read, and
the pages themselves (static files, no build step). The pages then call ``/api/*`` with the
session cookie and the session's CSRF token (api.security)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from msgspec import Meta, Struct
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from minipos.api.jsonio import HTTPProblem, JSONResponse, decode, read_body, require_json
from minipos.api.security import authenticate, session_of
from minipos.appcontext import context
from minipos.auth import people
from minipos.auth.principal import Principal, Role
from minipos.db import Connection
from minipos.domain.errors import ValidationFailed
from minipos.timeutil import now_us

MAX_LOGIN_BODY = 4096
#: The session's answers carry its CSRF token: never kept by a cache.
_NO_STORE = {"Cache-Control": "no-store"}


class LoginIn(Struct, forbid_unknown_fields=True):
    name: Annotated[str, Meta(min_length=1, max_length=64)]
    password: Annotated[str, Meta(min_length=1, max_length=1024)]


class SessionOut(Struct):
    name: str
    role: str
    csrf_token: str
    #: µs since the epoch, UTC
    expires_at: int
    #: standalone | store | central: a centre's pages show its stores
    mode: str
    language: str | None = None


def _same_origin(request: Request) -> bool:
    """A browser names the page's origin on a cross-site POST; ours must match the host."""
    origin = request.headers.get("origin")
    if origin is None:
        return True  # not a browser's cross-site request (curl, tests); the cookie is SameSite
    return origin == f"{request.url.scheme}://{request.url.netloc}"


def _session_out(request: Request, session: people.Session) -> SessionOut:
    return SessionOut(
        name=session.name,
        role=session.role.value,
        csrf_token=session.csrf_token,
        expires_at=session.expires_at,
        mode=context(request).settings.mode,
        language=session.language,
    )


async def login(request: Request) -> Response:
    if not _same_origin(request):
        raise HTTPProblem(403, "Cross-site sign-in refused.")
    require_json(request)  # a cross-site HTML form cannot send JSON
    body = decode(await read_body(request, MAX_LOGIN_BODY), LoginIn)
    client = request.client.host if request.client else None
    outcome = await people.sign_in(context(request).db, body.name, body.password, client, now_us())
    if isinstance(outcome, people.Refused):
        if outcome.retry_after_s:
            raise HTTPProblem(
                429,
                f"Too many failed sign-ins; try again in {outcome.retry_after_s} s.",
                {"Retry-After": str(outcome.retry_after_s)},
            )
        raise HTTPProblem(401, "Wrong user name or password.")
    response = JSONResponse(_session_out(request, outcome.session), headers=_NO_STORE)
    response.set_cookie(
        people.SESSION_COOKIE,
        outcome.token,
        max_age=people.SESSION_US // 1_000_000,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


async def logout(request: Request) -> Response:
    token = request.cookies.get(people.SESSION_COOKIE)
    session = await session_of(request, token) if token else None
    if session is not None and token is not None:
        if not people.csrf_ok(session, request.headers.get(people.CSRF_HEADER)):
            raise HTTPProblem(403, "CSRF token missing or incorrect.")
        await context(request).db.write(lambda conn: people.sign_out(conn, token))
    response = Response(status_code=204)
    response.delete_cookie(people.SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


async def current(request: Request) -> Response:
    token = request.cookies.get(people.SESSION_COOKIE)
    session = await session_of(request, token) if token else None
    if session is None:
        raise HTTPProblem(401, "Not signed in.")
    return JSONResponse(_session_out(request, session), headers=_NO_STORE)


async def default_language(request: Request) -> Response:
    """The language a browser shows until its user picks one (``MINIPOS_LANGUAGE``)."""
    return JSONResponse({"language": context(request).settings.language})


#: The pages load only their own files, and no other site may frame them (clickjacking).
PAGE_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
        b"frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]


class _Guarded:
    """Static pages with :data:`PAGE_HEADERS` on every answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def guarded(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *PAGE_HEADERS]
            await send(message)

        await self.app(scope, receive, guarded)


class UserIn(Struct, forbid_unknown_fields=True):
    name: Annotated[str, Meta(min_length=1, max_length=64)]
    role: people.OfficeRole
    password: Annotated[str, Meta(min_length=1, max_length=1024)]


class UserPatch(Struct, forbid_unknown_fields=True):
    role: people.OfficeRole | None = None
    password: Annotated[str, Meta(min_length=1, max_length=1024)] | None = None
    disabled: bool | None = None


class UserOut(Struct):
    id: int
    name: str
    role: str
    disabled: bool


async def _admin(request: Request) -> Principal:
    """Users are the admin's: a signed-in admin (with the CSRF token on a change) or an admin
    key."""
    principal = await authenticate(request)
    if principal.role is not Role.ADMIN or principal.manager:
        raise HTTPProblem(403, "You do not have permission to perform this action.")
    return principal


def _refused(exc: people.UserError) -> HTTPProblem | ValidationFailed:
    """A 400 naming the field at fault, as every other endpoint's (DRF's shape)."""
    if exc.field is None:
        return HTTPProblem(400, str(exc))
    return ValidationFailed.single((exc.field,), str(exc))


async def list_users(request: Request) -> Response:
    await _admin(request)
    rows = await context(request).db.read(people.list_users)
    return JSONResponse(
        [UserOut(r["id"], r["name"], r["role"], r["disabled_at"] is not None) for r in rows]
    )


async def add_user(request: Request) -> Response:
    await _admin(request)
    require_json(request)
    body = decode(await read_body(request, MAX_LOGIN_BODY), UserIn)
    password = await asyncio.to_thread(people.hash_password, body.password)  # off the loop
    try:
        user_id = await context(request).db.write(
            lambda conn: people.add_user(
                conn, body.name, body.role, body.password, now_us(), password_hash=password
            )
        )
    except people.UserError as exc:
        raise _refused(exc) from None
    return JSONResponse(UserOut(user_id, body.name, body.role.value, False), status_code=201)


async def change_user(request: Request) -> Response:
    principal = await _admin(request)
    user_id: int = request.path_params["id"]
    require_json(request)
    body = decode(await read_body(request, MAX_LOGIN_BODY), UserPatch)
    if -user_id == principal.api_key_id and (
        body.disabled or body.role is people.OfficeRole.MANAGER
    ):
        raise HTTPProblem(400, "You cannot disable yourself or take away your own admin role.")
    password = None
    if body.password is not None:
        password = await asyncio.to_thread(people.hash_password, body.password)

    def change(conn: Connection) -> None:
        people.change_user(
            conn, people.name_of(conn, user_id), password=body.password, role=body.role,
            disabled=body.disabled, now_us=now_us(), password_hash=password,
        )  # fmt: skip

    try:
        await context(request).db.write(change)
    except people.UserError as exc:
        raise _refused(exc) from None
    return Response(status_code=204)


def routes() -> list[BaseRoute]:
    """The sign-in endpoints first, then the pages; and the message catalogues the office and
    the cashier screen share (``/i18n/``)."""
    return [
        Route("/office", lambda request: RedirectResponse("/office/"), methods=["GET"]),
        Route("/office/login", login, methods=["POST"]),
        Route("/office/logout", logout, methods=["POST"]),
        Route("/office/session", current, methods=["GET"]),
        Route("/office/users", list_users, methods=["GET"]),
        Route("/office/users", add_user, methods=["POST"]),
        Route("/office/users/{id:int}", change_user, methods=["PATCH"]),
        Mount(
            "/office",
            _Guarded(StaticFiles(packages=[("minipos.web", "office")], html=True)),
        ),
        Route("/i18n/default", default_language, methods=["GET"]),
        Mount("/i18n", StaticFiles(packages=[("minipos.web", "i18n")])),
    ]
