"""Invoice use cases: validate and price, store, read back, list.

Functions that touch storage take a ``Connection`` and run inside the caller's unit of work
(``Database.write``/``read``), so creating an invoice and recording its idempotency key commit
together.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from minipos.db import Connection, Row, UniqueViolation, tuples
from minipos.domain.errors import NotFound, ValidationFailed
from minipos.domain.events import EventType
from minipos.domain.invoice import InvoiceStatus, validate_invoice
from minipos.domain.money import (
    shown_cents,
    shown_thousandths,
    stored_discount_type,
    to_cents,
)
from minipos.domain.reference import ReferenceData
from minipos.events import service as events
from minipos.invoices import repository
from minipos.invoices.schemas import (
    InvoiceDetail,
    InvoiceIn,
    InvoiceQuery,
    InvoiceSummary,
    PaymentOut,
    RowOut,
)
from minipos.receipts import service as receipt_service
from minipos.receipts.schemas import InvoiceReceiptOut
from minipos.timeutil import local_naive, parse_local, to_datetime

#: Tries at a free automatic number before giving up (two invoices in one second get ``_2``).
_AUTO_NUMBER_TRIES = 1000


class NumberHint:
    """Hands out automatic ``invoice_no`` suffixes.

    Numbers are ``YYYYMMDD_HHMMSS``, then ``_2``, ``_3``… for more invoices in the same second.
    Each call reserves the next suffix of its second, so requests running side by side in this
    process never try the same number. The last few seconds keep their counters: a request
    of the second before, still running, must not start that second again from 1 and try
    every number already taken. It is only a hint: the unique index decides, so a number taken
    by another process (or before a restart) just means one more try.
    """

    #: Seconds whose counters are kept (more than any request takes to store its invoice).
    KEPT = 16

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: dict[str, int] = {}

    def reserve(self, base: str, after: int = 0) -> int:
        """A suffix of ``base`` above ``after`` (a number found taken) that no caller of this
        process got yet."""
        with self._lock:
            last = self._last[base] = max(self._last.get(base, 0), after) + 1
            if len(self._last) > self.KEPT:
                del self._last[min(self._last)]  # the oldest: bases sort by time
            return last


@dataclass(frozen=True, slots=True)
class ShopConfig:
    """The shop-wide configuration every invoice, station and receipt reads: reference data
    (taxes, payment methods), the shop's time zone and its station group."""

    reference: ReferenceData
    zone: ZoneInfo
    station_group: str
    #: Cash rounding step (``MINIPOS_CASH_ROUNDING``); None: cash is not rounded.
    cash_rounding: Decimal | None = None
    #: Not configuration: the process's guess at the next automatic invoice number. It rides
    #: here because it lives as long as the configuration and every invoice use case has it.
    numbers: NumberHint = field(default_factory=NumberHint)

    def use_reference(self, reference: ReferenceData) -> None:
        """Replace the reference data in the running process (a store pulled the centre's).

        The one change a ShopConfig allows: every area holds this same object and reads
        ``reference`` when it needs it, so one attribute swap reaches them all at once, and a
        use case that already read the old document finishes with it, whole."""
        object.__setattr__(self, "reference", reference)


@dataclass(slots=True)
class PreparedInvoice:
    """A valid invoice in storage form, ready to insert (or to show, for ``validateonly``)."""

    header: dict[str, Any]
    rows: list[dict[str, Any]]
    payments: list[dict[str, Any]]
    auto_number: bool
    #: At a chain's centre: the store the invoice is posted for (docs/stores.md, "Down").
    store_id: int | None = None


def target_store(
    conn: Connection, *, code: str | None, bound_store: int | None, central: bool
) -> int | None:
    """The store an invoice posted at a centre is for: the key's own store, or ``?store=CODE``
    for a key bound to none. Elsewhere there are no stores, so any code is unknown."""
    if code is not None:
        store = repository.store_by_code(conn, code)
        if store is None:
            raise ValidationFailed.single(("store",), f'Unknown store "{code}".')
        if bound_store is not None and store["id"] != bound_store:
            raise ValidationFailed.single(("store",), "This key is bound to another store.")
        return int(store["id"])
    if not central:
        return None
    if bound_store is None:
        raise ValidationFailed.single(
            ("store",), "Name the store this invoice is for: ?store=CODE."
        )
    return bound_store


def prepare(
    request: InvoiceIn, ctx: ShopConfig, now_us: int, *, created_by: int | None
) -> PreparedInvoice:
    """Check every rule and compute the totals; raises ``ValidationFailed``. ``created_by`` is
    the posting API key's id: an integrator key cancels only what it posted."""
    # The rates in force now; completion re-prices at its own moment (docs/money.md).
    reference = ctx.reference.in_force(now_us, ctx.zone)
    # Every number converted (and the total worked out) once, by the validator.
    checked = validate_invoice(request, reference)
    auto_number = request.invoice_no is None
    header: dict[str, Any] = {
        "id": None,
        "invoice_no": request.invoice_no or to_datetime(now_us, ctx.zone).strftime("%Y%m%d_%H%M%S"),
        "mode": int(request.mode),
        "status": int(InvoiceStatus.NEW),
        "pos_id": request.pos_id,
        "station_group": request.station_group or ctx.station_group,
        "station": None,
        "discount": checked.discount,
        "discount_type": stored_discount_type(request.discount_type),
        "comment": request.comment,
        "print_paper_receipt": request.print_paper_receipt,
        "keep_drawer_closed": request.keep_drawer_closed,
        "is_auto_open": request.is_auto_open,
        "info": _json(request.info),
        "total_sum": checked.total,
        "changed_sum": 0,
        "printed_at": None,
        "print_station": None,
        "print_pos_id": None,
        "print_chassis_id": None,
        "check_num": None,
        "report": None,
        "common_id": None,
        "synchronized_at": None,
        "created_at": now_us,
        "updated_at": now_us,
        # Canonical form, so the same invoice re-sent with other spacing still matches.
        "request_hash": hashlib.sha256(msgspec.json.encode(request)).hexdigest(),
        "lease_expires_at": None,
        "complete_request_id": None,
        "parent_document_id": request.parent_document_id,
        "parent_pos_id": request.parent_pos_id,
        "created_by": created_by,
    }
    # Each used rate looked up once: this is the invoice POST's hot path.
    tax_rates = {
        tax: _rate_cents(reference.taxes[tax].rate) for tax in {r.tax for r in request.rows}
    }
    rows = []
    for position, (row, (quantity, price, discount, _), init_quantity) in enumerate(
        zip(request.rows, checked.lines, checked.init_quantities, strict=True)
    ):
        rows.append(
            {
                "id": None,
                "invoice_id": None,
                "position": position,
                "code": row.code,
                "text": row.text,
                "quantity": quantity,
                "maxquantity": 0,
                # The quantity first asked for, before any edit at the station (0 or absent: as
                # sent).
                "init_quantity": init_quantity or quantity,
                "price": price,
                "is_free_price": row.is_free_price,
                "is_weight": row.is_weight,
                "tax": row.tax,
                "tax_rate": tax_rates[row.tax],
                "fiscal_section": row.fiscal_section,
                "discount": discount,
                "discount_type": stored_discount_type(row.discount_type),
                "payload": row.payload,
                "info": _NO_INFO if row.info.blocks is msgspec.UNSET else _json(row.info),
            }
        )
    payments = [
        {
            "id": None,
            "invoice_id": None,
            "position": position,
            "method_id": payment.method_id,
            "method_name": payment.method_name
            or ctx.reference.payment_methods[payment.method_id].name,
            "amount": amount,
        }
        for position, (payment, amount) in enumerate(
            zip(request.payments, checked.payments, strict=True)
        )
    ]
    return PreparedInvoice(header, rows, payments, auto_number)


@functools.lru_cache(maxsize=64)
def _rate_cents(rate: Decimal) -> int:
    """A tax rate as stored. Cached: a shop has a handful of rates, and every invoice converted
    them again."""
    return to_cents(rate)


#: The stored ``info`` of a row without print blocks (most rows): no need to encode it.
_NO_INFO = "{}"


def _json(value: object) -> str:
    return msgspec.json.encode(value).decode()


def create(conn: Connection, invoice: PreparedInvoice, ctx: ShopConfig) -> msgspec.Raw:
    """Store the invoice; the answer is its detail, encoded. Re-posting an ``invoice_no`` with
    the same content gives the stored one back (a safe retry); with other content it is refused
    (docs/decisions.md §8)."""
    if invoice.store_id is not None:
        # Taken first: the store's row lock orders its invoices' commits (the pull cursor).
        invoice.header["store_id"] = invoice.store_id
        invoice.header["down_revision"] = repository.take_down_revision(conn, invoice.store_id)
    if invoice.auto_number:
        _insert_with_free_number(conn, invoice, ctx.numbers)
        return _created(conn, invoice, ctx)
    try:
        with conn.savepoint("invoice"):
            repository.insert(conn, invoice.header, invoice.rows, invoice.payments)
    except UniqueViolation as exc:
        if not exc.involves("invoice_no"):
            raise
        existing = repository.get_by_number(conn, invoice.header["invoice_no"], invoice.store_id)
        if existing is None or existing["request_hash"] != invoice.header["request_hash"]:
            raise ValidationFailed.single(
                ("invoice_no",), "An invoice with this invoice_no already exists."
            ) from exc
        return events.encoded(load_many(conn, [repository.HEADERS.as_tuple(existing)], ctx)[0])
    return _created(conn, invoice, ctx)


def _created(conn: Connection, invoice: PreparedInvoice, ctx: ShopConfig) -> msgspec.Raw:
    # Encoded once, for the answer and for the event (the hot path of the API).
    header = invoice.header
    out = events.encoded(detail(header, invoice.rows, invoice.payments, ctx))
    events.record(conn, EventType.INVOICE_CREATED, header["id"], out, header["created_at"])
    return out


def _insert_with_free_number(conn: Connection, invoice: PreparedInvoice, hint: NumberHint) -> None:
    base = invoice.header["invoice_no"]
    attempt = 0
    for _ in range(_AUTO_NUMBER_TRIES):
        attempt = hint.reserve(base, after=attempt)
        number = base if attempt == 1 else f"{base}_{attempt}"
        # Another process's request may be storing this number right now: skip it rather than
        # wait on the unique index for that request's commit and then fail.
        if not repository.reserve_number(conn, number):
            continue
        invoice.header["invoice_no"] = number
        try:
            with conn.savepoint("invoice"):
                repository.insert(conn, invoice.header, invoice.rows, invoice.payments)
        except UniqueViolation as exc:
            if not exc.involves("invoice_no"):
                raise
            continue
        return
    raise ValidationFailed.single(("invoice_no",), "No free automatic invoice number; send one.")


#: ``invoices.invoice_no``'s column size.
_INVOICE_NO_MAX = 64
#: Header columns that are the centre's bookkeeping: a store fills in its own.
_CENTRE_LOCAL = frozenset(
    {
        "station",
        "print_station",
        "lease_expires_at",
        "complete_request_id",
        "created_by",
        "common_id",
        "synchronized_at",
    }
)
#: What travels down of a centre-posted invoice (docs/stores.md, "Down").
DOWN_COLUMNS = tuple(c for c in repository.HEADER_COLUMNS if c not in _CENTRE_LOCAL)
DOWN_ROW_COLUMNS = tuple(c for c in repository.ROW_COLUMNS if c != "invoice_id")
DOWN_PAYMENT_COLUMNS = tuple(c for c in repository.PAYMENT_COLUMNS if c != "invoice_id")
_BOOLEAN = frozenset(
    {"print_paper_receipt", "keep_drawer_closed", "is_auto_open", "is_free_price", "is_weight"}
)


def storage_form(row: Row, columns: tuple[str, ...]) -> dict[str, Any]:
    """A stored row as plain values, booleans as booleans (SQLite gives 0/1): what another
    engine's INSERT takes."""
    return {
        c: (None if row[c] is None else bool(row[c])) if c in _BOOLEAN else row[c] for c in columns
    }


def store_delivered(
    conn: Connection,
    common_id: int,
    sent: PreparedInvoice,
    ctx: ShopConfig,
    now_us: int,
) -> int:
    """At a store: keep an invoice the centre posted for it, under the centre's id as
    ``common_id`` (already synchronized: it came from there). Its creation is told to the
    event log like any other; the outbox sends nothing for it (the centre has it)."""
    header: dict[str, Any] = {
        **dict.fromkeys(_CENTRE_LOCAL),
        **{c: sent.header.get(c) for c in DOWN_COLUMNS},
        "id": None,
        # A station takes it as new whatever happened at the centre's end of the wire.
        "status": int(InvoiceStatus.NEW),
        "station_group": sent.header.get("station_group") or ctx.station_group,
        "common_id": common_id,
        "synchronized_at": now_us,
    }
    invoice = PreparedInvoice(header, sent.rows, sent.payments, auto_number=False)
    try:
        with conn.savepoint("delivered"):
            repository.insert(conn, header, invoice.rows, invoice.payments)
    except UniqueViolation as exc:
        if not exc.involves("invoice_no"):
            raise
        # The store took the number for one of its own meanwhile (offline): both are kept;
        # the centre's gets a mark of where it came from rather than being lost.
        mark = f"~C{common_id}"
        header["invoice_no"] = header["invoice_no"][: _INVOICE_NO_MAX - len(mark)] + mark
        repository.insert(conn, header, invoice.rows, invoice.payments)
    _created(conn, invoice, ctx)
    return int(header["id"])


def get(
    conn: Connection, invoice_id: int, ctx: ShopConfig, seen_by: int | None = None
) -> InvoiceDetail:
    """One invoice; with ``seen_by``, only if that station may see it (else not found)."""
    header = repository.get_tuple(conn, invoice_id, seen_by)
    if header is None:
        raise NotFound()
    return _detail(
        header,
        repository.row_tuples_of(conn, invoice_id),
        repository.payment_tuples_of(conn, invoice_id),
        ctx,
        receipt_service.for_invoice(conn, invoice_id, ctx.zone),
    )


def load_many(
    conn: Connection, headers: Sequence[tuple[Any, ...]], ctx: ShopConfig
) -> list[InvoiceDetail]:
    """Invoices in the detail shape; a constant number of queries for any number of them.
    ``headers`` as ``repository.HEADERS.as_tuple`` gives them (the id, then the columns)."""
    ids = [h[0] for h in headers]
    rows: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    payments: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for row in tuples(conn, repository.rows_of_many(conn, ids)):
        rows[row[1]].append(row)  # invoice_id
    for payment in tuples(conn, repository.payments_of_many(conn, ids)):
        payments[payment[1]].append(payment)
    receipts = receipt_service.for_invoices(conn, ids, ctx.zone)
    return [_detail(h, rows[h[0]], payments[h[0]], ctx, receipts.get(h[0])) for h in headers]


def search(
    conn: Connection,
    query: InvoiceQuery,
    ctx: ShopConfig,
    seen_by: int | None = None,
) -> tuple[list[InvoiceSummary], int]:
    store_id = None
    if query.store is not None:
        store = repository.store_by_code(conn, query.store)
        if store is None:
            raise ValidationFailed.single(("store",), f'Unknown store "{query.store}".')
        store_id = int(store["id"])
    filters: dict[str, Any] = {
        "store_id": store_id,
        "status": query.status,
        "mode": query.mode,
        "invoice_no": query.invoice_no,
        "pos_id": query.pos_id,
        "station_group": query.station_group,
        "after_id": query.after_id,
        "seen_by": seen_by,
    }
    for name in ("created_from", "created_to", "updated_since"):
        text = getattr(query, name)
        if text is not None:
            try:
                filters[name] = parse_local(text, ctx.zone)
            except (ValueError, OverflowError):
                raise ValidationFailed.single(
                    (name,), "Datetime has wrong format. Use YYYY-MM-DD or YYYY-MM-DDThh:mm:ss."
                ) from None
    rows, total = repository.search(conn, filters, limit=query.limit, offset=query.offset)
    return [InvoiceSummary(*_summary_values(h, ctx)) for h in rows], total


# --- storage form → response ----------------------------------------------------------------


def _optional_bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


def _summary_values(h: tuple[Any, ...], ctx: ShopConfig) -> tuple[Any, ...]:
    """An invoice's summary fields from its ``repository.HEADERS.as_tuple``, in
    ``InvoiceSummary``'s field order: positional, because msgspec matches keywords one by one
    (25 of them on every answer and every listed invoice)."""
    (
        id_,
        invoice_no,
        mode,
        status_value,
        _pos_id,
        _station_group,
        station,
        discount,
        discount_type,
        comment,
        print_paper_receipt,
        keep_drawer_closed,
        is_auto_open,
        info,
        total_sum,
        changed_sum,
        printed_at,
        print_station,
        print_pos_id,
        print_chassis_id,
        check_num,
        report,
        common_id,
        synchronized_at,
        created_at_us,
        updated_at_us,
        *_,
    ) = h
    status = InvoiceStatus(status_value)
    zone = ctx.zone
    created_at = local_naive(created_at_us, zone)
    return (
        id_,
        mode,
        station,
        invoice_no,
        shown_cents(discount),
        discount_type,
        created_at,
        # A new invoice's two instants are one: formatted once (strftime is not cheap).
        created_at if updated_at_us == created_at_us else local_naive(updated_at_us, zone),
        local_naive(printed_at, zone),
        print_station,
        print_pos_id,
        print_chassis_id,
        check_num,
        shown_cents(total_sum),
        shown_cents(changed_sum),
        status.value,
        comment,
        bool(keep_drawer_closed),
        _optional_bool(print_paper_receipt),
        bool(is_auto_open),
        # Only ever null or the JSON object a completion wrote (docs/money.md).
        None if report is None else _raw(report),
        common_id,
        local_naive(synchronized_at, zone),
        _raw(info),
        status.label,  # status_name
    )


#: Stored JSON text that is an empty object (most rows' and invoices' ``info``), as sent out.
_EMPTY_RAW = msgspec.Raw(b"{}")


def _raw(text: str) -> msgspec.Raw:
    """Stored JSON text, to be written out as it is."""
    return _EMPTY_RAW if text == "{}" else msgspec.Raw(text.encode())


def summary(h: Any, ctx: ShopConfig) -> InvoiceSummary:
    """A stored invoice's header (a row or dict, by column name) as listed."""
    return InvoiceSummary(*_summary_values(repository.HEADERS.as_tuple(h), ctx))


def detail(
    h: Any,
    rows: Sequence[Any],
    payments: Sequence[Any],
    ctx: ShopConfig,
    receipts: list[InvoiceReceiptOut] | None = None,
) -> InvoiceDetail:
    """An invoice's answer from its header, rows and payments by column name (dicts or rows)."""
    return _detail(
        repository.HEADERS.as_tuple(h),
        [repository.ROWS.as_tuple(r) for r in rows],
        [repository.PAYMENTS.as_tuple(p) for p in payments],
        ctx,
        receipts,
    )


def _detail(
    h: tuple[Any, ...],
    rows: list[tuple[Any, ...]],
    payments: list[tuple[Any, ...]],
    ctx: ShopConfig,
    receipts: list[InvoiceReceiptOut] | None,
) -> InvoiceDetail:
    """``detail`` from the ``repository.*_tuple`` tuples."""
    # Positional: the summary's fields, then InvoiceDetail's own, in their order. (mypy
    # miscounts a star argument followed by more arguments.)
    return InvoiceDetail(  # type: ignore[call-arg]
        *_summary_values(h, ctx),
        h[5],  # station_group
        [_row(r, ctx) for r in rows],  # rows
        [
            PaymentOut(
                id=id_,
                invoice=invoice,
                method_id=method_id,
                method_name=method_name,
                amount=None if amount is None else shown_cents(amount),
            )
            for id_, invoice, _position, method_id, method_name, amount in payments
        ],  # payments
        receipts or [],  # receipts
    )


def _row(r: tuple[Any, ...], ctx: ShopConfig) -> RowOut:
    """An invoice row's answer from its ``repository.ROWS.as_tuple``."""
    (
        id_,
        invoice,
        _position,
        code,
        text,
        quantity,
        maxquantity,
        init_quantity,
        price,
        is_free_price,
        is_weight,
        tax,
        tax_rate,
        fiscal_section,
        discount,
        discount_type,
        payload,
        info,
    ) = r
    section = ctx.reference.fiscal_sections.get(fiscal_section)
    # Positional, in RowOut's field order: msgspec matches keywords one by one, and with 18
    # fields on every row of every answer that cost about a microsecond a row.
    return RowOut(
        id_,
        invoice,
        code,
        text,
        shown_thousandths(quantity),
        shown_thousandths(maxquantity),
        shown_thousandths(init_quantity),
        shown_cents(price),
        bool(is_free_price),
        bool(is_weight),
        tax,
        fiscal_section,
        section.name if section else f"Nodaļa {fiscal_section}",  # fiscal_section_name
        shown_cents(discount),
        discount_type,
        payload,
        _raw(info),
        shown_cents(tax_rate),
    )
