"""Connections to the real server (issue #11): a request head that never ends is cut off, and a
hostile body is a 400 that leaves the keep-alive connection open."""

from __future__ import annotations

import http.client
import re
import socket
import time

import pytest
from serverproc import Server

from minipos.bootstrap import operations

pytestmark = pytest.mark.e2e

HEAD_TIMEOUT = 1.0


def closed_after(sock: socket.socket, limit: float) -> float:
    """Seconds until the server closes ``sock`` (it sends nothing meanwhile)."""
    started = time.monotonic()
    sock.settimeout(limit)
    assert sock.recv(1024) == b""
    return time.monotonic() - started


def test_a_request_head_that_never_ends_is_closed_in_time(server: Server) -> None:
    server.env["MINIPOS_HEADER_TIMEOUT_SECONDS"] = str(HEAD_TIMEOUT)
    server.env["MINIPOS_KEEP_ALIVE_SECONDS"] = "60"  # so only the head deadline can close
    server.start()
    address = ("127.0.0.1", server.port)
    with socket.create_connection(address) as silent, socket.create_connection(address) as slow:
        slow.sendall(b"GET /health HTTP/1.1\r\nHost: shop\r\nX-Slow: ")
        assert HEAD_TIMEOUT * 0.8 < closed_after(slow, 10) < HEAD_TIMEOUT + 2
        assert closed_after(silent, 10) < HEAD_TIMEOUT + 2  # opened at the same time

    # On a kept-alive connection the next request's head gets the same deadline.
    kept = http.client.HTTPConnection(*address, timeout=10)
    kept.request("GET", "/health")
    assert kept.getresponse().read().startswith(b'{"status"')
    time.sleep(HEAD_TIMEOUT * 1.5)  # idle between requests: the keep-alive timer's turn
    assert kept.sock is not None
    kept.sock.sendall(b"GET /health HTTP/1.1\r\n")
    assert HEAD_TIMEOUT * 0.8 < closed_after(kept.sock, 10) < HEAD_TIMEOUT + 2
    kept.close()
    assert server.request("GET", "/health")[0] == 200


def test_deeply_nested_bodies_are_400s_on_one_kept_alive_connection(server: Server) -> None:
    created = server.cli("key", "create", "--role", "admin")
    assert created.returncode == 0, created.stderr
    headers = {"Authorization": f"Token {created.stdout.strip()}"}
    server.start()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.connect()
    first = conn.sock
    body = b'{"ignored": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    # A standalone server: the chain's routes answer 409 there before reading a body, and a
    # store's sync takes a store's key; test_body_limits tries them at a centre.
    standalone = (
        op for op in operations() if not op.path.startswith(("/api/stores", "/api/sync/"))
    )
    for op in (op for op in standalone if op.body is not None):
        path = re.sub(r"\{\w+\}", "1", op.path) + "?station_id=1"
        conn.request(op.method, path, body, {**headers, "Content-Type": "application/json"})
        response = conn.getresponse()
        answer = response.read()
        assert response.status == 400, (op.path, answer)
        assert b"deeper than" in answer
        assert response.getheader("connection") != "close"
        assert conn.sock is first, f"{op.method} {op.path} closed the connection"
    conn.request("GET", "/health")
    assert conn.getresponse().status == 200
    assert conn.sock is first
    conn.close()
