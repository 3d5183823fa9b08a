"""One ASGI middleware per request: its id, its access log line and its metrics.

Pure ASGI rather than Starlette's BaseHTTPMiddleware, which costs a task per request and
buffers streamed responses (the event stream never ends).
"""

from __future__ import annotations

import functools
import logging
import re
import secrets
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from minipos.auth.principal import Principal
from minipos.observability.logs import request_id
from minipos.observability.metrics import Metrics

access_log = logging.getLogger("minipos.access")

#: A client's ``X-Request-ID`` is kept only if it is this tame: it goes into logs and headers.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,64}")
#: ``{id:int}`` → ``{id}``: the label reads like the documented path.
_CONVERTER = re.compile(r":\w+}")
#: Requests no route took share one label, so scanners cannot grow the metrics without bound.
UNMATCHED = "unmatched"


def take_request_id(headers: list[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name == b"x-request-id":
            text = value.decode("latin-1")
            if SANE_REQUEST_ID.fullmatch(text):
                return text
            break
    return secrets.token_hex(16)  # as random as a uuid4's hex, for a third of its cost


def route_template(scope: Scope) -> str:
    """The path of the route that took the request (set by Starlette's router), never the raw
    path: ``/api/invoice/{id}``, not ``/api/invoice/17``."""
    path = getattr(scope.get("route"), "path", None)
    return UNMATCHED if path is None else _label(path)


@functools.cache  # one entry per declared route: the regex runs once, not per request
def _label(path: str) -> str:
    return _CONVERTER.sub("}", path) or "/"


class RequestObserver:
    def __init__(self, app: ASGIApp, metrics: Metrics, *, access_log: bool) -> None:
        self.app = app
        self.metrics = metrics
        self.log_requests = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        rid = take_request_id(scope["headers"])
        token = request_id.set(rid)
        status = 500  # what the client gets if the application fails before answering

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._done(scope, status, time.perf_counter() - started)
            request_id.reset(token)

    def _done(self, scope: Scope, status: int, seconds: float) -> None:
        method: str = scope["method"]
        route = route_template(scope)
        count, latency = self.metrics.request_children(method, route, status)
        count.inc()
        latency.observe(seconds)
        if status == 401:
            self.metrics.failed_logins.inc()
        if self.log_requests:
            # Set by the key check (minipos.api.security); absent on keyless routes and 401s.
            principal: Principal | None = scope.get("state", {}).get("principal")
            access_log.info(
                "%s %s %d %.1f ms",
                method,
                route,
                status,
                seconds * 1000,
                extra={
                    "fields": {
                        "method": method,
                        "route": route,
                        "status": status,
                        "latency_ms": round(seconds * 1000, 3),
                        "key_id": getattr(principal, "key_id", None),
                        "station_id": getattr(principal, "station_id", None),
                    }
                },
            )
