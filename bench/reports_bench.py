"""Sales report benchmark (issue 15): a year of receipts, then the reports a back office asks.

    .venv/bin/python bench/reports_bench.py [--receipts 1000000] [--days 365] [--repeat 15]
                                            [--engines sqlite,postgresql] [--output FILE]

For each engine it seeds a fresh database (SQLite in a temporary directory; PostgreSQL as a new
database on MINIPOS_BENCH_PG, default the local server, dropped afterwards) with ``--receipts``
receipts spread over the last ``--days`` days at 4 stations (1-5 rows each, 3% refunds, cash
with change and card payments, line discounts), written straight into the tables at schema 0011
and then migrated to the head, so the hourly aggregates of migration 0012 are built as an
upgrade builds them. It then starts ``minipos serve`` on it and times, over HTTP with an admin
key, each report of the last 30 days (``--repeat`` times after 2 warm-ups, p50 and p95).

The baseline, measured in the same run by the same client: ``GET /api/receipts?from=&to=&limit=1``
over the same 30 days, whose ``X-Total-Count`` is a plain COUNT of the receipts in the range.
"report by day (from receipts)" starts one second after midnight, so the hourly sums cannot
answer it and the server adds up the receipts themselves: the figure that chose the design.

Checks (exit 2 otherwise): the day report counts as many receipts as the baseline's COUNT, and
the tax group and payment method reports add up to the day report's gross and VAT.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import psycopg

from minipos.db import migrate
from servers import HOST, Server, free_port, minipos_command, run_cli
from wrk_runner import BenchError

PG_ADMIN_URL = os.environ.get("MINIPOS_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
ZONE = ZoneInfo("Europe/Riga")
DAY_US = 86_400_000_000
STATIONS = 4
TAXES = ((0, 2100), (1, 1200), (2, 500))
BATCH = 20_000
#: Reports timed, each over the last 30 days (but the hours of today): name → query.
REPORTS: list[tuple[str, dict[str, str]]] = [
    ("report by day", {"group_by": "day"}),
    ("report by day (from receipts)", {"group_by": "day", "shift": "1"}),
    ("report by hour, today", {"group_by": "hour", "today": "1"}),
    ("report by station", {"group_by": "station"}),
    ("report by employee", {"group_by": "employee"}),
    ("report by payment method", {"group_by": "payment_method"}),
    ("report by tax group", {"group_by": "tax_group"}),
    ("report by tax group (from receipts)", {"group_by": "tax_group", "shift": "1"}),
    ("top 10 products", {"group_by": "product", "limit": "10"}),
    ("report by day, CSV", {"group_by": "day", "format": "csv"}),
]


# --- seeding ------------------------------------------------------------------------------------


def _vat(gross: int, rate: int) -> int:
    """domain.money.vat in cents (rates in hundredths of a percent)."""
    tax = (abs(gross) * rate * 2 + 10000 + rate) // (2 * (10000 + rate))
    return tax if gross >= 0 else -tax


def generate(
    receipts: int, days: int, end_us: int
) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
    """Batches of (receipts, rows, payments) rows, in print-time order."""
    rnd = random.Random(15)
    start_us = end_us - days * DAY_US
    step = (end_us - start_us) / receipts
    numbers = [0] * (STATIONS + 1)
    row_id = 0
    batch: tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]] = ([], [], [])
    for receipt_id in range(1, receipts + 1):
        printed = int(start_us + (receipt_id - 1) * step + rnd.random() * step)
        station = rnd.randint(1, STATIONS)
        numbers[station] += 1
        day = (printed - start_us) // DAY_US
        refund = rnd.random() < 0.03
        by_rate: dict[int, int] = {}
        total = 0
        for position in range(rnd.randint(1, 5)):
            row_id += 1
            price = rnd.randint(50, 3000)
            quantity = rnd.choice((1000, 1000, 2000, 500))
            # A discount never takes a row to nothing or below (the API refuses it).
            off = min(rnd.choice((0, 0, 0, 10, 50)), price * quantity // 1000 - 1)
            amount = price * quantity // 1000 - off
            tax, rate = rnd.choice(TAXES)
            product = rnd.randint(1, 2000)
            by_rate[rate] = by_rate.get(rate, 0) + amount
            total += amount
            batch[1].append(
                (row_id, receipt_id, position, product, f"Prece {product}", tax, rate, price, off,
                 off, quantity, amount, quantity, amount, product % 40 + 1, f"Nodaļa {product % 40 + 1}")
            )  # fmt: skip
        tax_amount = sum(_vat(gross, rate) for rate, gross in by_rate.items())
        cash = rnd.random() < 0.6
        paid = ((total + 499) // 500) * 500 if cash and not refund else total
        batch[2].append(
            (receipt_id, 0, 1 if cash else 2, "Skaidrā nauda" if cash else "Karte", 0 if cash else 1, paid)
        )  # fmt: skip
        batch[0].append(
            (receipt_id, station, day * STATIONS + station, str(numbers[station]),
             3 if refund else rnd.choice((1, 2)), 1, rnd.randint(1, 12),
             f"Kasieris {rnd.randint(1, 12)}", printed, total - tax_amount, total, paid - total,
             tax_amount, 0, 0, "0" * 64, "0" * 64)
        )  # fmt: skip
        if len(batch[0]) >= BATCH:
            yield batch
            batch = ([], [], [])
    if batch[0]:
        yield batch


RECEIPT_COLUMNS = (
    "id, station_id, shift_id, document_id, mode, state, cashier_id, cashier_name, print_time,"
    " neto_amount, bruto_amount, changed_amount, tax_amount, discount, discount_amount, prev_hash,"
    " hash"
)
ROW_COLUMNS = (
    "id, receipt_id, position, product_id, product_name, tax, tax_rate, price, discount,"
    " discount_amount, quantity, amount, max_quantity, max_amount, category_id, category_name"
)
PAYMENT_COLUMNS = "receipt_id, position, method, method_name, method_code, amount"


def registry(days: int, end_us: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Stations and one closed shift per station and day."""
    start_us = end_us - days * DAY_US
    stations = [
        (s, f"Kase {s}", str(s), s, f"CH{s}", "1", "0" * 64, start_us)
        for s in range(1, STATIONS + 1)
    ]
    shifts = [
        (d * STATIONS + s, s, d + 1, start_us + d * DAY_US, start_us + (d + 1) * DAY_US - 1)
        for d in range(days + 1)
        for s in range(1, STATIONS + 1)
    ]
    return stations, shifts


STATION_SQL = (
    "INSERT INTO stations (id, name, pos_id, pos_number, chassis_id, station_group, chain_head,"
    " created_at) VALUES ({})"
)
SHIFT_SQL = "INSERT INTO shifts (id, station_id, z_number, start_date, close_date) VALUES ({})"


def seed_sqlite(path: Path, receipts: int, days: int, end_us: int) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous = OFF")
    stations, shifts = registry(days, end_us)
    conn.executemany(STATION_SQL.format(", ".join("?" * 8)), stations)
    conn.executemany(SHIFT_SQL.format(", ".join("?" * 5)), shifts)
    for rows, children, payments in generate(receipts, days, end_us):
        conn.executemany(
            f"INSERT INTO receipts ({RECEIPT_COLUMNS}) VALUES ({', '.join('?' * 17)})", rows
        )
        conn.executemany(
            f"INSERT INTO receipt_rows ({ROW_COLUMNS}) VALUES ({', '.join('?' * 16)})", children
        )
        conn.executemany(
            f"INSERT INTO receipt_payments ({PAYMENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)", payments
        )
        conn.commit()
    conn.close()


def seed_postgresql(url: str, receipts: int, days: int, end_us: int) -> None:
    with psycopg.connect(url) as conn:
        stations, shifts = registry(days, end_us)
        with conn.cursor() as cur:
            cur.executemany(STATION_SQL.format(", ".join(["%s"] * 8)), stations)
            cur.executemany(SHIFT_SQL.format(", ".join(["%s"] * 5)), shifts)
            for rows, children, payments in generate(receipts, days, end_us):
                for table, columns, data in (
                    ("receipts", RECEIPT_COLUMNS, rows),
                    ("receipt_rows", ROW_COLUMNS, children),
                    ("receipt_payments", PAYMENT_COLUMNS, payments),
                ):
                    with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                        for item in data:
                            copy.write_row(item)
            for table in ("stations", "shifts", "receipts", "receipt_rows", "receipt_payments"):
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
                )


# --- timing -------------------------------------------------------------------------------------


class Client:
    def __init__(self, port: int, key: str) -> None:
        self.connection = http.client.HTTPConnection(HOST, port, timeout=120)
        self.headers = {"Authorization": f"Token {key}"}

    def get(self, path: str) -> tuple[float, int, dict[str, str], bytes]:
        started = time.perf_counter()
        self.connection.request("GET", path, headers=self.headers)
        reply = self.connection.getresponse()
        body = reply.read()
        return (
            time.perf_counter() - started,
            reply.status,
            {k.lower(): v for k, v in reply.getheaders()},
            body,
        )


def timed(client: Client, path: str, repeat: int) -> dict[str, float]:
    for _ in range(2):
        client.get(path)
    times = []
    for _ in range(repeat):
        seconds, status, _, body = client.get(path)
        if status != 200:
            raise BenchError(f"GET {path}: {status} {body[:300]!r}")
        times.append(seconds * 1000)
    ordered = sorted(times)
    return {
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95 + 0.5) - 1)], 2),
    }


def measure(server: Server, key: str, repeat: int, today: date) -> dict[str, Any]:
    client = Client(server.port, key)
    first, last = (today - timedelta(days=29)).isoformat(), today.isoformat()
    count_path = "/api/receipts?" + urlencode({"from": first, "to": last, "limit": 1})
    results: dict[str, Any] = {"baseline COUNT": timed(client, count_path, repeat)}
    _, _, headers, _ = client.get(count_path)
    counted = int(headers["x-total-count"])
    for name, query in REPORTS:
        params = dict(query)
        start = first
        if params.pop("shift", None):
            start = f"{first}T00:00:01"
        if params.pop("today", None):
            start = last
        path = "/api/reports/sales?" + urlencode({"from": start, "to": last, **params})
        results[name] = timed(client, path, repeat)
    totals = {}
    for group_by in ("day", "tax_group", "payment_method"):
        _, _, _, body = client.get(
            "/api/reports/sales?" + urlencode({"from": first, "to": last, "group_by": group_by})
        )
        totals[group_by] = json.loads(body, parse_float=Decimal)["total"]
    results["receipts_in_range"] = counted
    results["report_receipts"] = totals["day"]["count"] + totals["day"]["refund_count"]
    # The sums per tax group and per method (built by migrations 0012-0013 here) against the
    # day's: the same gross, and the VAT of the tax groups is the receipts'.
    results["sums_agree"] = (
        totals["tax_group"]["gross"] == totals["day"]["gross"]
        and totals["tax_group"]["vat"] == totals["day"]["vat"]
        and totals["payment_method"]["gross"] == totals["day"]["gross"]
    )
    return results


def run_engine(engine: str, args: argparse.Namespace, directory: Path) -> dict[str, Any]:
    today = datetime.now(ZONE).date()
    end = datetime(today.year, today.month, today.day, tzinfo=ZONE) + timedelta(days=1)
    end_us = int(end.timestamp()) * 1_000_000
    database = None
    if engine == "sqlite":
        path = directory / "reports.sqlite3"
        url = f"sqlite:///{path}"
    else:
        database = f"minipos_bench_{uuid.uuid4().hex[:8]}"
        for attempt in range(5):  # "template1 is being accessed by other users": retry
            try:
                with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
                    admin.execute(f'CREATE DATABASE "{database}"')
                break
            except psycopg.errors.ObjectInUse:
                if attempt == 4:
                    raise
                time.sleep(1)
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{database}"
    try:
        started = time.perf_counter()
        migrate.upgrade(url, "0011")
        if engine == "sqlite":
            seed_sqlite(path, args.receipts, args.days, end_us)
        else:
            seed_postgresql(url, args.receipts, args.days, end_us)
        seeded = time.perf_counter() - started
        started = time.perf_counter()
        migrate.upgrade(url)  # 0012-0013: the hourly sums of what is there, the index
        upgraded = time.perf_counter() - started
        if engine == "postgresql":
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE")
        env = {
            **os.environ,
            "MINIPOS_DATABASE_URL": url,
            "MINIPOS_SECRET_KEY": "bench-pepper",
            "MINIPOS_ACCESS_LOG": "false",
            "MINIPOS_TIMEZONE": str(ZONE),
        }
        key = run_cli(["key", "create", "--role", "admin"], env, directory).strip()
        port = free_port()
        command = [*minipos_command(), "serve", "--port", str(port)]
        with Server(
            f"minipos-{engine}", command, env=env, cwd=directory, port=port,
            ready_path="/health", cpu=None,
        ) as server:  # fmt: skip
            results = measure(server, key, args.repeat, today)
        results["seed_s"] = round(seeded, 1)
        results["upgrade_0012_s"] = round(upgraded, 1)
        return results
    finally:
        if database is not None:
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--receipts", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument(
        "--output", default=str(Path(__file__).with_name("results") / "reports.json")
    )
    args = parser.parse_args()
    results: dict[str, Any] = {"receipts": args.receipts, "days": args.days}
    status = 0
    for engine in args.engines.split(","):
        with tempfile.TemporaryDirectory(prefix=f"minipos-reports-{engine}-") as directory:
            found = run_engine(engine, args, Path(directory))
        results[engine] = found
        base = found["baseline COUNT"]["p50_ms"]
        print(
            f"{engine}: {args.receipts:,} receipts over {args.days} days"
            f" (seeded in {found['seed_s']} s, migrations 0012-0013 in {found['upgrade_0012_s']} s);"
            f" last 30 days: {found['receipts_in_range']:,} receipts"
        )
        print(f"  baseline COUNT over the 30 days (GET /api/receipts?limit=1): p50 {base} ms")
        for name, _ in REPORTS:
            figures = found[name]
            ratio = round(figures["p50_ms"] / base, 2) if base else 0.0
            print(
                f"  {name}: p50 {figures['p50_ms']} ms, p95 {figures['p95_ms']} ms"
                f" (ratio to baseline {ratio})"
            )
        if not found["sums_agree"]:
            print("  MISMATCH: the tax group or payment method totals differ from the day's")
            status = 2
        if found["report_receipts"] != found["receipts_in_range"]:
            print(
                f"  MISMATCH: the day report counts {found['report_receipts']} receipts,"
                f" COUNT {found['receipts_in_range']}"
            )
            status = 2
    print("target: a 30-day report by day over 1,000,000 receipts answers in < 200 ms")
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    return status


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"reports_bench: {exc}", file=sys.stderr)
        sys.exit(1)
