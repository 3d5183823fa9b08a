"""The print queue's use cases: queue a document, list jobs, retry, reprint, configure printers.

Each runs inside the caller's unit of work. Sending is the worker's
(:mod:`minipos.print_jobs.worker`); docs/printing.md describes the states.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from minipos.db import Connection, Row
from minipos.domain.errors import Conflict, NotFound
from minipos.domain.events import EventType
from minipos.events import service as events
from minipos.print_jobs import repository
from minipos.print_jobs.schemas import PrintJobOut, PrintJobQuery
from minipos.receipts import repository as receipts
from minipos.timeutil import local_aware


class JobKind(StrEnum):
    RECEIPT = "receipt"
    SLIP = "slip"  # a non-fiscal slip: mode 3 invoices and a sale's info.slip
    Z_REPORT = "z_report"
    TRAINING = "training"  # a training-mode document (non-fiscal), printed as stored


class JobStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"  # claimed by one worker; bytes may be on their way
    PRINTED = "printed"  # the printer acknowledged every byte
    FAILED = "failed"  # a person decides: retry (a copy, if it may have printed)


def enqueue_z_report(conn: Connection, *, station_id: int, shift_id: int, now_us: int) -> None:
    """Queue a closed shift's Z-report (stations calls it through its context)."""
    enqueue(conn, station_id=station_id, kind=JobKind.Z_REPORT, shift_id=shift_id, now_us=now_us)


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
    supporting_number: int | None = None,
    training_receipt_id: int | None = None,
) -> int:
    """Queue a document in the caller's transaction: it prints only if the sale commits.
    ``supporting_number``: the job prints the receipt's n-th supporting document (``lv``)."""
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
            "supporting_number": supporting_number,
            "training_receipt_id": training_receipt_id,
        },
    )


def tell_failed(conn: Connection, job_ids: list[int], zone: ZoneInfo, now_us: int) -> None:
    """Announce jobs that need a person now (``print_job.failed``)."""
    for job_id in job_ids:
        events.record(
            conn,
            EventType.PRINT_JOB_FAILED,
            job_id,
            job_out(_must(repository.get(conn, job_id)), zone),
            now_us,
        )


def job_out(row: Any, zone: ZoneInfo) -> PrintJobOut:
    status = row["status"]
    return PrintJobOut(
        id=row["id"],
        station_id=row["station_id"],
        kind=row["kind"],
        status=status,
        is_copy=bool(row["is_copy"]),
        receipt_id=row["receipt_id"],
        invoice_id=row["invoice_id"],
        shift_id=row["shift_id"],
        attempts=row["attempts"],
        next_attempt_at=local_aware(row["next_attempt_at"], zone)
        if status == JobStatus.QUEUED
        else None,
        last_error=row["last_error"],
        may_have_printed=bool(row["may_have_printed"]),
        created_at=local_aware(row["created_at"], zone) or "",
        claimed_at=local_aware(row["claimed_at"], zone),
        printed_at=local_aware(row["printed_at"], zone),
        supporting_number=row["supporting_number"],
    )


def search(conn: Connection, query: PrintJobQuery, zone: ZoneInfo) -> tuple[list[PrintJobOut], int]:
    rows, total = repository.search(
        conn,
        {
            "station_id": query.station_id,
            "status": query.status,
            "kind": query.kind,
            "after_id": query.after_id,
        },
        limit=query.limit,
        offset=query.offset,
    )
    return [job_out(row, zone) for row in rows], total


def get_job(conn: Connection, job_id: int, station_id: int | None) -> Row:
    """A job; a station (``station_id`` given) sees only its own."""
    job = repository.get(conn, job_id)
    if job is None or (station_id is not None and job["station_id"] != station_id):
        raise NotFound()
    return job


def retry(
    conn: Connection, job_id: int, station_id: int | None, zone: ZoneInfo, now_us: int
) -> tuple[PrintJobOut, bool]:
    """Print a job again: ``(job, created)``.

    Queued or failed: the same job, due now (a failed job that may have reached the paper comes
    back as a copy). Printed: a new job printing a copy. Sending: 409, it is on its way.
    """
    job = get_job(conn, job_id, station_id)
    status = JobStatus(job["status"])
    if status is JobStatus.SENDING:
        raise Conflict(f"Print job {job_id} is being sent now; wait for its outcome.")
    if status is JobStatus.PRINTED:
        new_id = enqueue(
            conn,
            station_id=job["station_id"],
            kind=JobKind(job["kind"]),
            now_us=now_us,
            receipt_id=job["receipt_id"],
            invoice_id=job["invoice_id"],
            shift_id=job["shift_id"],
            is_copy=True,
            supporting_number=job["supporting_number"],  # the same supporting document again
        )
        return job_out(_must(repository.get(conn, new_id)), zone), True
    again = repository.retry(conn, job_id, now_us)
    if again is None:  # changed between the read and the update (a worker claimed it)
        raise Conflict(f"Print job {job_id} is being sent now; wait for its outcome.")
    return job_out(again, zone), False


def reprint_receipt(
    conn: Connection, receipt_id: int, station_id: int | None, zone: ZoneInfo, now_us: int
) -> PrintJobOut:
    """A new job printing a copy ("KOPIJA") of a receipt, on its station's printer."""
    receipt = receipts.get(conn, receipt_id)
    if receipt is None or (station_id is not None and receipt["station_id"] != station_id):
        raise NotFound()
    new_id = enqueue(
        conn,
        station_id=receipt["station_id"],
        kind=JobKind.RECEIPT,
        now_us=now_us,
        receipt_id=receipt_id,
        is_copy=True,
    )
    return job_out(_must(repository.get(conn, new_id)), zone)


def _must(row: Row | None) -> Row:
    assert row is not None
    return row
