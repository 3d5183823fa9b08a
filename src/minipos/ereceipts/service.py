"""Electronic receipts' use cases: queue them with the sale, list, retry; load one to render.

Each runs inside the caller's unit of work. Sending is the worker's
(:mod:`minipos.ereceipts.worker`); docs/e-receipts.md describes the states.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from minipos.db import Connection, Row
from minipos.domain.errors import Conflict, NotFound
from minipos.ereceipts import repository
from minipos.ereceipts.compose import CustomerReceipt, MessageWords
from minipos.ereceipts.schemas import MessageOut, MessageQuery
from minipos.invoices.schemas import Customer, InvoiceInfo
from minipos.print_jobs import printers
from minipos.print_jobs.documents import PrintContext, receipt_document
from minipos.printing.wording import Wording
from minipos.receipts import repository as receipts
from minipos.timeutil import local_aware

_INFO = msgspec.json.Decoder(InvoiceInfo)


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"


class MessageStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by one worker; may be on its way
    SENT = "sent"  # the SMTP server (or the SMS provider) accepted it
    FAILED = "failed"  # refused for good, or given up: an admin may retry


def queue_receipt(
    conn: Connection,
    invoice: Row | dict[str, Any],
    receipt: Row | dict[str, Any] | None,
    now_us: int,
) -> list[int]:
    """Queue the receipt for the invoice's customer, in the sale's transaction.

    One email message when the stored ``info.customer.email`` is set, one SMS when
    ``info.customer.phone`` is; nothing without a receipt (a non-fiscal slip). Nothing is sent
    unless the sale commits.
    """
    customer = customer_of(invoice["info"])
    if receipt is None or customer is None:
        return []
    wanted: list[tuple[Channel, str]] = []
    if isinstance(customer.email, str) and customer.email.strip():
        wanted.append((Channel.EMAIL, customer.email.strip()))
    if isinstance(customer.phone, str) and customer.phone.strip():
        # Providers want E.164 digits: the spaces people type go.
        wanted.append((Channel.SMS, "".join(customer.phone.split())))
    return [
        _queue(
            conn,
            channel.value,
            recipient=recipient,
            receipt_id=receipt["id"],
            invoice_id=invoice["id"],
            now_us=now_us,
        )
        for channel, recipient in wanted
    ]


def _queue(
    conn: Connection,
    channel: str,
    *,
    recipient: str,
    receipt_id: int,
    invoice_id: int | None,
    now_us: int,
) -> int:
    """A new pending message, due now."""
    return repository.insert(
        conn,
        {
            "channel": channel,
            "recipient": recipient,
            "receipt_id": receipt_id,
            "invoice_id": invoice_id,
            "status": MessageStatus.PENDING.value,
            "attempts": 0,
            "next_attempt_at": now_us,
            "created_at": now_us,
            "updated_at": now_us,
        },
    )


def customer_of(info: str | bytes | None) -> Customer | None:
    """The ``info.customer`` of an invoice's stored ``info`` JSON, if it has one."""
    if not info:
        return None
    customer = _INFO.decode(info).customer
    return customer if isinstance(customer, Customer) else None


def message_out(row: Any, zone: ZoneInfo) -> MessageOut:
    status = row["status"]
    return MessageOut(
        id=row["id"],
        channel=row["channel"],
        recipient=row["recipient"],
        receipt_id=row["receipt_id"],
        invoice_id=row["invoice_id"],
        status=status,
        attempts=row["attempts"],
        next_attempt_at=local_aware(row["next_attempt_at"], zone)
        if status == MessageStatus.PENDING
        else None,
        last_error=row["last_error"],
        created_at=local_aware(row["created_at"], zone) or "",
        sent_at=local_aware(row["sent_at"], zone),
    )


def search(conn: Connection, query: MessageQuery, zone: ZoneInfo) -> tuple[list[MessageOut], int]:
    rows, total = repository.search(
        conn,
        {
            "receipt_id": query.receipt_id,
            "invoice_id": query.invoice_id,
            "status": query.status,
            "channel": query.channel,
            "after_id": query.after_id,
        },
        limit=query.limit,
        offset=query.offset,
    )
    return [message_out(row, zone) for row in rows], total


def get(conn: Connection, message_id: int) -> Row:
    found = repository.get(conn, message_id)
    if found is None:
        raise NotFound()
    return found


def retry(
    conn: Connection, message_id: int, zone: ZoneInfo, now_us: int
) -> tuple[MessageOut, bool]:
    """Send a message again: ``(message, created)``.

    Failed or pending: the same message, due now, with a fresh retry window. Sent: a new
    message to the same recipient (the customer lost the first). Sending: 409.
    """
    found = get(conn, message_id)
    status = MessageStatus(found["status"])
    if status is MessageStatus.SENDING:
        raise Conflict(f"Message {message_id} is being sent now; wait for its outcome.")
    if status is MessageStatus.SENT:
        new_id = _queue(
            conn,
            found["channel"],
            recipient=found["recipient"],
            receipt_id=found["receipt_id"],
            invoice_id=found["invoice_id"],
            now_us=now_us,
        )
        return message_out(get(conn, new_id), zone), True
    again = repository.retry(conn, message_id, now_us)
    if again is None:  # a worker claimed it between the read and the update
        raise Conflict(f"Message {message_id} is being sent now; wait for its outcome.")
    return message_out(again, zone), False


def customer_receipt(
    conn: Connection, message: Row, context: PrintContext, wording: Wording, words: MessageWords
) -> CustomerReceipt:
    """The message's receipt as its station prints it (its printer's profile)."""
    document = receipt_document(conn, message["receipt_id"], context)
    receipt = receipts.get(conn, message["receipt_id"])
    profile = printers.profile_of(conn, receipt["station_id"] if receipt else None)
    return CustomerReceipt(document, profile, wording, words)
