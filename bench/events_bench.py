"""What the event log costs a POST: ``python bench/events_bench.py [--duration 10]``.

Runs the ``ours POST`` scenario of ``run.py`` (same invoice, wrk load, pinning, drain, row
check) against ``minipos serve`` started with ``MINIPOS_EVENTS=true`` and with
``MINIPOS_EVENTS=false``, each on a fresh database, and prints req/s and p99 of both and their
ratio. The target is events-on ≥ 0.90 × events-off. ``--rounds 2`` (the default) runs
on, off, off, on: a drift of the machine during the run then weighs on both sides alike.
``--database-url postgresql://…/<name>`` does the same on PostgreSQL; the database ``<name>``
is created for each server and dropped afterwards, and must not exist. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import shlex
import shutil
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg

import invoice_payload
from catalogue_bench import fresh_database
from run import (
    BENCH_DIR,
    LOAD_CPU,
    SERVER_CPU,
    Bench,
    RowsCheck,
    Scenario,
    _interrupt,
    _wait_quiet,
    load_post,
    machine_info,
    ours_environment,
    ours_server,
    print_table,
)
from wrk_runner import BenchError, ensure_wrk

DEFAULT_OUTPUT = BENCH_DIR / "results" / "events.json"
#: Events-on throughput over events-off throughput that the outbox must keep (issue 7).
TARGET_RATIO = 0.90


def measure(
    bench: Bench,
    postgres_url: str | None,
    extra_env: dict[str, str],
    *,
    events: bool,
    round_no: int,
) -> Scenario:
    """One server on a fresh database, warm-up + measured POST load, then the rows counted."""
    mode = "on" if events else "off"
    directory = bench.tmp / f"events-{mode}-{round_no}"
    directory.mkdir()
    with fresh_database(postgres_url, directory) as url:
        env = ours_environment(url, **extra_env, MINIPOS_EVENTS="true" if events else "false")
        server, headers = ours_server(bench, env, name=f"minipos-events-{mode}-{round_no}")
        with server:
            scenario = load_post(
                bench, server, headers, f"events {mode} #{round_no}", f"e{mode}{round_no}"
            )
        # Counted after the server stopped, so every commit it made is there.
        invoices, rows, logged = count_rows(url)
    expected = 1 + scenario.warmup.ok + scenario.measured.ok  # + the check request
    per_invoice = len(invoice_payload.invoice("x")["rows"])
    scenario.rows = RowsCheck(expected, invoices, rows, per_invoice)
    # Each stored invoice must have told of itself exactly once, and nothing with the log off.
    want = invoices if events else 0
    if logged != want:
        raise BenchError(f"{scenario.name}: {logged} events for {invoices} invoices (want {want})")
    return scenario


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
    parser.add_argument("--rounds", type=int, default=2, help="pairs of runs (on, off, off, on, …)")
    parser.add_argument(
        "--database-url",
        default=None,
        metavar="postgresql://…/NAME",
        help="measure on PostgreSQL: NAME is created for each run and dropped; it must not exist",
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="MINIPOS_X=VALUE",
        help="a setting for both servers, to see what part of the cost it explains (repeatable)",
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
        bench = Bench(wrk, tmp, args.duration, args.warmup, args.connections, pin)
        print(f"benchmark in {tmp} (run id {bench.prefix})", file=sys.stderr)
        extra = dict(item.partition("=")[::2] for item in args.env)
        runs: list[tuple[bool, Scenario]] = []
        try:
            for round_no, events in order(args.rounds):
                runs.append(
                    (
                        events,
                        measure(bench, args.database_url, extra, events=events, round_no=round_no),
                    )
                )
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
            "env": extra,
            "pinned": {"server_cpu": SERVER_CPU, "wrk_cpu": LOAD_CPU} if pin else None,
            "run_id": bench.prefix,
        },
        "machine": machine,
        "runs": {s.name: {"events": on, **s.as_json()} for on, s in runs},
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
