"""The message worker: sends queued e-receipts (email, SMS), at least once each.

One asyncio task per server process (:func:`start_message_worker`). Each pass:

1. messages left ``sending`` by a process that died go back to ``pending`` once their lease
   has run out (at once on start-up with SQLite: one server process per file);
2. without an SMTP server configured, pending emails fail at once with a visible reason;
3. due messages are claimed, each in its own short write transaction (``pending → sending``,
   a random claim token, ``attempts + 1``): of several server processes exactly one wins;
4. the receipt is rendered and sent in a thread (``smtplib`` and SMS senders block), the
   claim's lease renewed while it runs;
5. the outcome is written with an UPDATE conditional on the claim token: ``sent``; a
   temporary failure → ``pending`` again after 30 s, 1 min, 2 min, … up to the cap, until the
   backoff adds up to the give-up time, then ``failed``; a permanent one → ``failed`` at once.

At least once, not at most once (unlike printing): a crash after the SMTP server took the
message but before ``sent`` was committed sends it again, since a duplicate email is a small
nuisance and a lost receipt (maybe the customer's only one, with ``print_paper_receipt:
false``) is not. Each resend carries the same ``Message-ID``.
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
from zoneinfo import ZoneInfo

from minipos.db import Connection, Database, Row
from minipos.domain.events import EventType
from minipos.events import service as events
from minipos.messages import repository, service
from minipos.messages.mailer import Mailer, SendError, SmtpMailer
from minipos.messages.render import MailReceipt, MessageWords, build_email, sms_text, words_for
from minipos.messages.service import Channel
from minipos.messages.settings import MessageSettings
from minipos.messages.sms import PermanentSmsError, SmsSender, load_sms_sender
from minipos.print_jobs.documents import PrintContext
from minipos.print_jobs.settings import PrintSettings
from minipos.printing.layout import Wording
from minipos.timeutil import now_us

if TYPE_CHECKING:
    from minipos.api.context import AppContext

log = logging.getLogger("minipos.messages")

T = TypeVar("T")

#: Messages sent at the same time by one process.
MAX_PARALLEL = 4
#: On shutdown, how long sends in progress may take to finish and be recorded.
SHUTDOWN_GRACE_SECONDS = 15.0
#: Tries at recording an outcome while the database is unavailable.
RECORD_TRIES = 5

NO_SMTP = "no SMTP server configured (MINIPOS_SMTP_HOST); retry once one is"
INTERRUPTED = "interrupted: the server stopped while sending; sending again"


def start_message_worker(ctx: AppContext) -> asyncio.Task[None]:
    """Start this process's message worker (``MINIPOS_MESSAGE_WORKER=false``: a task that ends).

    The settings and the SMS sender are loaded first, worker or not: a bad value stops the
    server at start-up with a ``ConfigError`` naming the variable.
    """
    settings = MessageSettings.from_env()
    sms = load_sms_sender(settings.sms_sender)
    if not settings.message_worker:
        log.info("message worker disabled (MINIPOS_MESSAGE_WORKER=false)")
        return asyncio.create_task(asyncio.sleep(0), name="message-worker (disabled)")
    printing = PrintSettings.from_env()
    context = PrintContext(
        shop=printing.shop,
        zone=ctx.invoices.zone,
        cash_methods=frozenset(ctx.stations.cash_methods),
    )
    worker = MessageWorker(
        ctx.db,
        context,
        settings,
        mailer=SmtpMailer(settings) if settings.email_enabled else None,
        sms=sms,
        wording=printing.wording,
        words=words_for(printing.print_language),
    )
    return asyncio.create_task(worker.run(), name="message-worker")


def backoff_seconds(attempts: int, base: float, cap: float) -> float:
    """The wait after the ``attempts``-th failed try: base, 2 × base, 4 × base, … up to cap."""
    return float(min(cap, base * 2 ** min(max(attempts - 1, 0), 40)))


def retried_seconds(attempts: int, base: float, cap: float) -> float:
    """The backoff waited in all after ``attempts`` failed tries (the sum of the schedule)."""
    total = 0.0
    for done in range(attempts):
        delay = base * 2**done
        if delay >= cap:
            return total + cap * (attempts - done)
        total += delay
    return total


def gives_up(attempts: int, settings: MessageSettings) -> bool:
    """Whether the next try would come after the give-up time (measured in backoff, so time
    the server was down does not count against the message)."""
    spent = retried_seconds(
        attempts, settings.message_retry_seconds, settings.message_backoff_cap_seconds
    )
    return spent > settings.give_up_seconds


@dataclass(frozen=True, slots=True)
class Outcome:
    result: Literal["sent", "retry", "failed"]
    error: str = ""


class MessageWorker:
    def __init__(
        self,
        db: Database,
        context: PrintContext,
        settings: MessageSettings,
        *,
        mailer: Mailer | None,
        sms: SmsSender,
        wording: Wording,
        words: MessageWords,
        clock: Callable[[], int] = now_us,
    ) -> None:
        self.db = db
        self.context = context
        self.settings = settings
        self.mailer = mailer
        self.sms = sms
        self.wording = wording
        self.words = words
        self.clock = clock
        self._executor = ThreadPoolExecutor(MAX_PARALLEL, thread_name_prefix="minipos-message")
        self._inflight: dict[int, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self._next_recovery = 0

    @property
    def zone(self) -> ZoneInfo:
        return self.context.zone

    @property
    def channels(self) -> tuple[str, ...]:
        """The channels this process sends (email only with an SMTP server)."""
        if self.mailer is None:
            return (Channel.SMS.value,)
        return (Channel.EMAIL.value, Channel.SMS.value)

    # --- the loop -------------------------------------------------------------------------------

    async def run(self) -> None:
        """Forever: recover, claim due messages, start sending them, wait for the next poll."""
        log.info(
            "message worker started (email %s)",
            f"via {self.settings.smtp_host}:{self.settings.port}" if self.mailer else "off",
        )
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
                        log.exception("message worker pass failed (%d in a row)", failures)
                pause = self.settings.message_poll_seconds * 2 ** min(failures, 6)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), pause)
        finally:
            await self.drain(SHUTDOWN_GRACE_SECONDS)
            self._executor.shutdown(wait=False)

    async def run_once(self) -> int:
        """Claim the due messages this process has room for and start sending them; how many."""
        if self.mailer is None:
            await self._fail_unsendable(Channel.EMAIL, NO_SMTP)
        room = MAX_PARALLEL - len(self._inflight)
        if room <= 0:
            return 0
        now = self.clock()
        candidates = await self.db.read(
            lambda conn: repository.due(conn, now, room * 2, self.channels)
        )
        started = 0
        for message in candidates:
            if started >= room:
                break
            claimed = await self.db.write(
                functools.partial(
                    repository.claim,
                    message_id=message["id"],
                    token=secrets.token_hex(12),
                    now_us=self.clock(),
                )
            )
            if claimed is None:
                continue  # another process was first
            message_id: int = claimed["id"]
            task = asyncio.create_task(self._deliver(claimed), name=f"message-{message_id}")
            self._inflight[message_id] = task
            task.add_done_callback(functools.partial(self._finished, message_id))
            started += 1
        return started

    def close(self) -> None:
        """Let the sending threads go (after :meth:`drain`, for callers that drive passes)."""
        self._executor.shutdown(wait=True)

    async def drain(self, timeout: float | None = None) -> None:
        """Wait for the sends in progress (all of them, or until ``timeout``)."""
        tasks = list(self._inflight.values())
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)

    async def recover(self, *, force: bool = False) -> list[int]:
        """Put back to pending the messages left ``sending`` by a process that died.

        On SQLite the first call takes every ``sending`` message (one server process per file:
        no one else can be sending); otherwise those whose lease ran out. Checked at most twice
        a lease, with a read first, so an idle queue costs no write.
        """
        now = self.clock()
        if not force and now < self._next_recovery:
            return []
        first = self._next_recovery == 0
        lease = self.settings.lease_us
        self._next_recovery = now + lease // 2
        cutoff = now - lease
        if first and self.db.dialect == "sqlite":
            cutoff = now + 1
        stale = await self.db.read(lambda conn: repository.stale_sending(conn, cutoff))
        if not stale:
            return []
        released = await self.db.write(
            lambda conn: repository.release_stale(conn, cutoff, INTERRUPTED, self.clock())
        )
        if released:
            log.warning(
                "messages %s were being sent when a server stopped: sending again", released
            )
        return released

    async def _fail_unsendable(self, channel: Channel, reason: str) -> None:
        pending = await self.db.read(lambda conn: repository.has_pending(conn, channel.value))
        if not pending:
            return

        def fail(conn: Connection) -> list[int]:
            now = self.clock()
            rows = repository.fail_pending(conn, channel.value, reason, now)
            for row in rows:
                self._tell(conn, EventType.MESSAGE_FAILED, row, now)
            return [int(row["id"]) for row in rows]

        failed = await self.db.write(fail)
        log.warning("%s messages %s failed: %s", channel.value, failed, reason)

    def _finished(self, message_id: int, _: object = None) -> None:
        self._inflight.pop(message_id, None)
        self._wake.set()

    # --- one message ----------------------------------------------------------------------------

    async def _deliver(self, message: Row) -> None:
        token: str = message["claim_token"]
        try:
            receipt = await self.db.read(
                lambda conn: service.mail_receipt(
                    conn, message, self.context, self.wording, self.words
                )
            )
        except Exception as exc:
            log.exception("message %s: cannot load its receipt", message["id"])
            await self._record(message, token, Outcome("failed", f"cannot load the receipt: {exc}"))
            return
        loop = asyncio.get_running_loop()
        sending = loop.run_in_executor(self._executor, self._send, message, receipt)
        renew_every = self.settings.message_lease_seconds / 3
        while True:
            done, _ = await asyncio.wait({sending}, timeout=renew_every)
            if done:
                break
            try:
                await self.db.write(
                    lambda conn: repository.renew(conn, message["id"], token, self.clock())
                )
            except Exception:
                log.exception("message %s: cannot renew its lease", message["id"])
        outcome = sending.result()
        if outcome.result != "sent":
            log.warning("message %s (%s): %s", message["id"], outcome.result, outcome.error)
        await self._record(message, token, outcome)

    def _send(self, message: Row, receipt: MailReceipt) -> Outcome:
        """Render and send, in a worker thread. Never raises: the outcome says what happened."""
        channel = Channel(message["channel"])
        recipient: str = message["recipient"]
        send: Callable[[], None]
        try:
            if channel is Channel.EMAIL:
                if self.mailer is None:  # claimed only when there is one; configuration changed
                    return Outcome("retry", NO_SMTP)
                mail = build_email(
                    receipt,
                    sender=self.settings.mail_from,
                    recipient=recipient,
                    message_id=message["id"],
                )
                send = functools.partial(
                    self.mailer.send, mail, self.settings.sender_address, recipient
                )
            else:
                send = functools.partial(self.sms.send, recipient, sms_text(receipt))
        except Exception as exc:
            log.exception("message %s: cannot render", message["id"])
            return Outcome("failed", f"cannot render the receipt: {exc!r}")
        try:
            send()
        except SendError as exc:
            return Outcome("failed" if exc.permanent else "retry", str(exc))
        except PermanentSmsError as exc:
            return Outcome("failed", f"SMS refused: {exc}")
        except Exception as exc:  # a provider's sender may raise anything: retried
            return Outcome("retry", f"{type(exc).__name__}: {exc}")
        return Outcome("sent")

    async def _record(self, message: Row, token: str, outcome: Outcome) -> None:
        """Write the outcome (conditional on still owning the message), retrying a lost database."""
        message_id: int = message["id"]
        attempts: int = message["attempts"]

        def write(conn: Connection) -> bool:
            now = self.clock()
            if outcome.result == "sent":
                sent = repository.mark_sent(conn, message_id, token, now)
                if sent is not None:
                    self._tell(conn, EventType.MESSAGE_SENT, sent, now)
                return sent is not None
            error = outcome.error
            if outcome.result == "retry":
                if not gives_up(attempts, self.settings):
                    delay = backoff_seconds(
                        attempts,
                        self.settings.message_retry_seconds,
                        self.settings.message_backoff_cap_seconds,
                    )
                    later = now + int(delay * 1_000_000)
                    return repository.requeue(
                        conn, message_id, token, next_attempt_us=later, error=error, now_us=now
                    )
                hours = self.settings.message_give_up_hours
                error = f"gave up after {attempts} attempts over {hours:g} h; last error: {error}"
            failed = repository.fail(conn, message_id, token, error, now)
            if failed is not None:
                self._tell(conn, EventType.MESSAGE_FAILED, failed, now)
            return failed is not None

        recorded = await _retrying(lambda: self.db.write(write), f"message {message_id}")
        if recorded is False:
            log.warning("message %s changed hands before its outcome was recorded", message_id)

    def _tell(self, conn: Connection, event: EventType, row: Row, now: int) -> None:
        """The change, in the event log, in the same transaction (``message.sent|failed``)."""
        events.record(conn, event, int(row["id"]), service.message_out(row, self.zone), now)


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
