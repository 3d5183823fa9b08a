"""``scripts/serve`` as an operator runs it: installed once, it starts with no package index."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from serverproc import DEMO_SHOP, free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.e2e
def test_serve_starts_without_a_package_index(tmp_path: Path) -> None:
    # The test command installed the project; mark that install current as scripts/serve does
    # after installing (a plain pytest run after a pyproject.toml change has no mark yet).
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    (ROOT / ".venv" / ".minipos-installed").write_text(digest + "\n")
    # Now no package index answers.
    port = free_port()
    env = {
        **DEMO_SHOP,  # as the README's command sets it
        **os.environ,
        "PIP_NO_INDEX": "1",
        "PIP_INDEX_URL": "http://127.0.0.1:9/simple",
        "PIP_FIND_LINKS": "",
        "MINIPOS_DATABASE_URL": f"sqlite:///{tmp_path / 'shop.sqlite3'}",
        "MINIPOS_SECRET_FILE": str(tmp_path / "minipos.secret"),
        "MINIPOS_ACCESS_LOG": "false",
    }
    env.pop("MINIPOS_SECRET_KEY", None)
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(ROOT / "scripts" / "serve"), "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    assert "No matching distribution" not in log.read_text()
