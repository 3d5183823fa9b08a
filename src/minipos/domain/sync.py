"""What a store sends its centre (docs/stores.md): the kinds of fact, their canonical bytes
and content hash, and the item statuses of the wire protocol.

Pure rules: both ends compute the same hash from the same bytes, so "same key, same content"
is decided by comparing two strings, whatever the JSON library or engine.
"""

from __future__ import annotations

import hashlib
import json
from enum import IntEnum, StrEnum
from typing import Any

from minipos.domain.events import EventType


class Mode(StrEnum):
    STANDALONE = "standalone"
    CENTRAL = "central"
    STORE = "store"


class SyncKind(StrEnum):
    INVOICE = "invoice"
    #: A change of an invoice's status (opened, released, done, cancelled).
    INVOICE_STATE = "invoice.state"
    #: A sale or a refund: both are receipts on the station's one numbered chain.
    RECEIPT = "receipt"
    SHIFT_OPEN = "shift.open"
    SHIFT_CLOSE = "shift.close"

    @property
    def ordered(self) -> bool:
        """Items of this kind belong to a station's lane, which must arrive in order."""
        return self in (SyncKind.RECEIPT, SyncKind.SHIFT_OPEN, SyncKind.SHIFT_CLOSE)


#: The changes a store sends, by the event that tells of them. Catalogue events are absent: a
#: store's catalogue is the centre's copy, never its own change.
KIND_OF_EVENT: dict[EventType, SyncKind] = {
    EventType.INVOICE_CREATED: SyncKind.INVOICE,
    EventType.INVOICE_OPENED: SyncKind.INVOICE_STATE,
    EventType.INVOICE_RELEASED: SyncKind.INVOICE_STATE,
    EventType.INVOICE_DONE: SyncKind.INVOICE_STATE,
    EventType.INVOICE_CANCELLED: SyncKind.INVOICE_STATE,
    EventType.RECEIPT_CREATED: SyncKind.RECEIPT,
    EventType.REFUND_CREATED: SyncKind.RECEIPT,
    EventType.SHIFT_OPENED: SyncKind.SHIFT_OPEN,
    EventType.SHIFT_CLOSED: SyncKind.SHIFT_CLOSE,
}

#: The lane of items whose order does not matter between stations (invoices and their states).
STORE_LANE = "-"


class ItemStatus(IntEnum):
    """The centre's answer to one pushed item (an HTTP status by meaning)."""

    #: Stored now (possibly flagged).
    STORED = 201
    #: The same key with the same hash was stored before: its acknowledgement, replayed.
    REPLAYED = 200
    #: The same key with a different hash: the centre keeps its original; the store
    #: quarantines the item.
    CONFLICT = 409
    #: Out of order: the station's previous document has not arrived. Nothing stored.
    GAP = 425
    #: Malformed, or the hash does not match the body. Nothing stored.
    INVALID = 422

    @property
    def acknowledged(self) -> bool:
        return self in (ItemStatus.STORED, ItemStatus.REPLAYED)


def canonical(body: Any) -> bytes:
    """The one byte form of a body: sorted keys, no spaces, UTF-8 (as the receipt chain)."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
