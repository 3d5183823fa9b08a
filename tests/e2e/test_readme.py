"""The README runs as written (issue #16): its shell blocks from "First steps" on, in order, in
one bash session, against a real server on a fresh SQLite file.

The README's commands name ``.venv/bin/minipos`` and ``tests/api/examples/…`` relative to the
repository's root and the server as http://127.0.0.1:8000. The script runs in a temporary
directory that links the repository's top-level entries (so those paths resolve and anything
the commands write lands there), with the server's port put in place of 8000 and the database
and key pepper of the server in the environment, so the CLI and the server share them.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from serverproc import Server, call

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
SHELL_BLOCK = re.compile(r"^```sh\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def readme_script() -> str:
    """The ```sh blocks after "## First steps" (so not the two install commands), joined."""
    text = README.read_text(encoding="utf-8")
    start = text.index("\n## First steps\n")
    blocks = SHELL_BLOCK.findall(text, start)
    assert len(blocks) >= 3, "the README lost its shell blocks"
    return "\n".join(blocks)


def test_the_script_is_what_the_readme_shows() -> None:
    script = readme_script()
    assert "scripts/serve" not in script
    assert "scripts/test" not in script
    # Every request fails the script on a 4xx/5xx, and every value is captured, not pasted.
    for line in script.splitlines():
        if line.lstrip().startswith("curl") or "$(curl" in line:
            assert "--fail-with-body" in line or " -f" in line, line
    assert "…" not in script, "a placeholder to fill in by hand"
    assert "http://127.0.0.1:8000" in script


@pytest.mark.e2e
def test_readme_runs_in_order_on_a_fresh_database(tmp_path: Path) -> None:
    work = tmp_path / "clone"
    work.mkdir()
    for entry in ROOT.iterdir():
        if not entry.name.startswith(("minipos.sqlite3", "minipos.secret", ".git")):
            (work / entry.name).symlink_to(entry)
    state = tmp_path / "state"
    state.mkdir()
    env = {
        **os.environ,
        "MINIPOS_DATABASE_URL": f"sqlite:///{state / 'shop.sqlite3'}",
        "MINIPOS_SECRET_FILE": str(state / "minipos.secret"),
        "MINIPOS_ACCESS_LOG": "false",
    }
    env.pop("MINIPOS_SECRET_KEY", None)
    server = Server(env, state)
    server.start()
    try:
        script = readme_script().replace("127.0.0.1:8000", f"127.0.0.1:{server.port}")
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
        out = done.stdout

        # What the reader was told to expect.
        assert '"id":null' in out.replace(" ", "")  # validateonly stored nothing
        assert "X-Total-Count: 4" in out or "x-total-count: 4" in out
        # The answer of .../invoice/1/complete (fields in the documented order).
        assert '"changed_sum":15.41,"status":30,' in out, out[-3000:]
        assert '"status_name":"Done"' in out
        assert '"z_number":1,' in out
        assert '"grand_total":34.59,' in out

        # And what the server now holds, read with a key of our own.
        created = server.cli("key", "create", "--role", "admin", "--name", "test")
        assert created.returncode == 0, created.stderr
        admin = created.stdout.strip()
        status, invoice = call(server, admin, "GET", "/api/invoice/1")
        assert status == 200
        assert (invoice["status"], invoice["status_name"]) == (30, "Done")
        assert invoice["total_sum"] == 34.59
        assert invoice["changed_sum"] == 15.41
        assert invoice["check_num"]
        assert invoice["print_pos_id"] == "01"
        status, shifts = call(server, admin, "GET", "/api/shifts")
        assert status == 200
        assert len(shifts) == 1
        assert shifts[0]["z_number"] == 1
        status, invoices = call(server, admin, "GET", "/api/invoices")
        assert status == 200
        assert len(invoices) == 4
    finally:
        server.stop()


def test_the_tests_ignore_the_seller_the_readme_exports_for_serving() -> None:
    """The README's first command exports a seller for `scripts/serve`; a user then runs
    `scripts/test` in the same shell. A test that prints the seller its own settings name must
    still see its own (it failed on "DEMO SIA" instead of "DEMO SIA (test)" before conftest.py
    dropped the caller's MINIPOS_* variables)."""
    text = README.read_text(encoding="utf-8")
    export = next(line for line in text.splitlines() if line.startswith("export MINIPOS_SHOP_"))
    test = "tests/printing/test_receipt_particulars.py::test_every_layout_prints_every_particular"
    script = f'{export}\nexec "$0" -m pytest -q -p no:xdist -p no:cacheprovider "$1"'
    done = subprocess.run(
        ["bash", "-c", script, sys.executable, f"{test}[sqlite]"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
