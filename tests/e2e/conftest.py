"""End-to-end fixtures: a real server process per test, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from serverproc import Server


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
