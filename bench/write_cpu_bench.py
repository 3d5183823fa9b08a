"""Writer-side CPU of an invoice POST (issue #17), in process: no server, a real SQLite file.

    taskset -c 1 .venv/bin/python bench/write_cpu_bench.py [--iterations 1000] [--repeat 5]

Times what the SQLite writer thread does for ``POST /api/invoice/new``, against what the
baseline app's writer does for the same invoice (bench/invoice_payload.py). Each contender gets
a fresh file migrated by ``minipos.db.migrate`` (the schema of ``minipos db upgrade``), with the
product's durability (WAL, ``synchronous=FULL``), and its invoices are prepared before the
clock starts. Then, in one thread, groups of ``--group`` (16) jobs run as the writers run them:
one ``BEGIN IMMEDIATE``, a SAVEPOINT per job, one COMMIT (an fsync) per group.

- **baseline inserts**: ``bench/baseline_app.py``'s own group commit (``GroupWriter._commit``)
  of its ``Prepared`` invoices: three INSERTs with positional parameters, nothing else.
- **ours**: the server's group commit (``SQLiteDatabase._commit_group``) of the job
  ``routes.create_invoice`` hands it: ``service.create`` (insert, answer document, event) and
  the answer's encoding, events on.

Stage figures, the same way: **ours, inserts only** (``repository.insert`` in its savepoint, as
``create`` runs it), **ours, events off** (the event log off: ``MINIPOS_EVENTS=false``), and
**answer document** (``service.detail`` of a stored invoice and its encoding, in memory).

Each figure is the best of ``--repeat`` runs of ``--iterations`` invoices in CPU time of the
thread (the least disturbed by other work on the machine), in µs per invoice. Checkpoints are
left out of the clock (the server's run in their own thread): the WAL is copied back between
runs. ``--tmp-dir`` should be a real disk, as for ``run.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import baseline_app
from invoice_payload import body
from minipos.api.jsonio import decode, encode
from minipos.db import Connection, migrate
from minipos.db.database import SQLiteDatabase, _Job, writer_connection
from minipos.idempotency.service import StoredResponse
from minipos.invoices import repository, service
from minipos.invoices.schemas import InvoiceIn
from minipos.invoices.service import PreparedInvoice
from minipos.timeutil import now_us
from request_cpu_bench import best_us, shop

shop_config = shop()
#: One group's jobs, prepared before the clock starts; the runner commits it.
Group = list[Any]


class Contender:
    """A database file and how to prepare and commit one group of invoices on it."""

    def __init__(
        self,
        name: str,
        conn: sqlite3.Connection,
        make: Callable[[str], Any],
        commit: Callable[[sqlite3.Connection, Group], list[bool]],
    ) -> None:
        self.name = name
        self.conn = conn
        self.make = make
        self.commit = commit
        self.stored = 0

    def run(self, label: str, count: int, group_size: int) -> float:
        """CPU seconds of the writer thread for ``count`` invoices; checks each was stored."""
        groups = [
            [self.make(f"{label}-{i}") for i in range(start, min(start + group_size, count))]
            for start in range(0, count, group_size)
        ]
        started = time.thread_time()
        outcomes = [ok for group in groups for ok in self.commit(self.conn, group)]
        spent = time.thread_time() - started
        if not all(outcomes):
            raise SystemExit(f"{self.name}: {outcomes.count(False)} jobs failed")
        self.stored += len(outcomes)
        stored = self.conn.execute("SELECT count(*) FROM invoices").fetchone()[0]
        if stored != self.stored:
            raise SystemExit(f"{self.name}: {stored} invoices stored, {self.stored} committed")
        # Out of the clock, as the server's checkpointer thread does it.
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return spent


def fresh_file(tmp: Path, name: str) -> Path:
    """A copy of the migrated empty database (migrating once per contender takes seconds)."""
    template = tmp / "migrated.sqlite3"
    if not template.exists():
        migrate.upgrade(f"sqlite:///{template}")
        with closing(sqlite3.connect(template)) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    path = tmp / f"{name}.sqlite3"
    shutil.copyfile(template, path)
    return path


def baseline_connection(path: Path) -> sqlite3.Connection:
    """The baseline writer's connection (baseline_app.GroupWriter._run), without its automatic
    checkpoints, which would land in the clock."""
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=10000"):
        conn.execute(f"PRAGMA {pragma}")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    return conn


def baseline_job(invoice_no: str, loop: asyncio.AbstractEventLoop) -> baseline_app._Job:
    """The benchmark invoice as the baseline app's writer gets it."""
    raw = body(invoice_no)
    return baseline_app._Job(baseline_app.Prepared(json.loads(raw), raw), loop.create_future())


def baseline(tmp: Path, loop: asyncio.AbstractEventLoop) -> Contender:
    conn = baseline_connection(fresh_file(tmp, "baseline"))

    def make(invoice_no: str) -> baseline_app._Job:
        return baseline_job(invoice_no, loop)

    def commit(conn: sqlite3.Connection, group: Group) -> list[bool]:
        return [isinstance(o, int) for o in baseline_app.GroupWriter._commit(conn, group)]

    return Contender("baseline inserts", conn, make, commit)


def ours(
    tmp: Path,
    name: str,
    loop: asyncio.AbstractEventLoop,
    job: Callable[[PreparedInvoice], Callable[[Connection], object]],
    *,
    events: bool = True,
) -> Contender:
    conn = writer_connection(fresh_file(tmp, name.replace(" ", "-").replace(",", "")))
    wrapper = Connection(conn, "sqlite", events=events)

    def make(invoice_no: str) -> _Job:
        invoice = service.prepare(
            decode(body(invoice_no), InvoiceIn), shop_config, now_us(), created_by=1
        )
        return _Job(job(invoice), loop)

    def commit(conn: sqlite3.Connection, group: Group) -> list[bool]:
        outcomes, _ = SQLiteDatabase._commit_group(conn, wrapper, group)
        return [ok for ok, _ in outcomes]

    return Contender(name, conn, make, commit)


def create_job(invoice: PreparedInvoice) -> Callable[[Connection], object]:
    """The job ``routes.create_invoice`` hands the writer (without an Idempotency-Key)."""
    return lambda conn: StoredResponse(200, encode(service.create(conn, invoice, shop_config)))


def insert_job(invoice: PreparedInvoice) -> Callable[[Connection], object]:
    """Only the three INSERTs, in the savepoint ``service.create`` runs them in."""

    def job(conn: Connection) -> None:
        with conn.savepoint("invoice"):
            repository.insert(conn, invoice.header, invoice.rows, invoice.payments)

    return job


@contextmanager
def temp_dir(root: Path | None) -> Iterator[Path]:
    tmp = Path(tempfile.mkdtemp(prefix="minipos-write-bench-", dir=root))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=1000, help="invoices per timed run")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs; the best counts")
    parser.add_argument("--group", type=int, default=16, help="jobs per transaction")
    parser.add_argument("--tmp-dir", type=Path, default=None, help="where the SQLite files go")
    args = parser.parse_args()

    loop = asyncio.new_event_loop()  # the jobs' futures need one; nothing runs on it
    with temp_dir(args.tmp_dir) as tmp:
        contenders = [
            baseline(tmp, loop),
            ours(tmp, "ours", loop, create_job),
            ours(tmp, "ours, events off", loop, create_job, events=False),
            ours(tmp, "ours, inserts only", loop, insert_job),
        ]
        best = dict.fromkeys((c.name for c in contenders), float("inf"))
        for contender in contenders:
            contender.run("warm", args.group, args.group)  # statement caches, as a server's
        # Round-robin, so that a disturbance of the machine hits every contender alike.
        for repeat in range(args.repeat):
            for contender in contenders:
                spent = contender.run(f"R{repeat}", args.iterations, args.group)
                best[contender.name] = min(best[contender.name], spent)
        for contender in contenders:
            contender.conn.close()
    loop.close()

    stored = service.prepare(decode(body("DETAIL"), InvoiceIn), shop_config, now_us(), created_by=1)
    stored.header["id"] = 1
    for n, child in enumerate([*stored.rows, *stored.payments], start=1):
        child["id"], child["invoice_id"] = n, 1
    answer = best_us(
        lambda: encode(service.detail(stored.header, stored.rows, stored.payments, shop_config)),
        args.iterations,
        args.repeat,
    )

    per_invoice = {name: spent / args.iterations * 1e6 for name, spent in best.items()}
    print(
        f"{args.iterations} invoices a run in groups of {args.group}, best of {args.repeat};"
        f" SQLite {sqlite3.sqlite_version}, Python {sys.version.split()[0]}"
    )
    for name, us in per_invoice.items():
        print(f"{name:>22}: {us:8.1f} µs per invoice")
    print(f"{'answer document':>22}: {answer:8.1f} µs per invoice (detail + encode, in memory)")
    ratio = per_invoice["ours"] / per_invoice["baseline inserts"]
    print(f"ours / baseline inserts = {ratio:.2f}")


if __name__ == "__main__":
    main()
