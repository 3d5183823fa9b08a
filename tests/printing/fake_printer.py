"""A network receipt printer on 127.0.0.1, for tests: the stand-in for a real one on port 9100.

It listens on an ephemeral port, records what each connection sends, and answers the ESC/POS
real-time status query ``DLE EOT n`` with configurable bytes. It can be switched at any time to

- ``refuse()``: the port is bound but not listening, so connections are refused;
- ``stall()``: connections are accepted but nothing is read (a printer out of paper), with a
  tiny receive buffer so the TCP window closes after a few kilobytes;
- ``hang()``: the accept queue is full, so a connect gets no answer at all (a switched-off
  printer behind a switch, as far as the client can tell);
- ``silent()``: data is recorded but status queries are never answered;
- ``serve()``: back to normal.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Literal

Mode = Literal["serve", "refuse", "stall", "hang", "silent"]

DLE_EOT = b"\x10\x04"

#: ``DLE EOT n`` replies (n = 1 printer, 2 offline cause, 3 error cause, 4 paper sensor).
ONLINE: Mapping[int, int] = {1: 0x16, 2: 0x12, 3: 0x12, 4: 0x12}
PAPER_OUT: Mapping[int, int] = {1: 0x1E, 2: 0x32, 3: 0x12, 4: 0x7E}
PAPER_LOW: Mapping[int, int] = {1: 0x16, 2: 0x12, 3: 0x12, 4: 0x1E}
COVER_OPEN: Mapping[int, int] = {1: 0x1E, 2: 0x16, 3: 0x12, 4: 0x12}


class FakePrinter:
    """Use as a context manager; ``jobs`` holds each connection's bytes once it has closed."""

    def __init__(self, status: Mapping[int, int] = ONLINE) -> None:
        self.status = dict(status)
        self.host = "127.0.0.1"
        self.jobs: list[bytes] = []
        self.status_queries: list[int] = []
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._mode: Mode = "serve"
        self._held: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._listener = self._listen()
        self.port: int = self._listener.getsockname()[1]
        self._acceptor = threading.Thread(target=self._accept_loop, daemon=True)

    # --- control ---

    def __enter__(self) -> FakePrinter:
        self._acceptor.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._acceptor.join(5)
        for thread in self._threads:
            thread.join(5)
        with self._lock:
            for sock in self._held:
                sock.close()
            self._held.clear()
            _close(self._listener)

    @property
    def mode(self) -> Mode:
        return self._mode

    def serve(self) -> None:
        self._switch("serve")

    def refuse(self) -> None:
        self._switch("refuse")

    def stall(self) -> None:
        self._switch("stall")

    def hang(self) -> None:
        self._switch("hang")

    def silent(self) -> None:
        self._switch("silent")

    def wait_for_jobs(self, count: int, timeout: float = 5.0) -> list[bytes]:
        """The jobs once ``count`` connections with data have closed (or raise after timeout)."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.jobs) >= count, timeout):
                raise AssertionError(f"expected {count} jobs, got {len(self.jobs)}")
            return list(self.jobs)

    @property
    def received(self) -> bytes:
        with self._lock:
            return b"".join(self.jobs)

    # --- internals ---

    def _listen(self, port: int = 0, *, listening: bool = True, backlog: int = 8) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted sockets inherit it: a stalled printer's window then closes quickly.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        try:
            sock.bind((self.host, port))
        except OSError:
            sock.close()
            raise
        if listening:
            sock.listen(backlog)
        return sock

    def _switch(self, mode: Mode) -> None:
        with self._lock:
            for sock in self._held:
                sock.close()
            self._held.clear()
            _close(self._listener)
            if mode == "refuse":
                self._listener = self._listen(self.port, listening=False)
            elif mode == "hang":
                self._listener = self._listen(self.port, backlog=0)
                self._held = _fill_backlog(self.port)
            else:
                self._listener = self._listen(self.port)
            self._mode = mode

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                listener, mode = self._listener, self._mode
            if mode in ("refuse", "hang"):
                time.sleep(0.01)
                continue
            try:
                ready, _, _ = select.select([listener], [], [], 0.05)
                if not ready:
                    continue
                conn, _ = listener.accept()
            except (OSError, ValueError):  # the listener was swapped under us
                continue
            if mode == "stall":
                with self._lock:
                    self._held.append(conn)
                continue
            thread = threading.Thread(target=self._serve, args=(conn, mode), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket, mode: Mode) -> None:
        data = bytearray()
        scanned = 0  # how much of data has been searched for status queries
        with conn:
            conn.settimeout(0.05)
            while not self._stop.is_set():
                try:
                    chunk = conn.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    break
                if not chunk:
                    break
                data += chunk
                scanned = self._answer_status(conn, data, scanned, mode)
        job = _without_queries(bytes(data))
        with self._changed:
            if job:
                self.jobs.append(job)
            self._changed.notify_all()

    def _answer_status(self, conn: socket.socket, data: bytearray, scanned: int, mode: Mode) -> int:
        """Reply to each complete ``DLE EOT n`` after ``scanned``; returns the new offset."""
        while True:
            index = data.find(DLE_EOT, scanned)
            if index < 0:
                return max(scanned, len(data) - 1)  # a trailing DLE may start a query
            if index + 2 >= len(data):
                return index  # incomplete: look again when more arrives
            n = data[index + 2]
            with self._lock:
                self.status_queries.append(n)
            if mode != "silent" and n in self.status:
                with contextlib.suppress(OSError):
                    conn.sendall(bytes([self.status[n]]))
            scanned = index + 3


def _close(listener: socket.socket) -> None:
    """Stop listening now: a plain close waits for the acceptor's select() to let go."""
    with contextlib.suppress(OSError):
        listener.shutdown(socket.SHUT_RDWR)
    listener.close()


def _without_queries(data: bytes) -> bytes:
    """``data`` without its ``DLE EOT n`` status queries."""
    out = bytearray()
    i = 0
    while (found := data.find(DLE_EOT, i)) >= 0 and found + 2 < len(data):
        out += data[i:found]
        i = found + 3
    out += data[i:]
    return bytes(out)


def _fill_backlog(port: int) -> list[socket.socket]:
    """Connections that fill a backlog-0 accept queue, so later SYNs are dropped."""
    held = []
    for _ in range(4):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            sock.connect(("127.0.0.1", port))
        held.append(sock)
    time.sleep(0.05)
    return held


@contextlib.contextmanager
def fake_printer(status: Mapping[int, int] = ONLINE) -> Iterator[FakePrinter]:
    with FakePrinter(status) as printer:
        yield printer
