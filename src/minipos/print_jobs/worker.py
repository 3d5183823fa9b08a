"""The print worker: sends queued jobs to the stations' printers, at most once each.

One asyncio task per server process (:func:`start_print_worker`), on the machinery it shares
with the e-receipt sender (:class:`~minipos.queue_worker.QueueWorker`: the loop, claims,
leases, recovery). It loops:

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
import functools
import logging
from dataclasses import dataclass
from typing import ClassVar, Literal

from minipos.db import Connection, Database, Row
from minipos.print_jobs import printers, repository, service
from minipos.print_jobs.documents import PrintContext, job_document
from minipos.print_jobs.printers import Printer
from minipos.print_jobs.settings import PrintSettings
from minipos.printing import Document, PrinterError, PrinterStatus, to_escpos
from minipos.queue_worker import ClaimStore, QueueWorker

log = logging.getLogger("minipos.print")

#: The first retry waits this long; each further one twice as long, up to the cap.
BACKOFF_BASE_SECONDS = 1.0

INTERRUPTED = (
    "interrupted: the server stopped while sending; the printer may have printed part or all "
    "of it. Check the paper; a retry prints a copy."
)


def start_print_worker(
    db: Database, context: PrintContext, settings: PrintSettings
) -> asyncio.Task[None]:
    """Start this process's print worker (``MINIPOS_PRINT_WORKER=false``: a task that ends)."""
    if not settings.print_worker:
        log.info("print worker disabled (MINIPOS_PRINT_WORKER=false)")
        return asyncio.create_task(asyncio.sleep(0), name="print-worker (disabled)")
    worker = PrintWorker(db, context, settings)
    return asyncio.create_task(worker.run(), name="print-worker")


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


class PrintWorker(QueueWorker[PrintContext, PrintSettings]):
    """The print queue on :class:`QueueWorker`: one job in flight per station (so up to
    :attr:`parallel` jobs at once, each to another station's printer), failed if its sender
    died."""

    store: ClassVar[ClaimStore] = repository
    noun = "print job"
    #: A job its sender left mid-send may have printed: a person decides (a retry is a copy).
    stale_fate = "failed"
    log = log

    def _poll_and_lease(self) -> tuple[float, float]:
        return self.settings.print_poll_seconds, self.settings.print_lease_seconds

    async def run(self) -> None:
        """Forever: recover, claim due jobs, start their delivery, wait for the next poll."""
        log.info("print worker started")
        await super().run()

    async def _candidates(self, room: int) -> list[Row]:
        now = self.clock()
        candidates, unprinted = await self.db.read(
            lambda conn: (
                repository.due(conn, now, self.parallel * 4),
                repository.has_unprinted(conn),
            )
        )
        if unprinted:  # stations without a printer: nothing to send, done in one statement
            await self.db.write(lambda conn: repository.settle_unprinted(conn, self.clock()))
        return candidates

    def _key(self, candidate: Row) -> int:
        """A station's documents print in order: one of its jobs in flight at a time."""
        return int(candidate["station_id"])

    def _release_stale(self, conn: Connection, cutoff_us: int) -> list[int]:
        """Fail the jobs left ``sending`` by a process that died mid-send (may have printed)."""
        failed = repository.fail_stale(conn, cutoff_us, INTERRUPTED)
        service.tell_failed(conn, failed, self.context.zone, self.clock())
        return failed

    # --- one job --------------------------------------------------------------------------------

    async def _deliver(self, job: Row) -> None:
        try:
            plan = await self.db.read(lambda conn: self._plan(conn, job))
        except Exception as exc:
            log.exception("print job %s: cannot build its document", job["id"])
            await self._record(job, Outcome("failed", f"cannot build the document: {exc}"))
            return
        if plan.printer is None or plan.document is None:
            await self._record(job, Outcome("printed"))  # nothing to print
            return
        outcome = await self._in_thread(
            job, functools.partial(self._send, plan.printer, plan.document)
        )
        if outcome.result != "printed":
            log.warning("print job %s (%s): %s", job["id"], outcome.result, outcome.error)
        await self._record(job, outcome)

    def _plan(self, conn: Connection, job: Row) -> _Plan:
        printer = printers.load(conn, job["station_id"])
        if printer is None or not printer.prints:
            return _Plan(None, None)
        return _Plan(printer, job_document(conn, job, self.context))

    def _send(self, printer: Printer, document: Document) -> Outcome:
        """Render and send, in a worker thread. Never raises: the outcome says what happened."""
        try:
            data = to_escpos(document, printer.profile, self.settings.wording)
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

    async def _record(self, job: Row, outcome: Outcome) -> None:
        """Write the outcome (conditional on still owning the job), retrying a lost database."""
        job_id = job["id"]
        token: str = job["claim_token"]

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

        await self._write_outcome(job, write)


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
