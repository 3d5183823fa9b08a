"""Database access for both engines behind one small interface.

Repositories are plain functions that take a ``Connection`` and run SQL written once, with
``:name`` parameters, for both engines. Services never open transactions themselves: they hand a
job (a function of a ``Connection``) to ``Database.write`` or ``Database.read``, and the job runs
inside one transaction that commits only if it returns (the unit of work).

SQLite: one writer thread per process owns the only write connection and commits jobs in
groups: it takes every job that is waiting, runs each inside its own SAVEPOINT (so one failing
job rolls back alone), then COMMITs once. With ``synchronous=FULL`` that one commit is one fsync
for the whole group, which is what makes durable writes fast (docs/durability.md). Each job's
caller is answered only after the COMMIT returned. Reads use per-thread read-only connections
(WAL lets them run beside the writer). A lock file keeps a second server process off the file.

PostgreSQL: a connection pool; each job runs in its own transaction on a pool thread. Several
server processes may share the database.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import fcntl
import functools
import logging
import os
import queue
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from operator import itemgetter
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar

import anyio
import anyio.to_thread
import psycopg
import psycopg.errors
import psycopg.rows
import psycopg_pool

log = logging.getLogger(__name__)

T = TypeVar("T")
Params = Mapping[str, Any] | Sequence[Any]

#: Most jobs one SQLite commit carries; bounds the latency a job adds to the others.
MAX_GROUP = 256
#: Seconds between two checkpoints while commits come in. A busy shop's server fills about a
#: thousand WAL pages in that time, SQLite's own default interval; an idle one checkpoints
#: once after its last commit. (The WAL file's size cannot tell: SQLite reuses the file from
#: its start after a checkpoint and never shrinks it.)
CHECKPOINT_EVERY_S = 0.25


class Row(Protocol):
    """A result row: columns by name (``sqlite3.Row`` and psycopg's dict rows both fit)."""

    def __getitem__(self, key: str) -> Any: ...


class UniqueViolation(Exception):
    """An INSERT or UPDATE broke a unique constraint."""

    def involves(self, column: str) -> bool:
        return column in str(self)


class DatabaseUnavailable(Exception):
    """The database cannot take the request (file locked by another server, I/O error)."""


class DatabaseFull(DatabaseUnavailable):
    """The disk (or SQLite's size limit) is full: nothing of the write was kept."""


Flush = Callable[["Connection", list[Any]], None]
#: Told of every change a unit of work records (event type, resource id, its data, time), in
#: that unit of work: how a store's outbox row commits with its change (docs/stores.md).
ChangeHook = Callable[["Connection", Any, int, Any, int], None]
Observer = Callable[[str], object]

#: Test hook (tests count the statements a request runs): an observer set in the context that
#: calls ``Database.read`` or ``write`` is handed the SQL of every statement its jobs run. Unset
#: in production, where it costs one lookup per job and one ``is None`` per statement.
statement_observer: contextvars.ContextVar[Observer | None] = contextvars.ContextVar(
    "statement_observer", default=None
)


class WriteGuard(Protocol):
    """Runs around each write job of the context that set it, inside the job's transaction."""

    def around(self, job: Callable[[Connection], T], conn: Connection) -> T: ...


#: A layer above the services that must act inside a request's own write transaction (the
#: ``Idempotency-Key`` record, minipos.idempotency) sets this for the request; ``write`` wraps
#: each job handed to it from that context. Unset, it costs one lookup per write.
write_guard: contextvars.ContextVar[WriteGuard | None] = contextvars.ContextVar(
    "write_guard", default=None
)


def _guarded(job: Callable[[Connection], T]) -> Callable[[Connection], T]:
    guard = write_guard.get()
    return job if guard is None else functools.partial(guard.around, job)


class Connection:
    """One DBAPI connection inside a transaction, with engine differences ironed out."""

    #: ``_positional``'s statements, per dialect (a wrapper lives for one job on PostgreSQL).
    _positional_cache: ClassVar[dict[str, dict[str, str]]] = {}

    def __init__(
        self,
        raw: Any,
        dialect: str,
        *,
        events: bool = True,
        observer: Observer | None = None,
        on_change: ChangeHook | None = None,
    ) -> None:
        self.raw = raw
        self.dialect = dialect
        self.on_change = on_change
        #: Sees each statement's SQL (``statement_observer``).
        self.observer = observer
        #: Whether changes are written to the event log (off only to measure what it costs).
        self.events = events
        #: Set when the last unit of work wrote any batch (its commit is worth announcing).
        self.wrote_batches = False
        self._translate = _to_pyformat if dialect == "postgresql" else _identity
        self._positional_texts = self._positional_cache.setdefault(dialect, {})
        self._batches: dict[Flush, list[Any]] = {}

    def batch(self, flush: Flush) -> list[Any]:
        """A list that ``flush`` writes at the end of this unit of work, just before COMMIT.

        For rows that must be written last, with the change they belong to: the event log's
        (docs/events.md).
        """
        rows = self._batches.get(flush)
        if rows is None:
            rows = self._batches[flush] = []
        return rows

    def unit(self, job: Callable[[Connection], T]) -> T:
        """Run ``job``, then flush the batches it filled: one unit of work (not yet committed)."""
        self.wrote_batches = False
        try:
            result = job(self)
            for flush, rows in self._batches.items():
                if rows:
                    flush(self, rows)
                    self.wrote_batches = True
            return result
        finally:
            self._batches.clear()

    def execute(self, sql: str, params: Params = ()) -> Any:
        return self._execute(sql, self._translate(sql), params)

    def _execute(self, sql: str, text: str, params: Params) -> Any:
        """Run ``text``, the engine's form of ``sql`` (which the observer sees)."""
        if self.observer is not None:
            self.observer(sql)
        try:
            return self.raw.execute(text, params)
        except (sqlite3.IntegrityError, psycopg.errors.UniqueViolation) as exc:
            if "UNIQUE" in str(exc) or isinstance(exc, psycopg.errors.UniqueViolation):
                raise UniqueViolation(str(exc)) from exc
            raise

    def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        row: Row | None = self.execute(sql, params).fetchone()
        return row

    def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        rows: list[Row] = self.execute(sql, params).fetchall()
        return rows

    def insert(self, sql: str, params: Params) -> int:
        """Run an ``INSERT … RETURNING id`` and give the new id."""
        row = self.fetchone(sql, params)
        assert row is not None, "INSERT without RETURNING id"
        return int(row["id"])

    def execute_many(self, sql: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """One statement for many parameter rows (an INSERT whose ids nobody needs)."""
        if self.observer is not None:
            self.observer(sql)
        self.raw.cursor().executemany(self._translate(sql), rows)

    def insert_many(self, sql: str, rows: Sequence[Mapping[str, Any]]) -> list[int]:
        """Run one ``INSERT … RETURNING id`` for many rows in one call; their new ids, in order.

        SQLite: ``executemany`` of the statement without RETURNING, then the ids counted back
        from ``last_insert_rowid()``: a rowid table hands out max(rowid) + 1 to each row, and
        this connection is the only writer inside its transaction, so they are consecutive.
        """
        return self._insert_many(sql, self._translate(sql), rows)

    def insert_values(self, sql: str, values: Sequence[Any]) -> int:
        """``insert`` with the values in the order the statement names its parameters (an
        ``insert_statement``'s: column order), for hot INSERTs of many columns.

        A tuple binds without a name lookup per parameter. On SQLite the id is the cursor's
        ``lastrowid`` (``id`` is the rowid; the statement inserts one row), not RETURNING,
        which makes SQLite buffer the row in a temporary table and hand back a result row.
        """
        if self.dialect == "sqlite":
            cursor = self._execute(sql, self._positional(sql).removesuffix(" RETURNING id"), values)
            return int(cursor.lastrowid)
        row = self._execute(sql, self._positional(sql), values).fetchone()
        assert row is not None, "INSERT without RETURNING id"
        return int(row["id"])

    def insert_many_values(self, sql: str, rows: Sequence[Sequence[Any]]) -> list[int]:
        """``insert_many`` with each row's values in ``insert_values``' order."""
        return self._insert_many(sql, self._positional(sql), rows)

    def _insert_many(self, sql: str, text: str, rows: Sequence[Params]) -> list[int]:
        if not rows:
            return []
        if self.observer is not None:
            self.observer(sql)
        if self.dialect == "sqlite":
            self.raw.executemany(text.removesuffix(" RETURNING id"), rows)
            last = int(self.raw.execute("SELECT last_insert_rowid()").fetchone()[0])
            return list(range(last - len(rows) + 1, last + 1))
        cursor = self.raw.cursor()
        cursor.executemany(text, rows, returning=True)
        ids = []
        while True:
            row = cursor.fetchone()
            assert row is not None
            ids.append(int(row["id"]))
            if not cursor.nextset():
                return ids

    def _positional(self, sql: str) -> str:
        """``sql`` with its ``:name`` parameters as positional ones: ``?`` on SQLite, ``%s``
        (and ``%`` as ``%%``) on PostgreSQL; cached per statement."""
        text = self._positional_texts.get(sql)
        if text is None:
            if self.dialect == "postgresql":
                text = _NAMED.sub("%s", sql.replace("%", "%%"))
            else:
                text = _NAMED.sub("?", sql)
            self._positional_texts[sql] = text
        return text

    @contextlib.contextmanager
    def savepoint(self, name: str = "sp") -> Iterator[None]:
        """Undo only what the block did if it raises; the transaction goes on."""
        self.raw.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            self.raw.execute(f"ROLLBACK TO SAVEPOINT {name}")
            self.raw.execute(f"RELEASE SAVEPOINT {name}")
            raise
        self.raw.execute(f"RELEASE SAVEPOINT {name}")


def insert_statement(table: str, columns: Sequence[str]) -> str:
    """``INSERT INTO t (a, b) VALUES (:a, :b) RETURNING id`` from constant column names."""
    names = ", ".join(columns)
    values = ", ".join(f":{c}" for c in columns)
    return f"INSERT INTO {table} ({names}) VALUES ({values}) RETURNING id"  # noqa: S608


class Table:
    """The positional statements and getters built from one list of a table's columns (all but
    ``id``), so that writing and reading agree on one order: ``insert`` (``RETURNING id``)
    binds ``values(d)``; ``append`` is the same INSERT for ``execute_many`` when nobody needs
    the ids; ``select`` reads ``id`` and then the columns, the order in which ``as_tuple(d)``
    gives a dict's or row's values by name and ``tuples`` gives its rows'."""

    __slots__ = ("append", "as_tuple", "insert", "select", "values")

    def __init__(self, name: str, columns: tuple[str, ...]) -> None:
        self.insert = insert_statement(name, columns)
        self.append = self.insert.removesuffix(" RETURNING id")
        self.select = f"SELECT id, {', '.join(columns)} FROM {name}"  # noqa: S608
        getter = itemgetter(*columns)  # one name would give a bare value, not a 1-tuple
        self.values: Callable[[Any], tuple[Any, ...]] = (
            getter if len(columns) > 1 else lambda mapping: (getter(mapping),)
        )
        self.as_tuple: Callable[[Any], tuple[Any, ...]] = itemgetter("id", *columns)


def tuples(conn: Connection, rows: Iterable[Row]) -> list[tuple[Any, ...]]:
    """Result rows as tuples of their values in the SELECT's column order: a ``sqlite3.Row``
    looks a name up by comparing it with each column's in turn, a tuple is indexed at once."""
    if conn.dialect == "sqlite":
        return [tuple(r) for r in rows]  # type: ignore[arg-type]  # iterates its values
    return [tuple(r.values()) for r in rows]  # type: ignore[attr-defined]  # dicts keep order


def search(
    conn: Connection,
    *,
    select: str,
    count_from: str,
    conditions: Mapping[str, str],
    filters: Mapping[str, Any],
    order_by: str,
    limit: int,
    offset: int,
    params: Mapping[str, Any] | None = None,
) -> tuple[list[Row], int]:
    """One page of a filtered list and the number of matches in all.

    ``conditions`` maps each filter name to its SQL condition (a whitelist: nothing the
    client sends becomes SQL text). ``after_id``, the keyset cursor, narrows the page but not
    the count. ``params``: more values the conditions use (one filter may need several).
    """
    given = {name: value for name, value in filters.items() if value is not None}
    where = " AND ".join(conditions[name] for name in given) or "1 = 1"
    rows = conn.fetchall(
        f"{select} WHERE {where} ORDER BY {order_by} LIMIT :limit OFFSET :offset",
        {**(params or {}), **given, "limit": limit, "offset": offset},
    )
    counted = {name: value for name, value in given.items() if name != "after_id"}
    count_where = " AND ".join(conditions[name] for name in counted) or "1 = 1"
    total = conn.fetchone(
        f"SELECT count(*) AS n FROM {count_from} WHERE {count_where}",  # noqa: S608 - whitelisted
        {**(params or {}), **counted},
    )
    return rows, int(total["n"]) if total else 0


#: Most values in one ``IN (…)`` list.
_CHUNK = 512


def select_in(conn: Connection, sql: str, values: Collection[Any]) -> list[Row]:
    """Rows of ``sql`` (with ``{}`` where the ``IN`` list goes) for every value, in chunks.

    Each list is padded to a power of two with its last value, so only a few statement
    texts ever exist: each is prepared and cached once, not once per list length. A list,
    not a generator: a yield per row cost more than the rows' conversion on a feed's read.
    """
    ordered = sorted(values)
    found: list[Row] = []
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        size = 1 << (len(chunk) - 1).bit_length()
        padded = chunk + [chunk[-1]] * (size - len(chunk))
        found += conn.fetchall(
            _in_sql(sql, size), {f"v{i}": value for i, value in enumerate(padded)}
        )
    return found


@functools.lru_cache(maxsize=128)
def _in_sql(sql: str, size: int) -> str:
    return sql.format(", ".join(f":v{i}" for i in range(size)))


class Database(Protocol):
    dialect: str
    #: Write changes to the event log (``Connection.events``).
    events: bool
    #: Called (from any thread) after a commit that wrote batch rows, e.g. to wake event readers.
    on_commit: Callable[[], object] | None
    #: Called on the SQLite writer thread after each group commit with the number of jobs it
    #: carried and the seconds it took (metrics); PostgreSQL has no group commit.
    on_group_commit: Callable[[int, float], object] | None
    #: Hears of every recorded change inside its unit of work (``Connection.on_change``); set
    #: before the first write.
    on_change: ChangeHook | None

    async def write(self, job: Callable[[Connection], T]) -> T:
        """Run ``job`` in a write transaction; committed (durably) before this returns."""
        ...

    async def read(self, job: Callable[[Connection], T], *, quick: bool = False) -> T:
        """Run ``job`` on a read-only view of committed data.

        ``quick``: a few index lookups (an invoice by id). SQLite runs it right here on the
        event loop's own read connection, since handing so small a job to a reader thread and
        back costs more than the job; PostgreSQL, a network round trip away, ignores it.
        """
        ...

    def run(self, job: Callable[[Connection], T]) -> T:
        """Blocking ``write`` for the CLI and scripts (no event loop)."""
        ...

    def close(self) -> None: ...


def open_database(
    url: str, *, pool_size: int = 10, exclusive: bool = False, events: bool = True
) -> Database:
    """Open the database named by ``url``; ``exclusive`` claims the SQLite file for this process."""
    db: SQLiteDatabase | PostgresDatabase
    if url.startswith("sqlite:"):
        db = SQLiteDatabase(sqlite_path(url), exclusive=exclusive)
    elif url.startswith(("postgresql:", "postgres:", "postgresql+psycopg:")):
        db = PostgresDatabase(postgres_conninfo(url), pool_size=pool_size)
    else:
        raise ValueError(f"unsupported database URL {url!r} (use sqlite:/// or postgresql://)")
    db.events = events
    return db


class _Announcer:
    events = True
    on_change: ChangeHook | None = None
    on_commit: Callable[[], object] | None = None
    on_group_commit: Callable[[int, float], object] | None = None

    def _announce(self, wrote_batches: bool) -> None:
        if wrote_batches and self.on_commit is not None:
            self.on_commit()


def sqlite_path(url: str) -> Path:
    path = url.removeprefix("sqlite:").removeprefix("///")
    if not path or path == ":memory:":
        raise ValueError("SQLite needs a file: the server's durability depends on it")
    return Path(path)


def postgres_conninfo(url: str) -> str:
    return "postgresql:" + url.split(":", 1)[1]


def sqlalchemy_url(url: str) -> str:
    """The same database as a SQLAlchemy URL (for Alembic)."""
    if url.startswith("sqlite:"):
        return f"sqlite:///{sqlite_path(url)}"
    return "postgresql+psycopg:" + url.split(":", 1)[1]


# --- SQLite ---------------------------------------------------------------------------------

_SQLITE_PRAGMAS = (
    # WAL: readers never block the writer; FULL: the WAL is fsynced at every COMMIT, so an
    # acknowledged write survives power loss (NORMAL would only survive a process crash).
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
    "PRAGMA cache_size=-32000",
)


def _sqlite_connect(path: Path, *, readonly: bool) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    # SQLite's own lower() folds ASCII only ("Ū" stays): the catalogue's name search needs
    # Latvian letters folded too, as PostgreSQL's lower() does under a UTF-8 ctype.
    conn.create_function("unicode_lower", 1, _unicode_lower, deterministic=True)
    for pragma in _SQLITE_PRAGMAS:
        conn.execute(pragma)
    if readonly:
        conn.execute("PRAGMA query_only=ON")
    return conn


def writer_connection(path: Path) -> sqlite3.Connection:
    """The group-commit writer's connection (also what the writer benchmarks time)."""
    conn = _sqlite_connect(path, readonly=False)
    conn.execute("PRAGMA wal_autocheckpoint=0")  # the checkpointer thread does it
    # Each job's SAVEPOINT journals the stored pages it changes; past 64 KiB SQLite spills
    # that to a temporary file (an open, page writes and a close per commit, for data a
    # crash never needs). In memory it costs at most the pages one job changes.
    conn.execute("PRAGMA temp_store=MEMORY")
    return conn


def _unicode_lower(text: str | None) -> str | None:
    return None if text is None else text.lower()


class _Job:
    __slots__ = ("fn", "future", "loop", "observer")

    def __init__(self, fn: Callable[[Connection], Any], loop: asyncio.AbstractEventLoop) -> None:
        self.fn = fn
        self.loop = loop
        self.future: asyncio.Future[Any] = loop.create_future()
        self.observer = statement_observer.get()  # the caller's; the writer runs elsewhere


class SQLiteDatabase(_Announcer):
    dialect = "sqlite"

    def __init__(self, path: Path, *, exclusive: bool = False) -> None:
        self.path = path
        self._lock_file = _claim(path) if exclusive else None
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        # A plain executor: reads are short, and anyio's limiter and queue cost more than
        # the typical point read itself.
        self._readers_pool = concurrent.futures.ThreadPoolExecutor(8, "sqlite-reader")
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        # Set by the writer after each commit: the checkpointer has work to do.
        self._committed = threading.Event()
        self._closing = threading.Event()
        self._checkpointer: threading.Thread | None = None

    async def write(self, job: Callable[[Connection], T]) -> T:
        if self._thread is None:
            self._start_writer()
        item = _Job(_guarded(job), asyncio.get_running_loop())
        self._queue.put(item)
        result: T = await item.future
        return result

    def run(self, job: Callable[[Connection], T]) -> T:
        # Its own connection and transaction: the CLI has no event loop to wait on the writer.
        raw = _sqlite_connect(self.path, readonly=False)
        try:
            raw.execute("BEGIN IMMEDIATE")
            conn = Connection(raw, self.dialect, events=self.events, on_change=self.on_change)
            try:
                result = conn.unit(job)
            except BaseException:
                raw.execute("ROLLBACK")
                raise
            raw.execute("COMMIT")
            self._announce(conn.wrote_batches)
            return result
        finally:
            raw.close()

    async def read(self, job: Callable[[Connection], T], *, quick: bool = False) -> T:
        if quick:
            return self._read(job, statement_observer.get())
        return await asyncio.get_running_loop().run_in_executor(
            self._readers_pool, self._read, job, statement_observer.get()
        )

    def _read(self, job: Callable[[Connection], T], observer: Observer | None) -> T:
        raw: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if raw is None:
            raw = _sqlite_connect(self.path, readonly=True)
            self._local.conn = raw
            with self._readers_lock:
                self._readers.append(raw)
        raw.execute("BEGIN")  # one snapshot for all the job's queries
        try:
            return job(Connection(raw, self.dialect, observer=observer))
        finally:
            raw.execute("COMMIT")

    def _start_writer(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._checkpointer = threading.Thread(
                    target=self._checkpoints, name="sqlite-checkpoint", daemon=True
                )
                self._checkpointer.start()
                self._thread = threading.Thread(
                    target=self._writer, name="sqlite-writer", daemon=True
                )
                self._thread.start()

    def _checkpoints(self) -> None:
        """Copy the WAL back into the database file beside the writer, never in its COMMIT.

        SQLite's automatic checkpoint runs inside the COMMIT that crosses its size limit: that
        commit (and every request waiting on it) pays for writing a thousand pages and an
        fsync of the database file. A PASSIVE checkpoint here takes no lock the writer needs.
        """
        conn = _sqlite_connect(self.path, readonly=False)
        try:
            while not self._closing.is_set():
                self._committed.wait()
                # Let commits gather (one copy of a page many commits changed); a close stops
                # the wait, and the checkpoint below still runs.
                self._closing.wait(CHECKPOINT_EVERY_S)
                self._committed.clear()
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error:
                    log.exception("SQLite checkpoint failed; the next one tries again")
        finally:
            conn.close()

    def _writer(self) -> None:
        conn = writer_connection(self.path)
        wrapper = Connection(conn, self.dialect, events=self.events, on_change=self.on_change)
        while True:
            first = self._queue.get()
            if first is None:
                break
            group = [first]
            with contextlib.suppress(queue.Empty):
                while len(group) < MAX_GROUP:
                    item = self._queue.get_nowait()
                    if item is None:
                        self._queue.put(None)  # stop after this group
                        break
                    group.append(item)
            started = time.perf_counter()
            outcomes, announce = self._commit_group(conn, wrapper, group)
            if self.on_group_commit is not None:
                self.on_group_commit(len(group), time.perf_counter() - started)
            self._announce(announce)
            self._committed.set()
            for job, (ok, value) in zip(group, outcomes, strict=True):
                job.loop.call_soon_threadsafe(_settle, job.future, ok, value)
        conn.close()

    @staticmethod
    def _commit_group(
        conn: sqlite3.Connection, wrapper: Connection, group: list[_Job]
    ) -> tuple[list[tuple[bool, Any]], bool]:
        """Each job's outcome, and whether the commit carried any batch rows (events)."""
        outcomes: list[tuple[bool, Any]] = []
        wrote = False
        try:
            conn.execute("BEGIN IMMEDIATE")
            for job in group:
                try:
                    wrapper.observer = job.observer
                    with wrapper.savepoint("job"):
                        outcomes.append((True, wrapper.unit(job.fn)))
                    wrote = wrote or wrapper.wrote_batches
                except Exception as exc:
                    if not conn.in_transaction:
                        # SQLite rolled the whole transaction back (SQLITE_FULL, I/O error):
                        # the jobs before are gone, the ones after would run in autocommit.
                        raise _root_error(exc) from None
                    if isinstance(exc, sqlite3.Error) and _is_full(exc):
                        outcomes.append((False, _unavailable(exc)))  # a 503, not a 500
                    else:
                        outcomes.append((False, exc))
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            log.exception("SQLite commit failed; the whole group is refused")
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            return [(False, _unavailable(exc)) for _ in group], False
        return outcomes, wrote

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=30)
        if self._checkpointer is not None:
            self._closing.set()
            self._committed.set()
            self._checkpointer.join(timeout=30)
        self._readers_pool.shutdown(wait=True)
        with self._readers_lock:
            for reader in self._readers:
                reader.close()
            self._readers.clear()
        if self._lock_file is not None:
            self._lock_file.close()


def _root_error(exc: BaseException) -> sqlite3.Error:
    """The first SQLite error behind ``exc`` (a failed ROLLBACK TO hides the real one)."""
    found: BaseException | None = exc
    root: sqlite3.Error = sqlite3.OperationalError("the transaction was rolled back")
    while found is not None:
        if isinstance(found, sqlite3.Error):
            root = found
        found = found.__cause__ or found.__context__
    return root


def _is_full(exc: sqlite3.Error) -> bool:
    return getattr(exc, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_FULL


def _unavailable(exc: sqlite3.Error) -> DatabaseUnavailable:
    if _is_full(exc):
        return DatabaseFull(f"database write failed: {exc}")
    return DatabaseUnavailable(f"database write failed: {exc}")


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.cancelled():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


def _claim(path: Path) -> Any:
    """Hold an exclusive lock beside the database file for this process's lifetime."""
    lock_path = path.with_name(path.name + ".lock")
    handle = lock_path.open("a+")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise DatabaseUnavailable(
            f"{path} is already served by another MiniPOS process (lock {lock_path}); "
            "SQLite takes one server process per file — use PostgreSQL to run several"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def check_available(url: str) -> None:
    """Fail fast, before a server starts, if it could not open ``url``: the SQLite file served
    by another process, or PostgreSQL unreachable or missing its database. The lock is only
    probed here; the server claims it for good when it opens the database."""
    if url.startswith("sqlite:"):
        path = sqlite_path(url)
        try:
            _claim(path).close()
        except OSError as exc:
            raise DatabaseUnavailable(
                f"cannot open {path}: {exc.strerror}; check MINIPOS_DATABASE_URL and that its "
                "directory exists and is writable"
            ) from None
        return
    try:
        psycopg.connect(postgres_conninfo(url), connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(
            f"cannot connect to PostgreSQL: {one_line(exc)}; check that PostgreSQL runs and "
            "that the database in MINIPOS_DATABASE_URL exists (createdb NAME)"
        ) from None


def one_line(exc: BaseException) -> str:
    """A driver's message on one line (psycopg's span several)."""
    return " ".join(str(exc).split())


# --- PostgreSQL -----------------------------------------------------------------------------


class PostgresDatabase(_Announcer):
    dialect = "postgresql"

    def __init__(self, conninfo: str, *, pool_size: int = 10) -> None:
        self._pool = psycopg_pool.ConnectionPool(
            conninfo,
            min_size=1,
            max_size=pool_size,
            kwargs={"row_factory": psycopg.rows.dict_row},
            open=True,
        )
        self._limiter = anyio.CapacityLimiter(pool_size)

    async def write(self, job: Callable[[Connection], T]) -> T:
        return await anyio.to_thread.run_sync(self.run, _guarded(job), limiter=self._limiter)

    async def read(self, job: Callable[[Connection], T], *, quick: bool = False) -> T:
        return await anyio.to_thread.run_sync(self.run, job, limiter=self._limiter)

    def run(self, job: Callable[[Connection], T]) -> T:
        try:
            with self._pool.connection() as raw:
                with raw.transaction():
                    # anyio runs this in a thread with a copy of the caller's context.
                    conn = Connection(
                        raw,
                        self.dialect,
                        events=self.events,
                        observer=statement_observer.get(),
                        on_change=self.on_change,
                    )
                    result = conn.unit(job)
                self._announce(conn.wrote_batches)
                return result
        except psycopg.OperationalError as exc:
            raise DatabaseUnavailable(f"database unavailable: {exc}") from exc

    def close(self) -> None:
        self._pool.close()


_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_pyformat_cache: dict[str, str] = {}


def _to_pyformat(sql: str) -> str:
    """``:name`` → ``%(name)s`` for psycopg (and ``%`` → ``%%``), cached per statement."""
    cached = _pyformat_cache.get(sql)
    if cached is None:
        cached = _NAMED.sub(r"%(\1)s", sql.replace("%", "%%"))
        _pyformat_cache[sql] = cached
    return cached


def _identity(sql: str) -> str:
    return sql
