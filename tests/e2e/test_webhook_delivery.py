"""Webhooks from a real server process to a real receiver: down, restarts, order, signatures."""

from __future__ import annotations

import json
import time
from typing import Any

import serverproc
from serverproc import Server, free_port, open_station, wait_until

from minipos.webhooks.signing import verify
from support import Receiver

FAST = {
    "MINIPOS_WEBHOOK_ALLOW_NETWORKS": "127.0.0.1/32",
    "MINIPOS_WEBHOOK_BACKOFF_SECONDS": "0.1",
    "MINIPOS_WEBHOOK_BACKOFF_CAP_SECONDS": "0.5",
    "MINIPOS_WEBHOOK_TIMEOUT_SECONDS": "1",
}


def call(server: Server, key: str, method: str, path: str, body: Any = None) -> Any:
    """One request that must succeed: its decoded body."""
    status, data = serverproc.call(server, key, method, path, body)
    assert 200 <= status < 300, (status, data)
    return data


def test_receiver_down_then_up_across_a_server_crash_gets_everything_once_in_order(
    server: Server,
) -> None:
    server.env.update(FAST)
    port = free_port()
    added = server.cli(
        "webhook", "add", f"http://127.0.0.1:{port}/minipos", "--events", "invoice.*,receipt.*"
    )
    assert added.returncode == 0, added.stderr
    webhook = json.loads(added.stdout)
    admin = server.cli("key", "create", "--role", "admin").stdout.strip()
    integrator = server.cli("key", "create", "--role", "integrator").stdout.strip()
    server.start()

    station = open_station(server, admin, "POS1", "01", "C1")
    invoices = [
        call(
            server,
            integrator,
            "POST",
            "/api/invoice/new",
            {"rows": [{"text": f"Ābols {n}", "quantity": 1, "price": 2}]},
        )
        for n in range(3)
    ]
    first = invoices[0]["id"]
    call(server, station["key"], "POST", f"/api/invoice/{first}/claim")
    call(
        server,
        station["key"],
        "POST",
        f"/api/invoice/{first}/complete",
        {"request_id": "r1", "payments": [{"method_id": 1, "amount": 2}]},
    )
    deliveries = f"/api/webhooks/{webhook['id']}/deliveries"
    # Nobody listens on the port: the head delivery is being retried, the rest wait.
    wait_until(
        lambda: (d := call(server, admin, "GET", deliveries)) and d[0]["attempts"] >= 2,
        "retries of the first delivery",
        30,
    )
    server.kill()
    server.start()
    more = call(
        server,
        integrator,
        "POST",
        "/api/invoice/new",
        {"rows": [{"text": "x", "quantity": 1, "price": 1}]},
    )

    receiver = Receiver(port=port)
    try:
        log = call(server, integrator, "GET", "/api/events?type=invoice.*,receipt.*")
        assert log[-1]["resource_id"] == more["id"]
        # SQLite: at once. PostgreSQL: once the killed process's lease (15 s) ran out.
        requests = receiver.wait_for(len(log), timeout=45)
        time.sleep(0.5)  # anything extra (a duplicate) would arrive now
        requests = list(receiver.requests)
    finally:
        receiver.close()
        server.stop()

    assert [json.loads(body) for _, body in requests] == log  # every event, in commit order
    delivery_ids = [headers["MiniPOS-Delivery"] for headers, _ in requests]
    assert len(set(delivery_ids)) == len(delivery_ids) == len(log)  # each exactly once
    for headers, body in requests:
        assert verify(webhook["secret"], headers["MiniPOS-Signature"], body, int(time.time()))
    assert [json.loads(body)["type"] for _, body in requests][:6] == [
        "invoice.created",
        "invoice.created",
        "invoice.created",
        "invoice.opened",
        "invoice.done",
        "receipt.created",
    ]
    assert "Ābols 0" in requests[0][1].decode()
