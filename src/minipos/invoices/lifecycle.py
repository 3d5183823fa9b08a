"""Where an invoice changes state (docs/stations.md): New → Opened (a station's claim, a lease
it renews) → Done (checkout) or Cancelled; a released claim or a lease that ran out puts it back
to New. Also the invoices waiting for a station (its feed). Each runs inside the caller's unit of
work and tells the event log what changed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from minipos.auth.access import may_take
from minipos.db import Connection, Row
from minipos.domain.errors import Conflict, Forbidden, NotFound
from minipos.domain.events import EventType
from minipos.domain.invoice import InvoiceStatus, check_transition
from minipos.events import service as events
from minipos.invoices import repository, service
from minipos.invoices.schemas import InvoiceDetail
from minipos.invoices.service import ShopConfig
from minipos.receipts import service as receipts
from minipos.receipts.service import Issued
from minipos.stations.service import get_station


def waiting_for(
    conn: Connection, station_id: int, ctx: ShopConfig, now_us: int, limit: int
) -> list[InvoiceDetail]:
    """The invoices the station may take, and those it holds, oldest first."""
    station = get_station(conn, station_id)
    return service.load_many(conn, repository.waiting_for(conn, station, now_us, limit), ctx)


def visible(conn: Connection, station: Row, invoice_id: int) -> Row:
    """The invoice, if ``station`` may take it (else not found)."""
    invoice = repository.get(conn, invoice_id)
    if invoice is None or not may_take(station, invoice):
        raise NotFound()
    return invoice


def held(conn: Connection, station: Row, invoice_id: int) -> Row:
    """The invoice, if ``station`` holds it now."""
    invoice = visible(conn, station, invoice_id)
    check_held(station, invoice)
    return invoice


def check_held(station: Row, invoice: Row) -> None:
    """A 409 unless ``station`` holds ``invoice`` (one it may see, as read) now."""
    if invoice["status"] != InvoiceStatus.OPENED or invoice["station"] != station["id"]:
        raise Conflict(
            f"Invoice {invoice['id']} is not open at this station; open (claim) it first."
        )


def claim(
    conn: Connection,
    station_id: int,
    invoice_id: int,
    ctx: ShopConfig,
    now_us: int,
    *,
    lease_us: int,
) -> InvoiceDetail:
    station = get_station(conn, station_id)
    if not repository.claim(conn, invoice_id, station, now_us, lease_us):
        invoice = visible(conn, station, invoice_id)
        status = InvoiceStatus(invoice["status"])
        if status is InvoiceStatus.OPENED:
            raise Conflict(f"Invoice {invoice_id} is open at station {invoice['station']}.")
        raise Conflict(f"Invoice {invoice_id} is {status.label} and cannot be opened.")
    return _changed(conn, EventType.INVOICE_OPENED, invoice_id, ctx, now_us)


def release(
    conn: Connection, station_id: int, invoice_id: int, ctx: ShopConfig, now_us: int
) -> InvoiceDetail:
    held(conn, get_station(conn, station_id), invoice_id)
    repository.set_status(conn, invoice_id, int(InvoiceStatus.NEW), now_us, station=None)
    return _changed(conn, EventType.INVOICE_RELEASED, invoice_id, ctx, now_us)


def cancel(
    conn: Connection,
    station_id: int | None,
    invoice_id: int,
    ctx: ShopConfig,
    now_us: int,
    *,
    posted_by: int | None,
) -> InvoiceDetail:
    """A station cancels what it holds; otherwise (``station_id`` None) any open invoice, or with
    ``posted_by`` (an integrator's key id) only one that key posted or that names no poster."""
    if station_id is not None:
        invoice = held(conn, get_station(conn, station_id), invoice_id)
    else:
        # Locked before it is read: at a centre, a pull marking the invoice delivered and this
        # cancel must not both win (docs/stores.md, "Ownership of centre-posted invoices").
        repository.lock(conn, invoice_id)
        found = repository.get(conn, invoice_id)
        if found is None:
            raise NotFound()
        invoice = found
        _check_centre_may_cancel(conn, invoice_id)
        if posted_by is not None and invoice["created_by"] not in (None, posted_by):
            raise Forbidden("An integrator key may cancel only the invoices it posted.")
    check_transition(InvoiceStatus(invoice["status"]), InvoiceStatus.CANCELLED)
    repository.set_status(
        conn, invoice_id, int(InvoiceStatus.CANCELLED), now_us, station=invoice["station"]
    )
    return _changed(conn, EventType.INVOICE_CANCELLED, invoice_id, ctx, now_us)


def _check_centre_may_cancel(conn: Connection, invoice_id: int) -> None:
    """At a centre, a store's invoice is the store's once delivered (or posted there)."""
    owner = repository.ownership(conn, invoice_id)
    if owner is None or owner["store_id"] is None:
        return
    if owner["down_revision"] is None:
        raise Conflict(f"Posted at store {owner['store_code']}; cancel it there.")
    if owner["delivered_at"] is not None:
        raise Conflict(f"Delivered to store {owner['store_code']}; cancel it there.")


def expire_leases(conn: Connection, ctx: ShopConfig, now_us: int) -> int:
    """Claims a silent station stopped renewing go back to New (decisions §6)."""
    expired = repository.expire_leases(conn, now_us)
    for invoice_id in expired:
        _changed(conn, EventType.INVOICE_RELEASED, invoice_id, ctx, now_us)
    return len(expired)


def done(
    conn: Connection,
    header: Row,
    completion: Mapping[str, Any],
    ctx: ShopConfig,
    now_us: int,
    *,
    rows: Sequence[Row],
    receipt: Issued | None,
) -> msgspec.Raw:
    """Mark the invoice Done with what its checkout gave it (``repository.mark_done``'s
    values: the receipt number, the totals, where it printed), told to the event log.

    The invoice is shown from what the checkout holds, as a read back would give it: ``header``
    as read (locked) for the checkout with the values marked, ``rows`` as sold, and the
    ``receipt`` just issued (:func:`receipts.of_invoice`); only its payments are read. Encoded
    once, for the answer and for the event."""
    invoice_id = header["id"]
    repository.mark_done(conn, invoice_id, completion)
    marked = {name: header[name] for name in ("id", *repository.HEADER_COLUMNS)}
    # As mark_done sets them (the lease ends; no report unless the completion has one).
    marked.update(status=int(InvoiceStatus.DONE), lease_expires_at=None, report=None)
    marked.update(completion)
    out = events.encoded(
        service.detail(
            marked,
            list(rows),
            repository.payments_of(conn, invoice_id),
            ctx,
            receipts.of_invoice(conn, invoice_id, receipt, ctx.zone),
        )
    )
    events.record(conn, EventType.INVOICE_DONE, invoice_id, out, now_us)
    return out


def _changed(
    conn: Connection, event_type: EventType, invoice_id: int, ctx: ShopConfig, now_us: int
) -> InvoiceDetail:
    """The invoice as it is now, told to the event log as ``event_type``."""
    out = service.get(conn, invoice_id, ctx)
    events.record(conn, event_type, invoice_id, out, now_us)
    return out
