"""``minipos backup`` while a real server takes invoice posts, ``minipos restore`` into a new
directory, and a server started there (issue 16, docs/deploy.md): ``minipos verify`` is clean,
the old API keys work (the pepper came along), and every invoice acknowledged before the
backup began is there."""

from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from serverproc import Server, call

pytestmark = pytest.mark.e2e

POSTERS = 4


def shop_env(directory: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "MINIPOS_DATABASE_URL": f"sqlite:///{directory / 'shop.sqlite3'}",
        "MINIPOS_ACCESS_LOG": "false",
    }
    # The pepper lives in minipos.secret in the working directory, as on a default install.
    env.pop("MINIPOS_SECRET_KEY", None)
    env.pop("MINIPOS_SECRET_FILE", None)
    return env


def sell_one(server: Server, admin: str, integrator: str) -> str:
    """A station completes one invoice, so ``verify`` has a receipt chain to check; its key."""
    status, station = call(
        server,
        admin,
        "POST",
        "/api/stations",
        {"name": "Kase 1", "pos_id": "1", "chassis_id": "C1"},
    )
    assert status == 201, station
    key, station_id = station["key"], station["id"]
    status, _ = call(server, key, "POST", f"/api/stations/{station_id}/shift/open", {})
    assert status == 200
    status, invoice = call(
        server,
        integrator,
        "POST",
        "/api/invoice/new",
        {"rows": [{"text": "Maize", "quantity": 1, "price": "0.80"}]},
    )
    assert status == 200, invoice
    status, _ = call(server, key, "POST", f"/api/invoice/{invoice['id']}/claim")
    assert status == 200
    body = {"request_id": "pos-1", "payments": [{"method_id": 1, "amount": 1}]}
    status, done = call(server, key, "POST", f"/api/invoice/{invoice['id']}/complete", body)
    assert status == 200, done
    assert done["status"] == 30
    return str(key)


class Load:
    """Threads posting invoices until stopped; each acknowledgement with the time it arrived."""

    def __init__(self, server: Server, key: str) -> None:
        self.server, self.key = server, key
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.acked: list[tuple[float, int, str]] = []  # (monotonic time, id, invoice_no)
        self.refused: list[tuple[int, Any]] = []
        self.threads = [threading.Thread(target=self.post, args=(n,)) for n in range(POSTERS)]

    def post(self, thread_no: int) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            invoice_no = f"T{thread_no}-{n}"
            body = {
                "invoice_no": invoice_no,
                "rows": [{"text": "Prece", "quantity": 1, "price": "1.25"}],
            }
            status, data = call(self.server, self.key, "POST", "/api/invoice/new", body)
            answered = time.monotonic()
            with self.lock:
                if status == 200:
                    self.acked.append((answered, data["id"], data["invoice_no"]))
                else:
                    self.refused.append((status, data))

    def count(self) -> int:
        with self.lock:
            return len(self.acked)

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)


def test_backup_under_load_restores_elsewhere_with_keys_and_every_acknowledged_invoice(
    tmp_path: Path,
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    archive = tmp_path / "backups" / "shop.tar.gz"
    archive.parent.mkdir()
    source = Server(shop_env(tmp_path / "a"), tmp_path / "a")
    admin = source.cli("key", "create", "--role", "admin").stdout.strip()
    integrator = source.cli("key", "create", "--role", "integrator").stdout.strip()
    assert admin
    assert integrator
    source.start()
    try:
        station = sell_one(source, admin, integrator)
        with Load(source, integrator) as load:
            deadline = time.monotonic() + 30
            while load.count() < 100 and time.monotonic() < deadline:
                time.sleep(0.05)
            began = time.monotonic()
            made = source.cli("backup", str(archive))
            ended = time.monotonic()
            after = load.count() + 20
            while load.count() < after and time.monotonic() < deadline:
                time.sleep(0.05)  # and the server goes on taking posts after it
        assert made.returncode == 0, made.stderr
        assert not load.refused, load.refused[:3]
        during = [t for t, _, _ in load.acked if began <= t <= ended]
        assert during, "no post was answered while the backup ran"
        assert any(t > ended for t, _, _ in load.acked)
        before = {(id_, no) for t, id_, no in load.acked if t < began}
        assert len(before) >= 100
    finally:
        source.stop()
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600

    target = Server(shop_env(tmp_path / "b"), tmp_path / "b")
    restored = target.cli("restore", str(archive))
    assert restored.returncode == 0, restored.stderr
    assert (tmp_path / "b" / "minipos.secret").read_bytes() == (
        tmp_path / "a" / "minipos.secret"
    ).read_bytes()
    again = target.cli("restore", str(archive))
    assert again.returncode == 2
    assert "exists; restore does not overwrite" in again.stderr

    target.start()
    try:
        checked = target.cli("verify")
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "all receipt chains and Z-reports verify" in checked.stderr
        # The old keys, each role, work against the restored copy.
        assert call(target, admin, "GET", "/api/stations")[0] == 200
        assert call(target, station, "GET", "/api/stations/1/feed")[0] == 200
        for id_, invoice_no in sorted(before):
            status, invoice = call(target, integrator, "GET", f"/api/invoice/{id_}")
            assert status == 200, (id_, invoice)
            assert invoice["invoice_no"] == invoice_no
    finally:
        target.stop()
