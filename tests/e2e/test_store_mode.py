"""``minipos serve`` and a database's remembered mode (issue 13): a shop's database refuses
to start as a centre, in one line naming both modes, before uvicorn starts."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from serverproc import DEMO_SHOP, MINIPOS, Server, free_port

pytestmark = pytest.mark.e2e


def test_a_store_database_refuses_to_serve_as_a_centre(tmp_path: Path) -> None:
    env = {
        **os.environ,
        **DEMO_SHOP,
        "MINIPOS_DATABASE_URL": f"sqlite:///{tmp_path / 'shop.sqlite3'}",
        "MINIPOS_ACCESS_LOG": "false",
    }
    env.pop("MINIPOS_SECRET_KEY", None)
    store_env = env | {
        "MINIPOS_MODE": "store",
        "MINIPOS_CENTRAL_URL": f"http://127.0.0.1:{free_port()}",
        "MINIPOS_CENTRAL_KEY": "store-key",
    }
    store = Server(store_env, tmp_path)
    store.start()
    store.stop()
    shown = store.cli("sync", "status")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("mode: store")

    result = subprocess.run(
        [MINIPOS, "serve", "--port", "1"],  # never bound: the check stops it before
        env=env | {"MINIPOS_MODE": "central"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert "this database belongs to a store; it cannot start as central" in line
