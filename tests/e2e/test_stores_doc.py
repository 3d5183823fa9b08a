"""docs/stores.md's "A centre and a shop on one laptop" runs as written: its three commands, in
a fresh directory, give a centre and a store that syncs with it; a product made at the centre
is at the store within seconds (issue #13)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from serverproc import MINIPOS, free_port

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "stores.md"
BASH_BLOCK = re.compile(r"^```bash\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def laptop_script() -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index("\n## A centre and a shop on one laptop\n")
    (block,) = BASH_BLOCK.findall(text, start)
    return str(block)


def test_the_doc_shows_three_commands() -> None:
    commands = [
        line for line in laptop_script().splitlines() if line.startswith(("MINIPOS_", ".venv"))
    ]
    assert len(commands) == 3
    assert "…" not in laptop_script()


@pytest.mark.e2e
def test_a_centre_and_a_shop_on_one_laptop(tmp_path: Path) -> None:
    for entry in ROOT.iterdir():
        if entry.name == ".venv":
            (tmp_path / entry.name).symlink_to(entry)
    centre_port, store_port = free_port(), free_port()
    script = (
        laptop_script()
        .replace("127.0.0.1:8100", f"127.0.0.1:{centre_port}")
        .replace("--port 8100", f"--port {centre_port}")
        .replace("--port 8000", f"--port {store_port}")
    )
    # The last command serves in the foreground; here it goes to the background too, and the
    # script waits for both.
    script = script.rstrip() + " &\nwait\n"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINIPOS_")}
    env["MINIPOS_ACCESS_LOG"] = "false"
    with (tmp_path / "out.log").open("wb") as out:
        run = subprocess.Popen(
            ["bash", "-c", script],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        centre_env = {
            **env,
            "MINIPOS_MODE": "central",
            "MINIPOS_DATABASE_URL": "sqlite:///centre.sqlite3",
            "MINIPOS_SECRET_FILE": "centre.secret",
        }
        store_env = {
            **env,
            "MINIPOS_MODE": "store",
            "MINIPOS_CENTRAL_URL": f"http://127.0.0.1:{centre_port}",
            "MINIPOS_CENTRAL_KEY_FILE": "riga1.key",
            "MINIPOS_DATABASE_URL": "sqlite:///riga1.sqlite3",
            "MINIPOS_SECRET_FILE": "riga1.secret",
        }
        centre = f"http://127.0.0.1:{centre_port}"
        store = f"http://127.0.0.1:{store_port}"
        deadline = time.monotonic() + 60
        while not (tmp_path / "riga1.secret").exists() and time.monotonic() < deadline:
            assert run.poll() is None, (tmp_path / "out.log").read_text()
            time.sleep(0.2)
        admin = _key(tmp_path, centre_env)
        store_admin = _key(tmp_path, store_env)
        status, _ = call_url(
            centre,
            admin,
            "POST",
            "/api/products",
            {"name": "Maize", "price": 1.2},
        )
        assert status == 201
        while time.monotonic() < deadline:
            status, products = call_url(store, store_admin, "GET", "/api/products")
            if status == 200 and [p["name"] for p in products] == ["Maize"]:
                break
            time.sleep(0.3)
        else:
            raise AssertionError((tmp_path / "out.log").read_text()[-3000:])
    finally:
        os.killpg(run.pid, signal.SIGTERM)
        run.wait(timeout=30)


def _key(cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        [MINIPOS, "key", "create", "--role", "admin"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout.strip()


def call_url(
    base: str, key: str, method: str, path: str, body: object = None
) -> tuple[int, object]:
    request = urllib.request.Request(
        base + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Token {key}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")
    except OSError:
        return 0, None
