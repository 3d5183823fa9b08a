"""Connections to the real server (issue #11): a request head or body that never ends is cut
off, and a hostile body is a 400 that leaves the keep-alive connection open."""

from __future__ import annotations

import http.client
import json
import re
import socket
import time

import pytest
from serverproc import Server, wait_until

from minipos.bootstrap import operations

pytestmark = pytest.mark.e2e

HEAD_TIMEOUT = 1.0
BODY_TIMEOUT = 1.0
PRODUCT = b'{"name": "Piens", "price": "0.99"}'


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


def admin_key(server: Server) -> str:
    created = server.cli("key", "create", "--role", "admin")
    assert created.returncode == 0, created.stderr
    return created.stdout.strip()


def post_head(key: str, length: int) -> bytes:
    return (
        f"POST /api/products HTTP/1.1\r\nHost: shop\r\nAuthorization: Token {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


def status_of(sock: socket.socket) -> int:
    """The status of the next response on ``sock``, whose body is read (the socket stays open)."""
    response = http.client.HTTPResponse(sock)
    response.begin()
    response.read()
    return response.status


def answer_and_close(sock: socket.socket, limit: float) -> bytes:
    """Everything the server sends until it closes ``sock``."""
    sock.settimeout(limit)
    received = b""
    while chunk := sock.recv(4096):
        received += chunk
    return received


def assert_408(answer: bytes) -> None:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 "), answer
    assert b"connection: close" in head.lower()
    assert json.loads(body) == {"detail": "The request body did not arrive in time."}


def test_a_request_body_that_never_ends_is_answered_408_in_time(server: Server) -> None:
    key = admin_key(server)
    server.env["MINIPOS_BODY_TIMEOUT_SECONDS"] = str(BODY_TIMEOUT)
    server.env["MINIPOS_KEEP_ALIVE_SECONDS"] = "60"  # so only the body deadline can close
    server.env["MINIPOS_ACCESS_LOG"] = "true"
    server.start()
    address = ("127.0.0.1", server.port)

    with socket.create_connection(address) as short:  # 7 of the 100 bytes announced
        short.sendall(post_head(key, 100) + b'{"name"')
        started = time.monotonic()
        assert_408(answer_and_close(short, 10))
        assert BODY_TIMEOUT * 0.8 < time.monotonic() - started < BODY_TIMEOUT + 2

    with socket.create_connection(address) as trickle:  # a byte every 0.3 s: 30 s in all
        trickle.sendall(post_head(key, 100))
        started = time.monotonic()
        trickle.settimeout(0.3)
        answer = b""
        while not answer:
            try:
                trickle.sendall(b" ")
                answer = trickle.recv(4096)
            except TimeoutError:
                continue
        assert_408(answer + answer_and_close(trickle, 10))
        assert BODY_TIMEOUT * 0.8 < time.monotonic() - started < BODY_TIMEOUT + 2

    # A body that takes a while, but less than the deadline, is served; and the deadline is
    # disarmed once the body is in: the kept-alive connection outlives it, idle between
    # requests, under the keep-alive timeout only.
    with socket.create_connection(address, timeout=10) as kept:
        kept.sendall(post_head(key, len(PRODUCT)) + PRODUCT[:9])
        time.sleep(BODY_TIMEOUT / 2)
        kept.sendall(PRODUCT[9:])
        assert status_of(kept) == 201
        time.sleep(BODY_TIMEOUT * 1.5)
        kept.sendall(post_head(key, len(PRODUCT)) + PRODUCT.replace(b"Piens", b"Maize"))
        assert status_of(kept) == 201

    # Neither is a server error in the log or the metrics: the 408s are counted as such.
    log = (server.cwd / f"server-{server.port}.log").read_text()
    assert not re.search("ERROR|Traceback", log), log
    assert "POST /api/products 408" in log
    status, _, metrics = server.request(
        "GET", "/metrics", headers={"Authorization": f"Token {key}"}
    )
    assert status == 200
    assert re.search(rb'minipos_http_requests_total\{[^}]*status="408"\} 2\.0', metrics), metrics
    assert b'status="500"' not in metrics


def test_a_client_that_hangs_up_mid_body_is_no_server_error(server: Server) -> None:
    key = admin_key(server)
    server.env["MINIPOS_ACCESS_LOG"] = "true"
    server.start()
    with socket.create_connection(("127.0.0.1", server.port)) as gone:
        gone.sendall(post_head(key, 100) + b'{"name"')
        time.sleep(0.5)  # the request reaches the route, which waits for the rest
    log_file = server.cwd / f"server-{server.port}.log"
    wait_until(lambda: "POST /api/products 499" in log_file.read_text(), "the 499", 10)
    log = log_file.read_text()
    assert not re.search("ERROR|Traceback", log), log
    status, _, metrics = server.request(
        "GET", "/metrics", headers={"Authorization": f"Token {key}"}
    )
    assert status == 200
    assert b'status="499"' in metrics
    assert b'status="500"' not in metrics


def test_deeply_nested_bodies_are_400s_on_one_kept_alive_connection(server: Server) -> None:
    headers = {"Authorization": f"Token {admin_key(server)}"}
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
