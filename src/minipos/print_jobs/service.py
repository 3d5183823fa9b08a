"""Queueing documents for printing. (The worker that sends them is the printing issue's.)"""

from __future__ import annotations

from enum import StrEnum

from minipos.db import Connection
from minipos.print_jobs import repository


class JobKind(StrEnum):
    RECEIPT = "receipt"
    SLIP = "slip"  # a non-fiscal slip: mode 3 invoices and a sale's info.slip
    Z_REPORT = "z_report"


class JobStatus(StrEnum):
    QUEUED = "queued"
    PRINTED = "printed"
    FAILED = "failed"


def enqueue(
    conn: Connection,
    *,
    station_id: int,
    kind: JobKind,
    now_us: int,
    receipt_id: int | None = None,
    invoice_id: int | None = None,
    shift_id: int | None = None,
    is_copy: bool = False,
) -> int:
    """Queue a document in the caller's transaction: it prints only if the sale commits."""
    return repository.insert(
        conn,
        {
            "station_id": station_id,
            "kind": kind.value,
            "receipt_id": receipt_id,
            "invoice_id": invoice_id,
            "shift_id": shift_id,
            "status": JobStatus.QUEUED.value,
            "is_copy": is_copy,
            "attempts": 0,
            "next_attempt_at": now_us,
            "created_at": now_us,
        },
    )
