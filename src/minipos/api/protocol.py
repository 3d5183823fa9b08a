"""uvicorn's HTTP protocol (httptools) with a deadline for each request's head and body.

uvicorn times out only idle keep-alive connections, and only between requests: a connection
that opens and stays silent, sends half a request line and stops, or announces a body and
sends only part of it, is kept forever, and enough of them exhaust the process's connections
and file descriptors (issue #11). Here the head — request line and headers — must arrive
within ``MINIPOS_HEADER_TIMEOUT_SECONDS`` of the connection opening, or of the first byte of
the next request on a kept-alive one; else the connection is closed. The whole body must then
arrive within ``MINIPOS_BODY_TIMEOUT_SECONDS`` of the head's end, however it trickles in; else
the client gets 408 (if nothing was answered yet) and the connection is closed. The body's
size is the application's to check (``read_body``).
"""

from __future__ import annotations

import asyncio
import functools

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from minipos.api.draining import DRAINING
from minipos.config import Settings
from minipos.jsoncodec import encode

#: Set in a request's scope when its body came too late: the application then sees the client
#: gone (``ClientDisconnect``), which ``errors.client_gone`` records as this 408, not a 499.
BODY_TIMED_OUT = "minipos.body_timed_out"

_TOO_SLOW = encode({"detail": "The request body did not arrive in time."})


@functools.cache
def deadlines() -> tuple[float, float]:
    """Seconds for a request's head, then for its body."""
    # uvicorn builds the protocol itself (in each worker process, with --workers), so the
    # settings come from the environment those processes inherit.
    settings = Settings.from_env()
    return settings.header_timeout_seconds, settings.body_timeout_seconds


class RequestDeadlineProtocol(HttpToolsProtocol):
    # One timer per request, armed for the head's deadline and left armed through the body:
    # most bodies come with their head, so re-arming for the body's own deadline is done
    # only when the timer goes off (or would go off too late), not on every request.
    _deadline: asyncio.TimerHandle | None = None
    #: Loop time by which the body must be in; None while the head is being read.
    _body_due: float | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_in(deadlines()[0])

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._deadline is None:  # the first request's clock runs from the connection
            self._arm_in(deadlines()[0])

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._body_due = due = self.loop.time() + deadlines()[1]
        if self._deadline is not None and self._deadline.when() > due:
            self._arm_at(due)  # a body deadline shorter than the head's time left

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def handle_websocket_upgrade(self) -> None:
        self._disarm()  # the connection is the WebSocket protocol's from here
        super().handle_websocket_upgrade()

    def shutdown(self) -> None:
        # uvicorn calls this on every open connection when its graceful shutdown begins.
        DRAINING.set()
        super().shutdown()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm_in(self, seconds: float) -> None:
        self._arm_at(self.loop.time() + seconds)

    def _arm_at(self, when: float) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = self.loop.call_at(when, self._expired)

    def _disarm(self) -> None:
        self._body_due = None
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        due = self._body_due
        if due is None:  # the head is late
            self.transport.close()
            return
        if self.flow.read_paused or self.pipeline:
            # We stopped reading (the application has not taken what came, or an earlier
            # request on this connection is still being answered): the wait was ours.
            self._body_due = due = self.loop.time() + deadlines()[1]
        if due > self.loop.time():  # the head's deadline, or ours just above: not due yet
            self._arm_at(due)
            return
        self._body_too_slow()

    def _body_too_slow(self) -> None:
        cycle = self.cycle
        if not cycle.response_started:
            cycle.scope[BODY_TIMED_OUT] = True  # type: ignore[literal-required]
            # The application's wait for the rest of the body ends as if the client had gone,
            # and its own answer, if it makes one, is not sent after this one.
            cycle.disconnected = True
            cycle.message_event.set()
            headers = b"".join(
                name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers
            )
            self.transport.write(
                STATUS_LINE[408]
                + headers
                + b"content-type: application/json\r\n"
                + b"content-length: %d\r\n" % len(_TOO_SLOW)
                + b"connection: close\r\n\r\n"
                + _TOO_SLOW
            )
        self.transport.close()
