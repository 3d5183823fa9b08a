"""SIGTERM, as systemd and ``docker stop`` send it (issue 16, docs/deploy.md): the server stops
accepting connections at once, lets the requests in flight finish with their full answers,
ends its waits early (a feed's long-poll answers what it has, an event stream ends, a
long-poll whose client hung up is dropped) instead of holding the restart for uvicorn's whole
grace period, and exits with status 0."""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from serverproc import Server, call, open_station

pytestmark = pytest.mark.e2e

#: Far longer than a shutdown may take: a wait that ran its course would fail the test.
LONG_POLL_SECONDS = 30
#: What the waits may take to notice the shutdown: they re-check at least once a second.
NOTICE_SECONDS = 2.5


def test_sigterm_finishes_the_requests_in_flight_ends_the_waits_and_exits_0(
    tmp_path: Path,
) -> None:
    server = _shop_server(tmp_path)
    admin = server.cli("key", "create", "--role", "admin").stdout.strip()
    integrator = server.cli("key", "create", "--role", "integrator").stdout.strip()
    server.start()
    assert server.process is not None
    try:
        station = open_station(server, admin, "K1", "1", "C1")
        answers: dict[str, Any] = {}

        def long_poll() -> None:
            path = f"/api/stations/{station['id']}/feed?wait={LONG_POLL_SECONDS}"
            answers["feed"] = call(server, station["key"], "GET", path)
            answers["feed_ended"] = time.monotonic()

        def follow_stream() -> None:
            headers = {"Authorization": f"Token {admin}"}
            url = f"http://127.0.0.1:{server.port}/api/events/stream"
            with httpx.stream("GET", url, headers=headers, timeout=LONG_POLL_SECONDS) as stream:
                answers["stream_status"] = stream.status_code
                answers["stream_text"] = "".join(stream.iter_text())
            answers["stream_ended"] = time.monotonic()

        # An invoice POST in flight: its head and half its body are sent, the rest comes
        # after the signal, so the server is surely mid-request when it arrives. It is for
        # another till, so it does not end the long-poll: only the shutdown may.
        body = json.dumps(
            {
                "invoice_no": "SIGTERM-1",
                "pos_id": 2,
                "rows": [{"text": "Kafija", "quantity": 1, "price": 2}],
            }
        )
        half = len(body) // 2
        posting = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        posting.sendall(
            b"POST /api/invoice/new HTTP/1.1\r\nHost: minipos\r\n"
            + f"Authorization: Token {integrator}\r\nContent-Type: application/json\r\n".encode()
            + f"Content-Length: {len(body)}\r\n\r\n{body[:half]}".encode()
        )
        waits = [threading.Thread(target=long_poll), threading.Thread(target=follow_stream)]
        for thread in waits:
            thread.start()
        time.sleep(1)  # the waits are now inside the server
        server.process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        time.sleep(0.3)

        # No longer listening, but still finishing what is in flight.
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", server.port), timeout=2).close()
        posting.sendall(body[half:].encode())
        posted = _read_answer(posting)
        posting.close()

        for thread in waits:
            thread.join(timeout=LONG_POLL_SECONDS)
        code, exited = _exit(server)
    finally:
        server.stop()
    log = _log(server)
    assert "Traceback" not in log, log

    assert posted.startswith(b"HTTP/1.1 200 "), posted
    assert b'"invoice_no":"SIGTERM-1"' in posted, posted
    # The long-poll answered what it had, the stream ended cleanly, each soon after the signal.
    assert answers["feed"] == (200, [])
    assert answers["feed_ended"] - signalled < NOTICE_SECONDS
    assert answers["stream_status"] == 200
    assert answers["stream_text"].startswith("retry:"), answers["stream_text"]
    assert answers["stream_ended"] - signalled < NOTICE_SECONDS
    assert exited - signalled < NOTICE_SECONDS + 1
    # uvicorn re-raises the SIGTERM it handled; `minipos serve` makes that an exit 0.
    assert code == 0, log

    # What was answered was stored.
    server.start()
    try:
        status, listed = call(server, integrator, "GET", "/api/invoices?invoice_no=SIGTERM-1")
    finally:
        server.stop()
    assert status == 200
    assert [i["invoice_no"] for i in listed] == ["SIGTERM-1"]


def test_a_long_poll_whose_client_hung_up_does_not_hold_the_shutdown(tmp_path: Path) -> None:
    """A screen closed mid-long-poll leaves no connection for uvicorn to ask to shut down,
    only the request's task: the wait must notice the hang-up and end by itself."""
    server = _shop_server(tmp_path)
    admin = server.cli("key", "create", "--role", "admin").stdout.strip()
    server.start()
    assert server.process is not None
    try:
        station = open_station(server, admin, "K1", "1", "C1")
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as gone:
            gone.sendall(
                f"GET /api/stations/{station['id']}/feed?wait={LONG_POLL_SECONDS} HTTP/1.1\r\n"
                f"Host: minipos\r\nAuthorization: Token {station['key']}\r\n\r\n".encode()
            )
            time.sleep(0.5)  # the wait is inside the server
        time.sleep(0.2)
        server.process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        code, exited = _exit(server)
    finally:
        server.stop()
    log = _log(server)
    assert exited - signalled < NOTICE_SECONDS, log
    assert code == 0, log


def _shop_server(tmp_path: Path) -> Server:
    env = {
        **os.environ,
        "MINIPOS_DATABASE_URL": f"sqlite:///{tmp_path / 'shop.sqlite3'}",
        "MINIPOS_ACCESS_LOG": "false",
    }
    return Server(env, tmp_path)


def _exit(server: Server) -> tuple[int, float]:
    """The signalled server's exit status, and when it exited."""
    assert server.process is not None
    code = server.process.wait(timeout=20)
    return code, time.monotonic()


def _log(server: Server) -> str:
    """The server's log, which shows that no request was cut off at the grace period's end."""
    log = (server.cwd / f"server-{server.port}.log").read_text()
    assert "timeout graceful shutdown exceeded" not in log, log
    return log


def _read_answer(sock: socket.socket) -> bytes:
    """The whole answer on a connection the server closes after it (it is shutting down)."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)
