"""Ten stations race for the same 1,000 invoices on the real server (decisions §6, issue #4):
every invoice is completed exactly once and each station's receipt numbers have no gap."""

from __future__ import annotations

import subprocess
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from serverproc import MINIPOS, Server, call, open_station

pytestmark = pytest.mark.e2e

STATIONS = 10
INVOICES = 1000


def test_ten_stations_race_for_a_thousand_invoices(server: Server) -> None:
    admin = server.cli("key", "create", "--role", "admin").stdout.strip()
    integrator = server.cli("key", "create", "--role", "integrator").stdout.strip()
    server.start()
    stations = [
        open_station(server, admin, f"POS{n}", str(n), f"C{n}") for n in range(1, STATIONS + 1)
    ]

    def post(n: int) -> None:
        body = {
            "invoice_no": f"RACE-{n}",
            "rows": [{"text": "Prece", "quantity": 1, "price": f"{1 + n % 7}.{n % 100:02d}"}],
        }
        assert call(server, integrator, "POST", "/api/invoice/new", body)[0] == 200

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(post, range(INVOICES)))

    completed: list[tuple[int, int]] = []  # (invoice id, station id)
    lock = threading.Lock()

    def work(station: dict[str, Any]) -> None:
        key, station_id = station["key"], station["id"]
        while True:
            status, feed = call(server, key, "GET", f"/api/stations/{station_id}/feed?limit=20")
            assert status == 200
            if not feed:
                return
            for invoice in feed:
                status, _ = call(server, key, "POST", f"/api/invoice/{invoice['id']}/claim")
                if status == 409:
                    continue  # another station was first
                assert status == 200
                status, done = call(
                    server,
                    key,
                    "POST",
                    f"/api/invoice/{invoice['id']}/complete",
                    {
                        "request_id": f"s{station_id}-{invoice['id']}",
                        "payments": [{"method_id": 1}],
                    },
                )
                assert status == 200, done
                with lock:
                    completed.append((invoice["id"], station_id))

    threads = [threading.Thread(target=work, args=(s,)) for s in stations]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)

    assert len(completed) == INVOICES
    assert len({invoice for invoice, _ in completed}) == INVOICES  # each exactly once
    _, headers, _ = server.request(
        "GET", "/api/invoices?status=30&limit=1", headers={"Authorization": f"Token {admin}"}
    )
    assert headers["x-total-count"] == str(INVOICES)

    per_station = Counter(station for _, station in completed)
    for station in stations:
        _, receipts = call(server, admin, "GET", f"/api/receipts?station_id={station['id']}")
        numbers = sorted(int(r["document_id"]) for r in receipts)
        assert numbers == list(range(1, per_station[station["id"]] + 1))  # gapless, no duplicate
    assert sum(per_station.values()) == INVOICES

    verified = subprocess.run(
        [MINIPOS, "verify"],
        env=server.env,
        cwd=server.cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
