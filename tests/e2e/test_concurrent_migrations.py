"""Two processes migrating one new SQLite file at once (a server starting while an operator
runs ``minipos store add`` or ``key create``, docs/stores.md): both succeed, once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from minipos.db import migrate

UPGRADE = "import sys; from minipos.db import migrate; migrate.upgrade(sys.argv[1])"


@pytest.mark.e2e
@pytest.mark.parametrize("round_", range(3))
def test_two_upgrades_of_one_new_file_both_succeed(tmp_path: Path, round_: int) -> None:
    url = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    runs = [
        subprocess.Popen([sys.executable, "-c", UPGRADE, url], stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    for run in runs:
        _, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
    assert migrate.current(url) == migrate.head()
