"""A fault-injecting HTTP/1.1 proxy between a store and its centre (docs/design/stores.md §9).

An asyncio TCP proxy on 127.0.0.1 that runs in its own thread and event loop. It reads one
HTTP request at a time from the client (the store's ``httpx`` client), forwards it to the
upstream (the centre) on a fresh connection with ``Connection: close``, reads the whole answer
(up to the upstream's close) and returns it to the client with ``Connection: close`` too, so
every request is one connection: the client never reuses a connection the proxy broke, and a
fault applies to exactly one request.

Faults (:class:`Fault`), chosen per request:

- ``pass``: forward, answer.
- ``drop_answer``: forward the request, read the full answer, then close the client's
  connection without sending it (the centre committed; the store never hears).
- ``delay``: wait ``delay`` seconds, then forward and answer.
- ``reset``: reset the client's connection (RST) without forwarding anything.
- ``duplicate``: send the request upstream twice, one after the other; the client gets the
  second answer (a replay).
- ``reorder``: forward and answer, and keep a copy that is sent upstream again after the next
  request has been forwarded (an old request arriving after a newer one; its answer is
  discarded).
- ``cut``: the link is down: every connection is reset at once, until :meth:`heal` or the cut's
  deadline (:meth:`cut`).

:meth:`inject` queues a fault for the next ``times`` requests whose path starts with a prefix;
otherwise the standing mode applies (:meth:`set_mode`); ``random`` draws a fault per request
from a ``random.Random(seed)`` with the given weights. The proxy counts what it did
(:attr:`applied`) and logs every decision (:attr:`log`).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum


class Fault(StrEnum):
    PASS = "pass"
    DROP_ANSWER = "drop_answer"
    DELAY = "delay"
    RESET = "reset"
    DUPLICATE = "duplicate"
    REORDER = "reorder"
    CUT = "cut"


#: The random mode's default mix: mostly passing, every fault now and then.
DEFAULT_WEIGHTS: dict[Fault, float] = {
    Fault.PASS: 0.55,
    Fault.DROP_ANSWER: 0.12,
    Fault.DELAY: 0.08,
    Fault.RESET: 0.08,
    Fault.DUPLICATE: 0.08,
    Fault.REORDER: 0.05,
    Fault.CUT: 0.04,
}

MAX_HEADER_BYTES = 64 * 1024
IO_TIMEOUT = 60.0


class BadRequest(Exception):
    """The client sent something that is not an HTTP/1.1 request the proxy understands."""


@dataclass
class Request:
    method: str
    path: str
    #: The request as sent upstream: head rewritten with ``Connection: close``, body de-chunked.
    raw: bytes


@dataclass
class _Injection:
    fault: Fault
    times: int
    path_prefix: str


@dataclass
class FaultProxy:
    """A proxy from ``127.0.0.1:port`` to ``upstream_host:upstream_port``."""

    upstream_port: int
    upstream_host: str = "127.0.0.1"
    #: The seed of the random mode (printed by :meth:`describe`, so a failure can be replayed).
    seed: int = 0
    #: Seconds a ``delay`` waits; the random mode draws up to this.
    delay: float = 1.0
    #: Seconds a ``cut`` drawn by the random mode lasts.
    cut_seconds: float = 1.0
    port: int = 0
    applied: Counter[Fault] = field(default_factory=Counter)
    #: ``(monotonic time, fault, method, path)`` per request, in order.
    log: list[tuple[float, Fault, str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._mode = Fault.PASS
        self._random = False
        self._weights = dict(DEFAULT_WEIGHTS)
        self._rng = random.Random(self.seed)
        self._injections: list[_Injection] = []
        self._cut_until = 0.0
        self._held: Request | None = None
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        #: Requests forwarded upstream (each copy counted), by path.
        self.forwarded: Counter[str] = Counter()

    # -- control (any thread) ------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def describe(self) -> str:
        return f"faultproxy :{self.port} → :{self.upstream_port} seed={self.seed}"

    def set_mode(self, mode: Fault | str, weights: dict[Fault, float] | None = None) -> None:
        """The standing fault for every request; ``"random"`` draws one per request."""
        with self._lock:
            if mode == "random":
                self._random = True
                if weights is not None:
                    self._weights = dict(weights)
            else:
                self._random = False
                self._mode = Fault(mode)

    def reseed(self, seed: int) -> None:
        """Start the random mode's draws again from ``seed``."""
        with self._lock:
            self.seed = seed
            self._rng = random.Random(seed)

    def inject(self, fault: Fault | str, times: int = 1, path_prefix: str = "/") -> None:
        """Apply ``fault`` to the next ``times`` requests whose path starts with the prefix."""
        with self._lock:
            self._injections.append(_Injection(Fault(fault), times, path_prefix))

    def pending_injections(self) -> int:
        with self._lock:
            return sum(i.times for i in self._injections)

    def cut(self, seconds: float = 3600.0) -> None:
        """Take the link down: connections are reset until :meth:`heal` or ``seconds`` pass."""
        with self._lock:
            self._cut_until = time.monotonic() + seconds

    def heal(self) -> None:
        """The link is back; the standing mode is ``pass`` again and no injection is queued."""
        with self._lock:
            self._cut_until = 0.0
            self._random = False
            self._mode = Fault.PASS
            self._injections.clear()

    def count(self, fault: Fault | str) -> int:
        with self._lock:
            return self.applied[Fault(fault)]

    def start(self) -> FaultProxy:
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                self._server = loop.run_until_complete(
                    asyncio.start_server(self._client, "127.0.0.1", self.port, reuse_address=True)
                )
                self.port = int(self._server.sockets[0].getsockname()[1])
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self._shutdown())
                loop.close()

        self._thread = threading.Thread(target=run, name=f"faultproxy-{self.seed}", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        self._loop = None
        self._thread = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the loop ------------------------------------------------------------------------

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    def _choose(self, path: str) -> Fault:
        with self._lock:
            if time.monotonic() < self._cut_until:
                return Fault.CUT
            for injection in self._injections:
                if path.startswith(injection.path_prefix):
                    injection.times -= 1
                    if injection.times <= 0:
                        self._injections.remove(injection)
                    return injection.fault
            if not self._random:
                return self._mode
            faults = list(self._weights)
            fault = self._rng.choices(faults, [self._weights[f] for f in faults])[0]
            if fault is Fault.CUT:
                self._cut_until = time.monotonic() + self.cut_seconds
            return fault

    def _delay_seconds(self) -> float:
        with self._lock:
            return self._rng.uniform(0, self.delay) if self._random else self.delay

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._serve(reader, writer)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, BadRequest):
            _reset(writer)
        except asyncio.CancelledError:
            _reset(writer)
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with self._lock:
            cut = time.monotonic() < self._cut_until
        if cut:
            self._record(Fault.CUT, "-", "(connection)")
            _reset(writer)
            return
        request = await asyncio.wait_for(_read_request(reader), IO_TIMEOUT)
        if request is None:
            return  # the client closed an idle connection
        fault = self._choose(request.path)
        self._record(fault, request.method, request.path)
        if fault in (Fault.RESET, Fault.CUT):
            _reset(writer)
            return
        if fault is Fault.DELAY:
            await asyncio.sleep(self._delay_seconds())
        answer = await self._forward(request)
        if fault is Fault.DUPLICATE:
            answer = await self._forward(request)
        held, self._held = self._held, None
        if held is not None:
            # The older request reaches the centre after this newer one did.
            with contextlib.suppress(TimeoutError, OSError, asyncio.IncompleteReadError):
                await self._forward(held)
        if fault is Fault.REORDER:
            self._held = request
        if fault is Fault.DROP_ANSWER:
            _reset(writer)
            return
        writer.write(_close_answer(answer))
        await writer.drain()

    def _record(self, fault: Fault, method: str, path: str) -> None:
        with self._lock:
            self.applied[fault] += 1
            self.log.append((time.monotonic(), fault, method, path))

    async def _forward(self, request: Request) -> bytes:
        """Send ``request`` upstream on its own connection; the whole answer."""
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(self.upstream_host, self.upstream_port), IO_TIMEOUT
        )
        try:
            writer.write(request.raw)
            await writer.drain()
            with self._lock:
                self.forwarded[request.path] += 1
            answer = await asyncio.wait_for(reader.read(), IO_TIMEOUT)
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        if not answer:
            raise ConnectionResetError("the upstream closed without an answer")
        return answer


def _reset(writer: asyncio.StreamWriter) -> None:
    """Abort the connection with an RST (SO_LINGER 0), as a dropped link or a crash shows."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport = writer.transport
    with contextlib.suppress(Exception):
        transport.abort()


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial.strip():
            return None
        raise
    except asyncio.LimitOverrunError as exc:
        raise BadRequest("request head too long") from exc
    lines = head[:-4].decode("latin-1").split("\r\n")
    try:
        method, path, _version = lines[0].split(" ", 2)
    except ValueError as exc:
        raise BadRequest(lines[0]) from exc
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.append((name.strip(), value.strip()))
    names = {name.lower(): value for name, value in headers}
    if names.get("transfer-encoding", "").lower() == "chunked":
        body = await _read_chunked(reader)
    else:
        body = await reader.readexactly(int(names.get("content-length", "0") or "0"))
    kept = [
        (name, value)
        for name, value in headers
        if name.lower() not in ("connection", "keep-alive", "transfer-encoding", "content-length")
    ]
    if body or method in ("POST", "PUT", "PATCH"):
        kept.append(("Content-Length", str(len(body))))
    kept.append(("Connection", "close"))
    raw_head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{n}: {v}\r\n" for n, v in kept)
    return Request(method, path, raw_head.encode("latin-1") + b"\r\n" + body)


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            # Trailers, up to the empty line.
            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                pass
            return bytes(body)
        body += await reader.readexactly(size)
        await reader.readexactly(2)


def _close_answer(answer: bytes) -> bytes:
    """The upstream's answer with ``Connection: close`` (the client must not reuse it)."""
    head, sep, body = answer.partition(b"\r\n\r\n")
    if not sep:
        return answer
    lines = [
        line
        for line in head.split(b"\r\n")
        if not line.lower().startswith((b"connection:", b"keep-alive:"))
    ]
    lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + body
