"""A chain of shops in real processes (issue #13, docs/stores.md): a centre ``minipos serve``
on PostgreSQL, store ``minipos serve`` processes on SQLite, each store talking to the centre
through its own :class:`faultproxy.FaultProxy`; and the checks of the end state every chain
test ends in (:func:`assert_converged`).

What the processes hold is read through their APIs where the issue names one, and straight from
their databases for the bookkeeping columns the end state is about (outbox rows, ``common_id``,
the centre's copies): a read-only ``sqlite3`` connection at a store, ``psycopg`` at the centre.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
from serverproc import NoAnswer, Server, call, wait_until

from faultproxy import FaultProxy
from minipos.auth.principal import Role
from minipos.auth.service import create_key
from minipos.db import migrate, open_database
from minipos.timeutil import now_us

PG_ADMIN_URL = os.environ.get("MINIPOS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")

#: The sync worker's timings (push woken by commits or each second, pull every 5 s, backoff
#: 1, 2, 4 … 30 s) are constants, not settings: the deadlines below allow for them.
FAST_SYNC = {"MINIPOS_ACCESS_LOG": "false"}


@contextlib.contextmanager
def fresh_postgres() -> Iterator[str]:
    """A new, migrated PostgreSQL database for one test; dropped afterwards."""
    name = f"minipos_chain_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        migrate.upgrade(url)
        yield url
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _base_env(pepper: str) -> dict[str, str]:
    return {**os.environ, **FAST_SYNC, "MINIPOS_SECRET_KEY": pepper}


def _key_from(output: str) -> str:
    """The key a CLI printed: a bare key on the last line, or JSON with a ``key``."""
    text = output.strip()
    with contextlib.suppress(ValueError):
        data = json.loads(text)
        if isinstance(data, dict) and "key" in data:
            return str(data["key"])
    return text.splitlines()[-1].strip()


SKEW_DIR = Path(__file__).with_name("skewclock")


def skewed_clock(seconds: float) -> dict[str, str]:
    """The environment of a process whose wall clock runs ``seconds`` ahead (test-only, by
    tests/e2e/skewclock/sitecustomize.py): ``time.time`` and ``time.time_ns`` are shifted,
    so every timestamp the server makes is."""
    path = os.environ.get("PYTHONPATH")
    return {
        "PYTHONPATH": f"{SKEW_DIR}{os.pathsep}{path}" if path else str(SKEW_DIR),
        "MINIPOS_TEST_CLOCK_OFFSET_SECONDS": str(seconds),
    }


class Node:
    """One ``minipos serve`` process and its admin key."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        cwd.mkdir(parents=True, exist_ok=True)
        self.server = Server(env, cwd)
        self.admin = ""

    def make_admin(self) -> None:
        """An admin key, written straight into the database (a ``minipos key create`` costs
        seconds of start-up per call; test 2 runs the CLI)."""
        pepper = self.server.env["MINIPOS_SECRET_KEY"].encode()
        db = open_database(self.server.env["MINIPOS_DATABASE_URL"])
        try:
            self.admin = db.run(
                lambda conn: create_key(conn, pepper, Role.ADMIN, now_us=now_us())
            ).key
        finally:
            db.close()

    def call(self, method: str, path: str, body: Any = None, key: str | None = None) -> Any:
        """A request that must succeed (2xx); its decoded answer."""
        status, data = call(self.server, key or self.admin, method, path, body)
        assert 200 <= status < 300, (method, path, status, data)
        return data

    def try_call(
        self, method: str, path: str, body: Any = None, key: str | None = None
    ) -> tuple[int, Any]:
        return call(self.server, key or self.admin, method, path, body)

    def verify(self) -> str:
        done = self.server.cli("verify")
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout + done.stderr

    def log(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.server.cwd.glob("server-*.log")))


class Centre(Node):
    def __init__(self, root: Path, database_url: str) -> None:
        env = _base_env("chain-centre-pepper") | {
            "MINIPOS_MODE": "central",
            "MINIPOS_DATABASE_URL": database_url,
        }
        super().__init__(env, root / "centre")
        self.database_url = database_url

    def add_store(self, code: str, name: str) -> str:
        """``POST /api/stores``: the store key it answers once."""
        status, store = self.try_call("POST", "/api/stores", {"code": code, "name": name})
        assert status == 201, store
        assert store["code"] == code
        return str(store["key"])

    def integrator_key(self, store: str | None = None) -> str:
        args = ["key", "create", "--role", "integrator"]
        if store is not None:
            args += ["--store", store]
        created = self.server.cli(*args)
        assert created.returncode == 0, created.stdout + created.stderr
        return _key_from(created.stdout)

    def query(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            return list(conn.execute(sql, params).fetchall())

    def documents(self, code: str) -> list[tuple[str, str]]:
        """Every receipt the centre holds for store ``code``: (pos_id, document_id), duplicates
        kept."""
        rows = self.query(
            "SELECT st.pos_id, r.document_id FROM receipts r"
            " JOIN stations st ON st.id = r.station_id JOIN stores so ON so.id = st.store_id"
            " WHERE so.code = %s",
            (code,),
        )
        return [(str(p), str(d)) for p, d in rows]

    def shifts(self, code: str) -> list[tuple[str, int, bool, bool, Any]]:
        """(pos_id, z_number, closed, reconciled, reconcile_note) per shift of store ``code``."""
        rows = self.query(
            "SELECT st.pos_id, sh.z_number, sh.close_date IS NOT NULL,"
            " sh.reconciled_at IS NOT NULL, sh.reconcile_note FROM shifts sh"
            " JOIN stations st ON st.id = sh.station_id JOIN stores so ON so.id = st.store_id"
            " WHERE so.code = %s ORDER BY st.pos_id, sh.z_number",
            (code,),
        )
        return [(str(p), int(z), bool(c), bool(r), n) for p, z, c, r, n in rows]

    def invoices(self, code: str) -> int:
        return int(
            self.query(
                "SELECT count(*) FROM invoices i JOIN stores so ON so.id = i.store_id"
                " WHERE so.code = %s",
                (code,),
            )[0][0]
        )


class Store(Node):
    """A store process behind its own fault proxy to the centre."""

    def __init__(
        self,
        root: Path,
        code: str,
        centre: Centre,
        key: str,
        template: Path,
        seed: int,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.code = code
        self.proxy = FaultProxy(centre.server.port, seed=seed, delay=0.5).start()
        self.db_path = root / code / "store.sqlite3"
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(template, self.db_path)
        env = _base_env(f"chain-{code}-pepper") | {
            "MINIPOS_MODE": "store",
            "MINIPOS_DATABASE_URL": f"sqlite:///{self.db_path}",
            "MINIPOS_CENTRAL_URL": self.proxy.url,
            "MINIPOS_CENTRAL_KEY": key,
        }
        super().__init__(env | (extra_env or {}), root / code)
        #: pos_id → the station (with its ``key``).
        self.stations: dict[str, dict[str, Any]] = {}
        self._sales = Counter[str]()
        self._lock = threading.Lock()

    def start(self) -> None:
        self.server.start()

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Until ``/ready`` answers 200: the first pull from the centre was applied."""

        def ready() -> bool:
            try:
                return self.server.request("GET", "/ready")[0] == 200
            except OSError:
                return False

        wait_until(ready, f"{self.code} ready (its first pull)", timeout)

    # --- stations and sales ---

    def open_station(self, pos_id: str) -> dict[str, Any]:
        body = {"name": f"Kase {pos_id}", "pos_id": pos_id, "chassis_id": f"{self.code}-C{pos_id}"}
        station = dict(self.call("POST", "/api/stations", body))
        self.call("POST", f"/api/stations/{station['id']}/shift/open", {}, key=station["key"])
        self.stations[pos_id] = station
        return station

    def request_id(self, prefix: str) -> str:
        with self._lock:
            self._sales[prefix] += 1
            return f"{self.code}-{prefix}-{self._sales[prefix]}"

    def walk_in_body(self, rows: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        return {
            "request_id": self.request_id("walk"),
            "rows": rows or [{"text": "Maize", "price": "0.80", "quantity": 2}],
            "payments": [{"method_id": 1}],
        }

    def walk_in(self, pos_id: str, rows: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """A walk-in sale at station ``pos_id``: the receipt."""
        station = self.stations[pos_id]
        path = f"/api/stations/{station['id']}/receipts"
        return dict(self.call("POST", path, self.walk_in_body(rows), key=station["key"]))

    def post_invoice(self, comment: str = "") -> dict[str, Any]:
        body = {"comment": comment, "rows": [{"text": "Prece", "quantity": 1, "price": "1.25"}]}
        return dict(self.call("POST", "/api/invoice/new", body))

    def complete(self, pos_id: str, invoice_id: int) -> dict[str, Any]:
        """Claim and complete invoice ``invoice_id`` at station ``pos_id``."""
        station = self.stations[pos_id]
        key = station["key"]
        self.call("POST", f"/api/invoice/{invoice_id}/claim", key=key)
        body = {"request_id": self.request_id("inv"), "payments": [{"method_id": 1}]}
        return dict(self.call("POST", f"/api/invoice/{invoice_id}/complete", body, key=key))

    def close_shift(self, pos_id: str) -> dict[str, Any]:
        station = self.stations[pos_id]
        path = f"/api/stations/{station['id']}/shift/close"
        return dict(self.call("POST", path, {}, key=station["key"]))

    def open_shift(self, pos_id: str) -> dict[str, Any]:
        station = self.stations[pos_id]
        path = f"/api/stations/{station['id']}/shift/open"
        return dict(self.call("POST", path, {}, key=station["key"]))

    def feed(self, pos_id: str) -> list[dict[str, Any]]:
        station = self.stations[pos_id]
        return list(self.call("GET", f"/api/stations/{station['id']}/feed", key=station["key"]))

    # --- its database ---

    def query(self, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=10)
        try:
            return list(conn.execute(sql, params).fetchall())
        finally:
            conn.close()

    def outbox(self) -> Counter[str]:
        """Outbox rows by status."""
        return Counter(
            {
                str(s): int(n)
                for s, n in self.query("SELECT status, count(*) FROM sync_outbox GROUP BY status")
            }
        )

    def documents(self) -> list[tuple[str, str]]:
        rows = self.query(
            "SELECT st.pos_id, r.document_id FROM receipts r JOIN stations st ON st.id = r.station_id"
        )
        return [(str(p), str(d)) for p, d in rows]

    def shifts(self) -> list[tuple[str, int, bool]]:
        rows = self.query(
            "SELECT st.pos_id, sh.z_number, sh.close_date IS NOT NULL FROM shifts sh"
            " JOIN stations st ON st.id = sh.station_id ORDER BY st.pos_id, sh.z_number"
        )
        return [(str(p), int(z), bool(c)) for p, z, c in rows]

    def synced(self) -> bool:
        """No outbox item waits (pending) or is held (quarantined)."""
        counts = self.outbox()
        return counts["pending"] == 0 and counts["quarantined"] == 0

    def close(self) -> None:
        self.server.stop()
        self.proxy.stop()


class Chain:
    """A centre and its stores, started; :meth:`close` stops every process and proxy."""

    def __init__(
        self,
        root: Path,
        database_url: str,
        template: Path,
        codes: tuple[str, ...],
        seed: int,
        store_env: dict[str, dict[str, str]] | None = None,
    ) -> None:
        self.root = root
        #: The seed of this run's random choices (proxies, kill moments), printed by the tests.
        self.seed = seed
        self.centre = Centre(root, database_url)
        self.stores: dict[str, Store] = {}
        self.centre.make_admin()
        self.centre.server.start()
        for n, code in enumerate(codes):
            key = self.centre.add_store(code, f"Veikals {code}")
            extra = (store_env or {}).get(code)
            store = Store(root, code, self.centre, key, template, seed + n, extra)
            self.stores[code] = store
            print(store.proxy.describe())
            store.make_admin()
        failures: list[BaseException] = []

        def start(store: Store) -> None:
            try:
                store.start()
            except BaseException as exc:
                failures.append(exc)

        starting = [threading.Thread(target=start, args=(s,)) for s in self.stores.values()]
        for thread in starting:
            thread.start()
        for thread in starting:
            thread.join()
        if failures:
            raise failures[0]
        for store in self.stores.values():
            store.wait_ready()

    def close(self) -> None:
        """Stop every process at once (each waits for its graceful shutdown)."""
        closing = [threading.Thread(target=s.close) for s in self.stores.values()]
        closing.append(threading.Thread(target=self.centre.server.stop))
        for thread in closing:
            thread.start()
        for thread in closing:
            thread.join(60)

    def logs(self) -> str:
        """The tail of every process's log, for a failure's message."""
        parts = [f"--- centre ---\n{self.centre.log()[-4000:]}"]
        parts += [f"--- {c} ---\n{s.log()[-4000:]}" for c, s in self.stores.items()]
        return "\n".join(parts)


def wait_synced(chain: Chain, timeout: float = 60.0) -> None:
    """Until every store's outbox is empty of pending and quarantined items."""
    for store in chain.stores.values():
        wait_until(
            store.synced,
            f"{store.code}'s outbox to drain (now {dict(store.outbox())})\n{chain.logs()}",
            timeout,
        )


def assert_converged(chain: Chain) -> None:
    """The end state of every chain test: for each store, the centre holds exactly the store's
    receipts (by station and number) and shifts, once each; every store invoice and receipt has
    its ``common_id``; the centre's chains verify."""
    centre = chain.centre
    for code, store in chain.stores.items():
        at_centre = centre.documents(code)
        duplicates = [key for key, n in Counter(at_centre).items() if n > 1]
        assert not duplicates, f"{code}: receipts doubled at the centre: {duplicates}"
        assert set(at_centre) == set(store.documents()), (
            f"{code}: only at the store {sorted(set(store.documents()) - set(at_centre))}, "
            f"only at the centre {sorted(set(at_centre) - set(store.documents()))}"
        )
        centre_shifts = [(p, z, c) for p, z, c, _, _ in centre.shifts(code)]
        assert centre_shifts == store.shifts(), code
        no_id = store.query("SELECT id FROM invoices WHERE common_id IS NULL")
        assert not no_id, f"{code}: invoices without common_id: {no_id}"
        unsynced = store.query(
            "SELECT id FROM invoices WHERE synchronized_at IS NULL OR common_id IS NULL"
        )
        assert not unsynced, f"{code}: invoices without synchronized_at: {unsynced}"
        no_id = store.query("SELECT id FROM receipts WHERE common_id IS NULL")
        assert not no_id, f"{code}: receipts without common_id: {no_id}"
        no_shift = store.query("SELECT id FROM shifts WHERE common_shift IS NULL")
        assert not no_shift, f"{code}: shifts without common_shift: {no_shift}"
        assert centre.invoices(code) == len(store.query("SELECT id FROM invoices")), code
        # The ids the store wrote are the centre's ids of the same receipts.
        store_ids = {
            (str(p), str(d)): int(c)
            for p, d, c in store.query(
                "SELECT st.pos_id, r.document_id, r.common_id FROM receipts r"
                " JOIN stations st ON st.id = r.station_id"
            )
        }
        centre_ids = {
            (str(p), str(d)): int(i)
            for p, d, i in centre.query(
                "SELECT st.pos_id, r.document_id, r.id FROM receipts r"
                " JOIN stations st ON st.id = r.station_id JOIN stores so ON so.id = st.store_id"
                " WHERE so.code = %s",
                (code,),
            )
        }
        assert store_ids == centre_ids, code
        # Each store shift's common_shift is the centre's id of it; the centre keeps the
        # store's id as local_id.
        store_shifts = {
            (str(p), int(z)): (int(i), c)
            for p, z, i, c in store.query(
                "SELECT st.pos_id, sh.z_number, sh.id, sh.common_shift FROM shifts sh"
                " JOIN stations st ON st.id = sh.station_id"
            )
        }
        centre_shifts_ids = {
            (str(p), int(z)): (int(local), int(i))
            for p, z, i, local in centre.query(
                "SELECT st.pos_id, sh.z_number, sh.id, sh.local_id FROM shifts sh"
                " JOIN stations st ON st.id = sh.station_id JOIN stores so ON so.id = st.store_id"
                " WHERE so.code = %s",
                (code,),
            )
        }
        assert store_shifts == centre_shifts_ids, code
    centre.verify()


class Load:
    """Background sales at a store: walk-ins and posted invoices completed, on every station,
    tolerating the store going away (a write it died under is simply unsure)."""

    def __init__(self, store: Store, pace: float = 0.05) -> None:
        self.store = store
        self.pace = pace
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []
        self.errors: list[BaseException] = []
        self.done = Counter[str]()

    def __enter__(self) -> Load:
        for pos_id in self.store.stations:
            thread = threading.Thread(target=self._guard, args=(pos_id,), daemon=True)
            self.threads.append(thread)
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)
        assert not self.errors, self.errors

    def _guard(self, pos_id: str) -> None:
        try:
            self._run(pos_id)
        except BaseException as exc:
            self.errors.append(exc)

    def _run(self, pos_id: str) -> None:
        store = self.store
        station = store.stations[pos_id]
        key = station["key"]
        n = 0
        while not self.stop.is_set():
            n += 1
            try:
                if n % 3 == 0:
                    self._invoice(pos_id, key)
                else:
                    path = f"/api/stations/{station['id']}/receipts"
                    status, data = call(store.server, key, "POST", path, store.walk_in_body())
                    self._count(status, data, "walk-in")
            except NoAnswer:
                time.sleep(0.2)  # the store is down: wait for it
            time.sleep(self.pace)

    def _invoice(self, pos_id: str, key: str) -> None:
        store = self.store
        body = {"comment": "load", "rows": [{"text": "Prece", "quantity": 1, "price": "1.25"}]}
        status, invoice = call(store.server, store.admin, "POST", "/api/invoice/new", body)
        if not self._count(status, invoice, "invoice"):
            return
        path = f"/api/invoice/{invoice['id']}"
        status, data = call(store.server, key, "POST", f"{path}/claim")
        if not self._count(status, data, "claim"):
            return
        complete = {"request_id": store.request_id(f"inv{pos_id}"), "payments": [{"method_id": 1}]}
        status, data = call(store.server, key, "POST", f"{path}/complete", complete)
        self._count(status, data, "complete")

    def _count(self, status: int, data: Any, what: str) -> bool:
        if 200 <= status < 300:
            self.done[what] += 1
            return True
        if status >= 500 or status in (400, 401, 403, 422):
            raise AssertionError(f"{self.store.code} {what}: {status} {data}")
        return False  # e.g. 409/503 while starting: not a fault of the chain


def wait_for(what: str, check: Any, timeout: float) -> Any:
    return wait_until(check, what, timeout)
