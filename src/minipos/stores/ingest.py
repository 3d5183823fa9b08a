"""The centre takes in one push of a store (docs/stores.md, "The wire protocol"): every item in
order, in the push's one transaction, each answered on its own.

- The key of an item is (store, kind, local id). A key stored before answers again what it
  got: the same hash replays its ``common_id`` (200); another hash is a conflict (409): the
  centre keeps its original, records the offer in ``sync_conflicts`` and a ``sync.conflict``
  event.
- A new item is checked (its hash recomputed from the bytes sent, its body decoded) and
  copied into the centre's own tables; ``sync_ingest`` remembers its key, hash and id.
- A station's receipts arrive in number order: receipt ``n`` is taken only when the copy of
  its station is at ``n - 1`` (else 425, nothing stored), and once one item of a station's
  lane is not stored, the rest of that lane in this push waits too (425); other lanes go on.
- A fiscal fact is never refused for a business rule: an unknown product, invoice or shift,
  or a broken chain, is stored and flagged (``receipts.flags``).
- A ``shift.close`` reconciles the shift: only when what the centre holds matches the Z
  (count, first and last numbers, totals, hash) is ``reconciled_at`` set; otherwise
  ``reconcile_note`` says what differs.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass, field
from typing import Any

import msgspec
import psycopg

from minipos.db import Connection, Row, UniqueViolation
from minipos.domain.events import EventType
from minipos.domain.invoice import InvoiceStatus
from minipos.domain.receipt import GENESIS_HASH, ReceiptMode, chain_hash
from minipos.domain.shift import ShiftTotals
from minipos.domain.sync import ItemStatus, SyncKind, content_hash
from minipos.events import service as events
from minipos.invoices import service as invoice_service
from minipos.invoices.schemas import InvoiceInfo, RowInfo
from minipos.invoices.service import ShopConfig
from minipos.receipts import audit
from minipos.receipts import repository as receipt_repository
from minipos.receipts import service as receipt_service
from minipos.receipts.service import hash_content
from minipos.stations import repository as station_repository
from minipos.stations import service as station_service
from minipos.stations.service import StationContext
from minipos.stores import repository
from minipos.stores.schemas import (
    InvoiceBody,
    InvoiceReport,
    InvoiceStateBody,
    ReceiptBody,
    ShiftCloseBody,
    ShiftOpenBody,
)
from minipos.sync.wire import PushItem, PushRequest, PushResponse, PushResult

#: What a receipt's flags may say (``receipts.flags``, a JSON list).
UNKNOWN_PRODUCT = "unknown_product"
UNKNOWN_INVOICE = "unknown_invoice"
UNKNOWN_SHIFT = "unknown_shift"
UNKNOWN_PARENT = "unknown_parent_station"
CHAIN_BROKEN = "chain_broken"
UNKNOWN_TAX = "unknown_tax"
UNKNOWN_PAYMENT_METHOD = "unknown_payment_method"

#: The event the centre records for a store's invoice state change, by its new status.
_STATE_EVENTS = {
    int(InvoiceStatus.NEW): EventType.INVOICE_RELEASED,
    int(InvoiceStatus.OPENED): EventType.INVOICE_OPENED,
    int(InvoiceStatus.DONE): EventType.INVOICE_DONE,
    int(InvoiceStatus.CANCELLED): EventType.INVOICE_CANCELLED,
}

_BODY_TYPES: dict[SyncKind, type[Any]] = {
    SyncKind.INVOICE: InvoiceBody,
    SyncKind.INVOICE_STATE: InvoiceStateBody,
    SyncKind.RECEIPT: ReceiptBody,
    SyncKind.SHIFT_OPEN: ShiftOpenBody,
    SyncKind.SHIFT_CLOSE: ShiftCloseBody,
}
_DECODERS = {kind: msgspec.json.Decoder(type_) for kind, type_ in _BODY_TYPES.items()}

#: Database refusals of a copy that the body's checks did not foresee (a number held twice):
#: the item is answered 422 and its savepoint undone, never a 500 for the whole push.
_DB_REFUSALS: tuple[type[Exception], ...] = (
    UniqueViolation,
    sqlite3.IntegrityError,
    psycopg.errors.IntegrityError,
    psycopg.errors.DataError,
)


class Refused(Exception):
    """An item not stored: its status (409, 422, 425) and why."""

    def __init__(self, status: ItemStatus, error: str) -> None:
        self.status = status
        self.error = error
        super().__init__(error)


class Clash(Exception):
    """A new key whose fact takes a place the centre already holds under another key (a
    receipt number, a Z number): a conflict, kept like one."""

    def __init__(self, stored_hash: str, error: str) -> None:
        self.stored_hash = stored_hash
        self.error = error
        super().__init__(error)


@dataclass
class Known:
    """A key this store's items already have at the centre (or got earlier in this push)."""

    hash: str
    #: None while the copy waits in this push's batch (a receipt), until the flush.
    common_id: int | None
    #: Answers given before the flush that must carry its ``common_id``.
    waiting: list[PushResult] = field(default_factory=list)


@dataclass
class Pending:
    """A checked receipt waiting for the push's batch insert."""

    result: PushResult
    key: tuple[str, str]
    receipt: dict[str, Any]
    rows: list[dict[str, Any]]
    payments: list[dict[str, Any]]
    flags: list[str]
    hash: str
    #: The refunded receipt, if this is a refund: its station copy and number.
    refund_of: tuple[int, str] | None


@dataclass
class Push:
    """One push of one store, item by item, inside the caller's unit of work.

    Receipts, the bulk of a catch-up, are checked in memory against the station's mark and
    chain head and written in batches (a few statements per push, not a dozen per receipt);
    the other kinds are written at once, each in a savepoint so a refusal undoes only it.
    """

    conn: Connection
    store_id: int
    store_code: str
    #: The centre's configuration: zone and reference data for the copies' events, the cash
    #: methods (the Z-report's change rule) for reconciliation.
    shop: ShopConfig
    stations_ctx: StationContext
    now_us: int
    #: Station lanes with an item not stored in this push: the rest of each waits (425).
    held_lanes: dict[str, str] = field(default_factory=dict)
    #: Invoices with a state change not stored in this push: later ones wait (425).
    held_invoices: set[tuple[str, str]] = field(default_factory=set)
    #: The mirrored stations met in this push, by ``pos_id``, with their mark and chain head
    #: as the batch leaves them.
    stations: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Shift copies met, by (station id, Z number).
    shifts: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    #: (kind, local id) → what the centre holds under it.
    known: dict[tuple[str, str], Known] = field(default_factory=dict)
    #: Product ids found in the catalogue, and not found.
    products: dict[int, bool] = field(default_factory=dict)
    pending: list[Pending] = field(default_factory=list)
    #: Station ids whose mark moved in the batch; shift id → cents its receipts add.
    moved: set[int] = field(default_factory=set)
    volumes: dict[int, int] = field(default_factory=dict)
    #: Invoices Done in this push whose event waits for their receipt, so it carries it (as
    #: at the store, where both commit together): told at the flush that stores it.
    done_waiting: set[int] = field(default_factory=set)

    def prefetch(self, items: list[PushItem]) -> None:
        """Every key of this push already stored, in a few queries (not one per item)."""
        by_kind: dict[str, set[str]] = {}
        for item in items:
            by_kind.setdefault(item.kind, set()).add(item.local_id)
        for kind, local_ids in by_kind.items():
            for row in repository.ingested_many(self.conn, self.store_id, kind, local_ids):
                self.known[(kind, row["local_id"])] = Known(row["hash"], row["common_id"])

    def item(self, item: PushItem) -> PushResult:
        try:
            kind = SyncKind(item.kind)
        except ValueError:
            known = ", ".join(k.value for k in SyncKind)
            return self._hold(
                item, None, ItemStatus.INVALID, f"kind: unknown {item.kind!r}; one of: {known}"
            )
        raw = bytes(item.body)
        if content_hash(raw) != item.hash:
            return self._hold(
                item, kind, ItemStatus.INVALID, "hash: does not match the body received"
            )
        key = (kind.value, item.local_id)
        stored = self.known.get(key)
        if stored is not None:
            if stored.hash == item.hash:
                replay = PushResult(status=ItemStatus.REPLAYED, common_id=stored.common_id)
                if stored.common_id is None:
                    stored.waiting.append(replay)
                return replay
            error = (
                f"{kind.value} {item.local_id}: the centre holds other content under this key;"
                " it keeps its original"
            )
            self._conflict(kind, item, raw, stored.hash, error)
            return PushResult(status=ItemStatus.CONFLICT, common_id=stored.common_id, error=error)
        if kind.ordered and item.lane in self.held_lanes:
            return PushResult(status=ItemStatus.GAP, error=self.held_lanes[item.lane])
        try:
            body = _DECODERS[kind].decode(raw)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            return self._hold(item, kind, ItemStatus.INVALID, f"body: {exc}")
        try:
            if isinstance(body, ReceiptBody):
                return self._receipt(key, item.hash, body)
            if isinstance(body, ShiftCloseBody):
                self.flush()  # its reconciliation reads the shift's receipts
            if isinstance(body, (ShiftOpenBody, ShiftCloseBody)):
                # Outside the savepoint: a station copy is made for good, and stays cached.
                self._station(body.pos_id)
            try:
                with self.conn.savepoint("item"):
                    common_id = self._store(kind, item, body)
                    repository.record_ingest(self.conn, self._ingest_row(key, item.hash, common_id))
            except BaseException:
                self.shifts.clear()  # the savepoint undid what some of them say
                raise
        except Refused as refused:
            return self._hold(item, kind, refused.status, refused.error, body)
        except Clash as clash:
            self._conflict(kind, item, raw, clash.stored_hash, clash.error)
            return self._hold(item, kind, ItemStatus.CONFLICT, clash.error, body)
        except _DB_REFUSALS as exc:
            error = f"{kind.value} {item.local_id}: the centre cannot store it ({_first_line(exc)})"
            return self._hold(item, kind, ItemStatus.INVALID, error, body)
        self.known[key] = Known(item.hash, common_id)
        return PushResult(status=ItemStatus.STORED, common_id=common_id)

    def _ingest_row(
        self, key: tuple[str, str], hash_: str, common_id: int, flags: list[str] | None = None
    ) -> dict[str, Any]:
        return {
            "store_id": self.store_id,
            "kind": key[0],
            "local_id": key[1],
            "hash": hash_,
            "common_id": common_id,
            "received_at": self.now_us,
            "flags": json.dumps(flags) if flags else None,
        }

    def flush(self) -> None:
        """Write the batch of checked receipts, the marks they moved and their keys."""
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        ids = repository.insert_receipts(
            self.conn,
            [p.receipt for p in batch],
            [p.rows for p in batch],
            [p.payments for p in batch],
        )
        by_pos = {s["id"]: s for s in self.stations.values()}
        for station_id in self.moved:
            station = by_pos[station_id]
            repository.advance_station(
                self.conn, station["id"], station["last_document_id"], station["chain_head"]
            )
        for shift_id, cents in self.volumes.items():
            receipt_repository.add_to_volume(self.conn, shift_id, cents)
        # The centre's reports read the hourly sums, as a shop's do, for every store's copies.
        for p in batch:
            receipt_service.add_to_sales_totals(
                self.conn, p.receipt, p.rows, p.payments, frozenset(self.stations_ctx.cash_methods)
            )
        self.moved.clear()
        self.volumes.clear()
        repository.record_ingests(
            self.conn,
            [
                self._ingest_row(p.key, p.hash, receipt_id, p.flags)
                for p, receipt_id in zip(batch, ids, strict=True)
            ],
        )
        if self.conn.events:
            outs = receipt_service.get_many(self.conn, ids, self.shop.zone)
            for p, out in zip(batch, outs, strict=True):
                if p.receipt["invoice_id"] in self.done_waiting:
                    self.done_waiting.discard(p.receipt["invoice_id"])
                    self.tell(EventType.INVOICE_DONE, p.receipt["invoice_id"], self.now_us)
                kind = (
                    EventType.REFUND_CREATED
                    if out.mode == ReceiptMode.REFUND
                    else EventType.RECEIPT_CREATED
                )
                events.record(self.conn, kind, out.id, out, self.now_us)
        for p, receipt_id in zip(batch, ids, strict=True):
            p.result.common_id = receipt_id
            known = self.known[p.key]
            known.common_id = receipt_id
            for replay in known.waiting:
                replay.common_id = receipt_id
            if p.refund_of is not None:
                original = repository.receipt_by_document(self.conn, *p.refund_of)
                if original is not None:
                    receipt_repository.mark_refunded(
                        self.conn, original["id"], p.receipt["print_time"]
                    )

    def _hold(
        self,
        item: PushItem,
        kind: SyncKind | None,
        status: ItemStatus,
        error: str,
        body: Any = None,
    ) -> PushResult:
        """Answer an item not stored, and make what must follow it wait."""
        if kind is None or kind.ordered:
            self.held_lanes.setdefault(
                item.lane,
                f"lane {item.lane}: waits behind {item.kind} {item.local_id}, not stored",
            )
        if isinstance(body, InvoiceStateBody):
            self.held_invoices.add(_invoice_ref(body))
        return PushResult(status=status, error=error)

    def _conflict(
        self, kind: SyncKind, item: PushItem, raw: bytes, stored_hash: str, error: str
    ) -> None:
        if repository.open_conflict(self.conn, self.store_id, kind.value, item.local_id, item.hash):
            return  # the same offer again (a resent request): recorded and told once
        conflict_id = repository.record_conflict(
            self.conn,
            {
                "store_id": self.store_id,
                "kind": kind.value,
                "local_id": item.local_id,
                "stored_hash": stored_hash,
                "offered_hash": item.hash,
                "offered_body": raw.decode("utf-8", errors="replace"),
                "received_at": self.now_us,
            },
        )
        events.record(
            self.conn,
            EventType.SYNC_CONFLICT,
            conflict_id,
            {
                "id": conflict_id,
                "store": self.store_code,
                "kind": kind.value,
                "local_id": item.local_id,
                "stored_hash": stored_hash,
                "offered_hash": item.hash,
                "error": error,
            },
            self.now_us,
        )

    def _store(self, kind: SyncKind, item: PushItem, body: Any) -> int:
        match kind:
            case SyncKind.INVOICE:
                return self._invoice(body)
            case SyncKind.INVOICE_STATE:
                return self._invoice_state(body)
            case SyncKind.SHIFT_OPEN:
                return self._shift_open(item.local_id, body)
            case SyncKind.SHIFT_CLOSE:
                return self._shift_close(item.local_id, body)
            case SyncKind.RECEIPT:
                raise AssertionError("receipts go through the batch")

    # --- stations and shifts -------------------------------------------------------------------

    def _mirror(self, pos_id: str) -> dict[str, Any] | None:
        """The centre's copy of the store's station ``pos_id``, if it has one."""
        found = self.stations.get(pos_id)
        if found is None:
            row = repository.mirror_station(self.conn, self.store_id, pos_id)
            if row is not None:
                found = {c: row[c] for c in ("id", "last_document_id", "chain_head")}
                self.stations[pos_id] = found
        return found

    def _station(self, pos_id: str) -> dict[str, Any]:
        """The station copy, made by the first item naming it: the centre has no tills."""
        found = self._mirror(pos_id)
        if found is not None:
            return found
        station = {
            "name": f"{self.store_code} POS {pos_id}",
            "pos_id": pos_id,
            "pos_number": int(pos_id),
            "chassis_id": "",
            "station_group": "",
            "last_document_id": 0,
            "last_z_number": 0,
            "grand_total": 0,
            "chain_head": GENESIS_HASH,
            "created_at": self.now_us,
            "store_id": self.store_id,
        }
        station["id"] = repository.insert_station(self.conn, station)
        self.stations[pos_id] = station
        return station

    def _shift(
        self, station: dict[str, Any], z_number: int, start: int
    ) -> tuple[dict[str, Any] | None, int]:
        """The copy of a station's shift ``z_number``: found, or made (None: made now)."""
        found = self._find_shift(station, z_number)
        if found is not None:
            return found, int(found["id"])
        shift_id = repository.insert_shift(
            self.conn,
            {
                "station_id": station["id"],
                "z_number": z_number,
                "start_date": start,
                "close_date": None,
                "grand_total": None,
                "start_employee": None,
                "start_employee_name": None,
                "close_employee": None,
                "close_employee_name": None,
                "common_shift": None,
                "report": None,
                "hash": None,
                "volume": 0,
                "local_id": None,
            },
        )
        repository.own_common_shift(self.conn, shift_id)
        repository.raise_z_number(self.conn, station["id"], z_number)
        self.shifts[(int(station["id"]), z_number)] = {
            "id": shift_id,
            "local_id": None,
            "close_date": None,
        }
        return None, shift_id

    def _find_shift(self, station: dict[str, Any], z_number: int) -> dict[str, Any] | None:
        cache_key = (int(station["id"]), z_number)
        found = self.shifts.get(cache_key)
        if found is None:
            row = repository.shift_by_z(self.conn, station["id"], z_number)
            if row is not None:
                found = {c: row[c] for c in ("id", "local_id", "close_date")}
                self.shifts[cache_key] = found
        return found

    def _known_products(self, product_ids: set[int]) -> set[int]:
        asked = product_ids - self.products.keys()
        if asked:
            found = repository.known_products(self.conn, asked)
            self.products.update({p: p in found for p in asked})
        return {p for p in product_ids if self.products[p]}

    # --- the kinds -----------------------------------------------------------------------------

    def _invoice(self, body: InvoiceBody) -> int:
        head = body.invoice
        rows = [msgspec.structs.asdict(r) for r in body.rows]
        for index, row in enumerate(rows):
            row["info"] = _our_json(row["info"], _ROW_INFO, f"rows[{index}].info")
        header = {
            **msgspec.structs.asdict(head),
            "info": _our_json(head.info, _INVOICE_INFO, "invoice.info"),
            "report": None
            if head.report is None
            else _our_json(head.report, _INVOICE_REPORT, "invoice.report"),
            "station": None,
            "print_station": None,
            "common_id": None,
            "synchronized_at": self.now_us,
            "lease_expires_at": None,
            "complete_request_id": None,
            "created_by": None,
            "store_id": self.store_id,
            "down_revision": None,  # posted at the store: nothing of it goes back down
        }
        try:
            with self.conn.savepoint("invoice"):
                invoice_id = repository.insert_invoice(
                    self.conn,
                    header,
                    rows,
                    [msgspec.structs.asdict(p) for p in body.payments],
                )
        except UniqueViolation:
            raise Refused(
                ItemStatus.INVALID,
                f"invoice_no: {body.invoice.invoice_no!r} is held at the centre by another"
                f" invoice of store {self.store_code}",
            ) from None
        self.tell(EventType.INVOICE_CREATED, invoice_id, body.invoice.created_at)
        return invoice_id

    def tell(self, event_type: EventType, invoice_id: int, at: int) -> None:
        """The centre's event log tells of a store's invoice as of its own (webhooks included)."""
        if self.conn.events:
            out = invoice_service.get(self.conn, invoice_id, self.shop)
            events.record(self.conn, event_type, invoice_id, out, at)

    def _invoice_id(self, common_id: int | None, local_id: str | None) -> int | None:
        """The centre's id of an invoice a store names: its own local id (an invoice it
        sent), or the centre's id (an invoice the centre posted for it)."""
        if local_id is not None:
            key = (SyncKind.INVOICE.value, local_id)
            known = self.known.get(key)
            if known is None:
                found = repository.ingested(self.conn, self.store_id, *key)
                if found is None:
                    return None
                known = self.known[key] = Known(found["hash"], found["common_id"])
            return known.common_id
        if common_id is not None:
            row = repository.store_invoice(self.conn, self.store_id, common_id)
            return None if row is None else int(row["id"])
        return None

    def _invoice_state(self, body: InvoiceStateBody) -> int:
        ref = _invoice_ref(body)
        if ref in self.held_invoices:
            raise Refused(ItemStatus.GAP, "waits behind an earlier change of its invoice")
        invoice_id = self._invoice_id(body.invoice_common_id, body.invoice_local_id)
        if invoice_id is None:
            # Its invoice comes first in the store's order; it may be on its way still.
            raise Refused(ItemStatus.GAP, f"invoice {ref[1]}: not at the centre yet")
        # Looked up, not made: a station copy is made outside any savepoint (see ``item``).
        held_by = self._mirror(body.station_pos_id) if body.station_pos_id else None
        printed_by = self._mirror(body.print_pos_id) if body.print_pos_id else None
        repository.set_invoice_state(
            self.conn,
            invoice_id,
            {
                "status": body.status,
                "station": None if held_by is None else held_by["id"],
                "check_num": body.check_num,
                "printed_at": body.printed_at,
                "print_station": None if printed_by is None else printed_by["id"],
                "print_pos_id": body.print_pos_id,
                "print_chassis_id": body.print_chassis_id,
                "changed_sum": body.changed_sum,
                "updated_at": body.at,
            },
        )
        told = _STATE_EVENTS.get(body.status)
        if told is EventType.INVOICE_DONE:
            self.done_waiting.add(invoice_id)
        elif told is not None:
            self.tell(told, invoice_id, self.now_us)
        return invoice_id

    def _receipt(self, key: tuple[str, str], hash_: str, body: ReceiptBody) -> PushResult:
        """Check a receipt against its station's mark and chain head (as this push leaves
        them) and queue it for the batch; its ``common_id`` is filled in by the flush."""
        r = body.receipt
        station = self._station(body.pos_id)
        number = int(r.document_id)
        mark = int(station["last_document_id"])
        if number > mark + 1:
            raise Refused(
                ItemStatus.GAP,
                f"document_id {number}: POS {body.pos_id} of store {self.store_code} is at"
                f" {mark} at the centre; {mark + 1} must come first",
            )
        if number <= mark:
            self.flush()
            held = receipt_repository.by_document(self.conn, station["id"], r.document_id)
            raise Clash(
                held["hash"] if held is not None else "",
                f"document_id {number}: POS {body.pos_id} of store {self.store_code} already"
                " has this number at the centre under another receipt",
            )
        flags: list[str] = []
        shift, shift_id = self._shift(station, body.z_number, r.print_time)
        if shift is None:
            flags.append(UNKNOWN_SHIFT)
        invoice_id = None
        if body.invoice_common_id is not None or body.invoice_local_id is not None:
            invoice_id = self._invoice_id(body.invoice_common_id, body.invoice_local_id)
            if invoice_id is None:
                flags.append(UNKNOWN_INVOICE)
        parent_station = None
        if body.parent_pos_id is not None:
            parent = self._mirror(body.parent_pos_id)
            if parent is None:
                flags.append(UNKNOWN_PARENT)
            else:
                parent_station = int(parent["id"])
        sold = {row.product_id for row in body.rows if row.product_id is not None}
        if sold - self._known_products(sold):
            flags.append(UNKNOWN_PRODUCT)
        # Reference data is the centre's (a store holds its copy): a group or method it does not
        # have is kept as evidence, as an unknown product is, not refused.
        reference = self.shop.reference
        if any(row.tax not in reference.taxes for row in body.rows):
            flags.append(UNKNOWN_TAX)
        if any(p.method not in reference.payment_methods for p in body.payments):
            flags.append(UNKNOWN_PAYMENT_METHOD)
        rows = [msgspec.structs.asdict(row) for row in body.rows]
        payments = [msgspec.structs.asdict(p) for p in body.payments]
        fields = msgspec.structs.asdict(r)
        # The chain as the store made it: its own row ids, which the hash covers.
        hashed = {**fields, **msgspec.structs.asdict(body.chain_ids)}
        if r.prev_hash != station["chain_head"] or r.hash != chain_hash(
            r.prev_hash, hash_content(hashed, rows, payments)
        ):
            flags.append(CHAIN_BROKEN)
        result = PushResult(status=ItemStatus.STORED)
        self.pending.append(
            Pending(
                result=result,
                key=key,
                receipt={
                    **fields,
                    "station_id": station["id"],
                    "shift_id": shift_id,
                    "invoice_id": invoice_id,
                    "parent_station": parent_station,
                    "refunded_at": None,
                    "common_id": None,
                    "synchronized_at": self.now_us,
                    "flags": json.dumps(flags) if flags else None,
                    "chain_ids": msgspec.json.encode(body.chain_ids).decode(),
                },
                rows=rows,
                payments=payments,
                flags=flags,
                hash=hash_,
                refund_of=None
                if parent_station is None or r.parent_document_id is None
                else (parent_station, r.parent_document_id),
            )
        )
        self.known[key] = Known(hash_, None)
        # A broken chain is evidence, kept: the mark moves on past it all the same.
        station["last_document_id"], station["chain_head"] = number, r.hash
        self.moved.add(int(station["id"]))
        self.volumes[shift_id] = self.volumes.get(shift_id, 0) + r.bruto_amount
        return result

    def _shift_open(self, local_id: str, body: ShiftOpenBody) -> int:
        local = _local_number(local_id)
        station = self._station(body.pos_id)
        repository.describe_station(self.conn, station["id"], msgspec.structs.asdict(body.station))
        opened = {
            "local_id": local,
            "start_date": body.start_date,
            "start_employee": body.start_employee,
            "start_employee_name": body.start_employee_name,
        }
        shift = self._find_shift(station, body.z_number)
        if shift is None:
            shift_id = repository.insert_shift(
                self.conn,
                {
                    "station_id": station["id"],
                    "z_number": body.z_number,
                    "close_date": None,
                    "grand_total": None,
                    "close_employee": None,
                    "close_employee_name": None,
                    "common_shift": None,
                    "report": None,
                    "hash": None,
                    "volume": 0,
                    **opened,
                },
            )
            repository.own_common_shift(self.conn, shift_id)
            repository.raise_z_number(self.conn, station["id"], body.z_number)
            self.shifts[(int(station["id"]), body.z_number)] = {
                "id": shift_id,
                "local_id": local,
                "close_date": None,
            }
            self._tell_shift(EventType.SHIFT_OPENED, shift_id, None)
            return shift_id
        if shift["local_id"] is not None and shift["local_id"] != local:
            raise Clash(
                self._stored_hash(SyncKind.SHIFT_OPEN, shift["local_id"]),
                f"z_number {body.z_number}: POS {body.pos_id} of store {self.store_code}"
                " already has this Z number at the centre under another shift",
            )
        # Made by a receipt that came first: now it learns its own fields.
        repository.open_shift_copy(self.conn, int(shift["id"]), opened)
        shift["local_id"] = local
        self._tell_shift(EventType.SHIFT_OPENED, int(shift["id"]), None)
        return int(shift["id"])

    def _shift_close(self, local_id: str, body: ShiftCloseBody) -> int:
        local = _local_number(local_id)
        station = self._station(body.pos_id)
        shift, shift_id = self._shift(station, body.z_number, body.close_date)
        if shift is not None and (
            shift["close_date"] is not None
            or (shift["local_id"] is not None and shift["local_id"] != local)
        ):
            raise Clash(
                self._stored_hash(SyncKind.SHIFT_CLOSE, shift["local_id"]),
                f"z_number {body.z_number}: POS {body.pos_id} of store {self.store_code}"
                " already has this Z closed at the centre under another shift",
            )
        totals = audit.shift_totals(self.conn, shift_id, self.stations_ctx.cash_methods)
        differences = reconcile(self.conn, station, shift_id, body, totals)
        if shift is None:
            differences.insert(0, "its shift.open did not arrive")
        repository.close_shift_copy(
            self.conn,
            shift_id,
            {
                "close_date": body.close_date,
                "grand_total": body.grand_total,
                "close_employee": body.close_employee,
                "close_employee_name": body.close_employee_name,
                "report": body.report,
                "hash": body.hash,
                "reconciled_at": None if differences else self.now_us,
                "reconcile_note": "; ".join(differences) or None,
            },
        )
        repository.set_local_id(self.conn, shift_id, local)
        repository.set_grand_total(self.conn, station["id"], body.grand_total)
        cached = self.shifts[(int(station["id"]), body.z_number)]
        cached["local_id"], cached["close_date"] = local, body.close_date
        self._tell_shift(EventType.SHIFT_CLOSED, shift_id, totals)
        return shift_id

    def _tell_shift(self, event_type: EventType, shift_id: int, totals: ShiftTotals | None) -> None:
        """The centre's event log tells of a store's shift as of its own (the Z with it)."""
        if not self.conn.events:
            return
        shift = station_repository.get_shift(self.conn, shift_id)
        assert shift is not None
        out: Any = (
            station_service.shift_out(shift, self.stations_ctx)
            if totals is None
            else station_service.with_report(shift, totals, self.stations_ctx)
        )
        events.record(self.conn, event_type, shift_id, out, self.now_us)

    def _stored_hash(self, kind: SyncKind, local_id: int | None) -> str:
        if local_id is None:
            return ""
        found = repository.ingested(self.conn, self.store_id, kind.value, str(local_id))
        return "" if found is None else str(found["hash"])


def reconcile(
    conn: Connection,
    station: dict[str, Any],
    shift_id: int,
    body: ShiftCloseBody,
    totals: ShiftTotals,
) -> list[str]:
    """What differs between a Z-report and the receipts the centre holds for its shift
    (nothing: the shift is reconciled). Totals are recomputed as the store computed them
    (``receipts.audit``), from the centre's copies."""
    differences: list[str] = []
    held = repository.shift_receipts(conn, shift_id)
    last = None if body.last_document_id is None else int(body.last_document_id)
    mark = int(station["last_document_id"])
    if last is not None and mark < last:
        differences.append(f"receipts up to {last} expected, the centre has up to {mark}")
    if int(held["n"]) != body.receipt_count:
        differences.append(f"receipt count: Z {body.receipt_count}, centre {held['n']}")
    for name, z_value, centre_value in (
        ("first document_id", body.first_document_id, held["first"]),
        ("last document_id", body.last_document_id, held["last"]),
    ):
        centre_text = None if centre_value is None else str(centre_value)
        if z_value != centre_text:
            differences.append(f"{name}: Z {z_value}, centre {centre_text}")
    if int(held["volume"]) != body.volume:
        differences.append(f"volume: Z {body.volume}, centre {held['volume']}")
    broken = repository.broken_receipts(conn, shift_id)
    if broken:
        differences.append(f"{broken} receipt(s) with a broken chain")
    try:
        report = json.loads(body.report)
    except ValueError:
        report = None
    content = audit.report_content(totals)
    if report != content:
        if isinstance(report, dict):
            names = sorted(k for k in content if report.get(k) != content[k])
            differences.append(f"Z figures differ from the centre's receipts: {', '.join(names)}")
        else:
            differences.append("the Z report is not a JSON object")
    receipts = receipt_repository.of_shift(conn, shift_id)
    previous = receipts[-1]["hash"] if receipts else GENESIS_HASH
    if report is None or body.hash != chain_hash(previous, report):
        differences.append("the Z hash does not follow its last receipt")
    return differences


def push(
    conn: Connection,
    store: Row,
    request: PushRequest,
    *,
    shop: ShopConfig,
    stations: StationContext,
    now_us: int,
) -> PushResponse:
    """One push: every item answered, in order, in the caller's one transaction."""
    # First, so the store's row lock (PostgreSQL) orders this push after any other of it.
    repository.touch_store(
        conn, store["id"], now_us=now_us, skew_ms=_skew_ms(now_us, request.sent_at), error=None
    )
    run = Push(conn, int(store["id"]), str(store["code"]), shop, stations, now_us)
    run.prefetch(request.items)
    results = [run.item(item) for item in request.items]
    run.flush()
    for invoice_id in sorted(run.done_waiting):  # their receipts were not in this push
        run.tell(EventType.INVOICE_DONE, invoice_id, now_us)
    refused = [
        (item, result)
        for item, result in zip(request.items, results, strict=True)
        if result.status in (ItemStatus.CONFLICT, ItemStatus.INVALID)
    ]
    if refused:
        item, result = refused[0]
        repository.set_store_error(
            conn,
            store["id"],
            f"{len(refused)} item(s) refused; first {item.kind} {item.local_id}:"
            f" {result.status} {result.error}",
        )
    return PushResponse(centre_time=now_us, results=results)


def _skew_ms(now_us: int, sent_at: int) -> int:
    """Centre clock minus the store's, in ms; reported, never acted on (bounded to fit)."""
    return max(-(2**62), min(2**62, (now_us - sent_at) // 1000))


def _invoice_ref(body: InvoiceStateBody) -> tuple[str, str]:
    if body.invoice_local_id is not None:
        return ("local", body.invoice_local_id)
    return ("common", str(body.invoice_common_id))


#: The JSON an invoice's text fields carry, as the centre's own invoices store it: the answers
#: splice it in as it is (``invoices.service._raw``), so only our own encoding of it is kept.
_INVOICE_INFO = msgspec.json.Decoder(InvoiceInfo)
_ROW_INFO = msgspec.json.Decoder(RowInfo)
_INVOICE_REPORT = msgspec.json.Decoder(InvoiceReport)
_JSON_OUT = msgspec.json.Encoder(decimal_format="number")


def _our_json(text: str, decoder: msgspec.json.Decoder[Any], path: str) -> str:
    """``text`` decoded as the shape the centre stores there, and encoded again by us; a
    string that is not that shape is a malformed item (422) naming ``body.<path>``."""
    try:
        return _JSON_OUT.encode(decoder.decode(text)).decode()
    except (msgspec.ValidationError, msgspec.DecodeError, msgspec.EncodeError) as exc:
        raise Refused(ItemStatus.INVALID, f"body.{path}: {_first_line(exc)}") from None


_LOCAL_NUMBER = re.compile("[0-9]{1,18}")


def _local_number(local_id: str) -> int:
    # ASCII digits only: str.isdigit() takes "²", which int() then refuses (a 500).
    if _LOCAL_NUMBER.fullmatch(local_id) is None:
        raise Refused(ItemStatus.INVALID, f"local_id: {local_id!r} is not a shift id")
    return int(local_id)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
