"""Baseline for the POST benchmark: the least an invoice API with the same durability can do.

Starlette + raw ``sqlite3`` on a database migrated by ``minipos db upgrade`` (same schema), with
the same durability as the product (WAL, ``synchronous=FULL``) and the same group commit: one
writer thread takes every waiting job, inserts each inside a SAVEPOINT, COMMITs once (one fsync
for the group) and only then answers the jobs through the event loop.

What it leaves out is everything that is not storage: no authentication, no validation, no
Decimal pricing, no response document. The body is decoded into plain dicts (numbers become
floats), turned into the storage form of our schema (integer cents and thousandths, JSON text
for ``info``) and stored as the header row, its rows and its payments; the answer is
``{"id": N}``. The gap between this and ``minipos serve`` is what our own code costs.

Run (``bench/run.py`` does this)::

    BASELINE_DB=/tmp/x.sqlite3 uvicorn baseline_app:app --app-dir bench \\
        --loop uvloop --http httptools --no-access-log
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import queue
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

#: Same bound as the product's writer: most jobs one COMMIT carries.
MAX_GROUP = 256

_HEADER_SQL = (
    "INSERT INTO invoices (invoice_no, mode, status, pos_id, station_group, discount,"
    " discount_type, comment, print_paper_receipt, keep_drawer_closed, is_auto_open, info,"
    " total_sum, changed_sum, created_at, updated_at, request_hash)"
    " VALUES (?, ?, 10, ?, '1', ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)"
)
_ROW_SQL = (
    "INSERT INTO invoice_rows (invoice_id, position, code, text, quantity, maxquantity,"
    " init_quantity, price, is_free_price, is_weight, tax, tax_rate, fiscal_section, discount,"
    " discount_type, payload, info) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_PAYMENT_SQL = (
    "INSERT INTO invoice_payments (invoice_id, position, method_id, method_name, amount)"
    " VALUES (?, ?, ?, ?, ?)"
)
#: Tax rates in cents of a percent, as our schema stores them (21 % → 2100).
_TAX_RATES = {0: 2100, 1: 1200, 2: 500, 3: 0, 4: 0, 5: 0}
_METHOD_NAMES = {1: "Skaidrā nauda", 2: "Karte", 3: "Pārskaitījums"}

_encoder = msgspec.json.Encoder()


def _minor(value: Any, scale: int) -> int:
    return round(float(value) * scale)


class Prepared:
    """One invoice in storage form: parameter tuples for the three INSERTs."""

    __slots__ = ("header", "payments", "rows")

    def __init__(self, doc: dict[str, Any], body: bytes) -> None:
        now = time.time_ns() // 1000
        rows = doc.get("rows") or []
        # A plain total with no rounding rules: only so that the column holds something real.
        total = sum(_minor(r.get("price", 0), 100) * float(r.get("quantity", 0)) for r in rows)
        self.header = (
            doc["invoice_no"],
            int(doc.get("mode", 1)),
            doc.get("pos_id"),
            _minor(doc.get("discount", 0), 100),
            doc.get("discount_type"),
            doc.get("comment"),
            doc.get("print_paper_receipt"),
            bool(doc.get("keep_drawer_closed", False)),
            bool(doc.get("is_auto_open", False)),
            _encoder.encode(doc.get("info") or {}).decode(),
            round(total) - _minor(doc.get("discount", 0), 100),
            now,
            now,
            hashlib.sha256(body).hexdigest(),
        )
        self.rows = [
            (
                position,
                r.get("code", "0"),
                r["text"],
                _minor(r["quantity"], 1000),
                _minor(r["quantity"], 1000),
                _minor(r["price"], 100),
                bool(r.get("is_free_price", False)),
                bool(r.get("is_weight", False)),
                int(r.get("tax", 0)),
                _TAX_RATES.get(int(r.get("tax", 0)), 0),
                int(r.get("fiscal_section", 1)),
                _minor(r.get("discount", 0), 100),
                r.get("discount_type"),
                r.get("payload"),
                _encoder.encode(r.get("info") or {}).decode(),
            )
            for position, r in enumerate(rows)
        ]
        self.payments = [
            (
                position,
                int(p["method_id"]),
                p.get("method_name") or _METHOD_NAMES.get(int(p["method_id"]), "?"),
                None if p.get("amount") is None else _minor(p["amount"], 100),
            )
            for position, p in enumerate(doc.get("payments") or [])
        ]


class _Job:
    __slots__ = ("future", "invoice")

    def __init__(self, invoice: Prepared, future: asyncio.Future[int]) -> None:
        self.invoice = invoice
        self.future = future


class GroupWriter:
    """The single writer thread: one transaction and one COMMIT per batch of waiting jobs."""

    def __init__(self, path: str, loop: asyncio.AbstractEventLoop) -> None:
        self._path = path
        self._loop = loop
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="baseline-writer", daemon=True)
        self._thread.start()

    async def insert(self, invoice: Prepared) -> int:
        job = _Job(invoice, self._loop.create_future())
        self._queue.put(job)
        return await job.future

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=10000")
        while True:
            first = self._queue.get()
            if first is None:
                break
            group = [first]
            stop = False
            with contextlib.suppress(queue.Empty):
                while len(group) < MAX_GROUP:
                    item = self._queue.get_nowait()
                    if item is None:
                        stop = True
                        break
                    group.append(item)
            outcomes = self._commit(conn, group)
            # One wake-up of the event loop per group, not one per job.
            self._loop.call_soon_threadsafe(_settle, group, outcomes)
            if stop:
                break
        conn.close()

    @staticmethod
    def _commit(conn: sqlite3.Connection, group: list[_Job]) -> list[int | Exception]:
        outcomes: list[int | Exception] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for job in group:
                inv = job.invoice
                conn.execute("SAVEPOINT job")  # a failing invoice rolls back alone
                try:
                    invoice_id = conn.execute(_HEADER_SQL, inv.header).lastrowid
                    assert invoice_id is not None
                    conn.executemany(_ROW_SQL, [(invoice_id, *row) for row in inv.rows])
                    conn.executemany(_PAYMENT_SQL, [(invoice_id, *p) for p in inv.payments])
                except sqlite3.Error as exc:
                    conn.execute("ROLLBACK TO job")
                    outcomes.append(exc)
                else:
                    outcomes.append(invoice_id)
                conn.execute("RELEASE job")
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            return [exc] * len(group)
        return outcomes


def _settle(group: list[_Job], outcomes: list[int | Exception]) -> None:
    for job, outcome in zip(group, outcomes, strict=True):
        if job.future.cancelled():
            continue
        if isinstance(outcome, Exception):
            job.future.set_exception(outcome)
        else:
            job.future.set_result(outcome)


async def create_invoice(request: Request) -> Response:
    body = await request.body()
    try:
        invoice = Prepared(msgspec.json.decode(body), body)
    except (msgspec.DecodeError, KeyError, TypeError, ValueError) as exc:
        return _json({"detail": f"bad invoice: {exc}"}, 400)
    writer: GroupWriter = request.app.state.writer
    try:
        invoice_id = await writer.insert(invoice)
    except sqlite3.IntegrityError as exc:
        return _json({"detail": str(exc)}, 400)
    except sqlite3.Error as exc:
        return _json({"detail": str(exc)}, 503)
    return _json({"id": invoice_id}, 200)


async def health(request: Request) -> Response:
    return _json({"status": "ok"}, 200)


def _json(content: dict[str, Any], status: int) -> Response:
    return Response(_encoder.encode(content), status_code=status, media_type="application/json")


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    app.state.writer = GroupWriter(os.environ["BASELINE_DB"], asyncio.get_running_loop())
    try:
        yield
    finally:
        app.state.writer.close()


app = Starlette(
    routes=[
        Route("/api/invoice/new", create_invoice, methods=["POST"]),
        Route("/health", health, methods=["GET"]),
    ],
    lifespan=lifespan,
)
