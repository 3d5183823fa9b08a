"""SIGTERM, as systemd and ``docker stop`` send it (issue 16, docs/deploy.md): the server stops
accepting connections at once, lets the request in flight finish with its full answer, and
exits with status 0."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from serverproc import Server, call

pytestmark = pytest.mark.e2e

#: Long enough to be surely in flight when the signal comes, well inside uvicorn's 10 s grace.
LONG_POLL_SECONDS = 4


def test_sigterm_finishes_the_request_in_flight_refuses_new_ones_and_exits_0(
    tmp_path: Path,
) -> None:
    env = {
        **os.environ,
        "MINIPOS_DATABASE_URL": f"sqlite:///{tmp_path / 'shop.sqlite3'}",
        "MINIPOS_ACCESS_LOG": "false",
    }
    server = Server(env, tmp_path)
    admin = server.cli("key", "create", "--role", "admin").stdout.strip()
    server.start()
    assert server.process is not None
    try:
        status, station = call(
            server, admin, "POST", "/api/stations", {"name": "K1", "pos_id": "1", "chassis_id": "C"}
        )
        assert status == 201, station
        answer: dict[str, Any] = {}

        def long_poll() -> None:
            started = time.monotonic()
            path = f"/api/stations/{station['id']}/feed?wait={LONG_POLL_SECONDS}"
            answer["status"], answer["body"] = call(server, station["key"], "GET", path)
            answer["seconds"] = time.monotonic() - started

        poller = threading.Thread(target=long_poll)
        poller.start()
        time.sleep(1)  # the long-poll is now waiting inside the server
        server.process.send_signal(signal.SIGTERM)
        time.sleep(0.5)

        # Still finishing the long-poll, but no longer listening.
        assert server.process.poll() is None
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", server.port), timeout=2).close()

        poller.join(timeout=20)
        assert answer == {"status": 200, "body": [], "seconds": pytest.approx(4, abs=0.9)}
        code = server.process.wait(timeout=20)
    finally:
        server.stop()
    log = (tmp_path / f"server-{server.port}.log").read_text()
    assert "Traceback" not in log, log
    # uvicorn re-raises the SIGTERM it handled; `minipos serve` makes that an exit 0.
    assert code == 0, log
