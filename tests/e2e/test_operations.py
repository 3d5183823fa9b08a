"""Operating the real server (docs/operations.md): its JSON log lines, and the one-line errors
``minipos serve`` stops with when it cannot start."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from serverproc import DEMO_SHOP, MINIPOS, Server

from conftest import PG_ADMIN_URL

pytestmark = pytest.mark.e2e


def serve(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``minipos serve`` that is expected to refuse to start (with a seller's identity, so the
    refusal is the case's own and not the fiscal profile's)."""
    return subprocess.run(
        [MINIPOS, "serve", "--port", "1"],  # never bound: every case stops before listening
        env={**DEMO_SHOP, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def assert_one_line_refusal(result: subprocess.CompletedProcess[str], *causes: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for cause in causes:
        assert cause in lines[0]


def test_json_log_line_carries_the_request_id(server: Server) -> None:
    server.env |= {"MINIPOS_LOG_FORMAT": "json", "MINIPOS_ACCESS_LOG": "true"}
    created = server.cli("key", "create", "--role", "integrator")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    server.start()
    status, headers, _ = server.request("GET", "/health", headers={"X-Request-ID": "test-123"})
    assert status == 200
    assert headers["x-request-id"] == "test-123"
    auth = {"Authorization": f"Token {key}", "X-Request-ID": "test-456"}
    assert server.request("GET", "/api/invoice/999", headers=auth)[0] == 404
    server.stop()

    text = (server.cwd / f"server-{server.port}.log").read_text()
    assert key not in text
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    by_id = {line.get("request_id"): line for line in lines}
    health = by_id["test-123"]
    assert health["route"] == "/health"
    assert health["status"] == 200
    assert health["method"] == "GET"
    assert health["level"] == "INFO"
    assert {"time", "latency_ms", "key_id", "station_id"} <= health.keys()
    lookup = by_id["test-456"]
    assert lookup["route"] == "/api/invoice/{id}"
    assert lookup["status"] == 404
    assert f"key {lookup['key_id']};" in created.stderr  # the public key id, never the key
    # Our own INFO lines are there too, not only the access lines.
    assert any(line["logger"] == "minipos.print" for line in lines)


def test_refuses_to_start_on_a_missing_postgresql_database(tmp_path: Path) -> None:
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/minipos_no_such_database"
    result = serve({**os.environ, "MINIPOS_DATABASE_URL": url}, tmp_path)
    assert_one_line_refusal(result, "cannot connect to PostgreSQL", "createdb")


def test_refuses_to_start_on_an_unreachable_postgresql(tmp_path: Path) -> None:
    url = "postgresql://postgres@127.0.0.1:9/minipos"  # the discard port: nothing listens
    result = serve({**os.environ, "MINIPOS_DATABASE_URL": url}, tmp_path)
    assert_one_line_refusal(result, "cannot connect to PostgreSQL", "MINIPOS_DATABASE_URL")


def test_refuses_to_start_on_a_sqlite_file_another_server_serves(tmp_path: Path) -> None:
    env = {**os.environ, "MINIPOS_DATABASE_URL": f"sqlite:///{tmp_path / 'shop.sqlite3'}"}
    first = Server(env, tmp_path)
    first.start()
    try:
        assert_one_line_refusal(serve(env, tmp_path), "already served by another MiniPOS process")
    finally:
        first.stop()


def test_refuses_to_start_behind_on_migrations_with_auto_migrate_off(tmp_path: Path) -> None:
    env = {**os.environ, "MINIPOS_DATABASE_URL": f"sqlite:///{tmp_path / 'shop.sqlite3'}"}
    upgraded = subprocess.run(
        [MINIPOS, "db", "upgrade", "--revision", "0006"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        check=False,
    )
    assert upgraded.returncode == 0, upgraded.stderr
    result = serve({**env, "MINIPOS_AUTO_MIGRATE": "false"}, tmp_path)
    assert_one_line_refusal(result, "0006", "MINIPOS_AUTO_MIGRATE=false", "minipos db upgrade")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("MINIPOS_LOG_FORMAT", "xml"),  # the server's own settings
        ("MINIPOS_PRINT_LEASE_SECONDS", "0"),  # an area's settings, read by the root
        ("MINIPOS_TIMEZONE", "Mars/Olympus"),
    ],
)
def test_refuses_to_start_on_a_bad_setting(tmp_path: Path, variable: str, value: str) -> None:
    env = {
        **os.environ,
        "MINIPOS_DATABASE_URL": f"sqlite:///{tmp_path / 'shop.sqlite3'}",
        variable: value,
    }
    assert_one_line_refusal(serve(env, tmp_path), variable)
