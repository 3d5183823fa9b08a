"""Helpers shared by the test suites (imported as ``support``: a name no other module has)."""

from __future__ import annotations

import http.server
import json
import threading
import time
from typing import Any

from starlette.testclient import TestClient

from minipos.auth.service import Role
from minipos.db import open_database
from minipos.receipts.service import verify


class Api:
    """A test client that sends one role's key with every request."""

    def __init__(self, client: TestClient, keys: dict[Role, str]) -> None:
        self.client = client
        self.keys = keys

    def as_(self, role: Role | None) -> TestClient:
        self.client.headers.pop("Authorization", None)
        if role is not None:
            self.client.headers["Authorization"] = f"Token {self.keys[role]}"
        return self.client


class Station:
    """A registered station speaking with its own key."""

    def __init__(self, client: TestClient, data: dict[str, Any]) -> None:
        self.client = client
        self.id: int = data["id"]
        self.pos_id: str = data["pos_id"]
        self.headers = {"Authorization": f"Token {data['key']}"}

    def post(self, path: str, body: Any = None) -> Any:
        return self.client.post(path, json=body if body is not None else {}, headers=self.headers)

    def get(self, path: str) -> Any:
        return self.client.get(path, headers=self.headers)

    def open_shift(self, cashier: str = "Anna") -> Any:
        return self.post(f"/api/stations/{self.id}/shift/open", {"cashier_name": cashier})

    def close_shift(self) -> Any:
        return self.post(f"/api/stations/{self.id}/shift/close", {"cashier_name": "Anna"})

    def claim(self, invoice_id: int) -> Any:
        return self.post(f"/api/invoice/{invoice_id}/claim")

    def complete(self, invoice_id: int, request_id: str = "r1", **body: Any) -> Any:
        return self.post(f"/api/invoice/{invoice_id}/complete", {"request_id": request_id, **body})


def register(api: Api, name: str, pos_id: str, group: str = "1") -> Station:
    response = api.as_(Role.ADMIN).post(
        "/api/stations",
        json={"name": name, "pos_id": pos_id, "chassis_id": f"CH{pos_id}", "station_group": group},
    )
    assert response.status_code == 201, response.text
    return Station(api.client, response.json())


def post_invoice(api: Api, body: dict[str, Any] | None = None) -> dict[str, Any]:
    body = body or {"rows": [{"text": "Kafija", "quantity": 2, "price": 1.5}]}
    response = api.as_(Role.INTEGRATOR).post("/api/invoice/new", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def verify_database(url: str) -> list[str]:
    """What ``minipos verify`` finds in the database (cash is method 1, as by default)."""
    db = open_database(url)
    try:
        return db.run(lambda conn: list(verify(conn, {1})))
    finally:
        db.close()


def run_sql(url: str, sql: str) -> None:
    """Change the database behind the server's back, as an intruder with SQL access would."""
    db = open_database(url)
    try:
        db.run(lambda conn: conn.execute(sql))
    finally:
        db.close()


class Receiver:
    """A real HTTP server on 127.0.0.1 standing in for an integrator's webhook endpoint.

    It records every request (headers and body) and answers each with the next of
    ``answers`` (then 200s): an int is a status code, ``"hang"`` holds the request for
    ``hang_seconds`` before answering 200.
    """

    def __init__(
        self,
        answers: list[int | str] | None = None,
        hang_seconds: float = 2.0,
        port: int = 0,
    ) -> None:
        self.answers = list(answers or [])
        self.hang_seconds = hang_seconds
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else each answer waits ~40 ms for a delayed ACK

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    answer = receiver.answers.pop(0) if receiver.answers else 200
                    receiver.requests.append((dict(self.headers.items()), body))
                if answer == "hang":
                    time.sleep(receiver.hang_seconds)
                    answer = 200
                self.send_response(int(answer))
                reply = b"ok" if answer == 200 else b"receiver is unhappy"
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks/minipos?shop=1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def events(self) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(body) for _, body in self.requests]

    def wait_for(self, count: int, timeout: float = 20.0) -> list[tuple[dict[str, str], bytes]]:
        """The first ``count`` requests, once that many have arrived (polls to a deadline)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            time.sleep(0.02)
        raise AssertionError(f"{len(self.requests)} of {count} webhook requests arrived")
