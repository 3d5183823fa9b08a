"""Helpers shared by the test suites (imported as ``support``: a name no other module has)."""

from __future__ import annotations

import contextlib
import http.server
import inspect
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from minipos.api.routing import Operation
from minipos.auth.principal import Role
from minipos.db import open_database
from minipos.db.database import SQLiteDatabase, statement_observer
from minipos.print_jobs import journal
from minipos.receipts.audit import verify

#: The ``bare_sqlite`` fixture (tests/unit/conftest.py): a table's DDL in, an open database out.
BareSQLite = Callable[[str], SQLiteDatabase]


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


class StatementLog:
    """The SQL statements the app runs for the requests sent inside ``recording()``.

    Installed as ASGI middleware (``app.add_middleware(log.middleware)``), it sets the
    database's ``statement_observer`` in each recorded request's own context, so what the
    background workers run meanwhile (in their own tasks) is not counted.
    """

    def __init__(self) -> None:
        self._statements: list[str] | None = None

    def middleware(self, app: ASGIApp) -> ASGIApp:
        async def record(scope: Scope, receive: Receive, send: Send) -> None:
            statements = self._statements
            if statements is None or scope["type"] != "http":
                await app(scope, receive, send)
                return
            token = statement_observer.set(statements.append)
            try:
                await app(scope, receive, send)
            finally:
                statement_observer.reset(token)

        return record

    @contextlib.contextmanager
    def recording(self) -> Iterator[list[str]]:
        self._statements = statements = []
        try:
            yield statements
        finally:
            self._statements = None


def declared_operations(app: Starlette) -> list[Operation]:
    """Every declared operation the app serves, read off its routes (``build_routes`` keeps
    each path's operations in its dispatcher), so a new endpoint is covered without a list."""
    found: list[Operation] = []
    for route in app.routes:
        # Static files (the favicon) are served by an ASGI app, not a declared function.
        if isinstance(route, Route) and inspect.isfunction(route.endpoint):
            methods = inspect.getclosurevars(route.endpoint).nonlocals.get("methods", {})
            found += methods.values()
    return found


class Station:
    """A registered station speaking with its own key."""

    def __init__(self, client: TestClient, data: dict[str, Any]) -> None:
        self.client = client
        self.id: int = data["id"]
        self.pos_id: str = data["pos_id"]
        self.headers = {"Authorization": f"Token {data['key']}"}

    def post(self, path: str, body: Any = None) -> Any:
        return self.client.post(path, json=body if body is not None else {}, headers=self.headers)

    def get(self, path: str, **params: Any) -> Any:
        # No params must leave a query written into ``path`` alone (httpx would drop it).
        return self.client.get(path, params=params or None, headers=self.headers)

    def open_shift(self, cashier: str = "Anna") -> Any:
        return self.post(f"/api/stations/{self.id}/shift/open", {"cashier_name": cashier})

    def close_shift(self) -> Any:
        return self.post(f"/api/stations/{self.id}/shift/close", {"cashier_name": "Anna"})

    def claim(self, invoice_id: int) -> Any:
        return self.post(f"/api/invoice/{invoice_id}/claim")

    def complete(self, invoice_id: int, request_id: str = "r1", **body: Any) -> Any:
        return self.post(f"/api/invoice/{invoice_id}/complete", {"request_id": request_id, **body})

    def sell(self, api: Api, invoice: dict[str, Any], **complete: Any) -> dict[str, Any]:
        """Post ``invoice``, claim and complete it here; the completed invoice."""
        invoice_id = post_invoice(api, invoice)["id"]
        assert self.claim(invoice_id).status_code == 200
        done = self.complete(invoice_id, f"r{invoice_id}", **complete)
        assert done.status_code == 200, done.text
        result: dict[str, Any] = done.json()
        return result


def register(api: Api, name: str, pos_id: str, group: str = "1") -> Station:
    response = api.as_(Role.ADMIN).post(
        "/api/stations",
        json={"name": name, "pos_id": pos_id, "chassis_id": f"CH{pos_id}", "station_group": group},
    )
    assert response.status_code == 201, response.text
    return Station(api.client, response.json())


def open_station(api: Api, name: str = "Kase 1", pos_id: str = "01") -> Station:
    """A registered station with an open shift: ready to sell."""
    station = register(api, name, pos_id)
    assert station.open_shift().status_code == 200
    return station


def post_invoice(api: Api, body: dict[str, Any] | None = None) -> dict[str, Any]:
    body = body or {"rows": [{"text": "Kafija", "quantity": 2, "price": 1.5}]}
    response = api.as_(Role.INTEGRATOR).post("/api/invoice/new", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def verify_database(url: str) -> list[str]:
    """What ``minipos verify`` finds in the database (cash is method 1, as by default): the
    receipt chains, Z-reports and electronic journals."""
    db = open_database(url)
    try:
        return db.run(lambda conn: [*verify(conn, {1}), *journal.verify(conn)])
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
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                if len(body) < length:
                    # The sender died mid-request (kill -9): it got no answer and delivers
                    # again, so a cut-off body is no delivery.
                    self.close_connection = True
                    return
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


def sign_in_failures(url: str, subject: str, *, older_by_us: int = 0) -> int:
    """The failed sign-ins counted for ``subject`` (``user:…``, ``station:…``, ``addr:…``);
    ``older_by_us``: first make them that old."""
    db = open_database(url)
    try:
        if older_by_us:
            db.run(
                lambda conn: conn.execute(
                    "UPDATE office_login_failures SET at = at - :d WHERE subject = :s",
                    {"s": subject, "d": older_by_us},
                )
            )
        row = db.run(
            lambda conn: conn.fetchone(
                "SELECT COUNT(*) AS n FROM office_login_failures WHERE subject = :s",
                {"s": subject},
            )
        )
    finally:
        db.close()
    assert row is not None
    return int(row["n"])
