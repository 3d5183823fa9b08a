"""Closing a shift of N receipts (issue 14: "well under a second"), in-process so that only the
close is timed: seed one shift (not timed), put a float, cash in and out on it, then time the
X-report (the same figures, read-only) a few times and the close (the Z: totals, drawer,
counts, hash, journal entry and print job, one transaction) once.

    .venv/bin/python bench/z_close_bench.py [--receipts 10000] [--database-url URL]

Without ``--database-url``, a fresh SQLite file in a temporary directory.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from minipos.config import Settings
from minipos.db import open_database
from minipos.domain.shift import CashKind
from minipos.invoices.service import ShopConfig
from minipos.print_jobs.journal import JournalledZReport, journal_context
from minipos.print_jobs.settings import PrintSettings
from minipos.receipts import audit
from minipos.stations import service as stations
from minipos.stations.schemas import CashMoveIn, ShiftCloseIn
from minipos.stations.service import StationContext
from minipos.timeutil import now_us
from servers import DEMO_SHOP


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--receipts", type=int, default=10_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--repeat", type=int, default=5, help="X-reports timed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="minipos-z-") as directory:
        url = args.database_url or f"sqlite:///{Path(directory) / 'bench.sqlite3'}"
        os.environ.update({**DEMO_SHOP, "MINIPOS_DATABASE_URL": url})
        os.environ.setdefault("MINIPOS_SECRET_KEY", "bench-pepper")
        from seed import seed_shift  # noqa: PLC0415 - reads the environment set just above

        started = time.perf_counter()
        station_id = seed_shift(args.receipts)
        print(f"seeded {args.receipts} receipts in {time.perf_counter() - started:.1f} s")
        print(run(url, station_id, args))
    return 0


def run(url: str, station_id: int, args: argparse.Namespace) -> dict[str, Any]:
    settings = Settings.from_env()
    shop = ShopConfig(settings.reference(), settings.zone(), settings.station_group)
    journal = journal_context(PrintSettings.from_env(), shop)
    ctx = StationContext(
        shop, settings.secret_key.encode(), 3_600_000_000, JournalledZReport(journal)
    )
    db = open_database(url)
    try:
        for kind, amount in ((CashKind.IN, "100"), (CashKind.OUT, "40")):
            db.run(
                lambda conn, kind=kind, amount=amount: stations.move_cash(
                    conn,
                    station_id,
                    kind=kind,
                    data=CashMoveIn(amount=Decimal(amount), reason="bench"),
                    ctx=ctx,
                    now_us=now_us(),
                )
            )
        shift_id = db.run(lambda conn: stations.current_shift(conn, station_id)["id"])
        totals_s = _times(
            args.repeat,
            lambda: db.run(lambda conn: audit.shift_totals(conn, shift_id, ctx.cash_methods)),
        )
        by_receipt_s = _times(
            args.repeat,
            lambda: db.run(lambda conn: audit.receipt_totals(conn, shift_id, ctx.cash_methods)),
        )
        x_s = _times(
            args.repeat,
            lambda: db.run(lambda conn: stations.x_report(conn, station_id, ctx, now_us())),
        )
        started = time.perf_counter()
        closed = db.run(
            lambda conn: stations.close_shift(
                conn, station_id, ShiftCloseIn(counted_cash=Decimal(0)), ctx, now_us()
            )
        )
        close_s = time.perf_counter() - started
        assert closed.report.receipts == args.receipts
        return {
            "database": url.split(":", 1)[0],
            "receipts": args.receipts,
            "receipt_totals_median_s": round(statistics.median(totals_s), 3),
            "receipt_by_receipt_median_s": round(statistics.median(by_receipt_s), 3),
            "x_report_median_s": round(statistics.median(x_s), 3),
            "z_close_s": round(close_s, 3),
            "expected_cash": str(closed.report.drawer.expected if closed.report.drawer else None),
        }
    finally:
        db.close()


def _times(repeat: int, job: Any) -> list[float]:
    found = []
    for _ in range(repeat):
        started = time.perf_counter()
        job()
        found.append(time.perf_counter() - started)
    return found


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    sys.exit(main())
