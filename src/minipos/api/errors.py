"""Errors → responses in Django REST framework's shapes (docs/decisions.md §5).

400 ``{"field": ["message"], "rows": [{}, {"price": ["message"]}]}``; everything else
``{"detail": "…"}``. Anything unexpected is logged and answered 500 without internals. A
client that hangs up before its body is in is no server error: it is logged at info and
counted 499 (nginx's "client closed request"), or 408 if its body's deadline passed.
"""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from minipos.api.jsonio import HTTPProblem, JSONResponse, drf_errors
from minipos.api.protocol import BODY_TIMED_OUT
from minipos.db import DatabaseFull, DatabaseUnavailable
from minipos.domain.errors import Conflict, Forbidden, NotFound, ValidationFailed

log = logging.getLogger("minipos.api")

_HTTP_DETAIL = {404: "Not found.", 405: "Method not allowed."}


def _detail(status: int, detail: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


async def validation_failed(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ValidationFailed)
    return JSONResponse(drf_errors(exc.errors), status_code=400)


async def not_found(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, NotFound)
    return _detail(404, exc.detail)


async def forbidden(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Forbidden)
    return _detail(403, exc.detail)


async def conflict(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Conflict)
    return _detail(409, str(exc))


async def problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPProblem)
    return _detail(exc.status_code, exc.detail, exc.headers)


async def http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    detail = _HTTP_DETAIL.get(exc.status_code, str(exc.detail))
    return _detail(exc.status_code, detail, dict(exc.headers or {}))


async def unavailable(request: Request, exc: Exception) -> Response:
    log.error("database unavailable: %s", exc)
    detail = (
        "The server's disk is full; nothing was saved. Try again once space is freed."
        if isinstance(exc, DatabaseFull)
        else "The database is unavailable; try again shortly."
    )
    return _detail(503, detail, {"Retry-After": "5"})


async def client_gone(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ClientDisconnect)
    # Never sent (the connection is gone; on a timeout the protocol answered 408 itself): the
    # status is for the access log and the metrics.
    if request.scope.get(BODY_TIMED_OUT):
        log.info("request body too slow on %s %s: 408", request.method, request.url.path)
        return Response(status_code=408)
    log.info("client closed the connection on %s %s", request.method, request.url.path)
    return Response(status_code=499)


async def unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _detail(500, "Internal server error.")


HANDLERS = {
    ValidationFailed: validation_failed,
    NotFound: not_found,
    Forbidden: forbidden,
    Conflict: conflict,
    HTTPProblem: problem,
    HTTPException: http_exception,
    DatabaseUnavailable: unavailable,
    ClientDisconnect: client_gone,
    Exception: unexpected,
}
