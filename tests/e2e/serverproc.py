"""A real ``minipos serve`` process for end-to-end tests, and a tiny HTTP client for it."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

MINIPOS = str(Path(sys.executable).with_name("minipos"))
SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))


#: A clearly fictitious seller: the Latvian fiscal profile (the default) refuses to start
#: without the seller's identity (docs/fiscal.md). A test's own MINIPOS_SHOP_* values win.
DEMO_SHOP = {
    "MINIPOS_SHOP_NAME": "DEMO SIA (test)",
    "MINIPOS_SHOP_REGISTRATION_NUMBER": "40000000000",
    "MINIPOS_SHOP_VAT_NUMBER": "LV40000000000",
    "MINIPOS_SHOP_ADDRESS": "Demo iela 1, Rīga, LV-1000",
    # The browser tests read the screens' English wording; Latvian (the default) is tested
    # by switching (test_office.py).
    "MINIPOS_LANGUAGE": "en",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env = {**DEMO_SHOP, **env}
        self.cwd = cwd
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [MINIPOS, *args],
            check=False,
            env=self.env,
            cwd=self.cwd,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def start(self) -> None:
        log = self.cwd / f"server-{self.port}.log"
        with log.open("ab") as output:
            self.process = subprocess.Popen(
                [MINIPOS, "serve", "--port", str(self.port)],
                env=self.env,
                cwd=self.cwd,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(log.read_text())
            try:
                self.request("GET", "/health")
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("server did not come up")

    def kill(self) -> None:
        """``kill -9``: no shutdown handler runs, nothing is flushed."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", data=data, method=method, headers=headers or {}
        )
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, _lower(response.headers), response.read()
        except urllib.error.HTTPError as error:
            with error:  # its connection, closed now rather than when collected
                return error.code, _lower(error.headers), error.read()


def _lower(headers: Any) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


class NoAnswer(Exception):
    """The connection broke before an answer came (the server died): the write is unsure."""


def call(
    server: Server, key: str, method: str, path: str, body: Any = None, **headers: str
) -> tuple[int, Any]:
    """One request with an API key: the status and the decoded JSON body (None if empty)."""
    try:
        status, _, raw = server.request(
            method, path, body, {"Authorization": f"Token {key}", **headers}
        )
    except (OSError, http.client.HTTPException) as exc:
        raise NoAnswer(f"{method} {path}: {exc}") from exc
    return status, json.loads(raw) if raw else None


def open_station(
    server: Server, admin: str, name: str, pos_id: str, chassis_id: str
) -> dict[str, Any]:
    """Register a station with the ``admin`` key and open its shift: the station, with its key."""
    body = {"name": name, "pos_id": pos_id, "chassis_id": chassis_id}
    status, station = call(server, admin, "POST", "/api/stations", body)
    assert status == 201, station
    status, shift = call(
        server, station["key"], "POST", f"/api/stations/{station['id']}/shift/open", {}
    )
    assert status == 200, shift
    return dict(station)


def wait_until(check: Callable[[], Any], what: str, timeout: float) -> Any:
    """Poll ``check`` until it returns something truthy, which is returned; fail at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            assert found, f"timed out after {timeout} s waiting for {what}"
            return found
        time.sleep(0.2)


def schemathesis(
    server: Server, key: str, workdir: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    """``schemathesis run`` against the server's published document with ``key``; ``args``
    choose the phases, checks and budget."""
    return subprocess.run(
        [
            SCHEMATHESIS,
            "run",
            f"http://127.0.0.1:{server.port}/openapi.json",
            "--header",
            f"Authorization: Token {key}",
            # A long-poll holds each request for up to ``wait`` seconds by design; its
            # behaviour is tested in tests/api/test_stations.py instead.
            "--exclude-operation-id",
            "station_feed",
            # The event stream never ends by design (tests/e2e/test_events.py reads it).
            "--exclude-operation-id",
            "stream_events",
            # Never let the fuzzer store a made-up printer address and make the server dial it.
            "--exclude-operation-id",
            "put_printer",
            "--exclude-operation-id",
            "printer_status",
            "--report-dir",
            str(workdir / "schemathesis"),
            *args,
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=workdir,  # schemathesis keeps a cache in its working directory
        env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
    )
