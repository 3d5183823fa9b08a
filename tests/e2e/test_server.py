"""The real server as an operator runs it: ``minipos`` subprocesses over real sockets."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

MINIPOS = str(Path(sys.executable).with_name("minipos"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env = env
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
            return error.code, _lower(error.headers), error.read()


def _lower(headers: Any) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    env = {
        **os.environ,
        "MINIPOS_DATABASE_URL": database_url,
        "MINIPOS_ACCESS_LOG": "false",
    }
    env.pop("MINIPOS_SECRET_KEY", None)  # the pepper file in the working directory is used
    server = Server(env, tmp_path)
    yield server
    server.stop()


def test_idempotent_replay_and_durability_survive_kill_9(server: Server) -> None:
    created = server.cli("key", "create", "--role", "integrator")
    assert created.returncode == 0, created.stderr
    auth = {"Authorization": f"Token {created.stdout.strip()}", "Idempotency-Key": "erp-42"}
    body = {"rows": [{"text": "Rīga kafija", "quantity": 2, "price": "3.50"}]}

    server.start()
    status, _, first = server.request("POST", "/api/invoice/new", body, auth)
    assert status == 200
    invoice = json.loads(first)
    server.kill()

    server.start()
    status, headers, again = server.request("POST", "/api/invoice/new", body, auth)
    assert status == 200
    assert again == first
    assert headers["idempotent-replayed"] == "true"
    status, _, stored = server.request("GET", f"/api/invoice/{invoice['id']}", headers=auth)
    assert status == 200
    assert json.loads(stored)["total_sum"] == 7
    status, headers, _ = server.request("GET", "/api/invoices", headers=auth)
    assert headers["x-total-count"] == "1"


def test_second_server_on_one_sqlite_file_is_refused(tmp_path: Path) -> None:
    env = {**os.environ, "MINIPOS_DATABASE_URL": f"sqlite:///{tmp_path / 'shop.sqlite3'}"}
    server = Server(env, tmp_path)
    server.start()
    rival = Server(server.env, server.cwd)
    rival.process = subprocess.Popen(
        [MINIPOS, "serve", "--port", str(rival.port)],
        env=rival.env,
        cwd=rival.cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    output = rival.process.communicate(timeout=30)[0].decode()
    assert rival.process.returncode != 0
    assert "already served by another MiniPOS process" in output
    assert server.request("GET", "/health")[0] == 200
    server.stop()


def test_unauthenticated_and_unknown_routes(server: Server) -> None:
    server.start()
    status, headers, body = server.request("GET", "/api/invoices")
    assert status == 401
    assert headers["www-authenticate"] == "Token"
    assert json.loads(body) == {"detail": "Authentication credentials were not provided."}
    status, _, body = server.request("GET", "/openapi.json")
    assert status == 200
    assert json.loads(body)["info"]["title"] == "MiniPOS API"


def test_schemathesis_finds_no_server_error(server: Server, tmp_path: Path) -> None:
    """Property-based requests from the published OpenAPI document: never a 5xx, and every
    response matches the document. (Schema-valid requests that break a business rule, such
    as a sale without rows, are rightly refused, so that one check is left out.)"""
    key = server.cli("key", "create", "--role", "admin").stdout.strip()
    server.start()
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("schemathesis")),
            "run",
            f"http://127.0.0.1:{server.port}/openapi.json",
            "--header",
            f"Authorization: Token {key}",
            "--checks",
            "all",
            "--exclude-checks",
            "positive_data_acceptance",
            "--max-examples",
            "60",
            "--seed",
            "20261125",
            "--report-dir",
            str(tmp_path / "schemathesis"),
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,  # schemathesis keeps a cache in its working directory
        env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
    )
    assert result.returncode == 0, result.stdout[-5000:]
    log = next(tmp_path.glob("server-*.log")).read_text()
    assert "Traceback" not in log
