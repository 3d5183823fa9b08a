"""The message worker: sends queued e-receipts (email, SMS), at least once each.

One asyncio task per server process (:func:`start_message_worker`), on the machinery it
shares with the print worker (:class:`~minipos.queue_worker.QueueWorker`: the loop, claims,
leases, recovery). Each pass:

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
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Literal
from zoneinfo import ZoneInfo

from minipos.db import Connection, Database, Row
from minipos.domain.events import EventType
from minipos.ereceipts import repository, service
from minipos.ereceipts.compose import (
    CustomerReceipt,
    MessageWords,
    build_email,
    sms_text,
    words_for,
)
from minipos.ereceipts.mailer import Mailer, SendError, SmtpMailer
from minipos.ereceipts.service import Channel
from minipos.ereceipts.settings import MessageSettings
from minipos.ereceipts.sms import PermanentSmsError, SmsSender, load_sms_sender
from minipos.events import service as events
from minipos.print_jobs.documents import PrintContext
from minipos.print_jobs.settings import PrintSettings
from minipos.printing import pool
from minipos.printing.preview import RenderTimeout
from minipos.printing.wording import Wording
from minipos.queue_worker import ClaimStore, QueueWorker
from minipos.timeutil import now_us

log = logging.getLogger("minipos.messages")


NO_SMTP = "no SMTP server configured (MINIPOS_SMTP_HOST); retry once one is"
INTERRUPTED = "interrupted: the server stopped while sending; sending again"


def start_message_worker(
    db: Database, context: PrintContext, printing: PrintSettings
) -> asyncio.Task[None]:
    """Start this process's message worker (``MINIPOS_MESSAGE_WORKER=false``: a task that ends).

    The settings and the SMS sender are loaded first, worker or not: a bad value stops the
    server at start-up with a ``ConfigError`` naming the variable.
    """
    settings = MessageSettings.from_env()
    sms = load_sms_sender(settings.sms_sender)
    if not settings.message_worker:
        log.info("message worker disabled (MINIPOS_MESSAGE_WORKER=false)")
        return asyncio.create_task(asyncio.sleep(0), name="message-worker (disabled)")
    worker = MessageWorker(
        db,
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


class MessageWorker(QueueWorker[PrintContext, MessageSettings]):
    """The e-receipt queue on :class:`QueueWorker`: the channels this process can send, sent
    again if its sender died."""

    store: ClassVar[ClaimStore] = repository
    noun = "message"
    #: At least once: a message its sender left mid-send goes out again (same Message-ID).
    stale_fate = "sending again"
    log = log

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
        super().__init__(db, context, settings, clock=clock)
        self.mailer = mailer
        self.sms = sms
        self.wording = wording
        self.words = words

    def _poll_and_lease(self) -> tuple[float, float]:
        return self.settings.message_poll_seconds, self.settings.message_lease_seconds

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
        await super().run()

    async def run_once(self) -> int:
        """Claim the due messages this process has room for and start sending them; how many."""
        if self.mailer is None:
            await self._fail_unsendable(Channel.EMAIL, NO_SMTP)
        return await super().run_once()

    async def _candidates(self, room: int) -> list[Row]:
        now = self.clock()
        return await self.db.read(lambda conn: repository.due(conn, now, room * 2, self.channels))

    def _release_stale(self, conn: Connection, cutoff_us: int) -> list[int]:
        """Put back to pending, due now, the messages left ``sending`` by a process that died."""
        return repository.release_stale(conn, cutoff_us, INTERRUPTED, self.clock())

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

    # --- one message ----------------------------------------------------------------------------

    async def _deliver(self, message: Row) -> None:
        try:
            receipt = await self.db.read(
                lambda conn: service.customer_receipt(
                    conn, message, self.context, self.wording, self.words
                )
            )
        except Exception as exc:
            log.exception("message %s: cannot load its receipt", message["id"])
            await self._record(message, Outcome("failed", f"cannot load the receipt: {exc}"))
            return
        outcome = await self._in_thread(message, functools.partial(self._send, message, receipt))
        if outcome.result != "sent":
            log.warning("message %s (%s): %s", message["id"], outcome.result, outcome.error)
        await self._record(message, outcome)

    def _send(self, message: Row, receipt: CustomerReceipt) -> Outcome:
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
        except (pool.Busy, RenderTimeout) as exc:  # the renderer's load, not the receipt
            return Outcome("retry", f"cannot render the receipt now: {exc}")
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

    async def _record(self, message: Row, outcome: Outcome) -> None:
        """Write the outcome (conditional on still owning the message), retrying a lost database."""
        message_id: int = message["id"]
        token: str = message["claim_token"]
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

        await self._write_outcome(message, write)

    def _tell(self, conn: Connection, event: EventType, row: Row, now: int) -> None:
        """The change, in the event log, in the same transaction (``message.sent|failed``)."""
        events.record(conn, event, int(row["id"]), service.message_out(row, self.zone), now)
