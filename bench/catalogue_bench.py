"""Catalogue benchmark (issue #3): import, product lookups and sync-feed pages per size.

    .venv/bin/python bench/catalogue_bench.py [--sizes 1000,100000] [--requests 2000]
        [--database-url postgresql://postgres@127.0.0.1:5432/minipos_bench]

For each size, on a fresh database: generate a CSV of N products, time
``minipos catalogue import FILE`` (the real CLI), then start ``minipos serve`` pinned to CPU 0
and measure from CPU 1 with one keep-alive client: ``GET /api/products/{id}`` (random ids),
``GET /api/products?barcode=…`` (random existing barcodes) and one page of the sync feed
(``GET /api/products?updated_since=<random revision>&limit=100``); also, as a station polls
when it is nearly up to date, the last page (cursor 100 revisions before the newest). The
baseline, measured in the same run by the same client, is ``GET /health``. The target: the lookups and the feed page
stay flat (within 2×) between the smallest and the largest size.

Without ``--database-url`` each size gets a fresh SQLite file in a temporary directory. With
it, the database named in the URL is created for each size and dropped afterwards; it must not
exist beforehand (the benchmark never drops a database it did not create).
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import math
import os
import platform
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg

import cpustat
from servers import HOST, Server, free_port, minipos_command, run_cli
from wrk_runner import BenchError

SERVER_CPU, CLIENT_CPU = 0, 1
SEED = 20261125
FEED_LIMIT = 100
TARGET_RATIO = 2.0
#: Busy time on the server's CPU beyond the server's own that flags a figure as disturbed (%):
#: the kernel's loopback work accounts for a few percent.
DISTURBED_PCT = 10.0
ENDPOINTS = ("health", "by_id", "barcode", "feed_page", "feed_poll")
#: What the issue's target covers; the poll is shown beside it to tell the page from its count.
TARGETED = ("by_id", "barcode", "feed_page")
LABELS = {
    "health": "GET /health (baseline)",
    "by_id": "GET /api/products/{id}",
    "barcode": "GET /api/products?barcode=",
    "feed_page": f"feed page (limit={FEED_LIMIT})",
    "feed_poll": f"feed poll (head - {FEED_LIMIT})",
}

# --- the catalogue file ---------------------------------------------------------------------

KINDS = (
    # (name, sizes, price range in euros, weighed?)
    ("Piens", ("2,5 % 1 l", "3,2 % 1 l", "0,5 % 0,5 l"), (0.69, 1.89), False),
    ("Kefīrs", ("1 l", "0,5 l"), (0.79, 1.69), False),
    ("Biezpiens", ("9 % 200 g", "0,5 % 500 g"), (0.99, 3.49), False),
    ("Skābais krējums", ("20 % 400 g", "30 % 200 g"), (1.09, 2.79), False),
    ("Sviests", ("82 % 200 g",), (2.49, 4.29), False),
    ("Siers", ("Krievijas", "Holandes", "Dzintars", "ar ķimenēm"), (8.90, 18.90), True),
    ("Rupjmaize", ("Ģimenes 800 g", "Lāču 400 g", "ar ķimenēm 500 g"), (1.19, 3.29), False),
    ("Saldskābmaize", ("ar rozīnēm 300 g", "Rīgas 600 g"), (1.29, 2.99), False),
    ("Desa", ("Doktora", "žāvēta", "vārīta ar speķi"), (6.90, 21.50), True),
    ("Šķiņķis", ("kūpināts", "vārīts"), (9.90, 16.90), True),
    ("Siļķe", ("marinēta 500 g", "sālīta 250 g"), (2.19, 4.99), False),
    ("Kartupeļi", ("Agrie", "Vārāmie"), (0.59, 1.49), True),
    ("Āboli", ("Antonovka", "Sīpoliņš", "Zelta"), (1.19, 2.99), True),
    ("Zemeņu ievārījums", ("350 g", "650 g"), (2.49, 4.99), False),
    ("Ābolu sula", ("1 l", "0,25 l"), (0.89, 2.49), False),
    ("Minerālūdens", ("gāzēts 0,5 l", "negāzēts 1,5 l"), (0.39, 1.19), False),
    ("Kafija", ("maltā 500 g", "pupiņās 1 kg"), (4.99, 19.99), False),
    ("Tēja", ("melnā 25 gab.", "zāļu 20 gab."), (0.99, 3.99), False),
    ("Šokolāde", ("ar riekstiem 100 g", "piena 200 g", "rūgtā 90 g"), (1.19, 4.49), False),
    ("Konfektes", ("Gotiņa", "Serenāde", "Kārums"), (4.90, 12.90), True),
    ("Alus", ("gaišais 0,5 l", "tumšais 0,5 l"), (0.99, 2.79), False),
    ("Sīpoli", ("dzeltenie", "sarkanie"), (0.79, 1.99), True),
    ("Veļas pulveris", ("3 kg", "1,5 kg"), (5.99, 14.99), False),
    ("Zobu pasta", ("75 ml",), (1.49, 3.99), False),
)
MAKERS = (
    "Rīgas", "Valmieras", "Cēsu", "Talsu", "Jēkabpils", "Lauku", "Tukuma", "Smiltenes",
    "Bauskas", "Ludzas", "Kuldīgas", "Līvānu", "Gulbenes", "Ķekavas", "Ādažu", "Ogres",
)  # fmt: skip
#: (tax group, weight): mostly 21 %, then the reduced rates (reference data defaults).
TAXES = ((0, 70), (1, 15), (2, 12), (3, 3))


def ean13(body: str) -> str:
    """``body`` (12 digits) with its EAN-13 check digit."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def barcode(n: int) -> str:
    """The n-th barcode: a Latvian-prefix EAN-13, unique for n < 10^9, in scrambled order."""
    scrambled = (n * 387_420_489 + 123_456_789) % 1_000_000_000  # 387420489 = 3^18, odd, ≠ 5k
    return ean13(f"475{scrambled:09d}")


def write_catalogue(path: Path, size: int) -> int:
    """A deterministic CSV of ``size`` products; returns how many barcodes it holds."""
    rng = random.Random(SEED + size)
    taxes, weights = zip(*TAXES, strict=True)
    barcodes = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(
            ("name", "price", "code", "barcodes", "tax", "fiscal_section", "status", "is_weight")
        )
        for i in range(size):
            kind, variants, (low, high), weighed = KINDS[rng.randrange(len(KINDS))]
            name = f"{kind} {rng.choice(MAKERS)} {rng.choice(variants)} #{i + 1}"
            price = f"{rng.uniform(low, high):.2f}"
            codes = [barcode(barcodes)]
            if rng.random() < 0.3:  # a second barcode: another pack size, an old label
                codes.append(barcode(barcodes + 1))
            barcodes += len(codes)
            writer.writerow(
                (
                    name,
                    price,
                    1000 + i,  # the cashier's quick code, unique
                    "|".join(codes),
                    rng.choices(taxes, weights)[0],
                    rng.randint(1, 5),
                    0 if rng.random() < 0.02 else 1,
                    "true" if weighed else "false",
                )
            )
    return barcodes


# --- databases ------------------------------------------------------------------------------


@contextmanager
def fresh_database(postgres_url: str | None, directory: Path) -> Iterator[str]:
    """A new, empty database for one size: a SQLite file, or the named PostgreSQL database."""
    if postgres_url is None:
        yield f"sqlite:///{directory / 'bench.sqlite3'}"
        return
    base, name = postgres_url.rsplit("/", 1)
    admin_url = f"{base}/postgres"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists:
            raise BenchError(f"database {name!r} already exists: name one that does not")
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_url
    finally:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def add_database_url(parser: argparse.ArgumentParser, per: str) -> None:
    """The ``--database-url`` option of the benchmarks that use :func:`fresh_database`;
    ``per``: how often the named database is created and dropped ("the run", "each run")."""
    parser.add_argument(
        "--database-url",
        default=None,
        metavar="postgresql://…/NAME",
        help=f"measure on PostgreSQL: NAME is created for {per} and dropped; it must not exist",
    )


def stored_catalogue(url: str) -> tuple[list[int], list[str], list[int]]:
    """Ids, barcodes and revisions of the live products, read before the server starts."""
    queries = (
        "SELECT id AS v FROM products WHERE deleted_at IS NULL ORDER BY id",
        "SELECT barcode AS v FROM product_barcodes ORDER BY barcode",
        "SELECT revision AS v FROM products ORDER BY revision",
    )
    if url.startswith("sqlite:"):
        lite = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            ids, codes, revisions = ([r[0] for r in lite.execute(q)] for q in queries)
        finally:
            lite.close()
    else:
        with psycopg.connect(url) as pg:
            ids, codes, revisions = ([r[0] for r in pg.execute(q)] for q in queries)
    return ids, codes, revisions


def vacuum(url: str) -> None:
    """What autovacuum does a minute after the import: statistics and the visibility map."""
    tables = ("products", "product_barcodes", "product_addons")
    if url.startswith("sqlite:"):
        lite = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            lite.execute("ANALYZE")
        finally:
            lite.close()
        return
    with psycopg.connect(url, autocommit=True) as pg:
        pg.execute(f"VACUUM ANALYZE {', '.join(tables)}")


def environment(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINIPOS_")}
    return {
        **env,
        "MINIPOS_DATABASE_URL": url,
        "MINIPOS_SECRET_KEY": "bench-pepper",
        "MINIPOS_ACCESS_LOG": "false",
    }


def start_server(directory: Path, env: dict[str, str]) -> Server:
    port = free_port()
    command = [*minipos_command(), "serve", "--port", str(port)]
    return Server(
        "minipos", command, env=env, cwd=directory, port=port, ready_path="/health", cpu=SERVER_CPU
    )


# --- the client -----------------------------------------------------------------------------


class Client:
    """One keep-alive HTTP connection with an API key, like a station's or an integrator's."""

    def __init__(self, port: int, key: str) -> None:
        self.connection = http.client.HTTPConnection(HOST, port, timeout=30)
        self.headers = {"Authorization": f"Token {key}"}

    def get(self, path: str) -> tuple[int, bytes, float]:
        """Status, body and seconds from sending to the last byte of the answer."""
        started = time.perf_counter()
        self.connection.request("GET", path, headers=self.headers)
        reply = self.connection.getresponse()
        body = reply.read()
        return reply.status, body, time.perf_counter() - started


def measure(
    client: Client, paths: list[str], check: Callable[[bytes], None], warmup: int, pid: int
) -> dict[str, float | None]:
    """Send ``paths`` one after another (after ``warmup`` unmeasured ones); latency figures,
    and CPU use of the server process and of CPUs 0 and 1 while it ran."""
    for path in paths[:warmup]:
        status, body, _ = client.get(path)
        if status != 200:
            raise BenchError(f"GET {path}: {status} {body[:300]!r}")
    latencies = []
    before = cpustat.sample(pid)
    started = time.perf_counter()
    for path in paths[warmup:]:
        status, body, seconds = client.get(path)
        if status != 200:
            raise BenchError(f"GET {path}: {status} {body[:300]!r}")
        latencies.append(seconds)
        check(body)  # outside the timing; cheap next to a request
    elapsed = time.perf_counter() - started
    cpu = cpustat.usage(before, cpustat.sample(pid))
    server, cpu0 = cpu.get("server_pct"), cpu.get(f"cpu{SERVER_CPU}_busy_pct")
    return {
        **summary(latencies, elapsed),
        "server_cpu_pct": server,
        "cpu0_busy_pct": cpu0,
        "cpu1_busy_pct": cpu.get(f"cpu{CLIENT_CPU}_busy_pct"),
        "cpu0_other_pct": None if server is None or cpu0 is None else round(cpu0 - server, 1),
    }


def summary(latencies: list[float], elapsed: float) -> dict[str, float]:
    ordered = sorted(latencies)

    def rank(q: float) -> float:  # nearest-rank percentile, in ms
        return round(ordered[max(0, math.ceil(q * len(ordered)) - 1)] * 1000, 3)

    return {
        "requests": len(ordered),
        "per_second": round(len(ordered) / elapsed, 1),
        "mean_ms": round(sum(ordered) / len(ordered) * 1000, 3),
        "p50_ms": rank(0.50),
        "p99_ms": rank(0.99),
        "max_ms": round(ordered[-1] * 1000, 3),
    }


# --- one size -------------------------------------------------------------------------------


def run_size(size: int, args: argparse.Namespace) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix=f"minipos-catalogue-{size}-") as tmp,
        fresh_database(args.database_url, Path(tmp)) as url,
    ):
        directory = Path(tmp)
        env = environment(url)
        run_cli(["db", "upgrade"], env, directory)
        key = run_cli(["key", "create", "--role", "integrator"], env, directory).strip()

        csv_path = directory / "catalogue.csv"
        barcodes = write_catalogue(csv_path, size)
        empty = directory / "empty.csv"
        empty.write_text(csv_path.read_text(encoding="utf-8").partition("\n")[0] + "\n")
        # The fixed cost of the command (interpreter, imports, migration check): an empty file.
        fixed = timed(lambda: run_cli(["catalogue", "import", str(empty)], env, directory))
        seconds = timed(lambda: run_cli(["catalogue", "import", str(csv_path)], env, directory))

        ids, codes, revisions = stored_catalogue(url)
        if len(ids) != size or len(codes) != barcodes:
            raise BenchError(f"imported {len(ids)} products / {len(codes)} barcodes, not {size}")
        print(
            f"{size:>7,} products ({barcodes:,} barcodes): import {seconds:.2f} s"
            f" (of which {fixed:.2f} s is the command itself, timed on an empty file)",
            flush=True,
        )

        if args.vacuum:
            vacuum(url)
        rng = random.Random(SEED)
        count = args.warmup + args.requests
        cursors = revisions[: len(revisions) - FEED_LIMIT] or [0]  # every page is full
        paths = {
            "health": ["/health"] * count,
            "by_id": [f"/api/products/{rng.choice(ids)}" for _ in range(count)],
            "barcode": [f"/api/products?barcode={quote(rng.choice(codes))}" for _ in range(count)],
            "feed_page": [
                f"/api/products?updated_since={rng.choice(cursors)}&limit={FEED_LIMIT}"
                for _ in range(count)
            ],
            "feed_poll": [f"/api/products?updated_since={cursors[-1]}&limit={FEED_LIMIT}"] * count,
        }
        checks: dict[str, Callable[[bytes], None]] = {
            "health": lambda body: None,
            "by_id": lambda body: expect(body.startswith(b'{"id":'), "a product"),
            "barcode": lambda body: expect(body.count(b'"created_at"') == 1, "one product"),
            "feed_page": lambda body: expect(
                body.count(b'"deleted":') == min(FEED_LIMIT, size), "a full page"
            ),
            "feed_poll": lambda body: expect(
                body.count(b'"deleted":') == min(FEED_LIMIT, size), "a full page"
            ),
        }
        with start_server(directory, env) as server:
            client = Client(server.port, key)
            results = {
                name: measure(client, paths[name], checks[name], args.warmup, server.pid)
                for name in ENDPOINTS
            }
            client.connection.close()
    return {
        "products": size,
        "barcodes": barcodes,
        "import_s": round(seconds, 3),
        "import_empty_file_s": round(fixed, 3),
        "import_net_s": round(max(seconds - fixed, 0.0), 3),
        "import_products_per_s": round(size / max(seconds - fixed, 0.01)),
        "endpoints": results,
    }


def timed(job: Callable[[], object]) -> float:
    started = time.perf_counter()
    job()
    return time.perf_counter() - started


def expect(condition: bool, what: str) -> None:
    if not condition:
        raise BenchError(f"the answer was not {what}")


# --- report ---------------------------------------------------------------------------------


def print_table(result: dict[str, Any], *, own_database: bool) -> None:
    """One size's figures. ``own_database``: SQLite, in the server process, so any CPU 0 time
    beyond the server's was another process's (with PostgreSQL it includes the database's)."""
    print(
        f"\n{result['products']:,} products: import {result['import_s']:.2f} s"
        f" ({result['import_net_s']:.2f} s net of the command's start-up,"
        f" {result['import_products_per_s']:,} products/s)"
    )
    print(
        f"  {'request':<30} {'req/s':>7} {'mean ms':>8} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7}"
        f" {'srv CPU':>7} {'CPU0 other':>10}"
    )
    for name in ENDPOINTS:
        e = result["endpoints"][name]
        other = e["cpu0_other_pct"]
        disturbed = own_database and other is not None and other > DISTURBED_PCT
        flag = "  disturbed" if disturbed else ""
        print(
            f"  {LABELS[name]:<30} {e['per_second']:>7,.0f} {e['mean_ms']:>8.2f}"
            f" {e['p50_ms']:>7.2f} {e['p99_ms']:>7.2f} {e['max_ms']:>7.2f}"
            f" {percent(e['server_cpu_pct']):>7} {percent(other):>10}{flag}"
        )


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} %"


def ratios(small: dict[str, Any], large: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Largest / smallest size, per request and figure (> 1: slower with more products)."""
    return {
        name: {
            figure: round(large["endpoints"][name][figure] / small["endpoints"][name][figure], 2)
            for figure in ("mean_ms", "p50_ms", "p99_ms")
        }
        for name in ENDPOINTS
    }


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return {
        "cpu": model,
        "cpus": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "commit": commit,
    }


def wait_quiet(patience: float) -> dict[int, float]:
    """Wait up to ``patience`` seconds until CPUs 0 and 1 are both under 10 % busy."""
    deadline = time.monotonic() + patience
    while True:
        busy = cpustat.busy_now(1.0)
        quiet = all(busy.get(cpu, 0) < 10 for cpu in (SERVER_CPU, CLIENT_CPU))
        if quiet or time.monotonic() >= deadline:
            if not quiet:
                print(f"warning: the CPUs are busy before the start: {busy}", file=sys.stderr)
            return busy


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000", help="catalogue sizes, comma-separated")
    parser.add_argument("--requests", type=int, default=2000, help="measured requests each")
    parser.add_argument("--warmup", type=int, default=200, help="unmeasured requests first")
    parser.add_argument("--database-url", help="postgresql://…/<new db> instead of SQLite")
    parser.add_argument(
        "--vacuum",
        action="store_true",
        help="VACUUM ANALYZE (SQLite: ANALYZE) after the import, before the server starts",
    )
    parser.add_argument(
        "--wait-quiet", type=float, default=0, help="wait up to S s for CPUs 0 and 1 to be idle"
    )
    parser.add_argument("--output", type=Path, default=None, help="results JSON")
    args = parser.parse_args()
    sizes = sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()})
    if not sizes or sizes[0] < 1 or args.requests < 1:
        parser.error("--sizes needs positive numbers and --requests at least 1")
    if args.database_url and not args.database_url.startswith("postgresql://"):
        parser.error("--database-url must be postgresql://…/<database to create>")
    output = args.output or Path(__file__).with_name("results") / "catalogue.json"

    try:
        os.sched_setaffinity(0, {CLIENT_CPU})  # the import and the client; the server on CPU 0
    except OSError:
        print("warning: cannot pin to CPU 1; running unpinned", file=sys.stderr)
    started = datetime.now(UTC)
    busy = wait_quiet(args.wait_quiet)
    try:
        results = [run_size(size, args) for size in sizes]
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130

    for result in results:
        print_table(result, own_database=not args.database_url)
    report: dict[str, Any] = {
        "started_at": started.isoformat(timespec="seconds"),
        "database": "postgresql" if args.database_url else "sqlite",
        "requests": args.requests,
        "warmup": args.warmup,
        "feed_limit": FEED_LIMIT,
        "vacuum_after_import": args.vacuum,
        "machine": machine(),
        "cpu_busy_before_pct": busy,
        "sizes": results,
    }
    flat = True
    if len(results) > 1:
        small, large = results[0], results[-1]
        report["ratios_largest_to_smallest"] = ratios(small, large)
        print(f"\n{large['products']:,} / {small['products']:,} products (latency ratio):")
        print(
            f"  {'request':<30} {'mean':>6} {'p50':>6} {'p99':>6}  target ≤ {TARGET_RATIO}× (mean, p50)"
        )
        for name in ENDPOINTS:
            r = report["ratios_largest_to_smallest"][name]
            ok = max(r["mean_ms"], r["p50_ms"]) <= TARGET_RATIO
            if name in TARGETED:
                flat &= ok
            verdict = "" if name == "health" else ("flat" if ok else "NOT FLAT")
            print(
                f"  {LABELS[name]:<30} {r['mean_ms']:>5.2f}× {r['p50_ms']:>5.2f}× {r['p99_ms']:>5.2f}×  {verdict}"
            )
        report["flat"] = flat
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"\nresults: {output}")
    return 0 if flat else 2


if __name__ == "__main__":
    sys.exit(main())
