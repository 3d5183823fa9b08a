"""The print worker: sends queued jobs to the stations' printers, at most once each.

One asyncio task per server process (:func:`start_print_worker`). It loops:

1. pick due jobs: each station's oldest queued job whose ``next_attempt_at`` has come, while
   nothing of that station is being sent (a station's documents print in order). The jobs of
   stations without a printer (or with ``none``) are marked printed in one statement;
2. claim each in its own short write transaction, ``queued → sending`` with a conditional
   UPDATE: of several server processes exactly one wins a job;
3. build the document from the stored rows, render it and send it in a thread (transports
   block), renewing the claim's lease while the send goes on;
4. ``printed`` once ``send()`` returned (the printer acknowledged every byte). Nothing reached
   the printer (``bytes_sent == 0``: refused, unreachable, not ready): back to ``queued`` with
   exponential backoff. Something may have reached it (a partial send, an unexpected error
   mid-send): ``failed`` with ``may_have_printed``, never sent again by itself.

A job left ``sending`` by a process that died is marked ``failed`` (``may_have_printed``) once
its lease runs out: at once on start-up with SQLite (one server process per file), within the
lease with PostgreSQL (other processes may be sending). A person then retries it, and it
prints as a copy. docs/printing.md has the argument.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import secrets
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeVar

from minipos.db import Connection, Database, Row
from minipos.print_jobs import printers, repository, service
from minipos.print_jobs.documents import PrintContext, job_document
from minipos.print_jobs.printers import Printer
from minipos.print_jobs.settings import PrintSettings
from minipos.printing import Document, PrinterError, PrinterStatus, to_escpos
from minipos.printing.layout import Wording
from minipos.timeutil import now_us

if TYPE_CHECKING:
    from minipos.api.context import AppContext

log = logging.getLogger("minipos.print")

T = TypeVar("T")

#: Jobs sent at the same time (each to another station's printer).
MAX_PARALLEL = 4
#: The first retry waits this long; each further one twice as long, up to the cap.
BACKOFF_BASE_SECONDS = 1.0
#: On shutdown, how long in-flight sends may take to finish and be recorded.
SHUTDOWN_GRACE_SECONDS = 15.0
#: Tries at recording an outcome while the database is unavailable.
RECORD_TRIES = 5

INTERRUPTED = (
    "interrupted: the server stopped while sending; the printer may have printed part or all "
    "of it. Check the paper; a retry prints a copy."
)


def start_print_worker(ctx: AppContext) -> asyncio.Task[None]:
    """Start this process's print worker (``MINIPOS_PRINT_WORKER=false``: a task that ends)."""
    settings = PrintSettings.from_env()
    if not settings.print_worker:
        log.info("print worker disabled (MINIPOS_PRINT_WORKER=false)")
        return asyncio.create_task(asyncio.sleep(0), name="print-worker (disabled)")
    worker = PrintWorker(ctx.db, print_context(ctx, settings), settings)
    return asyncio.create_task(worker.run(), name="print-worker")


def print_context(ctx: AppContext, settings: PrintSettings) -> PrintContext:
    return PrintContext(
        shop=settings.shop,
        zone=ctx.invoices.zone,
        cash_methods=frozenset(ctx.stations.cash_methods),
    )


def backoff_seconds(attempts: int, cap: float) -> float:
    """1, 2, 4, … seconds after the 1st, 2nd, 3rd failed attempt, at most ``cap``."""
    return float(min(cap, BACKOFF_BASE_SECONDS * 2 ** min(max(attempts - 1, 0), 30)))


@dataclass(frozen=True, slots=True)
class Outcome:
    """How an attempt ended: printed, retry later (nothing reached the printer), or failed."""

    result: Literal["printed", "retry", "failed"]
    error: str = ""
    may_have_printed: bool = False


@dataclass(frozen=True, slots=True)
class _Plan:
    printer: Printer | None
    document: Document | None


class PrintWorker:
    def __init__(
        self,
        db: Database,
        context: PrintContext,
        settings: PrintSettings,
        *,
        clock: Callable[[], int] = now_us,
    ) -> None:
        self.db = db
        self.context = context
        self.settings = settings
        self.wording: Wording = settings.wording
        self.clock = clock
        self.lease_us = int(settings.print_lease_seconds * 1_000_000)
        self._executor = ThreadPoolExecutor(MAX_PARALLEL, thread_name_prefix="minipos-print")
        #: Deliveries in progress in this process, by station.
        self._inflight: dict[int, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self._next_recovery = 0

    # --- the loop -------------------------------------------------------------------------------

    async def run(self) -> None:
        """Forever: recover, claim due jobs, start their delivery, wait for the next poll."""
        log.info("print worker started")
        failures = 0
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
                        log.exception("print worker pass failed (%d in a row); retrying", failures)
                pause = self.settings.print_poll_seconds * 2 ** min(failures, 6)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), pause)
        finally:
            await self.drain(SHUTDOWN_GRACE_SECONDS)
            self._executor.shutdown(wait=False)

    async def run_once(self) -> int:
        """Claim the due jobs this process has room for and start sending them; how many."""
        room = MAX_PARALLEL - len(self._inflight)
        if room <= 0:
            return 0
        now = self.clock()
        candidates, unprinted = await self.db.read(
            lambda conn: (
                repository.due(conn, now, MAX_PARALLEL * 4),
                repository.has_unprinted(conn),
            )
        )
        if unprinted:  # stations without a printer: nothing to send, done in one statement
            await self.db.write(lambda conn: repository.settle_unprinted(conn, self.clock()))
        started = 0
        for job in candidates:
            if started >= room:
                break
            if job["station_id"] in self._inflight:
                continue
            claimed = await self.db.write(
                functools.partial(
                    repository.claim,
                    job_id=job["id"],
                    token=secrets.token_hex(12),
                    now_us=self.clock(),
                )
            )
            if claimed is None:
                continue  # another process was first
            station: int = job["station_id"]
            task = asyncio.create_task(self._deliver(claimed), name=f"print-job-{job['id']}")
            self._inflight[station] = task
            task.add_done_callback(functools.partial(self._finished, station))
            started += 1
        return started

    def close(self) -> None:
        """Let the sending threads go (after :meth:`drain`, for callers that drive passes)."""
        self._executor.shutdown(wait=True)

    async def drain(self, timeout: float | None = None) -> None:
        """Wait for the deliveries in progress (all of them, or until ``timeout``)."""
        tasks = list(self._inflight.values())
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)

    async def recover(self, *, force: bool = False) -> list[int]:
        """Fail the jobs left ``sending`` by a process that died mid-send.

        On SQLite the first call fails every ``sending`` job (one server process per file: no
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
        stale = await self.db.read(lambda conn: repository.stale_sending(conn, cutoff))
        if not stale:
            return []

        def fail(conn: Connection) -> list[int]:
            failed = repository.fail_stale(conn, cutoff, INTERRUPTED)
            service.tell_failed(conn, failed, self.context.zone, self.clock())
            return failed

        failed = await self.db.write(fail)
        if failed:
            log.warning("print jobs %s were being sent when a server stopped: failed", failed)
        return failed

    def _finished(self, station_id: int, _: object = None) -> None:
        self._inflight.pop(station_id, None)
        self._wake.set()  # the station's next job may go now

    # --- one job --------------------------------------------------------------------------------

    async def _deliver(self, job: Row) -> None:
        token: str = job["claim_token"]
        try:
            plan = await self.db.read(lambda conn: self._plan(conn, job))
        except Exception as exc:
            log.exception("print job %s: cannot build its document", job["id"])
            await self._record(job, token, Outcome("failed", f"cannot build the document: {exc}"))
            return
        if plan.printer is None or plan.document is None:
            await self._record(job, token, Outcome("printed"))  # nothing to print
            return
        loop = asyncio.get_running_loop()
        sending = loop.run_in_executor(self._executor, self._send, plan.printer, plan.document)
        renew_every = self.settings.print_lease_seconds / 3
        while True:
            done, _ = await asyncio.wait({sending}, timeout=renew_every)
            if done:
                break
            try:
                await self.db.write(
                    lambda conn: repository.renew(conn, job["id"], token, self.clock())
                )
            except Exception:
                log.exception("print job %s: cannot renew its lease", job["id"])
        outcome = sending.result()
        if outcome.result != "printed":
            log.warning("print job %s (%s): %s", job["id"], outcome.result, outcome.error)
        await self._record(job, token, outcome)

    def _plan(self, conn: Connection, job: Row) -> _Plan:
        printer = printers.load(conn, job["station_id"])
        if printer is None or not printer.prints:
            return _Plan(None, None)
        return _Plan(printer, job_document(conn, job, self.context))

    def _send(self, printer: Printer, document: Document) -> Outcome:
        """Render and send, in a worker thread. Never raises: the outcome says what happened."""
        try:
            data = to_escpos(document, printer.profile, self.wording)
        except Exception as exc:
            log.exception("print job: cannot render")
            return Outcome("failed", f"cannot render the document: {exc}")
        try:
            transport = printer.transport()
            if printer.check_status:
                status = transport.status()
                if not status.ready:
                    return Outcome("retry", f"printer not ready: {describe_status(status)}")
        except PrinterError as exc:
            return Outcome("retry", str(exc))
        except Exception as exc:
            return Outcome("retry", f"cannot read the printer's status: {exc!r}")
        try:
            transport.send(data)
        except PrinterError as exc:
            if exc.bytes_sent:
                return Outcome(
                    "failed",
                    f"{exc}. The printer may have printed part of it: check the paper; a retry "
                    "prints a copy.",
                    may_have_printed=True,
                )
            return Outcome("retry", str(exc))
        except Exception as exc:
            log.exception("print job: unexpected error while sending")
            return Outcome(
                "failed",
                f"unexpected error while sending: {exc!r}. Check the paper; a retry prints a copy.",
                may_have_printed=True,
            )
        return Outcome("printed")

    async def _record(self, job: Row, token: str, outcome: Outcome) -> None:
        """Write the outcome (conditional on still owning the job), retrying a lost database."""
        job_id = job["id"]

        def write(conn: Connection) -> bool:
            if outcome.result == "printed":
                return repository.mark_printed(conn, job_id, token, self.clock())
            if outcome.result == "retry":
                delay = backoff_seconds(job["attempts"], self.settings.print_backoff_cap_seconds)
                later = self.clock() + int(delay * 1_000_000)
                return repository.requeue(conn, job_id, token, later, outcome.error)
            failed = repository.fail(
                conn, job_id, token, outcome.error, may_have_printed=outcome.may_have_printed
            )
            if failed:
                service.tell_failed(conn, [job_id], self.context.zone, self.clock())
            return failed

        recorded = await _retrying(lambda: self.db.write(write), f"print job {job_id}")
        if recorded is False:
            log.warning("print job %s changed hands before its outcome was recorded", job_id)


def describe_status(status: PrinterStatus) -> str:
    """``offline, paper out``: what stops the printer."""
    problems = [
        name
        for name, flag in (
            ("offline", status.online is False),
            ("paper out", status.paper_out),
            ("cover open", status.cover_open),
            ("error", status.error),
        )
        if flag
    ]
    return ", ".join(problems) or "not ready"


async def _retrying(action: Callable[[], Awaitable[T]], what: str) -> T | None:
    delay = 0.5
    for attempt in range(1, RECORD_TRIES + 1):
        try:
            return await action()
        except Exception:
            if attempt == RECORD_TRIES:
                log.exception("%s: cannot record the outcome; its lease will run out", what)
                return None
            log.warning("%s: cannot record the outcome yet; retrying", what, exc_info=True)
            await asyncio.sleep(delay)
            delay *= 2
    return None
