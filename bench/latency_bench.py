"""Latency under a shop's load, not at saturation (issue #17): ``python bench/latency_bench.py``.

    .venv/bin/python bench/latency_bench.py [--duration 30] [--rate 50] [--stations 10]
        [--warmup 3] [--database-url postgresql://…/NAME] [--output FILE]

An open-loop generator (asyncio, CPU 1) drives one ``minipos serve`` (CPU 0, fresh database):
an integrator POSTs the benchmark invoice (bench/invoice_payload.py, a unique ``invoice_no``,
addressed to the POS numbers in turn) at ``--rate`` a second, and ``--stations`` cashiers each
run the cycle of bench/stations_bench.py (feed → claim → complete with two payments) at
``rate / stations`` cycles a second, so they complete what is posted. Requests leave on a fixed
schedule whatever the answers do, and latency counts from the scheduled time, so a stall shows
in the figures instead of slowing the load down (no coordinated omission). After the measured
window the stations drain what is left; then every POST and completion is checked against the
database. Exit 0 when all is correct, whether or not the latency target is met. See
bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import math
import os
import shlex
import signal
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import uvloop

import cpustat
import invoice_payload
from catalogue_bench import add_database_url, fresh_database
from run import (
    BENCH_DIR,
    LOAD_CPU,
    NOISE_PCT,
    SERVER_CPU,
    _git_state,
    _interrupt,
    ours_environment,
)
from servers import HOST, run_cli
from stations_bench import PAYMENTS, open_stations, start_server
from wrk_runner import BenchError

DEFAULT_OUTPUT = BENCH_DIR / "results" / "latency.json"
#: p99 of all requests of the measured window (issue #17).
TARGET_P99_MS = 10.0
#: How long the stations may take, after the window, to complete what is still waiting.
DRAIN_TIMEOUT_S = 30.0
FEED_LIMIT = 4
#: Idle connections older than this are closed, not reused (see Pool.call).
IDLE_S = 2.0
DONE = 30  # InvoiceStatus.DONE
POST, FEED, CLAIM, COMPLETE, CYCLE = (
    "POST /api/invoice/new",
    "GET feed",
    "POST claim",
    "POST complete",
    "cycle feed→complete",
)
REQUEST_KINDS = (POST, FEED, CLAIM, COMPLETE)
#: The schedule's and the latencies' clock (uvloop's own loop time has 1 ms steps).
clock = time.perf_counter


class Connection:
    """One keep-alive HTTP/1.1 connection; answers are read by their Content-Length."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.reusable = True

    async def call(self, head: bytes, body: bytes) -> tuple[int, bytes]:
        self.writer.write(head + body)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *lines = raw.decode("latin-1").split("\r\n")
        length = 0
        for line in lines:
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding":
                raise BenchError(f"answer with Transfer-Encoding {value}: not handled")
            elif name == "connection" and value == "close":
                self.reusable = False
        return int(status_line.split(" ", 2)[1]), await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


class Pool:
    """The connections of one key. A request that finds none idle opens one, so a slow answer
    never holds back the next scheduled request (the open loop)."""

    def __init__(self, port: int, key: str) -> None:
        self.port = port
        self.auth = f"Authorization: Token {key}\r\nContent-Type: application/json\r\n"
        #: (when it was last answered, connection), the most recently used last.
        self.idle: list[tuple[float, Connection]] = []

    async def call(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {HOST}\r\n{self.auth}"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        # The server closes a connection idle for its keep-alive time (5 s by default); one
        # idle for less than IDLE_S is surely still open.
        while self.idle and self.idle[0][0] < clock() - IDLE_S:
            self.idle.pop(0)[1].close()
        if self.idle:
            connection = self.idle.pop()[1]
        else:
            connection = Connection(*await asyncio.open_connection(HOST, self.port))
        try:
            answer = await connection.call(head, body)
        except BaseException:
            connection.close()
            raise
        if connection.reusable:
            self.idle.append((clock(), connection))
        else:
            connection.close()
        return answer

    def close(self) -> None:
        for _, connection in self.idle:
            connection.close()
        self.idle.clear()


@dataclass
class Recorder:
    """Latencies of the requests scheduled inside the measured window, errors of all."""

    window: tuple[float, float]
    latencies: dict[str, list[float]] = field(
        default_factory=lambda: {kind: [] for kind in (*REQUEST_KINDS, CYCLE)}
    )
    errors: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in REQUEST_KINDS})
    #: How late the generator woke for a scheduled request (its own delay, not the server's).
    send_lag: list[float] = field(default_factory=list)
    empty_polls: int = 0
    claim_conflicts: int = 0

    def measured(self, scheduled: float) -> bool:
        return self.window[0] <= scheduled < self.window[1]

    async def timed(
        self,
        kind: str,
        scheduled: float,
        call: Awaitable[tuple[int, bytes]],
        *,
        now: bool = False,
    ) -> tuple[int, bytes] | None:
        """Await ``call``; its latency is kept if ``scheduled`` is in the window. It counts from
        ``scheduled``, or with ``now`` (a cycle's next step, sent on an answer) from the send.
        A transport error is recorded as the kind's error and gives ``None``."""
        since = clock() if now else scheduled
        try:
            answer = await call
        except (OSError, asyncio.IncompleteReadError, BenchError) as exc:
            self.errors[kind].append(f"{type(exc).__name__}: {exc}")
            return None
        if self.measured(scheduled):
            self.latencies[kind].append(clock() - since)
        return answer

    def fail(self, kind: str, status: int, body: bytes) -> None:
        self.errors[kind].append(f"{status}: {body[:300].decode(errors='replace')}")


@dataclass
class Shop:
    """What the load shares: the schedule, the stored invoices and the completions."""

    recorder: Recorder
    start: float
    end: float
    rate: float
    stations: int
    prefix: str
    acknowledged: set[int] = field(default_factory=set)
    completed: list[int] = field(default_factory=list)
    posting_done: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait_until(self, at: float) -> None:
        """Sleep until ``at``; how late the wake-up was is the generator's own lag (a station
        still busy with its previous cycle is behind, not late)."""
        if (ahead := at - clock()) <= 0:
            return
        await asyncio.sleep(ahead)
        if self.recorder.measured(at):
            self.recorder.send_lag.append(clock() - at)


async def post_invoices(shop: Shop, pool: Pool) -> int:
    """POST at ``rate`` a second from ``start`` to ``end``, each on time; how many were sent."""
    rec, pending = shop.recorder, set()

    async def post(n: int, at: float, body: bytes) -> None:
        answer = await rec.timed(POST, at, pool.call("POST", "/api/invoice/new", body))
        if answer is None:
            return
        status, data = answer
        if status in (200, 201):
            shop.acknowledged.add(int(json.loads(data)["id"]))
        else:
            rec.fail(POST, status, data)

    n = 0
    while (at := shop.start + n / shop.rate) < shop.end:
        document = invoice_payload.invoice(f"{shop.prefix}-{n}")
        # Addressed to the POS numbers in turn: each station's feed gets rate / stations.
        body = invoice_payload.encode({**document, "pos_id": n % shop.stations + 1})
        await shop.wait_until(at)
        task = asyncio.create_task(post(n, at, body))
        pending.add(task)
        task.add_done_callback(pending.discard)
        n += 1
    await asyncio.gather(*pending)
    shop.posting_done.set()
    return n


async def station(shop: Shop, pool: Pool, index: int, station_id: int) -> None:
    """One cashier's cycles at ``rate / stations`` a second, until the feed is drained.

    A cycle whose time comes while the previous one is still running starts when it ends, and
    counts from its scheduled time (the wait is latency the cashier sees)."""
    rec = shop.recorder
    period = shop.stations / shop.rate
    # Half a POST interval after the invoice addressed to this station was scheduled.
    first = shop.start + (index + 0.5) / shop.rate
    feed = f"/api/stations/{station_id}/feed?limit={FEED_LIMIT}"
    k = 0
    while (at := first + k * period) < shop.end + DRAIN_TIMEOUT_S:
        k += 1
        await shop.wait_until(at)
        draining = shop.posting_done.is_set()
        answer = await rec.timed(FEED, at, pool.call("GET", feed))
        if answer is None:
            continue
        status, data = answer
        if status != 200:
            rec.fail(FEED, status, data)
            continue
        items = json.loads(data)
        if not items:
            if draining:
                return
            rec.empty_polls += rec.measured(at)
            continue
        for item in items:
            if await claim_and_complete(shop, pool, at, item["id"]):
                break
        if rec.measured(at):
            rec.latencies[CYCLE].append(clock() - at)
    raise BenchError(f"station {station_id}: feed not drained {DRAIN_TIMEOUT_S:g} s after the end")


async def claim_and_complete(shop: Shop, pool: Pool, at: float, invoice_id: int) -> bool:
    """Claim, then complete with two payments; False if another station holds it (409)."""
    rec = shop.recorder
    claim = pool.call("POST", f"/api/invoice/{invoice_id}/claim")
    answer = await rec.timed(CLAIM, at, claim, now=True)
    if answer is None:
        return True
    status, data = answer
    if status == 409:
        rec.claim_conflicts += 1
        return False
    if status != 200:
        rec.fail(CLAIM, status, data)
        return True
    body = json.dumps({"request_id": f"{shop.prefix}-{invoice_id}", "payments": PAYMENTS})
    complete = pool.call("POST", f"/api/invoice/{invoice_id}/complete", body.encode())
    answer = await rec.timed(COMPLETE, at, complete, now=True)
    if answer is not None:
        status, data = answer
        if status == 200:
            shop.completed.append(invoice_id)
        else:
            rec.fail(COMPLETE, status, data)
    return True


async def cpu_during(pid: int, window: tuple[float, float]) -> dict[str, float | None]:
    """The server's CPU use, the generator's (this process) and each CPU's busy time over the
    measured window, in % of one CPU."""
    await asyncio.sleep(max(0.0, window[0] - clock()))
    before, own = cpustat.sample(pid), cpustat.sample(os.getpid())
    await asyncio.sleep(max(0.0, window[1] - clock()))
    generator = cpustat.usage(own, cpustat.sample(os.getpid()))["server_pct"]
    return {**cpustat.usage(before, cpustat.sample(pid)), "generator_pct": generator}


async def drive(
    args: argparse.Namespace, port: int, pid: int, integrator: str, stations: list[dict[str, Any]]
) -> tuple[Shop, int, dict[str, float | None]]:
    start = clock() + 0.5  # time to set the tasks up
    window = (start + args.warmup, start + args.warmup + args.duration)
    shop = Shop(
        Recorder(window),
        start,
        window[1],
        args.rate,
        len(stations),
        f"lat{os.getpid()}",
    )
    pools = [Pool(port, integrator), *(Pool(port, s["key"]) for s in stations)]
    try:
        cpu = asyncio.create_task(cpu_during(pid, window))
        cashiers = [
            station(shop, pool, index, s["id"])
            for index, (pool, s) in enumerate(zip(pools[1:], stations, strict=True))
        ]
        sent, _ = await asyncio.gather(post_invoices(shop, pools[0]), asyncio.gather(*cashiers))
        return shop, sent, await cpu
    finally:
        for pool in pools:
            pool.close()


# --- checks and report ----------------------------------------------------------------------


def stored_counts(url: str) -> dict[str, int]:
    """Invoices, those Done, and receipts in the database (read after the server stopped)."""
    queries = {
        "invoices": "SELECT count(*) FROM invoices",
        "done": f"SELECT count(*) FROM invoices WHERE status = {DONE}",
        "receipts": "SELECT count(*) FROM receipts",
    }
    if url.startswith("sqlite:"):
        with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as lite:
            return {k: int(lite.execute(q).fetchone()[0]) for k, q in queries.items()}
    with psycopg.connect(url) as pg:
        return {k: int(pg.execute(q).fetchone()[0]) for k, q in queries.items()}  # type: ignore[index]


def correctness(shop: Shop, stored: dict[str, int]) -> list[str]:
    """What went wrong, if anything: errors, lost or doubled completions, rows ≠ answers."""
    problems = [
        f"{len(errors)} {kind} errors (first: {errors[0]})"
        for kind, errors in shop.recorder.errors.items()
        if errors
    ]
    acknowledged, completed = len(shop.acknowledged), len(shop.completed)
    if completed != len(set(shop.completed)):
        problems.append(f"{completed - len(set(shop.completed))} invoices completed twice")
    if set(shop.completed) != shop.acknowledged:
        problems.append(f"{acknowledged} invoices acknowledged but {completed} completed")
    want = {"invoices": acknowledged, "done": completed, "receipts": completed}
    problems += [
        f"{stored[name]} {name} in the database, {count} acknowledged"
        for name, count in want.items()
        if stored[name] != count
    ]
    return problems


def percentiles(latencies: list[float], errors: int) -> dict[str, float | int | None]:
    ordered = sorted(latencies)

    def rank(q: float) -> float | None:  # nearest rank, in ms
        if not ordered:
            return None
        return round(ordered[max(0, math.ceil(q * len(ordered)) - 1)] * 1000, 2)

    return {
        "count": len(ordered),
        "p50_ms": rank(0.5),
        "p90_ms": rank(0.9),
        "p99_ms": rank(0.99),
        "p99_9_ms": rank(0.999),
        "max_ms": rank(1.0),
        "errors": errors,
    }


def summarize(shop: Shop, sent: int, duration: float) -> dict[str, Any]:
    rec = shop.recorder
    kinds = {
        kind: percentiles(rec.latencies[kind], len(rec.errors.get(kind, [])))
        for kind in (*REQUEST_KINDS, CYCLE)
    }
    every = [latency for kind in REQUEST_KINDS for latency in rec.latencies[kind]]
    kinds["all requests"] = percentiles(every, sum(len(e) for e in rec.errors.values()))
    p99 = kinds["all requests"]["p99_ms"]
    return {
        "latency": kinds,
        "posted": sent,
        "completed": len(shop.completed),
        "measured_cycles_per_s": round(len(rec.latencies[CYCLE]) / duration, 1),
        "empty_polls": rec.empty_polls,
        "claim_conflicts": rec.claim_conflicts,
        "send_lag_ms": percentiles(rec.send_lag, 0),
        "target": {
            "p99_ms": TARGET_P99_MS,
            "value": p99,
            "met": p99 is not None and p99 <= TARGET_P99_MS,
        },
    }


def print_report(args: argparse.Namespace, summary: dict[str, Any], cpu: dict[str, Any]) -> None:
    head = f"{'':<22}{'count':>7}{'p50':>8}{'p90':>8}{'p99':>8}{'p99.9':>8}{'max':>8}{'errors':>8}"
    print(
        f"\n{args.rate:g} invoices/s + {args.stations} stations at {args.rate / args.stations:g}"
        f" cycles/s each, {args.duration:g} s measured (after {args.warmup:g} s warm-up),"
        f" {'PostgreSQL' if args.database_url else 'SQLite'}; latency in ms from the scheduled"
        " send"
    )
    print(head)
    print("-" * len(head))

    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    for kind, s in summary["latency"].items():
        print(
            f"{kind:<22}{s['count']:>7}{ms(s['p50_ms']):>8}{ms(s['p90_ms']):>8}"
            f"{ms(s['p99_ms']):>8}{ms(s['p99_9_ms']):>8}{ms(s['max_ms']):>8}{s['errors']:>8}"
        )
    lag = summary["send_lag_ms"]
    server, cpu0 = cpu.get("server_pct"), cpu.get("cpu0_busy_pct")
    print(
        f"\nserver CPU {_pct(server)} of one core; CPU0 {_pct(cpu0)},"
        f" CPU1 {_pct(cpu.get('cpu1_busy_pct'))} busy; generator CPU"
        f" {_pct(cpu.get('generator_pct'))}, late by p99 {ms(lag['p99_ms'])} ms,"
        f" max {ms(lag['max_ms'])} ms"
    )
    other = cpu0 - server if server is not None and cpu0 is not None else 0.0
    # PostgreSQL's backends share the cores: their work is not noise.
    if other > NOISE_PCT and not args.database_url:
        print(
            f"warning: other processes took {other:.0f}% of the server's CPU 0;"
            " the latencies are high for it: rerun on a quiet machine"
        )
    print(
        f"posted {summary['posted']}, completed {summary['completed']};"
        f" {summary['measured_cycles_per_s']} cycles/s measured; empty polls"
        f" {summary['empty_polls']}; claim conflicts {summary['claim_conflicts']}"
    )
    target = summary["target"]
    verdict = "PASS" if target["met"] else "FAIL"
    print(
        f"latency target: p99 of all requests {ms(target['value'])} ms"
        f" <= {TARGET_P99_MS:g} ms: {verdict}"
    )


def _pct(value: float | None) -> str:
    return "?" if value is None else f"{value:.0f}%"


# --- main -----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--duration", type=float, default=30, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of load before them")
    parser.add_argument("--rate", type=float, default=50, help="invoices POSTed a second")
    parser.add_argument("--stations", type=int, default=10, help="stations completing them")
    add_database_url(parser, "the run")
    parser.add_argument("--output", type=Path, default=None, help="results JSON")
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.warmup < 0 or args.rate <= 0 or args.stations < 1:
        parser.error("--duration and --rate must be > 0, --warmup >= 0, --stations >= 1")
    if args.database_url and not args.database_url.startswith("postgresql://"):
        parser.error("--database-url takes a postgresql:// URL (SQLite is the default)")
    if args.output is None:
        name = "latency-postgresql.json" if args.database_url else "latency.json"
        args.output = DEFAULT_OUTPUT.with_name(name)
    return args


def measure(args: argparse.Namespace, directory: Path) -> tuple[dict[str, Any], list[str]]:
    with fresh_database(args.database_url, directory) as url:
        env = ours_environment(url)
        admin = run_cli(["key", "create", "--role", "admin"], env, directory).strip()
        integrator = run_cli(["key", "create", "--role", "integrator"], env, directory).strip()
        with start_server(directory, env) as server:
            stations = open_stations(server.port, admin, args.stations)
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                shop, sent, cpu = runner.run(
                    drive(args, server.port, server.pid, integrator, stations)
                )
        stored = stored_counts(url)
    summary = summarize(shop, sent, args.duration)
    problems = correctness(shop, stored)
    print_report(args, summary, cpu)
    return {**summary, "cpu_during_measured": cpu, "stored": stored}, problems


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    os.sched_setaffinity(0, {LOAD_CPU})
    try:
        with tempfile.TemporaryDirectory(prefix="minipos-latency-") as tmp:
            result, problems = measure(args, Path(tmp))
    except (BenchError, psycopg.Error) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted; server stopped", file=sys.stderr)
        return 130
    print(f"correctness: {'; '.join(problems) if problems else 'OK'}")
    output = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": shlex.join([sys.executable, *sys.argv]),
        "database": "postgresql" if args.database_url else "sqlite",
        "settings": {
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "rate": args.rate,
            "stations": args.stations,
            "pinned": {"server_cpu": SERVER_CPU, "load_cpu": LOAD_CPU},
        },
        "git": _git_state(),
        **result,
        "problems": problems,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(output, indent=2, ensure_ascii=False) + "\n")
    print(f"results written to {args.output}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
