"""The machinery the background senders of a database queue share (print jobs, e-receipts).

A :class:`QueueWorker` is one asyncio task per server process. Each pass it:

1. recovers the rows a dead process left ``sending`` once their lease ran out: at once on
   the first pass with SQLite (one server process per file: no one else can be sending), and
   within the lease with PostgreSQL (other processes may be). A read comes first and the check
   runs at most twice a lease, so an idle queue costs no write;
2. reads the due candidates (:meth:`QueueWorker._candidates`) and claims each in its own short
   write transaction (:func:`minipos.db.claims.claim`: a conditional UPDATE with a random
   token, of several processes exactly one wins), up to its room for parallel sends and one
   per key in flight (a print station, a message);
3. starts a task per claimed row (:meth:`QueueWorker._deliver`), which sends in a thread
   (:meth:`QueueWorker._in_thread`: transports and ``smtplib`` block) while renewing the
   claim's lease, and writes the outcome conditional on the token, retrying while the database
   is away (:meth:`QueueWorker._write_outcome`).

A failed pass waits twice as long each time (up to 64 polls). On shutdown the sends in
progress get a grace period to finish and be recorded.

What a queue promises is its own: what is due, what its sender does, what an outcome or a dead
sender's row becomes (printing: at most once, a dead sender's job fails; messages: at least
once, it is sent again). Those are the subclass's methods and its module docstring.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import secrets
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ClassVar, Generic, Protocol, TypeVar

from minipos.db import Connection, Database, Row
from minipos.timeutil import now_us

T = TypeVar("T")
C = TypeVar("C")
S = TypeVar("S")

#: On shutdown, how long sends in progress may take to finish and be recorded.
SHUTDOWN_GRACE_SECONDS = 15.0
#: Tries at recording an outcome while the database is unavailable.
RECORD_TRIES = 5


class ClaimStore(Protocol):
    """The queue's repository module, as far as the machinery needs it."""

    def claim(self, conn: Connection, row_id: int, token: str, now_us: int, /) -> Row | None:
        """Waiting → ``sending`` under ``token``; ``None`` if another worker was first."""

    def renew(self, conn: Connection, row_id: int, token: str, now_us: int, /) -> bool:
        """Renew the lease of a row this worker is sending."""

    def stale_sending(self, conn: Connection, cutoff_us: int, /) -> list[Row]:
        """Rows left ``sending`` whose lease ran out before ``cutoff_us``."""


class QueueWorker(ABC, Generic[C, S]):
    """Claims due rows of one queue table and sends them, a few at a time, under a lease.

    ``context`` and ``settings`` are the queue's own (what it renders with, how it paces).
    """

    #: The queue's repository (claim, renew, stale_sending).
    store: ClassVar[ClaimStore]
    #: One row in logs and task names: ``print job``, ``message``.
    noun: ClassVar[str]
    #: What :meth:`_release_stale` makes of a dead sender's rows, for the log.
    stale_fate: ClassVar[str]
    #: Rows sent at the same time by one process.
    parallel: ClassVar[int] = 4
    log: ClassVar[logging.Logger]

    def __init__(
        self, db: Database, context: C, settings: S, *, clock: Callable[[], int] = now_us
    ) -> None:
        self.db = db
        self.context = context
        self.settings = settings
        self.clock = clock
        self.poll_seconds, self.lease_seconds = self._poll_and_lease()
        self.lease_us = int(self.lease_seconds * 1_000_000)
        prefix = "minipos-" + self.noun.split()[0]
        self._executor = ThreadPoolExecutor(self.parallel, thread_name_prefix=prefix)
        #: Sends in progress in this process, by :meth:`_key`.
        self._inflight: dict[int, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self._next_recovery = 0

    # --- what each queue says -------------------------------------------------------------------

    @abstractmethod
    def _poll_and_lease(self) -> tuple[float, float]:
        """Seconds between passes, and of a claim's lease (from :attr:`settings`)."""

    @abstractmethod
    async def _candidates(self, room: int) -> list[Row]:
        """The due rows, in the order to claim them (more than ``room``: some may be taken)."""

    def _key(self, candidate: Row) -> int:
        """What may be in flight only once in this process (default: the row)."""
        return int(candidate["id"])

    @abstractmethod
    async def _deliver(self, row: Row) -> None:
        """Send one claimed row and record the outcome (never raises)."""

    @abstractmethod
    def _release_stale(self, conn: Connection, cutoff_us: int) -> list[int]:
        """Settle the rows left ``sending`` before ``cutoff_us`` by a dead sender; their ids."""

    # --- the loop -------------------------------------------------------------------------------

    async def run(self) -> None:
        """Forever: recover, claim due rows, start sending them, wait for the next poll."""
        failures = 0
        name = self.noun.split()[0]
        try:
            while True:
                self._wake.clear()
                try:
                    await self.recover()
                    await self.run_once()
                    failures = 0
                except Exception:
                    failures += 1
                    if failures == 1 or failures % 100 == 0:
                        self.log.exception(
                            "%s worker pass failed (%d in a row); retrying", name, failures
                        )
                pause = self.poll_seconds * 2 ** min(failures, 6)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), pause)
        finally:
            await self.drain(SHUTDOWN_GRACE_SECONDS)
            self._executor.shutdown(wait=False)

    async def run_once(self) -> int:
        """Claim the due rows this process has room for and start sending them; how many."""
        room = self.parallel - len(self._inflight)
        if room <= 0:
            return 0
        started = 0
        for candidate in await self._candidates(room):
            if started >= room:
                break
            key = self._key(candidate)
            if key in self._inflight:
                continue
            claimed = await self._claim(candidate)
            if claimed is None:
                continue  # another process was first
            name = f"{self.noun.replace(' ', '-')}-{claimed['id']}"
            task = asyncio.create_task(self._deliver(claimed), name=name)
            self._inflight[key] = task
            task.add_done_callback(functools.partial(self._finished, key))
            started += 1
        return started

    async def _claim(self, candidate: Row) -> Row | None:
        """Claim one candidate in its own write; ``None`` if another process was first."""
        row_id: int = candidate["id"]
        token = secrets.token_hex(12)
        now = self.clock()
        return await self.db.write(lambda conn: self.store.claim(conn, row_id, token, now))

    def close(self) -> None:
        """Let the sending threads go (after :meth:`drain`, for callers that drive passes)."""
        self._executor.shutdown(wait=True)

    async def drain(self, timeout: float | None = None) -> None:
        """Wait for the sends in progress (all of them, or until ``timeout``)."""
        tasks = list(self._inflight.values())
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)

    async def recover(self, *, force: bool = False) -> list[int]:
        """Settle the rows left ``sending`` by a process that died mid-send; their ids.

        On SQLite the first call takes every ``sending`` row (one server process per file: no
        one else can be sending); otherwise those whose lease ran out. Checked at most twice a
        lease, with a read first, so an idle queue costs no write.
        """
        now = self.clock()
        if not force and now < self._next_recovery:
            return []
        first = self._next_recovery == 0
        self._next_recovery = now + self.lease_us // 2
        cutoff = now - self.lease_us
        if first and self.db.dialect == "sqlite":
            cutoff = now + 1
        stale = await self.db.read(lambda conn: self.store.stale_sending(conn, cutoff))
        if not stale:
            return []
        settled = await self.db.write(lambda conn: self._release_stale(conn, cutoff))
        if settled:
            self.log.warning(
                "%ss %s were being sent when a server stopped: %s",
                self.noun,
                settled,
                self.stale_fate,
            )
        return settled

    def _finished(self, key: int, _: object = None) -> None:
        self._inflight.pop(key, None)
        self._wake.set()  # room for the next one (a print station's next job may go now)

    # --- one row --------------------------------------------------------------------------------

    async def _in_thread(self, row: Row, send: Callable[[], T]) -> T:
        """Run ``send`` in a sending thread, renewing the row's lease every third of it."""
        token: str = row["claim_token"]
        loop = asyncio.get_running_loop()
        sending = loop.run_in_executor(self._executor, send)
        while True:
            done, _ = await asyncio.wait({sending}, timeout=self.lease_seconds / 3)
            if done:
                return sending.result()
            try:
                await self.db.write(
                    lambda conn: self.store.renew(conn, row["id"], token, self.clock())
                )
            except Exception:
                self.log.exception("%s %s: cannot renew its lease", self.noun, row["id"])

    async def _write_outcome(self, row: Row, write: Callable[[Connection], bool]) -> None:
        """Run the outcome's write (conditional on the claim token), retrying a lost database."""
        what = f"{self.noun} {row['id']}"
        recorded = await self._retrying(lambda: self.db.write(write), what)
        if recorded is False:
            self.log.warning("%s changed hands before its outcome was recorded", what)

    async def _retrying(self, action: Callable[[], Awaitable[T]], what: str) -> T | None:
        delay = 0.5
        for attempt in range(1, RECORD_TRIES + 1):
            try:
                return await action()
            except Exception:
                if attempt == RECORD_TRIES:
                    self.log.exception(
                        "%s: cannot record the outcome; its lease will run out", what
                    )
                    return None
                self.log.warning("%s: cannot record the outcome yet; retrying", what, exc_info=True)
                await asyncio.sleep(delay)
                delay *= 2
        return None
