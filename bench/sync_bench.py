"""Sync benchmark (issue #13): a store catching up with its centre, and a store's sync lag
while it sells.

    .venv/bin/python bench/sync_bench.py [--receipts 20000] [--steady-seconds 20] [--rate 50]

- **Catch-up.** A store's SQLite database is filled, in-process through the checkout service in
  transactions of 1,000 sales and with the store's outbox hook on (what a store writes while
  its link is down), with ``--receipts`` walk-in receipts of three rows on ``--stations``
  stations. A centre (``MINIPOS_MODE=central``) on a fresh PostgreSQL database serves on CPU 0;
  the store (``MINIPOS_MODE=store``) starts on CPU 1 pointed at it, and the time from its start
  to an empty outbox is measured, with every receipt then checked at the centre once.
  Two baselines from the same run: the **raw insert** rate (the same outbox bodies inserted as
  one row each into a PostgreSQL table of the same database, ``executemany`` in transactions of
  ``MINIPOS_SYNC_BATCH`` rows: the floor any ingest has to beat), and the **local sell** rate of
  the seeding (the store writing its own receipts, outbox rows included).
- **Steady state.** Then the store sells ``--rate`` walk-in receipts/s over HTTP for
  ``--steady-seconds``; the lag of each receipt is its outbox row's ``acked_at − created_at``
  (both on the store's clock). Target: p99 under 2 s.

Results go to ``--output`` (``bench/results/sync.json``). The exit status is 0 when every
receipt reached the centre exactly once, 2 when not, 1 when the run could not be made.
"""

from __future__ import annotations

import argparse
import functools
import http.client
import json
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

from cpustat import busy_now
from minipos.checkout import service as checkout
from minipos.checkout.schemas import SaleIn, SaleRowIn, TenderIn
from minipos.config import Settings
from minipos.db import Connection, migrate, open_database
from minipos.invoices.service import ShopConfig
from minipos.print_jobs.service import enqueue_z_report
from minipos.stations import service as stations
from minipos.stations.schemas import CashierIn, StationIn
from minipos.stations.service import StationContext
from minipos.sync import identity, outbox
from minipos.timeutil import now_us
from servers import HOST, Server, free_port, minipos_command, run_cli
from wrk_runner import BenchError

CENTRE_CPU, STORE_CPU = 0, 1
SEED_BATCH = 1000
PG_ADMIN_URL = os.environ.get("MINIPOS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
ROWS = [
    SaleRowIn(text="Kafija", quantity=Decimal(2), price=Decimal("1.80")),
    SaleRowIn(text="Maize", quantity=Decimal(1), price=Decimal("2.35"), tax=1),
    SaleRowIn(text="Piens", quantity=Decimal(3), price=Decimal("0.99")),
]


def seed_store(env: dict[str, str], receipts: int, station_count: int) -> dict[str, Any]:
    """Fill the store's database with ``receipts`` walk-in sales, outbox rows included."""
    settings = Settings.from_env(env)
    migrate.upgrade(settings.database_url)
    shop = ShopConfig(settings.reference(), settings.zone(), settings.station_group)
    ctx = StationContext(shop, settings.secret_key.encode(), 3_600_000_000, enqueue_z_report)
    db = open_database(settings.database_url)
    try:
        db.run(lambda conn: identity.claim(conn, "store", now_us()))
        db.on_change = outbox.record  # what bootstrap does in store mode
        ids: list[int] = []

        def open_station(conn: Connection, n: int) -> int:
            data = StationIn(name=f"Kase {n}", pos_id=str(n), chassis_id=f"C{n}")
            station = stations.register(conn, data, ctx, now_us())
            stations.open_shift(conn, station.id, CashierIn(), ctx, now_us())
            return station.id

        for n in range(1, station_count + 1):
            ids.append(db.run(functools.partial(open_station, n=n)))
        started = time.perf_counter()
        for start in range(0, receipts, SEED_BATCH):

            def batch(conn: Connection, start: int = start) -> None:
                for n in range(start, min(start + SEED_BATCH, receipts)):
                    sale = SaleIn(
                        request_id=f"seed-{n}", rows=ROWS, payments=[TenderIn(method_id=1)]
                    )
                    checkout.sell(
                        conn, station_id=ids[n % len(ids)], request=sale, ctx=shop, now_us=now_us()
                    )

            db.run(batch)
        seconds = time.perf_counter() - started
    finally:
        db.close()
    return {"seconds": round(seconds, 2), "per_second": round(receipts / seconds, 1)}


def store_db(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)


def pending(path: Path) -> int:
    conn = store_db(path)
    try:
        return int(
            conn.execute("SELECT count(*) FROM sync_outbox WHERE status != 'acked'").fetchone()[0]
        )
    finally:
        conn.close()


def raw_insert_baseline(store_path: Path, centre_url: str, batch: int) -> dict[str, Any]:
    """The store's outbox bodies inserted into PostgreSQL one row each, ``batch`` per
    transaction: the cost of merely storing the bytes at the centre."""
    conn = store_db(store_path)
    try:
        items = conn.execute(
            "SELECT kind, local_id, lane, hash, body FROM sync_outbox ORDER BY id"
        ).fetchall()
    finally:
        conn.close()
    with psycopg.connect(centre_url, autocommit=True) as pg:
        pg.execute(
            "CREATE TABLE bench_raw (id bigserial PRIMARY KEY, store_id bigint, kind text,"
            " local_id text, lane text, hash text, body text, UNIQUE (store_id, kind, local_id))"
        )
        started = time.perf_counter()
        for start in range(0, len(items), batch):
            with pg.transaction(), pg.cursor() as cur:
                cur.executemany(
                    "INSERT INTO bench_raw (store_id, kind, local_id, lane, hash, body)"
                    " VALUES (1, %s, %s, %s, %s, %s)",
                    items[start : start + batch],
                )
        seconds = time.perf_counter() - started
        pg.execute("DROP TABLE bench_raw")
    return {
        "items": len(items),
        "seconds": round(seconds, 2),
        "items_per_second": round(len(items) / seconds, 1),
    }


def centre_counts(centre_url: str) -> tuple[int, int]:
    """Receipts at the centre, and how many distinct (station, document_id) they are."""
    with psycopg.connect(centre_url) as pg:
        row = pg.execute(
            "SELECT count(*), count(DISTINCT (station_id, document_id)) FROM receipts"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def _ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def cpu_seconds(centre_pid: int, store_pid: int) -> dict[str, float]:
    """CPU seconds used so far by the centre, the store and every PostgreSQL process."""
    tick = os.sysconf("SC_CLK_TCK")
    postgres = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    postgres += _ticks(int(entry.name))
            except OSError:
                continue
    return {
        "centre": _ticks(centre_pid) / tick,
        "store": _ticks(store_pid) / tick,
        "postgresql": postgres / tick,
    }


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * fraction + 0.999999) - 1)] if ordered else 0.0


class Client:
    def __init__(self, port: int, key: str) -> None:
        self.connection = http.client.HTTPConnection(HOST, port, timeout=30)
        self.headers = {"Authorization": f"Token {key}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        self.connection.request(
            method, path, body=None if body is None else json.dumps(body), headers=self.headers
        )
        reply = self.connection.getresponse()
        data = reply.read()
        return reply.status, json.loads(data) if data else None


def steady(
    store_port: int, admin: str, store_path: Path, rate: float, seconds: float
) -> dict[str, Any]:
    """Sell ``rate`` receipts/s for ``seconds``; the sync lag of each."""
    setup = Client(store_port, admin)
    status, station = setup.call(
        "POST", "/api/stations", {"name": "Kase 9", "pos_id": "9", "chassis_id": "C9"}
    )
    if status != 201:
        raise BenchError(f"station: {status} {station}")
    client = Client(store_port, station["key"])
    status, shift = client.call("POST", f"/api/stations/{station['id']}/shift/open", {})
    if status != 200:
        raise BenchError(f"shift: {status} {shift}")
    since = now_us()
    started = time.perf_counter()
    sold = 0
    body_rows = [
        {"text": "Kafija", "quantity": 2, "price": "1.80"},
        {"text": "Maize", "price": "2.35"},
    ]
    while (elapsed := time.perf_counter() - started) < seconds:
        due = int(elapsed * rate)
        while sold <= due:
            sold += 1
            status, data = client.call(
                "POST",
                f"/api/stations/{station['id']}/receipts",
                {"request_id": f"steady-{sold}", "rows": body_rows, "payments": [{"method_id": 1}]},
            )
            if status not in (200, 201):
                raise BenchError(f"sale: {status} {data}")
        time.sleep(max(0.0, (sold / rate) - (time.perf_counter() - started)))
    deadline = time.monotonic() + 60
    while pending(store_path) and time.monotonic() < deadline:
        time.sleep(0.05)
    conn = store_db(store_path)
    try:
        lags = [
            (acked - created) / 1e6
            for created, acked in conn.execute(
                "SELECT created_at, acked_at FROM sync_outbox WHERE kind = 'receipt'"
                " AND created_at >= ? AND acked_at IS NOT NULL",
                (since,),
            )
        ]
    finally:
        conn.close()
    if len(lags) != sold:
        raise BenchError(f"steady state: {sold} sold, {len(lags)} acknowledged")
    return {
        "rate": rate,
        "seconds": seconds,
        "receipts": sold,
        "lag_p50_s": round(statistics.median(lags), 3),
        "lag_p99_s": round(percentile(lags, 0.99), 3),
        "lag_max_s": round(max(lags), 3),
    }


def run(args: argparse.Namespace, directory: Path) -> dict[str, Any]:
    name = f"minipos_sync_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.database_url, autocommit=True, connect_timeout=5) as admin_pg:
        admin_pg.execute(f'CREATE DATABASE "{name}"')
    centre_url = args.database_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        migrate.upgrade(centre_url)
        common = common_env()
        centre_env = common | {"MINIPOS_MODE": "central", "MINIPOS_DATABASE_URL": centre_url}
        centre_dir = directory / "centre"
        store_dir = directory / "store"
        centre_dir.mkdir()
        store_dir.mkdir()
        key = (
            run_cli(["store", "add", "--code", "BENCH1", "--name", "Bench"], centre_env, centre_dir)
            .strip()
            .splitlines()[-1]
        )
        centre_port = free_port()
        centre = Server(
            "centre",
            [*minipos_command(), "serve", "--port", str(centre_port)],
            env=centre_env,
            cwd=centre_dir,
            port=centre_port,
            ready_path="/health",
            cpu=CENTRE_CPU,
        )
        store_path = store_dir / "store.sqlite3"
        store_env = common | {
            "MINIPOS_MODE": "store",
            "MINIPOS_DATABASE_URL": f"sqlite:///{store_path}",
            "MINIPOS_CENTRAL_URL": f"http://{HOST}:{centre_port}",
            "MINIPOS_CENTRAL_KEY": key,
        }
        if args.batch:
            store_env["MINIPOS_SYNC_BATCH"] = str(args.batch)
        seeded = seed_store(store_env, args.receipts, args.stations)
        items = pending(store_path)
        admin = run_cli(["key", "create", "--role", "admin"], store_env, store_dir).strip()
        store_port = free_port()
        store = Server(
            "store",
            [*minipos_command(), "serve", "--port", str(store_port)],
            env=store_env,
            cwd=store_dir,
            port=store_port,
            ready_path="/health",
            cpu=STORE_CPU,
        )
        with centre:
            started = time.perf_counter()
            with store:
                up = time.perf_counter()
                cpu_before = cpu_seconds(centre.pid, store.pid)
                deadline = time.monotonic() + args.timeout
                while (left := pending(store_path)) and time.monotonic() < deadline:
                    time.sleep(0.05)
                seconds = time.perf_counter() - started
                after_up = time.perf_counter() - up
                cpu_after = cpu_seconds(centre.pid, store.pid)
                cpu = {k: round(cpu_after[k] - cpu_before[k], 1) for k in cpu_before}
                if left:
                    raise BenchError(
                        f"catch-up: {left} of {items} items still pending after {args.timeout} s\n{store.log_tail()}"
                    )
                at_centre, distinct = centre_counts(centre_url)
                steady_result = (
                    steady(store_port, admin, store_path, args.rate, args.steady_seconds)
                    if args.steady_seconds > 0
                    else None
                )
        baseline = raw_insert_baseline(store_path, centre_url, args.batch or 500)
    finally:
        with psycopg.connect(args.database_url, autocommit=True) as admin_pg:
            admin_pg.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    rate = args.receipts / seconds
    return {
        "receipts": args.receipts,
        "stations": args.stations,
        "outbox_items": items,
        "catch_up": {
            "seconds": round(seconds, 2),
            "seconds_after_start_up": round(after_up, 2),
            "receipts_per_second": round(rate, 1),
            "items_per_second": round(items / seconds, 1),
            "at_centre": at_centre,
            "distinct_at_centre": distinct,
            "cpu_seconds": cpu,
        },
        "baseline_raw_insert": baseline,
        "baseline_local_sell": seeded,
        "ratio_to_raw_insert": round((items / seconds) / baseline["items_per_second"], 3),
        "ratio_to_local_sell": round(rate / seeded["per_second"], 3),
        "steady": steady_result,
    }


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            kids = [int(k) for k in (task / "children").read_text().split()]
        except OSError:
            continue
        for kid in kids:
            found += [kid, *_children(kid)]
    return found


def tree_seconds(pid: int) -> float:
    """CPU seconds of a process and all its children (a server's workers)."""
    return sum(_ticks(p) for p in [pid, *_children(pid)]) / os.sysconf("SC_CLK_TCK")


def postgres_seconds() -> float:
    total = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    total += _ticks(int(entry.name))
            except OSError:
                continue
    return total / os.sysconf("SC_CLK_TCK")


def fan_in(args: argparse.Namespace, directory: Path) -> dict[str, Any]:
    """``--fan-in-stores`` store processes, each with ``--fan-in-receipts`` receipts waiting,
    started at once against one centre with ``--fan-in-workers`` workers."""
    name = f"minipos_sync_fanin_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.database_url, autocommit=True, connect_timeout=5) as admin_pg:
        admin_pg.execute(f'CREATE DATABASE "{name}"')
    centre_url = args.database_url.rsplit("/", 1)[0] + f"/{name}"
    stores: list[Server] = []
    paths: list[Path] = []
    try:
        migrate.upgrade(centre_url)
        common = common_env()
        centre_env = common | {"MINIPOS_MODE": "central", "MINIPOS_DATABASE_URL": centre_url}
        centre_dir = directory / "fan-in-centre"
        centre_dir.mkdir()
        admin = run_cli(["key", "create", "--role", "admin"], centre_env, centre_dir).strip()
        template = directory / "fan-in-template.sqlite3"
        seed_store(
            common
            | {
                "MINIPOS_MODE": "store",
                "MINIPOS_DATABASE_URL": f"sqlite:///{template}",
                "MINIPOS_CENTRAL_URL": f"http://{HOST}:9",
                "MINIPOS_CENTRAL_KEY": "seeding",
            },
            args.fan_in_receipts,
            1,
        )
        items_each = pending(template)
        centre_port = free_port()
        command = [*minipos_command(), "serve", "--port", str(centre_port)]
        centre = Server(
            "fan-in-centre",
            [*command, "--workers", str(args.fan_in_workers)],
            env=centre_env,
            cwd=centre_dir,
            port=centre_port,
            ready_path="/health",
            cpu=None,
        )
        with centre:
            client = Client(centre_port, admin)
            for n in range(args.fan_in_stores):
                code = f"FAN{n:02d}"
                status, created = client.call("POST", "/api/stores", {"code": code, "name": code})
                if status != 201:
                    raise BenchError(f"POST /api/stores: {status} {created}")
                store_dir = directory / code
                store_dir.mkdir()
                path = store_dir / "store.sqlite3"
                shutil.copy(template, path)
                paths.append(path)
                port = free_port()
                env = common | {
                    "MINIPOS_MODE": "store",
                    "MINIPOS_DATABASE_URL": f"sqlite:///{path}",
                    "MINIPOS_CENTRAL_URL": f"http://{HOST}:{centre_port}",
                    "MINIPOS_CENTRAL_KEY": created["key"],
                }
                stores.append(
                    Server(
                        code,
                        [*minipos_command(), "serve", "--port", str(port)],
                        env=env,
                        cwd=store_dir,
                        port=port,
                        ready_path="/health",
                        cpu=None,
                    )
                )
            centre_cpu, pg_cpu = tree_seconds(centre.pid), postgres_seconds()
            started = time.perf_counter()
            _in_parallel([store.start for store in stores])
            store_pids = [store.pid for store in stores]
            deadline = time.monotonic() + args.timeout
            while (left := sum(pending(p) for p in paths)) and time.monotonic() < deadline:
                time.sleep(0.1)
            seconds = time.perf_counter() - started
            if left:
                raise BenchError(f"fan-in: {left} items still pending after {args.timeout} s")
            cpu = {
                "centre": round(tree_seconds(centre.pid) - centre_cpu, 1),
                "postgresql": round(postgres_seconds() - pg_cpu, 1),
                "stores": round(sum(tree_seconds(p) for p in store_pids), 1),
            }
            _in_parallel([store.stop for store in stores])
            at_centre, distinct = centre_counts(centre_url)
    finally:
        _in_parallel([store.stop for store in stores])
        with psycopg.connect(args.database_url, autocommit=True) as admin_pg:
            admin_pg.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    first, last = None, None
    for path in paths:
        conn = store_db(path)
        try:
            low, high = conn.execute(
                "SELECT min(acked_at), max(acked_at) FROM sync_outbox"
            ).fetchone()
        finally:
            conn.close()
        first = low if first is None else min(first, low)
        last = high if last is None else max(last, high)
    assert first is not None
    assert last is not None
    window = max((last - first) / 1e6, 1e-3)
    receipts = args.fan_in_receipts * args.fan_in_stores
    return {
        "stores": args.fan_in_stores,
        "workers": args.fan_in_workers,
        "receipts": receipts,
        "items": items_each * args.fan_in_stores,
        "seconds_from_start": round(seconds, 2),
        "ack_window_s": round(window, 2),
        "items_per_second_in_window": round(items_each * args.fan_in_stores / window, 1),
        "at_centre": at_centre,
        "distinct_at_centre": distinct,
        "cpu_seconds": cpu,
    }


def _in_parallel(jobs: list[Any]) -> None:
    errors: list[BaseException] = []

    def guarded(job: Any) -> None:
        try:
            job()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def common_env() -> dict[str, str]:
    return {
        # A fictitious seller, for a fiscal profile that wants one (ignored otherwise).
        "MINIPOS_SHOP_NAME": "BENCH SIA",
        "MINIPOS_SHOP_REGISTRATION_NUMBER": "40000000000",
        "MINIPOS_SHOP_VAT_NUMBER": "LV40000000000",
        "MINIPOS_SHOP_ADDRESS": "Bench iela 1, Rīga",
        **os.environ,
        "MINIPOS_SECRET_KEY": "bench-pepper",
        "MINIPOS_ACCESS_LOG": "false",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--receipts", type=int, default=20_000)
    parser.add_argument("--stations", type=int, default=2)
    parser.add_argument(
        "--batch", type=int, default=0, help="MINIPOS_SYNC_BATCH (default: the server's)"
    )
    parser.add_argument("--steady-seconds", type=float, default=20)
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--fan-in-stores", type=int, default=20, help="0: no fan-in run")
    parser.add_argument("--fan-in-receipts", type=int, default=2000, help="per store")
    parser.add_argument("--fan-in-workers", type=int, default=2)
    parser.add_argument(
        "--database-url", default=PG_ADMIN_URL, help="a PostgreSQL server's admin database URL"
    )
    parser.add_argument(
        "--output", type=Path, default=Path(__file__).with_name("results") / "sync.json"
    )
    args = parser.parse_args()
    quiet = busy_now(1.0)
    print("CPU busy before the run: " + ", ".join(f"cpu{k} {v} %" for k, v in quiet.items()))
    try:
        with tempfile.TemporaryDirectory(prefix="minipos-sync-") as directory:
            result = run(args, Path(directory))
            result["busy_before_pct"] = quiet
            result["fan_in"] = fan_in(args, Path(directory)) if args.fan_in_stores else None
    except BenchError as exc:
        print(f"sync benchmark could not run: {exc}", file=sys.stderr)
        return 1
    c = result["catch_up"]
    b = result["baseline_raw_insert"]
    s = result["baseline_local_sell"]
    met = "met" if c["receipts_per_second"] >= 1000 and c["seconds"] < 30 else "NOT MET"
    print(
        f"catch-up: {result['receipts']} receipts ({result['outbox_items']} outbox items) in {c['seconds']} s from the store's start ({c['seconds_after_start_up']} s once it answered): {c['receipts_per_second']} receipts/s, {c['items_per_second']} items/s (target ≥ 1000/s, < 30 s: {met})"
    )
    print(
        f"  baseline raw PostgreSQL insert of the same bodies: {b['items_per_second']} items/s → ratio {result['ratio_to_raw_insert']}"
    )
    print(
        f"  baseline local sell (seeding, outbox on): {s['per_second']} receipts/s → ratio {result['ratio_to_local_sell']}"
    )
    print(f"  at the centre: {c['at_centre']} receipts, {c['distinct_at_centre']} distinct")
    print(
        "  CPU seconds during catch-up: "
        + ", ".join(f"{k} {v}" for k, v in c["cpu_seconds"].items())
        + f" (of {c['seconds_after_start_up']} s wall)"
    )
    if result["steady"]:
        t = result["steady"]
        met = "met" if t["lag_p99_s"] < 2 else "NOT MET"
        print(
            f"steady state: {t['receipts']} receipts at {t['rate']}/s: sync lag p50 {t['lag_p50_s']} s, p99 {t['lag_p99_s']} s, max {t['lag_max_s']} s (target p99 < 2 s: {met})"
        )
    f = result["fan_in"]
    if f:
        print(
            f"fan-in: {f['stores']} stores × {f['receipts'] // f['stores']} receipts into one centre (--workers {f['workers']}): {f['items']} items in {f['seconds_from_start']} s from the stores' start; {f['items_per_second_in_window']} items/s aggregate between the first and last acknowledgement ({f['ack_window_s']} s)"
        )
        print(
            "  CPU seconds: "
            + ", ".join(f"{k} {v}" for k, v in f["cpu_seconds"].items())
            + f"; at the centre {f['at_centre']} receipts, {f['distinct_at_centre']} distinct"
        )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2))
    correct = c["at_centre"] == c["distinct_at_centre"] == result["receipts"]
    if f:
        correct = correct and f["at_centre"] == f["distinct_at_centre"] == f["receipts"]
    if not correct:
        print("WRONG: the centre does not hold every receipt exactly once", file=sys.stderr)
    return 0 if correct else 2


if __name__ == "__main__":
    sys.exit(main())
