"""Depth and oldest age of the background queues, counted at scrape time.

Plain SQL over the areas' queue tables, counting the statuses a worker still has to handle,
named by each area's own status type; done and failed items are history.
"""

from __future__ import annotations

from dataclasses import dataclass

from minipos.db import Connection
from minipos.ereceipts.service import MessageStatus
from minipos.print_jobs.service import JobStatus
from minipos.sync.repository import PENDING, QUARANTINED

#: queue label → (table, statuses still to be handled)
QUEUES: dict[str, tuple[str, tuple[str, ...]]] = {
    "print_jobs": ("print_jobs", (JobStatus.QUEUED, JobStatus.SENDING)),
    # webhooks.schemas.DeliveryStatus: a delivery is "pending" until delivered or failed.
    "webhook_deliveries": ("webhook_deliveries", ("pending",)),
    "ereceipts": ("messages", (MessageStatus.PENDING, MessageStatus.SENDING)),
    # A store's items not yet acknowledged by the centre (empty in the other modes), and the
    # ones held for a person to look at: a held station lane stops behind its item.
    "sync_outbox": ("sync_outbox", (PENDING,)),
    "sync_quarantined": ("sync_outbox", (QUARANTINED,)),
}


@dataclass(frozen=True)
class QueueStat:
    queue: str
    depth: int
    oldest_age_seconds: float


def queue_stats(conn: Connection, now_us: int) -> list[QueueStat]:
    stats = []
    for name, (table, statuses) in QUEUES.items():
        wanted = ", ".join(f"'{status}'" for status in statuses)
        row = conn.fetchone(
            f"SELECT count(*) AS n, min(created_at) AS oldest FROM {table}"  # noqa: S608 - constants
            f" WHERE status IN ({wanted})"
        )
        assert row is not None  # an aggregate always answers one row
        oldest = row["oldest"]
        age = 0.0 if oldest is None else max(0, now_us - int(oldest)) / 1_000_000
        stats.append(QueueStat(name, int(row["n"]), age))
    return stats


@dataclass(frozen=True)
class SyncLink:
    """A store's link to its centre: the clock skew (centre minus store) and how long ago the
    centre last answered (None: never)."""

    skew_seconds: float | None
    last_contact_age_seconds: float | None


def sync_link(conn: Connection, now_us: int) -> SyncLink:
    row = conn.fetchone("SELECT skew_ms, last_contact_at FROM sync_state WHERE id = 1")
    if row is None:
        return SyncLink(None, None)
    contact = row["last_contact_at"]
    return SyncLink(
        None if row["skew_ms"] is None else int(row["skew_ms"]) / 1000,
        None if contact is None else max(0, now_us - int(contact)) / 1_000_000,
    )
