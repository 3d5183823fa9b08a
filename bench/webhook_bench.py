"""Webhook delivery benchmark (issue #7): events delivered per second to a local receiver.

    .venv/bin/python bench/webhook_bench.py [--events 5000]

A fresh SQLite file gets one endpoint and then ``--events`` invoice-sized events; ``minipos
serve`` starts on CPU 0 and delivers them to a bare receiver (bench/webhook_receiver.py) on
CPU 1. The rate is events over the time between the receiver's first and last delivery.
Baseline, same run: this script on CPU 0 POSTs the same bodies to the same receiver one after
another over one keep-alive connection (httpx, as the sender does) with nothing else: the
ceiling for in-order delivery from one Python process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import httpx

from minipos.db import open_database
from minipos.domain.events import EventType
from minipos.events import service as events
from minipos.timeutil import now_us
from servers import HOST, Server, free_port, minipos_command, run_cli

SERVER_CPU, RECEIVER_CPU = 0, 1
TARGET_PER_SECOND = 500.0


def invoice_like(n: int) -> dict[str, Any]:
    """About the size of a real invoice event (five rows)."""
    return {
        "id": n,
        "invoice_no": f"WEB-{n}",
        "status": 10,
        "rows": [
            {"code": str(r), "text": f"Prece nr. {r} — ābolu sula", "quantity": 1, "price": 2.35}
            for r in range(5)
        ],
        "payments": [{"method_id": 1, "amount": 11.75}],
    }


def stats(port: int, path: str) -> dict[str, Any]:
    """What the receiver saw on ``path`` (zero counts before the first request)."""
    with urllib.request.urlopen(f"http://{HOST}:{port}/stats", timeout=5) as reply:
        found: dict[str, Any] = json.loads(reply.read()).get(path, {"count": 0})
        return found


async def baseline(port: int, bodies: list[bytes]) -> float:
    async with httpx.AsyncClient() as client:
        for body in bodies[:200]:  # warm up the connection and the code paths, as the server's are
            await client.post(f"http://{HOST}:{port}/warmup", content=body)
        started = time.perf_counter()
        for index, body in enumerate(bodies):
            headers = {"Content-Type": "application/json", "MiniPOS-Delivery": f"b{index}"}
            reply = await client.post(
                f"http://{HOST}:{port}/baseline", content=body, headers=headers
            )
            assert reply.status_code == 200
        return len(bodies) / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    args = parser.parse_args()
    os.sched_setaffinity(0, {SERVER_CPU})
    with tempfile.TemporaryDirectory(prefix="minipos-webhooks-") as tmp:
        directory = Path(tmp)
        env = {
            **os.environ,
            "MINIPOS_DATABASE_URL": f"sqlite:///{directory / 'bench.sqlite3'}",
            "MINIPOS_SECRET_KEY": "bench-pepper",
            "MINIPOS_ACCESS_LOG": "false",
            "MINIPOS_WEBHOOK_ALLOW_NETWORKS": "127.0.0.1/32",
            "MINIPOS_PRINT_WORKER": "false",
        }
        receiver_port = free_port()
        receiver = Server(
            "receiver",
            [
                sys.executable,
                str(Path(__file__).with_name("webhook_receiver.py")),
                str(receiver_port),
            ],
            env=env,
            cwd=directory,
            port=receiver_port,
            ready_path="/stats",
            cpu=RECEIVER_CPU,
        )
        with receiver:
            bodies = [json.dumps(invoice_like(n)).encode() for n in range(args.events)]
            base_rate = asyncio.run(baseline(receiver_port, bodies))
            run_cli(["db", "upgrade"], env, directory)
            run_cli(["webhook", "add", f"http://{HOST}:{receiver_port}/hook"], env, directory)
            db = open_database(env["MINIPOS_DATABASE_URL"])
            try:
                db.run(
                    lambda conn: [
                        events.record(conn, EventType.INVOICE_CREATED, n, invoice_like(n), now_us())
                        for n in range(1, args.events + 1)
                    ]
                )
            finally:
                db.close()
            port = free_port()
            command = [*minipos_command(), "serve", "--port", str(port)]
            with Server(
                "minipos",
                command,
                env=env,
                cwd=directory,
                port=port,
                ready_path="/health",
                cpu=SERVER_CPU,
            ):
                deadline = time.monotonic() + 600
                while stats(receiver_port, "/hook")["count"] < args.events:
                    if time.monotonic() > deadline:
                        raise SystemExit("deliveries did not finish in 10 minutes")
                    time.sleep(0.2)
                final = stats(receiver_port, "/hook")
    seconds = final["last"] - final["first"]
    rate = (final["count"] - 1) / seconds if seconds else 0.0
    print(f"delivered {final['count']} events under {final['delivery_ids']} delivery ids")
    met = "met" if rate >= TARGET_PER_SECOND else "NOT MET"
    print(f"webhook delivery: {rate:,.0f} events/s (target ≥ {TARGET_PER_SECOND:.0f}: {met})")
    print(f"baseline, bare sequential httpx POSTs to the same receiver: {base_rate:,.0f} req/s")
    print(f"ratio delivery / baseline: {rate / base_rate:.2f}")
    # The exit status says whether the run was correct (one delivery id per event), as in
    # run.py; a missed speed target is reported above, not an error.
    return 0 if final["delivery_ids"] == final["count"] else 1


if __name__ == "__main__":
    sys.exit(main())
