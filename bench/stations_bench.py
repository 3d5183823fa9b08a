"""Station benchmark (issue #4): claim → complete cycles with competing stations, each paid
with two tenders as issue #17's target says, and closing a shift of 10,000 receipts.

    .venv/bin/python bench/stations_bench.py [--duration 10] [--stations 4] [--receipts 10000]
        [--database-url postgresql://postgres@127.0.0.1:5432/minipos_stations]

The server runs on CPU 0 with a fresh SQLite file at the product's durability (or, with
``--database-url``, a PostgreSQL database of that name, created for each half and dropped after
it; it must not exist); this script (the stations) runs on CPU 1. Figures are reported with a baseline measured in the same run by the
same client: plain ``POST /api/invoice/new`` for the cycles, the read-only X-report for the
close.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cpustat
from catalogue_bench import add_database_url, fresh_database
from run import ours_environment
from seed import seed_shift
from servers import HOST, Server, free_port, minipos_command, run_cli

SERVER_CPU, CLIENT_CPU = 0, 1


class Client:
    """One keep-alive HTTP connection with a key, like a station's."""

    def __init__(self, port: int, key: str) -> None:
        self.connection = http.client.HTTPConnection(HOST, port, timeout=30)
        self.headers = {"Authorization": f"Token {key}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        payload = None if body is None else json.dumps(body)
        self.connection.request(method, path, body=payload, headers=self.headers)
        reply = self.connection.getresponse()
        data = reply.read()
        return reply.status, json.loads(data) if data else None


def start_server(directory: Path, env: dict[str, str]) -> Server:
    port = free_port()
    command = [*minipos_command(), "serve", "--port", str(port)]
    return Server(
        "minipos", command, env=env, cwd=directory, port=port, ready_path="/health", cpu=SERVER_CPU
    )


def open_stations(port: int, admin_key: str, count: int) -> list[dict[str, Any]]:
    """``count`` stations (POS numbers 1…count), each with its shift open; their id and key."""
    setup = Client(port, admin_key)
    stations = []
    for n in range(1, count + 1):
        status, station = setup.call(
            "POST", "/api/stations", {"name": f"POS{n}", "pos_id": str(n), "chassis_id": f"C{n}"}
        )
        assert status == 201, station
        status, shift = Client(port, station["key"]).call(
            "POST", f"/api/stations/{station['id']}/shift/open", {}
        )
        assert status in (200, 201), shift
        stations.append(station)
    return stations


def run_for(
    seconds: float, threads: int, work: Callable[[int, threading.Event], list[float]]
) -> list[float]:
    """Run ``work`` in ``threads`` threads until ``seconds`` pass; gather their latencies."""
    stop = threading.Event()
    results: list[list[float]] = [[] for _ in range(threads)]

    def body(index: int) -> None:
        results[index] = work(index, stop)

    workers = [threading.Thread(target=body, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    time.sleep(seconds)
    stop.set()
    for worker in workers:
        worker.join(timeout=60)
    return [latency for result in results for latency in result]


def measured(
    server: Server,
    seconds: float,
    threads: int,
    work: Callable[[int, threading.Event], list[float]],
) -> dict[str, float]:
    """:func:`run_for` summarized, with the server's CPU time per operation: on a busy machine
    a steadier figure than the rate (time other processes take from the server is not in it)."""
    before = cpustat.sample(server.pid)
    latencies = run_for(seconds, threads, work)
    after = cpustat.sample(server.pid)
    pct = cpustat.usage(before, after)["server_pct"] or 0.0
    cpu_s = pct / 100 * (after.at - before.at)
    return {
        **summary(latencies, seconds),
        "server_cpu_pct": pct,
        "server_cpu_ms_per_op": round(1000 * cpu_s / max(len(latencies), 1), 3),
    }


#: The cycle's two tenders (the invoice below comes to 5.95): part by card, the rest in cash.
PAYMENTS = [{"method_id": 2, "amount": 5.0}, {"method_id": 1}]


def summary(latencies: list[float], seconds: float) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "count": len(ordered),
        "per_second": round(len(ordered) / seconds, 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 2) if ordered else 0.0,
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 2) if ordered else 0.0,
    }


def cycles(args: argparse.Namespace, directory: Path, url: str) -> dict[str, Any]:
    env = ours_environment(url)
    admin = run_cli(["key", "create", "--role", "admin"], env, directory).strip()
    integrator = run_cli(["key", "create", "--role", "integrator"], env, directory).strip()
    with start_server(directory, env) as server:
        stations = open_stations(server.port, admin, args.stations)
        invoice = {
            "rows": [
                {"text": "Kafija", "quantity": 2, "price": "1.80"},
                {"text": "Maize", "quantity": 1, "price": "2.35", "tax": 1},
            ]
        }

        # Baseline: the same client threads posting invoices (one write per request).
        def post(index: int, stop: threading.Event) -> list[float]:
            client, latencies = Client(server.port, integrator), []
            while not stop.is_set():
                started = time.perf_counter()
                status, _ = client.call("POST", "/api/invoice/new", invoice)
                assert status == 200
                latencies.append(time.perf_counter() - started)
            return latencies

        run_for(2, args.stations, post)  # warm-up, and stock for the cycles below
        baseline = measured(server, args.duration, args.stations, post)

        done: list[int] = []
        conflicts = [0]
        lock = threading.Lock()

        def cycle(index: int, stop: threading.Event) -> list[float]:
            station = stations[index]
            client, latencies = Client(server.port, station["key"]), []
            shuffle = random.Random(index).shuffle
            while not stop.is_set():
                _, feed = client.call("GET", f"/api/stations/{station['id']}/feed?limit=40")
                if not feed:
                    return latencies
                # Each cashier takes a different customer first, as at a real counter; all four
                # going for the oldest invoice would measure mostly refused claims.
                shuffle(feed)
                for item in feed:
                    if stop.is_set():
                        break
                    started = time.perf_counter()
                    status, _ = client.call("POST", f"/api/invoice/{item['id']}/claim")
                    if status == 409:
                        with lock:
                            conflicts[0] += 1
                        continue
                    status, body = client.call(
                        "POST",
                        f"/api/invoice/{item['id']}/complete",
                        {"request_id": f"{index}-{item['id']}", "payments": PAYMENTS},
                    )
                    assert status == 200, body
                    latencies.append(time.perf_counter() - started)
                    with lock:
                        done.append(item["id"])
            return latencies

        result = measured(server, args.duration, args.stations, cycle)
        server.stop()
    return {
        "stations": args.stations,
        "cycles": result,
        "baseline_post": baseline,
        "claim_conflicts": conflicts[0],
        "double_completions": len(done) - len(set(done)),
        "ratio_cycles_to_posts": round(result["per_second"] / baseline["per_second"], 2),
    }


def close_shift(args: argparse.Namespace, directory: Path, url: str) -> dict[str, Any]:
    """Seed one shift with N receipts in-process (fast, not measured), then time the close."""
    env = ours_environment(url)
    admin = run_cli(["key", "create", "--role", "admin"], env, directory).strip()
    os.environ.update({k: v for k, v in env.items() if k.startswith("MINIPOS_")})

    station_id = seed_shift(args.receipts)
    with start_server(directory, env) as server:
        client = Client(server.port, admin)
        timings = {}
        for name, method, path in (
            ("x_report", "GET", f"/api/stations/{station_id}/shift/x-report"),
            ("z_close", "POST", f"/api/stations/{station_id}/shift/close"),
        ):
            started = time.perf_counter()
            status, body = client.call(method, path, {} if method == "POST" else None)
            timings[name] = round(time.perf_counter() - started, 3)
            assert status == 200, body
            assert body["report"]["receipts"] == args.receipts
    return {
        "receipts": args.receipts,
        "x_report_s": timings["x_report"],
        "close_s": timings["z_close"],
        "ratio_close_to_x_report": round(timings["z_close"] / timings["x_report"], 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--stations", type=int, default=4)
    parser.add_argument("--receipts", type=int, default=10_000)
    add_database_url(parser, "each half")
    args = parser.parse_args()
    if args.database_url and not args.database_url.startswith("postgresql://"):
        parser.error("--database-url takes a postgresql:// URL (SQLite is the default)")
    os.sched_setaffinity(0, {CLIENT_CPU})
    results = {}
    for name, prefix, half in (
        ("cycles", "minipos-stations-", cycles),
        ("close", "minipos-close-", close_shift),
    ):
        with (
            tempfile.TemporaryDirectory(prefix=prefix) as tmp,
            fresh_database(args.database_url, Path(tmp)) as url,
        ):
            results[name] = half(args, Path(tmp), url)
    c, z = results["cycles"], results["close"]
    print(
        f"claim→complete, {c['stations']} stations: {c['cycles']['per_second']} cycles/s, p50 {c['cycles']['p50_ms']} ms, p99 {c['cycles']['p99_ms']} ms"
    )
    print(
        f"  baseline POST /api/invoice/new, same client: {c['baseline_post']['per_second']} req/s  → ratio {c['ratio_cycles_to_posts']}"
    )
    print(
        f"  server CPU: {c['cycles']['server_cpu_ms_per_op']} ms a cycle ({c['cycles']['server_cpu_pct']}% of a core),"
        f" {c['baseline_post']['server_cpu_ms_per_op']} ms a POST ({c['baseline_post']['server_cpu_pct']}%)"
    )
    print(
        f"  claim conflicts (409, expected): {c['claim_conflicts']}; double completions: {c['double_completions']}"
    )
    print(
        f"shift close with {z['receipts']} receipts: {z['close_s']} s (X-report of the same shift {z['x_report_s']} s, ratio {z['ratio_close_to_x_report']})"
    )
    print("targets: ≥ 500 cycles/s with 4 stations, zero double claims; close < 1 s")
    out = Path(__file__).with_name("results")
    out.mkdir(exist_ok=True)
    name = "stations-postgresql.json" if args.database_url else "stations.json"
    (out / name).write_text(
        json.dumps(
            {"database": "postgresql" if args.database_url else "sqlite", **results}, indent=2
        )
    )
    return 0 if c["double_completions"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
