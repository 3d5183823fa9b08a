"""A store's sync worker: pushes the outbox to the centre and pulls what the centre holds
for the store (docs/stores.md, "The wire protocol").

One asyncio task per store server (:func:`start_sync_worker`), two loops on one keep-alive
client (``Authorization: Token <store key>``; the store always opens the connection):

- **push**: one push in flight. It reads up to ``MINIPOS_SYNC_BATCH`` pending items in id
  (commit) order, sends each body byte for byte as stored with its stored hash, and writes
  the answer in one transaction: 201/200 mark the item acked and put the centre's ids on the
  invoice, receipt or shift (invariant I4: acked only from an answer, with its ids); 409
  quarantines it (event ``sync.quarantined``; its station's lane waits behind it); 425 leaves
  it pending, sent again in order; 422 counts a try and quarantines after three. A failed
  request (no connection, timeout, 401, 413, 5xx) writes nothing but ``last_error`` and backs
  off 1, 2, 4 … 30 s with jitter. Woken by commits that wrote outbox rows, else every second;
- **pull**: :meth:`Puller.pull_once` every 5 s, at once again while the centre has more.

Any crash between a centre's COMMIT and the ack's leaves the item pending: the resend carries
the same key and hash and gets the stored ack back (``200``), so nothing is lost or doubled.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import msgspec

import minipos
from minipos.config import Settings
from minipos.db import Connection, Database, Row
from minipos.domain.events import EventType
from minipos.domain.sync import ItemStatus, SyncKind
from minipos.events import service as events
from minipos.notifier import Notifier
from minipos.sync import repository
from minipos.sync.pull import Puller
from minipos.sync.wire import PushItem, PushRequest, PushResponse, PushResult
from minipos.timeutil import now_us

log = logging.getLogger("minipos.sync")

PUSH_PATH = "/api/sync/push"
#: With nothing announced, how often the outbox is looked at (commits elsewhere, e.g. the CLI).
POLL_SECONDS = 1.0
#: How often the centre is asked for news.
PULL_SECONDS = 5.0
#: A failed request waits 1, 2, 4 … seconds, at most this long, before the next.
MAX_BACKOFF_SECONDS = 30.0
#: Refusals of a malformed item (422) before it is quarantined: a corruption in transit heals
#: on a retry, a body the centre cannot read does not.
MAX_INVALID = 3
#: How long one request may take (a 500-item push is about 1 MB).
TIMEOUT = httpx.Timeout(60.0, connect=5.0)
#: Most of an answer's text kept in ``last_error``.
ERROR_TEXT = 200


class RequestFailed(Exception):
    """The centre did not answer the push as a whole (nothing of it is written as acked)."""


def start_sync_worker(
    db: Database, settings: Settings, puller: Puller | None, wake: Notifier
) -> asyncio.Task[None]:
    worker = SyncWorker(db, settings, puller, wake)
    return asyncio.create_task(worker.run(), name="sync-worker")


def backoff(failures: int) -> float:
    """1, 2, 4 … 30 s after the n-th failure in a row, jittered so stores that lost the
    centre together do not come back in step."""
    base = min(MAX_BACKOFF_SECONDS, 2.0 ** max(0, failures - 1))
    return min(MAX_BACKOFF_SECONDS, base * random.uniform(0.75, 1.25))  # noqa: S311 - jitter


@dataclass
class PushOutcome:
    sent: int
    #: Items acked or quarantined: the outbox moved on.
    settled: int


class SyncWorker:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        puller: Puller | None,
        wake: Notifier,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], int] = now_us,
    ) -> None:
        self.db = db
        self.settings = settings
        self.puller = puller
        self.wake = wake
        self.transport = transport
        self.clock = clock
        self.batch = settings.sync_batch
        #: Lanes the centre answered 425 (a gap before them) → (monotonic time to send them
        #: again, 425 answers in a row). Meanwhile the other lanes go on: a lane that waits for
        #: something the centre lacks must not hold the whole outbox behind its 500 items.
        self.held: dict[str, tuple[float, int]] = {}
        self.monotonic: Callable[[], float] = time.monotonic

    def client(self) -> httpx.AsyncClient:
        """The one client of both loops: the centre's base URL, the store key, keep-alive."""
        return httpx.AsyncClient(
            base_url=self.settings.central_url.rstrip("/"),
            headers={
                "Authorization": f"Token {self.settings.store_key()}",
                "User-Agent": f"MiniPOS-Store/{minipos.__version__}",
            },
            timeout=TIMEOUT,
            transport=self.transport,
            trust_env=False,
        )

    async def run(self) -> None:
        await self.db.write(repository.ensure_state)
        log.info("sync worker started; centre %s", self.settings.central_url)
        async with self.client() as http, asyncio.TaskGroup() as group:
            group.create_task(self._push_loop(http), name="sync-push")
            if self.puller is not None:
                group.create_task(self._pull_loop(http, self.puller), name="sync-pull")

    async def _push_loop(self, http: httpx.AsyncClient) -> None:
        failures = 0
        while True:
            try:
                outcome = await self.push_once(http)
            except Exception as exc:  # a failed request, or the database: retried alike
                failures += 1
                self._complain("push", exc, failures)
                await self._note_error(f"push: {_describe(exc)}")
                await asyncio.sleep(backoff(failures))
                continue
            failures = 0
            if outcome.sent and outcome.settled:
                continue  # the outbox moved: look again at once (more may have committed)
            if outcome.sent:
                # Nothing settled (gaps, retried 422s): no point in waking per commit.
                await asyncio.sleep(POLL_SECONDS)
            else:
                await self.wake.wait(POLL_SECONDS)

    async def _pull_loop(self, http: httpx.AsyncClient, puller: Puller) -> None:
        failures = 0
        while True:
            try:
                more = await puller.pull_once(http)
                await self.db.write(
                    lambda conn: repository.record_contact(conn, self.clock(), None, "pull:")
                )
            except Exception as exc:
                failures += 1
                self._complain("pull", exc, failures)
                await self._note_error(f"pull: {_describe(exc)}")
                await asyncio.sleep(backoff(failures))
                continue
            failures = 0
            if not more:
                await asyncio.sleep(PULL_SECONDS)

    def _complain(self, what: str, exc: Exception, failures: int) -> None:
        if isinstance(exc, RequestFailed | httpx.TransportError):
            if failures == 1 or failures % 20 == 0:
                log.warning("sync %s failed (%d in a row): %s", what, failures, _describe(exc))
        elif failures == 1 or failures % 20 == 0:
            log.exception("sync %s failed (%d in a row)", what, failures)

    async def _note_error(self, error: str) -> None:
        try:
            await self.db.write(lambda conn: repository.record_error(conn, error[:ERROR_TEXT]))
        except Exception:
            log.exception("cannot record the sync error")

    async def push_once(self, http: httpx.AsyncClient) -> PushOutcome:
        """Send the next pending items and write the answer; raises :class:`RequestFailed`
        when the centre did not answer the push (nothing written then)."""
        now = self.monotonic()
        skip = [lane for lane, (until, _) in self.held.items() if until > now]
        rows = await self.db.read(lambda conn: repository.pending(conn, self.batch, skip))
        if not rows:
            return PushOutcome(0, 0)
        sent_at = self.clock()
        request = PushRequest(
            sent_at=sent_at,
            items=[
                PushItem(
                    kind=row["kind"],
                    local_id=row["local_id"],
                    lane=row["lane"],
                    hash=row["hash"],
                    body=msgspec.Raw(row["body"].encode()),
                )
                for row in rows
            ],
        )
        started = time.monotonic()
        try:
            response = await http.post(
                PUSH_PATH,
                content=msgspec.json.encode(request),
                headers={"Content-Type": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise RequestFailed(_describe(exc)) from exc
        received_at = self.clock()
        if response.status_code != 200:
            text = response.text[:ERROR_TEXT].replace("\n", " ")
            raise RequestFailed(f"HTTP {response.status_code}: {text}")
        try:
            answer = msgspec.json.decode(response.content, type=PushResponse)
        except msgspec.DecodeError as exc:
            raise RequestFailed(f"unreadable answer: {exc}") from exc
        if len(answer.results) != len(rows):
            raise RequestFailed(
                f"{len(answer.results)} results for {len(rows)} items: answer not used"
            )
        skew_ms = (answer.centre_time - (sent_at + received_at) // 2) // 1000
        settled = await self.db.write(
            lambda conn: self._apply(conn, rows, answer.results, received_at, skew_ms)
        )
        self._hold_gaps(rows, answer.results)
        log.debug(
            "pushed %d items in %.0f ms; %d settled",
            len(rows),
            (time.monotonic() - started) * 1000,
            settled,
        )
        return PushOutcome(len(rows), settled)

    def _hold_gaps(self, rows: list[Row], results: list[PushResult]) -> None:
        """Hold the lanes that met a gap (425) for 1, 2, 4 … 30 s; free the ones that went."""
        gaps = {row["lane"] for row, r in zip(rows, results, strict=True) if r.status == 425}
        for lane in {row["lane"] for row in rows} - gaps:
            self.held.pop(lane, None)
        for lane in gaps:
            count = self.held.get(lane, (0.0, 0))[1] + 1
            self.held[lane] = (self.monotonic() + backoff(count), count)
            if count == 1 or count % 20 == 0:
                log.warning(
                    "sync: lane %s waits for a gap at the centre (%d in a row)", lane, count
                )

    def _apply(
        self,
        conn: Connection,
        rows: list[Row],
        results: list[PushResult],
        now: int,
        skew_ms: int,
    ) -> int:
        """One answer, in one transaction: every item's outcome and the contact."""
        settled = 0
        for row, result in zip(rows, results, strict=True):
            settled += apply_result(conn, row, result, now)
        repository.record_contact(conn, now, skew_ms, "push:")
        return settled


def apply_result(conn: Connection, row: Row, result: PushResult, now: int) -> int:
    """Write one item's outcome; 1 if it left the pending items (acked or quarantined)."""
    outbox_id = int(row["id"])
    try:
        status = ItemStatus(result.status)
    except ValueError:
        status = ItemStatus.INVALID  # an answer we do not know: a refused try, counted
    if status.acknowledged:
        if repository.mark_acked(conn, outbox_id, result.common_id, now):
            _write_ids(conn, row, result.common_id, now)
            return 1
        return 0  # already acked: a replayed answer changes nothing
    error = f"{int(status)}: {result.error or status.name.lower()}"
    if status is ItemStatus.CONFLICT:
        return _quarantine(conn, row, error, now, attempted=False)
    if status is ItemStatus.INVALID:
        if int(row["attempts"]) + 1 >= MAX_INVALID:
            return _quarantine(conn, row, error, now, attempted=True)
        repository.note_failure(conn, outbox_id, error, attempted=True)
        return 0
    # 425: a gap before it at the centre; nothing stored, it goes again in order.
    repository.note_failure(conn, outbox_id, error, attempted=False)
    return 0


def _write_ids(conn: Connection, row: Row, common_id: int | None, now: int) -> None:
    """The centre's ids onto the store's own row, in the transaction that marks it acked."""
    kind = SyncKind(row["kind"])
    local_id = int(row["local_id"])
    match kind:
        case SyncKind.INVOICE:
            repository.set_invoice_ids(conn, local_id, common_id, now)
        case SyncKind.RECEIPT:
            repository.set_receipt_ids(conn, local_id, common_id, now)
        case SyncKind.SHIFT_OPEN | SyncKind.SHIFT_CLOSE:
            repository.set_shift_ids(conn, local_id, common_id)
        case SyncKind.INVOICE_STATE:
            body: dict[str, Any] = msgspec.json.decode(row["body"])
            local = body.get("invoice_local_id")
            repository.set_invoice_synchronized(
                conn,
                local_id=None if local is None else int(local),
                common_id=body.get("invoice_common_id"),
                now_us=now,
            )


def _quarantine(conn: Connection, row: Row, error: str, now: int, *, attempted: bool) -> int:
    if not repository.quarantine(conn, int(row["id"]), error, attempted=attempted):
        return 0
    log.error(
        "sync: outbox item %s (%s %s, lane %s) quarantined: %s",
        row["id"],
        row["kind"],
        row["local_id"],
        row["lane"],
        error,
    )
    events.record(
        conn,
        EventType.SYNC_QUARANTINED,
        int(row["id"]),
        {
            "outbox_id": int(row["id"]),
            "kind": row["kind"],
            "local_id": row["local_id"],
            "lane": row["lane"],
            "error": error,
        },
        now,
    )
    return 1


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.replace("\n", " ")[:ERROR_TEXT]


async def trim_outbox(db: Database, retention_days: int, batch: int = 5000) -> None:
    """Drop acked items past retention, a batch per transaction (writers wait little)."""
    cutoff = now_us() - retention_days * 86_400_000_000
    removed = 0
    while count := await db.write(
        lambda conn: repository.purge_acked(conn, older_than_us=cutoff, batch=batch)
    ):
        removed += count
    if removed:
        log.info("removed %d acknowledged outbox items past retention", removed)
