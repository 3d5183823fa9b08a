"""What the event log costs a POST: ``python bench/events_bench.py [--duration 10]``.

Runs the ``ours POST`` scenario of ``run.py`` (same invoice, wrk load, pinning, drain, row
check) against ``minipos serve`` started with ``MINIPOS_EVENTS=true`` and with
``MINIPOS_EVENTS=false``, each on a fresh database, and prints req/s and p99 of both and their
ratio. The target is events-on ≥ 0.90 × events-off. ``--rounds 2`` (the default) runs
on, off, off, on: a drift of the machine during the run then weighs on both sides alike.
``--database-url postgresql://…/<name>`` does the same on PostgreSQL; the database ``<name>``
is created for each server and dropped afterwards, and must not exist. There the run also
samples ``pg_stat_activity`` (every 20 ms, warm-up and measured run) and counts the samples in
which a backend of the benchmark's database waited on a lock (``wait_event_type = 'Lock'``):
writers that take turns show up there. ``--workers N`` serves with ``minipos serve --workers N``
(PostgreSQL only), and the CPU seconds of the server's processes and of PostgreSQL's are
printed for each run. ``--follow`` keeps one reader on ``/api/events/stream`` through each run
(from the first event), so the events-on figure includes what following the log costs the
server (on PostgreSQL, numbering the events); the events it received are checked against the
events stored. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import json
import os
import shlex
import shutil
import signal
import socket
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg

import invoice_payload
from catalogue_bench import add_database_url, fresh_database
from run import (
    BENCH_DIR,
    LOAD_CPU,
    SERVER_CPU,
    Bench,
    RowsCheck,
    Scenario,
    _interrupt,
    _wait_quiet,
    add_drain_argument,
    load_post,
    machine_info,
    ours_environment,
    ours_server,
    print_table,
)
from servers import Server
from wrk_runner import BenchError, ensure_wrk

DEFAULT_OUTPUT = BENCH_DIR / "results" / "events.json"
#: Events-on throughput over events-off throughput that the outbox must keep (issue 7).
TARGET_RATIO = 0.90


#: Seconds between two samples of ``pg_stat_activity``.
SAMPLE_SECONDS = 0.02


class LockWaits:
    """Samples the waits of the backends of one PostgreSQL database while in its ``with``."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self.samples = 0
        #: Samples in which at least one backend waited on a lock.
        self.samples_waiting = 0
        #: Backends seen waiting, summed over the samples, by ``wait_event_type:wait_event``.
        self.waits: Counter[str] = Counter()

    def __enter__(self) -> LockWaits:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        with psycopg.connect(self._url, autocommit=True) as pg:
            while not self._stop.wait(SAMPLE_SECONDS):
                rows = pg.execute(
                    "SELECT wait_event_type, wait_event, count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    " AND state = 'active' AND wait_event IS NOT NULL GROUP BY 1, 2"
                ).fetchall()
                self.samples += 1
                self.samples_waiting += any(kind == "Lock" for kind, _, _ in rows)
                self.waits.update({f"{kind}:{event}": int(n) for kind, event, n in rows})

    def as_json(self) -> dict[str, Any]:
        lock = sum(n for name, n in self.waits.items() if name.startswith("Lock:"))
        return {
            "samples": self.samples,
            "samples_with_lock_wait": self.samples_waiting,
            "lock_waits": lock,
            "waits": dict(self.waits.most_common()),
        }


class Follower:
    """One client reading ``/api/events/stream`` from the first event, counting what it gets."""

    def __init__(self, server: Server, headers: dict[str, str]) -> None:
        self._http = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        self._headers = {"Authorization": headers["Authorization"]}
        self._response: http.client.HTTPResponse | None = None
        self._thread = threading.Thread(target=self._read, daemon=True)
        self.received = 0

    def __enter__(self) -> Follower:
        self._http.request("GET", "/api/events/stream?after=0", headers=self._headers)
        self._response = self._http.getresponse()
        if self._response.status != 200:
            raise BenchError(f"/api/events/stream answered {self._response.status}")
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        # The stream never ends by itself: cut it so the server's shutdown is not held.
        if self._http.sock is not None:
            self._http.sock.shutdown(socket.SHUT_RDWR)
        self._thread.join()
        self._http.close()

    def settle(self) -> None:
        """Wait (up to 10 s) until no event has come for half a second: the stream caught up."""
        deadline = time.monotonic() + 10
        seen = -1
        while seen != self.received and time.monotonic() < deadline:
            seen = self.received
            time.sleep(0.5)

    def _read(self) -> None:
        assert self._response is not None
        # The cut in __exit__ ends the read with an error or an empty line: either is the end.
        with contextlib.suppress(OSError, http.client.HTTPException, ValueError):
            for line in iter(self._response.readline, b""):
                self.received += line.startswith(b"id: ")


def cpu_seconds(pids: Iterator[int]) -> float:
    """User + system CPU seconds used so far by the processes ``pids`` (gone ones count 0)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def server_tree(root: int) -> Iterator[int]:
    """``root`` and its descendants (``--workers`` forks them)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                parents[int(entry.name)] = int(
                    (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
                )
    tree = {root}
    for _ in range(3):  # taskset → minipos → uvicorn's workers
        tree |= {pid for pid, parent in parents.items() if parent in tree}
    return iter(sorted(tree))


def postgres_processes() -> Iterator[int]:
    """Every PostgreSQL process on the machine (its backends and its WAL writer alike)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == "postgres":
                    yield int(entry.name)


def measure(
    bench: Bench,
    postgres_url: str | None,
    extra_env: dict[str, str],
    *,
    events: bool,
    round_no: int,
    workers: int,
    follow: bool,
) -> tuple[Scenario, dict[str, Any]]:
    """One server on a fresh database, warm-up + measured POST load, then the rows counted;
    with the lock waits and CPU seconds seen on PostgreSQL."""
    mode = "on" if events else "off"
    directory = bench.tmp / f"events-{mode}-{round_no}"
    directory.mkdir()
    observed: dict[str, Any] = {}
    with fresh_database(postgres_url, directory) as url:
        env = ours_environment(url, **extra_env, MINIPOS_EVENTS="true" if events else "false")
        server, headers = ours_server(bench, env, name=f"minipos-events-{mode}-{round_no}")
        if workers > 1:
            # run.ours_server has no workers option; its command is extended here.
            server._command += ["--workers", str(workers)]
        with server, contextlib.ExitStack() as running:
            name = f"events {mode} #{round_no}"
            follower = running.enter_context(Follower(server, headers)) if follow else None
            waits = running.enter_context(LockWaits(url)) if postgres_url else None
            cpu_before = cpu_seconds(server_tree(server.pid)), cpu_seconds(postgres_processes())
            scenario = load_post(bench, server, headers, name, f"e{mode}{round_no}")
            observed["cpu_s"] = {
                "server": round(cpu_seconds(server_tree(server.pid)) - cpu_before[0], 1),
                "postgresql": round(cpu_seconds(postgres_processes()) - cpu_before[1], 1),
            }
            if follower is not None:
                follower.settle()
            running.close()
        if waits is not None:
            observed["lock_waits"] = waits.as_json()
        # Counted after the server stopped, so every commit it made is there.
        invoices, rows, logged = count_rows(url)
    expected = 1 + scenario.warmup.ok + scenario.measured.ok  # + the check request
    per_invoice = len(invoice_payload.invoice("x")["rows"])
    scenario.rows = RowsCheck(expected, invoices, rows, per_invoice)
    # Each stored invoice must have told of itself exactly once, and nothing with the log off.
    want = invoices if events else 0
    if logged != want:
        raise BenchError(f"{scenario.name}: {logged} events for {invoices} invoices (want {want})")
    if follower is not None and follower.received != logged:
        raise BenchError(f"{scenario.name}: the stream sent {follower.received} of {logged} events")
    return scenario, observed


def count_rows(url: str) -> tuple[int, int, int]:
    """Invoices, invoice rows and events stored in the database at ``url``."""
    queries = (
        "SELECT count(*) FROM invoices",
        "SELECT count(*) FROM invoice_rows",
        "SELECT count(*) FROM events",
    )
    if url.startswith("sqlite:"):
        with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as lite:
            counts = [int(lite.execute(q).fetchone()[0]) for q in queries]
    else:
        with psycopg.connect(url) as pg:
            counts = [int(pg.execute(q).fetchone()[0]) for q in queries]  # type: ignore[index]
    return counts[0], counts[1], counts[2]


def order(rounds: int) -> Iterator[tuple[int, bool]]:
    """(round, events on?) in ABBA order: on, off, off, on, on, off, …"""
    for n in range(1, rounds + 1):
        first = n % 2 == 1
        yield n, first
        yield n, not first


def summarize(runs: list[tuple[bool, Scenario]]) -> dict[str, Any]:
    """Mean req/s and p99 for each mode (over its rounds), and events-on / events-off."""
    modes: dict[str, dict[str, Any]] = {}
    for events, mode in ((True, "on"), (False, "off")):
        measured = [s.measured for on, s in runs if on == events]
        modes[mode] = {
            "rps": round(statistics.fmean(m.rps for m in measured), 1),
            "p99_ms": round(statistics.fmean(m.latency_ms["p99"] for m in measured), 2),
            "rps_each": [round(m.rps, 1) for m in measured],
            "p99_ms_each": [m.latency_ms["p99"] for m in measured],
        }
    ratio = round(modes["on"]["rps"] / modes["off"]["rps"], 3) if modes["off"]["rps"] else None
    return {
        "events_on": modes["on"],
        "events_off": modes["off"],
        "ratio_on_vs_off": ratio,
        "target": {"ratio": TARGET_RATIO, "met": ratio is not None and ratio >= TARGET_RATIO},
    }


def print_observed(runs: list[tuple[bool, Scenario]], observed: dict[str, dict[str, Any]]) -> None:
    """Per run: the CPU split, and on PostgreSQL the samples with a lock wait and what was
    waited on."""
    print()
    for _, scenario in runs:
        seen = observed[scenario.name]
        cpu = seen["cpu_s"]
        line = f"{scenario.name:<19} CPU s: server {cpu['server']}, postgresql {cpu['postgresql']}"
        if "lock_waits" in seen:
            waits = seen["lock_waits"]
            top = ", ".join(f"{name} {n}" for name, n in waits["waits"].items())
            line += (
                f"; lock waits in {waits['samples_with_lock_wait']}/{waits['samples']} samples"
                f" ({waits['lock_waits']} backends); waits: {top or 'none'}"
            )
        print(line)


def print_summary(summary: dict[str, Any]) -> None:
    print()
    for mode in ("on", "off"):
        m = summary[f"events_{mode}"]
        each = " / ".join(f"{x:,.0f}" for x in m["rps_each"])
        print(
            f"events {mode:<3}  {m['rps']:>8,.0f} req/s (runs: {each})   p99 {m['p99_ms']:.2f} ms"
        )
    ratio, target = summary["ratio_on_vs_off"], summary["target"]
    shown = "n/a" if ratio is None else f"{ratio:.3f}"
    verdict = "met" if target["met"] else "NOT MET"
    print(f"events on / events off = {shown}   target >= {target['ratio']:g}   {verdict}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--duration", type=float, default=10, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=3, help="warm-up seconds before each")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    add_drain_argument(parser)
    parser.add_argument("--rounds", type=int, default=2, help="pairs of runs (on, off, off, on, …)")
    add_database_url(parser, "each run")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="MINIPOS_X=VALUE",
        help="a setting for both servers, to see what part of the cost it explains (repeatable)",
    )
    parser.add_argument("--workers", type=int, default=1, help="server processes (PostgreSQL only)")
    parser.add_argument(
        "--follow", action="store_true", help="keep a reader on /api/events/stream in each run"
    )
    parser.add_argument("--tmp-dir", type=Path, default=None, help="where the SQLite files go")
    parser.add_argument("--keep-tmp", action="store_true", help="keep logs and databases")
    parser.add_argument("--output", type=Path, default=None, help="results JSON")
    parser.add_argument(
        "--wait-quiet", type=float, default=0, metavar="SECONDS",
        help="wait up to this long for CPUs 0 and 1 to be idle before starting",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.duration < 1 or args.warmup < 1 or args.connections < 1 or args.rounds < 1:
        parser.error("--duration and --warmup must be >= 1 s, --connections and --rounds >= 1")
    if args.database_url and not args.database_url.startswith("postgresql://"):
        parser.error("--database-url takes a postgresql:// URL (SQLite is the default)")
    if args.workers < 1 or (args.workers > 1 and not args.database_url):
        parser.error("--workers > 1 needs --database-url (SQLite is served by one process)")
    for item in args.env:
        name, sep, _ = item.partition("=")
        if not sep or not name.startswith("MINIPOS_") or name == "MINIPOS_EVENTS":
            parser.error(f"--env {item!r}: give MINIPOS_<SETTING>=VALUE (not MINIPOS_EVENTS)")
    if args.output is None:
        name = "events-postgresql.json" if args.database_url else "events.json"
        args.output = DEFAULT_OUTPUT.with_name(name)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    started = time.monotonic()
    try:
        wrk = ensure_wrk()
        pin = {SERVER_CPU, LOAD_CPU} <= os.sched_getaffinity(0) and bool(shutil.which("taskset"))
        if not pin:
            print("warning: taskset or CPUs 0 and 1 are not available; running unpinned",
                  file=sys.stderr)  # fmt: skip
        tmp_root = Path(args.tmp_dir or tempfile.gettempdir())
        machine = machine_info(wrk, tmp_root)
        machine["cpu_busy_before_pct"] = _wait_quiet(args.wait_quiet)
        tmp = Path(tempfile.mkdtemp(prefix="minipos-events-bench-", dir=tmp_root))
        bench = Bench(wrk, tmp, args.duration, args.warmup, args.connections, pin, args.drain)
        print(f"benchmark in {tmp} (run id {bench.prefix})", file=sys.stderr)
        extra = dict(item.partition("=")[::2] for item in args.env)
        runs: list[tuple[bool, Scenario]] = []
        observed: dict[str, dict[str, Any]] = {}
        try:
            for round_no, events in order(args.rounds):
                scenario, observed[f"events {'on' if events else 'off'} #{round_no}"] = measure(
                    bench,
                    args.database_url,
                    extra,
                    events=events,
                    round_no=round_no,
                    workers=args.workers,
                    follow=args.follow,
                )
                runs.append((events, scenario))
        finally:
            if args.keep_tmp:
                print(f"kept {tmp}", file=sys.stderr)
            else:
                shutil.rmtree(tmp, ignore_errors=True)
    except (BenchError, psycopg.Error) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted; servers stopped", file=sys.stderr)
        return 130

    # With PostgreSQL on the same machine, its backends' work lands on CPU 0 and 1 too.
    disturbed = print_table([s for _, s in runs], flag_noise=args.database_url is None)
    print_observed(runs, observed)
    summary = summarize(runs)
    print_summary(summary)
    result = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": shlex.join([sys.executable, *sys.argv]),
        "database": "postgresql" if args.database_url else "sqlite",
        "settings": {
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "connections": args.connections,
            "rounds": args.rounds,
            "workers": args.workers,
            "follow": args.follow,
            "env": extra,
            "pinned": {"server_cpu": SERVER_CPU, "wrk_cpu": LOAD_CPU} if pin else None,
            "run_id": bench.prefix,
        },
        "machine": machine,
        "runs": {s.name: {"events": on, **s.as_json(), **observed[s.name]} for on, s in runs},
        "disturbed": disturbed,
        **summary,
        "elapsed_s": round(time.monotonic() - started, 1),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"\nresults written to {args.output}")
    return 0 if all(s.rows is not None and s.rows.ok for _, s in runs) else 2


if __name__ == "__main__":
    sys.exit(main())
