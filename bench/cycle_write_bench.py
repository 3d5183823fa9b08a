"""Writer side of a station cycle (issue #17), in process: no server, a real SQLite file.

    taskset -c 1 .venv/bin/python bench/cycle_write_bench.py [--cycles 1000] [--repeat 3] [--pages]

A cycle is what the SQLite writer thread does for one invoice at a station: the claim
(``lifecycle.claim``, the job of ``POST /api/invoice/{id}/claim``) and the completion with two
payments and its electronic-journal entry (``checkout.complete``, the job of ``POST
…/complete``), each in its own commit, as the writer mostly runs them with four stations. The
station, its open shift and the invoices are made before the clock starts.

Contenders, each on a fresh copy of a migrated file with the product's durability (WAL,
``synchronous=FULL``), run round-robin so that a disturbance of the machine hits all alike:
- **baseline commit**: ``bench/baseline_app.py``'s own group commit of one invoice (three
  INSERTs, one COMMIT), a durable commit of bare sqlite3 to read the others against;
- **ours**: the cycle on the server's writer connection (``writer_connection``);
- **ours, temp_store default**: the same with SQLite's default ``temp_store``, under which a
  job's savepoint journal spills into a temporary file past 64 KiB (the writer before
  2026-12-01);
- **statements replayed**: the very statements and parameters ours sent for the same cycles
  (recorded, unclocked, on another copy), replayed by a bare loop on a copy of the file as it
  was before them, through ``writer_connection`` and with the same commits: what the data model
  costs SQLite with none of our Python around it, the floor our cycle could reach by Python
  work alone.

Per cycle (per commit for the baseline): the thread's CPU time, best of ``--repeat`` runs of
``--cycles``; and the write system calls and bytes of the process (``/proc/self/io``), which
repeat from run to run where CPU time on a shared VM does not. ``--pages`` also prints how many
WAL frames (pages) the commit of a claim and of a completion write, by table or index (SQLite's
``dbstat``), over ``--cycles`` (at most 200) more cycles of ours.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sqlite3
import struct
import sys
import time
from collections import Counter
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import msgspec

import baseline_app
from minipos.api.jsonio import decode, encode
from minipos.checkout import service as checkout
from minipos.checkout.schemas import CompleteIn
from minipos.db import Connection
from minipos.db.database import SQLiteDatabase, _Job, writer_connection
from minipos.invoices import lifecycle
from minipos.invoices import service as invoices
from minipos.invoices.schemas import InvoiceIn
from minipos.print_jobs.journal import journal_context
from minipos.print_jobs.service import enqueue_z_report
from minipos.print_jobs.settings import PrintSettings
from minipos.stations import service as stations
from minipos.stations.schemas import CashierIn, StationIn
from minipos.stations.service import StationContext
from minipos.timeutil import now_us
from request_cpu_bench import shop
from servers import DEMO_SHOP
from write_cpu_bench import baseline_connection, baseline_job, fresh_file, temp_dir

LEASE_US = 3_600_000_000
#: stations_bench.py's invoice and payments: two rows; 5.00 by card, the rest in cash.
INVOICE = (
    b'{"rows": [{"text": "Kafija", "quantity": 2, "price": "1.80"},'
    b' {"text": "Maize", "quantity": 1, "price": "2.35", "tax": 1}]}'
)
PAYMENTS = b', "payments": [{"method_id": 2, "amount": 5.0}, {"method_id": 1}]}'
WAL_HEADER, FRAME_HEADER = 32, 24

Job = Callable[[Connection], Any]


class Created(msgspec.Struct):
    id: int


class Ours:
    """A station with its shift open on the server's writer connection (``temp_store`` as
    given), and the claim and completion jobs the routes hand the writer."""

    def __init__(self, path: Path, temp_store: str | None) -> None:
        self.path = path
        self.conn = writer_connection(path)
        if temp_store is not None:
            self.conn.execute(f"PRAGMA temp_store={temp_store}")
        self.wrapper = Connection(self.conn, "sqlite", events=True)
        self.loop = asyncio.new_event_loop()  # the jobs' futures need one; nothing runs on it
        self.shop = shop()
        self.journal = journal_context(PrintSettings.from_env(DEMO_SHOP), self.shop)
        ctx = StationContext(self.shop, b"bench", LEASE_US, enqueue_z_report)
        station = StationIn(name="Bench", pos_id="1", chassis_id="B")
        self.station: int = self.commit(lambda c: stations.register(c, station, ctx, now_us())).id
        self.commit(lambda c: stations.open_shift(c, self.station, CashierIn(), ctx, now_us()))

    def commit(self, job: Job) -> Any:
        """``job`` alone in a group of the server's writer (``SQLiteDatabase._commit_group``)."""
        outcomes, _ = SQLiteDatabase._commit_group(self.conn, self.wrapper, [_Job(job, self.loop)])
        ok, value = outcomes[0]
        if not ok:
            raise value
        return value

    def waiting(self, count: int) -> list[int]:
        """``count`` new invoices for the station (one transaction: not timed)."""

        def create(conn: Connection) -> list[int]:
            made = []
            for _ in range(count):
                invoice = invoices.prepare(
                    decode(INVOICE, InvoiceIn), self.shop, now_us(), created_by=None
                )
                answer = invoices.create(conn, invoice, self.shop)
                made.append(msgspec.json.decode(answer, type=Created).id)
            return made

        made: list[int] = self.commit(create)
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # as the checkpointer, unclocked
        return made

    def claim(self, invoice_id: int) -> None:
        self.commit(
            lambda c: encode(
                lifecycle.claim(c, self.station, invoice_id, self.shop, now_us(), lease_us=LEASE_US)
            )
        )

    def complete(self, invoice_id: int) -> None:
        request = decode(b'{"request_id": "r%d"' % invoice_id + PAYMENTS, CompleteIn)
        self.commit(
            lambda c: encode(
                checkout.complete(
                    c,
                    station_id=self.station,
                    invoice_id=invoice_id,
                    request=request,
                    ctx=self.shop,
                    now_us=now_us(),
                    journal=self.journal,
                )
            )
        )

    def cycles(self, count: int) -> Callable[[], None]:
        ids = self.waiting(count)

        def run() -> None:
            for invoice_id in ids:
                self.claim(invoice_id)
                self.complete(invoice_id)

        return run


class Recorder:
    """Stands in for the writer's sqlite3 connection inside ``Connection`` and notes every
    statement and its parameters (``executemany``'s rows as they were given)."""

    def __init__(self, raw: sqlite3.Connection, into: list[tuple[str, str, Any]]) -> None:
        self.raw = raw
        self.into = into

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        self.into.append(("execute", sql, params))
        return self.raw.execute(sql, params)

    def executemany(self, sql: str, rows: Any) -> sqlite3.Cursor:
        rows = list(rows)
        self.into.append(("executemany", sql, rows))
        return self.raw.executemany(sql, rows)

    def cursor(self) -> Recorder:
        return self


class Replay:
    """Ours's statements for the same cycles, replayed with none of our Python around them."""

    def __init__(self, tmp: Path) -> None:
        self.recording = Ours(fresh_file(tmp, "recorded"), None)
        self.path = tmp / "replayed.sqlite3"
        self.conn = writer_connection(self.path)  # replaced by each ``cycles``

    def cycles(self, count: int) -> Callable[[], None]:
        ours = self.recording
        ids = ours.waiting(count)
        self.conn.close()
        shutil.copyfile(ours.path, self.path)  # checkpointed by ``waiting``: the whole state
        Path(f"{self.path}-wal").unlink(missing_ok=True)
        self.conn = writer_connection(self.path)
        commits: list[list[tuple[str, str, Any]]] = []
        raw = ours.wrapper.raw
        try:
            for invoice_id in ids:
                for step in (ours.claim, ours.complete):
                    commits.append([])
                    ours.wrapper.raw = Recorder(raw, commits[-1])
                    step(invoice_id)
        finally:
            ours.wrapper.raw = raw
        conn = self.conn

        def run() -> None:
            for statements in commits:
                conn.execute("BEGIN IMMEDIATE")
                for method, sql, params in statements:
                    getattr(conn, method)(sql, params)
                conn.execute("COMMIT")

        return run

    def check(self) -> None:
        """Fail unless the replay left every table as the recorded cycles did."""
        with closing(sqlite3.connect(self.recording.path)) as recorded:
            tables = [
                name
                for (name,) in recorded.execute(
                    "SELECT name FROM sqlite_schema WHERE type = 'table'"
                    " AND name NOT LIKE 'sqlite_%'"
                )
            ]
            for table in tables:
                query = f'SELECT * FROM "{table}" ORDER BY 1'
                replayed = [tuple(row) for row in self.conn.execute(query)]  # sqlite3.Row
                if recorded.execute(query).fetchall() != replayed:
                    raise SystemExit(f"the replay left {table} unlike the recorded cycles")


class Baseline:
    """The baseline app's writer connection and group commit, one invoice a commit."""

    def __init__(self, path: Path) -> None:
        self.conn = baseline_connection(path)
        self.loop = asyncio.new_event_loop()
        self.made = 0

    def cycles(self, count: int) -> Callable[[], None]:
        jobs = [baseline_job(f"B-{self.made + n}", self.loop) for n in range(1, count + 1)]
        self.made += count

        def run() -> None:
            for job in jobs:
                (outcome,) = baseline_app.GroupWriter._commit(self.conn, [job])
                assert isinstance(outcome, int), outcome

        return run


def io_counts() -> tuple[int, int]:
    """Write system calls and bytes written by this process so far."""
    fields = dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
    return int(fields["syscw"]), int(fields["wchar"])


def measure(contender: Ours | Replay | Baseline, count: int) -> tuple[float, int, int]:
    """CPU seconds, write calls and bytes of ``count`` cycles."""
    run = contender.cycles(count)
    calls, written = io_counts()
    started = time.thread_time()
    run()
    spent = time.thread_time() - started
    calls_after, written_after = io_counts()
    contender.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # unclocked, as the server's
    return spent, calls_after - calls, written_after - written


def pages(ours: Ours, count: int) -> None:
    """WAL frames a claim's and a completion's commit write, by table or index."""
    wal = Path(f"{ours.path}-wal")
    ids = ours.waiting(count)
    frame = FRAME_HEADER + ours.conn.execute("PRAGMA page_size").fetchone()[0]
    for label, step in (("claim", ours.claim), ("completion", ours.complete)):
        written: Counter[str] = Counter()
        for invoice_id in ids:
            ours.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            step(invoice_id)
            data = wal.read_bytes()
            numbers = [
                struct.unpack_from(">I", data, at)[0] for at in range(WAL_HEADER, len(data), frame)
            ]
            names = dict(ours.conn.execute("SELECT pageno, name FROM dbstat"))
            written.update(names.get(number, "(free)") for number in numbers)
        each = ", ".join(f"{name} {n / count:.2f}" for name, n in written.most_common())
        print(f"{label}: {sum(written.values()) / count:.1f} WAL frames a commit ({each})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=1000, help="cycles per timed run")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs; the best CPU counts")
    parser.add_argument("--pages", action="store_true", help="WAL frames a commit, by table")
    parser.add_argument("--tmp-dir", type=Path, default=None, help="where the SQLite files go")
    args = parser.parse_args()

    with temp_dir(args.tmp_dir) as tmp:
        ours = Ours(fresh_file(tmp, "ours"), None)
        contenders: dict[str, Ours | Replay | Baseline] = {
            "baseline commit": Baseline(fresh_file(tmp, "baseline")),
            "ours": ours,
            "ours, temp_store default": Ours(fresh_file(tmp, "default"), "DEFAULT"),
            "statements replayed": Replay(tmp),
        }
        for contender in contenders.values():
            measure(contender, 20)  # statement caches, as a server's
        replay = contenders["statements replayed"]
        assert isinstance(replay, Replay)
        replay.check()  # the floor did the same work
        best: dict[str, tuple[float, int, int]] = {}
        for _ in range(args.repeat):
            for name, contender in contenders.items():
                figures = measure(contender, args.cycles)
                if name not in best or figures[0] < best[name][0]:
                    best[name] = figures
        print(
            f"{args.cycles} cycles a run, best of {args.repeat};"
            f" SQLite {sqlite3.sqlite_version}, Python {sys.version.split()[0]}"
        )
        for name, (spent, calls, written) in best.items():
            unit = "commit" if name == "baseline commit" else "cycle"
            print(
                f"{name:>25}: {spent / args.cycles * 1e6:7.0f} µs CPU, {calls / args.cycles:6.1f}"
                f" write calls, {written / args.cycles / 1000:6.1f} kB written a {unit}"
            )
        base = best["baseline commit"][0]
        print(f"ours / baseline commit = {best['ours'][0] / base:.2f} (CPU)")
        floor = best["statements replayed"][0]
        print(
            f"ours / statements replayed = {best['ours'][0] / floor:.2f} (CPU): the rest of a"
            f" cycle is our Python; replayed alone, the writer would top out at"
            f" {args.cycles / floor:.0f} cycles/s on this machine"
        )
        if args.pages:
            pages(ours, min(args.cycles, 200))
        for contender in contenders.values():
            contender.conn.close()


if __name__ == "__main__":
    main()
