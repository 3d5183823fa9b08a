"""uvicorn's HTTP protocol (httptools) with a deadline for each request's head.

uvicorn times out only idle keep-alive connections, and only between requests: a connection
that opens and stays silent, or sends half a request line and stops, is kept forever, and
enough of them exhaust the process's file descriptors (issue #11). Here the head — request
line and headers — must arrive within ``MINIPOS_HEADER_TIMEOUT_SECONDS`` of the connection
opening, or of the first byte of the next request on a kept-alive one; else the connection is
closed. The body is the application's to read (``read_body`` caps its size).
"""

from __future__ import annotations

import asyncio
import functools

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from minipos.api.draining import DRAINING
from minipos.config import Settings


@functools.cache
def head_timeout() -> float:
    # uvicorn builds the protocol itself (in each worker process, with --workers), so the
    # setting comes from the environment those processes inherit.
    return Settings.from_env().header_timeout_seconds


class HeadDeadlineProtocol(HttpToolsProtocol):
    _head_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._head_deadline is None:  # the first request's clock runs from the connection
            self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def shutdown(self) -> None:
        # uvicorn calls this on every open connection when its graceful shutdown begins.
        DRAINING.set()
        super().shutdown()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._head_deadline = self.loop.call_later(head_timeout(), self._head_too_slow)

    def _disarm(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_too_slow(self) -> None:
        self._head_deadline = None
        if not self.transport.is_closing():
            self.transport.close()
