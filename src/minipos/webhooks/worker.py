"""The webhook sender: each endpoint's events, one at a time, in order, until each is taken.

One asyncio task per server process (:func:`start_webhook_sender`) keeps one task per active
endpoint. An endpoint's task loops:

1. take (or renew) the endpoint's lease, so that of several server processes sharing a
   PostgreSQL database exactly one sends its events, and fan out: the events committed after
   the endpoint's cursor become its ``pending`` deliveries (one short write transaction);
2. send the pending deliveries in event order over one keep-alive connection, each signed
   (``MiniPOS-Signature``) and carrying its delivery id (``MiniPOS-Delivery``, the same on
   every retry, for the receiver to drop duplicates);
3. stop at the first failure: that delivery is retried with exponential backoff, and the
   endpoint's later events wait behind it (order is kept), until it is taken or it is older
   than ``MINIPOS_WEBHOOK_GIVE_UP_HOURS``; then it is marked failed and the rest go on;
4. write the round's tries to the delivery log (one write transaction), then go on at once
   if more are due, or wait for the next commit with events.

Delivery is at least once: a crash between a receiver's 2xx and step 4 sends that delivery
again, under the same id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx

import minipos
from minipos.db import Connection, Database
from minipos.events import repository as events
from minipos.notifier import Notifier
from minipos.timeutil import now_us
from minipos.webhooks import repository, service
from minipos.webhooks.addresses import AddressRefused, IPAddress, Target, parse, resolve
from minipos.webhooks.repository import WebhookRow
from minipos.webhooks.service import Attempt, Due
from minipos.webhooks.settings import WebhookSettings
from minipos.webhooks.signing import signature

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

log = logging.getLogger("minipos.webhooks")

#: Deliveries read (and sent, if all goes well) per round.
SEND_BATCH = 200
#: An endpoint's shortest lease (renewed every round). Another process, or this one restarted
#: after a crash on PostgreSQL, takes the endpoint over once it ran out.
MIN_LEASE_SECONDS = 15.0
#: How often the endpoint list is re-read when no change was announced in this process
#: (endpoints added by another process or the CLI are noticed this fast).
POLL_SECONDS = 1.0
#: How long a resolved (and checked) address is used before the host is looked up again.
DNS_TTL_SECONDS = 30.0
#: Most of a receiver's answer kept (its first part goes into the log on failure).
MAX_ANSWER_BYTES = 64 * 1024
#: Most of an answer's text shown in ``last_error``.
ERROR_TEXT = 200


def start_webhook_sender(
    db: Database, zone: ZoneInfo, settings: WebhookSettings, wake: Notifier, changes: Notifier
) -> asyncio.Task[None]:
    """Start this process's sender (``MINIPOS_WEBHOOK_WORKER=false``: a task that ends)."""
    if not settings.webhook_worker:
        log.info("webhook sender disabled (MINIPOS_WEBHOOK_WORKER=false)")
        return asyncio.create_task(asyncio.sleep(0), name="webhook-sender (disabled)")
    sender = WebhookSender(db, zone, settings, wake, changes)
    return asyncio.create_task(sender.run(), name="webhook-sender")


class WebhookSender:
    def __init__(
        self,
        db: Database,
        zone: ZoneInfo,
        settings: WebhookSettings,
        wake: Notifier,
        changes: Notifier,
        *,
        clock: Callable[[], int] = now_us,
    ) -> None:
        self.db = db
        self.zone = zone
        self.settings = settings
        self.networks = settings.networks()
        self.wake = wake
        self.changes = changes
        self.clock = clock
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        # A round stops sending after a third of the lease, and its last request may take a
        # whole timeout: three timeouts keep the round inside the lease.
        lease = max(MIN_LEASE_SECONDS, 3 * settings.webhook_timeout_seconds)
        self.lease_us = int(lease * 1_000_000)
        self.give_up_us = int(settings.webhook_give_up_hours * 3_600_000_000)
        self._endpoints: dict[int, asyncio.Task[None]] = {}

    async def run(self) -> None:
        log.info("webhook sender started")
        if self.db.dialect == "sqlite":
            await self.db.write(repository.drop_leases)
        try:
            while True:
                try:
                    # Tasks of removed or paused endpoints have ended: forget them.
                    self._endpoints = {k: t for k, t in self._endpoints.items() if not t.done()}
                    for row in await self.db.read(repository.all_webhooks):
                        task = self._endpoints.get(row["id"])
                        if row["active"] and (task is None or task.done()):
                            self._endpoints[row["id"]] = asyncio.create_task(
                                self._endpoint(row["id"]), name=f"webhook-{row['id']}"
                            )
                except Exception:
                    log.exception("cannot read the webhook endpoints; retrying")
                # Not on every commit with events (that would cost each POST a read even with no
                # webhook configured): when an endpoint is added or changed here, else each poll.
                await self.changes.wait(POLL_SECONDS)
        finally:
            for task in self._endpoints.values():
                task.cancel()
            await asyncio.gather(*self._endpoints.values(), return_exceptions=True)

    async def _endpoint(self, webhook_id: int) -> None:
        timeout = httpx.Timeout(self.settings.webhook_timeout_seconds)
        headers = {"User-Agent": f"MiniPOS-Webhooks/{minipos.__version__}"}
        async with httpx.AsyncClient(timeout=timeout, headers=headers, trust_env=False) as client:
            endpoint = _Endpoint(self, client, webhook_id)
            failures = 0
            while True:
                try:
                    pause = await endpoint.round()
                    failures = 0
                except Exception:
                    failures += 1
                    if failures == 1 or failures % 100 == 0:
                        log.exception(
                            "webhook %s: round failed (%d in a row)", webhook_id, failures
                        )
                    pause = min(POLL_SECONDS * 2**failures, 60.0)
                if pause is None:
                    return  # deleted or deactivated
                if pause > 0:
                    await self.wake.wait(pause)


class _Endpoint:
    """One endpoint's sending state in this process."""

    def __init__(self, sender: WebhookSender, client: httpx.AsyncClient, webhook_id: int) -> None:
        self.sender = sender
        self.client = client
        self.id = webhook_id
        self._address: tuple[str, IPAddress, float] | None = None  # url, address, expires

    async def round(self) -> float | None:
        """Send what is due; how long to wait before the next round (None: stop)."""
        s = self.sender
        webhook, newest = await s.db.read(self._look)
        if webhook is None or not webhook["active"]:
            return None
        mine = webhook["lease_owner"] == s.owner
        if (
            not mine
            or webhook["lease_until"] is None  # never, once ours: the lease sets both
            or webhook["lease_until"] - s.clock() < s.lease_us // 2
            or newest > webhook["cursor"]
        ):
            # Only when something changes: an idle endpoint costs no write (and no fsync).
            webhook = await s.db.write(self._lease_and_fan_out)
            if webhook is None:
                return s.lease_us / 4_000_000  # another process sends this endpoint's events
        batch = await s.db.read(lambda conn: service.due(conn, self.id, SEND_BATCH, s.zone))
        if not batch:
            return POLL_SECONDS
        wait_us: int = batch[0].delivery["next_attempt_at"] - s.clock()
        if wait_us > 0:  # the head is backing off; the rest wait behind it
            return min(wait_us / 1_000_000, POLL_SECONDS)
        attempts = []
        deadline = time.monotonic() + s.lease_us / 3_000_000
        for item in batch:
            attempt = await self._send(webhook, item)
            attempts.append(attempt)
            if (not attempt.ok and attempt.retry_at is not None) or time.monotonic() > deadline:
                break
        await s.db.write(lambda conn: service.record(conn, attempts))
        return 0.0 if all(a.ok for a in attempts) else POLL_SECONDS / 10

    def _look(self, conn: Connection) -> tuple[WebhookRow | None, int]:
        return repository.get(conn, self.id), events.last_id(conn)

    def _lease_and_fan_out(self, conn: Connection) -> WebhookRow | None:
        """The endpoint, leased to this process and with its deliveries up to date; None if
        another process holds it (or it is gone: the next look stops the task)."""
        s = self.sender
        now = s.clock()
        if not repository.take_lease(conn, self.id, s.owner, now, now + s.lease_us):
            return None
        webhook = repository.get(conn, self.id)
        if webhook is not None and events.last_id(conn) > webhook["cursor"]:
            service.fan_out(conn, webhook, now)
        return webhook

    async def _send(self, webhook: WebhookRow, item: Due) -> Attempt:
        s = self.sender
        started = s.clock()
        delivery = item.delivery
        status: int | None = None
        if item.body is None:
            error: str | None = "the event is no longer in the log (past retention)"
            return Attempt(delivery, started, None, error, 0, retry_at=None)
        try:
            target = parse(webhook["url"])
            address = await self._resolve(webhook["url"], target)
            status, answer = await self._post(webhook, target, address, item)
            error = None if 200 <= status < 300 else _answer_error(status, answer)
        except AddressRefused as exc:
            error = str(exc)
        except httpx.TimeoutException:
            error = f"no answer within {s.settings.webhook_timeout_seconds:g} s"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:ERROR_TEXT] or type(exc).__name__
        finished = s.clock()
        retry_at = None
        if error is not None and delivery["created_at"] >= finished - s.give_up_us:
            retry_at = finished + s.settings.backoff_us(delivery["attempts"] + 1)
        duration_ms = (finished - started) // 1000
        return Attempt(delivery, started, status, error, duration_ms, retry_at=retry_at)

    async def _resolve(self, url: str, target: Target) -> IPAddress:
        """The checked address of the URL's host, looked up again every ``DNS_TTL_SECONDS``."""
        cached = self._address
        if cached is not None and cached[0] == url and cached[2] > time.monotonic():
            return cached[1]
        address = await asyncio.to_thread(resolve, target, self.sender.networks)
        self._address = (url, address, time.monotonic() + DNS_TTL_SECONDS)
        return address

    async def _post(
        self, webhook: WebhookRow, target: Target, address: IPAddress, item: Due
    ) -> tuple[int, bytes]:
        """POST to the checked address itself; the URL's host goes in ``Host`` and TLS SNI."""
        assert item.body is not None
        delivery = item.delivery
        default_port = 443 if target.scheme == "https" else 80
        host = target.host if target.port == default_port else f"{target.host}:{target.port}"
        url = httpx.URL(
            scheme=target.scheme,
            host=str(address),
            port=target.port,
            raw_path=target.target.encode(),
        )
        headers = {
            "Host": host,
            "Content-Type": "application/json",
            "MiniPOS-Delivery": str(delivery["id"]),
            "MiniPOS-Event": delivery["event_type"],
            "MiniPOS-Event-Id": str(delivery["event_id"]),
            "MiniPOS-Signature": signature(webhook["secret"], int(time.time()), item.body),
        }
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        request = self.client.build_request(
            "POST", url, content=item.body, headers=headers, extensions=extensions
        )
        response = await self.client.send(request, stream=True, follow_redirects=False)
        try:
            answer = b""
            async for chunk in response.aiter_bytes():
                answer += chunk
                if len(answer) >= MAX_ANSWER_BYTES:
                    break
        finally:
            with contextlib.suppress(httpx.HTTPError):
                await response.aclose()
        return response.status_code, answer


def _answer_error(status: int, answer: bytes) -> str:
    text = answer[:ERROR_TEXT].decode("utf-8", "replace").strip()
    return f"HTTP {status}" + (f": {text}" if text else "")
