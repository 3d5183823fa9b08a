"""The store–centre protocol's messages (docs/stores.md, "The wire protocol").

A store pushes its outbox items in order and gets one result per item; it pulls the centre's
catalogue, reference data and the invoices posted at the centre for it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from minipos.api.fields import whole

#: Most items one push may carry (a store sends ``MINIPOS_SYNC_BATCH``, 500 by default).
MAX_PUSH_ITEMS = 5000
#: A push body's own size limit: other routes keep ``MINIPOS_MAX_BODY_BYTES``.
MAX_PUSH_BYTES = 8 * 1024 * 1024


class PushItem(msgspec.Struct, forbid_unknown_fields=True):
    kind: str
    local_id: Annotated[str, Meta(min_length=1, max_length=64)]
    lane: Annotated[str, Meta(min_length=1, max_length=32)]
    #: SHA-256 of ``body``'s bytes exactly as sent (the canonical JSON the store stored).
    hash: Annotated[str, Meta(pattern=whole("[0-9a-f]{64}"))]
    body: msgspec.Raw


class PushRequest(msgspec.Struct, forbid_unknown_fields=True):
    #: The store's clock when it sent this (microseconds since the epoch): the skew estimate.
    sent_at: int
    items: Annotated[list[PushItem], Meta(max_length=MAX_PUSH_ITEMS)]


class PushResult(msgspec.Struct, omit_defaults=True):
    #: ``domain.sync.ItemStatus``: 201 stored, 200 replayed, 409 conflict, 425 gap, 422 invalid.
    status: int
    #: The centre's id of what was stored (invoice, receipt, shift); the same on every replay.
    common_id: int | None = None
    error: str | None = None


class PushResponse(msgspec.Struct):
    #: The centre's clock when it answered (microseconds since the epoch).
    centre_time: int
    results: list[PushResult]


# --- down: what a store pulls (docs/stores.md, "Down") ---------------------------------------

#: Most products (and most invoices) one pull page carries.
MAX_PULL_LIMIT = 1000


class PullRequest(msgspec.Struct, forbid_unknown_fields=True):
    """The store's cursors: what it already holds of the centre's data."""

    #: The last catalogue revision applied (the centre's revision numbers).
    catalogue_revision: Annotated[int, Meta(ge=0, le=2**63 - 1)] = 0
    #: The hash of the categories (and of the reference data) the store holds; None: none.
    categories_hash: str | None = None
    reference_hash: str | None = None
    #: The last ``down_revision`` of a centre-posted invoice applied.
    invoice_revision: Annotated[int, Meta(ge=0, le=2**63 - 1)] = 0
    limit: Annotated[int, Meta(ge=1, le=MAX_PULL_LIMIT)] = 500


class BarcodeDown(msgspec.Struct):
    barcode: str
    discount: int  # cents, or hundredths of a percent as stored
    discount_type: str | None
    default_quantity: int  # thousandths


class ProductDown(msgspec.Struct):
    """A product in storage form (cents, thousandths, µs) under the centre's id; a tombstone
    has ``deleted_at`` set and no barcodes or addons."""

    id: int
    code: int | None
    name: str
    price: int
    is_free_price: bool
    is_weight: bool
    default_quantity: int
    payload: str | None
    info: str
    no_discount: bool
    category: int | None
    fiscal_section: int
    tax: int
    status: int
    created_at: int
    updated_at: int
    revision: int
    deleted_at: int | None
    barcodes: list[BarcodeDown]
    addons: list[int]


class CategoryDown(msgspec.Struct):
    id: int
    name: str
    parent: int | None
    created_at: int
    updated_at: int


class RateChangeDown(msgspec.Struct):
    #: A local date-time in the shop's zone (no offset), as in the reference file.
    valid_from: datetime
    rate: Decimal


class TaxDown(msgspec.Struct):
    id: int
    #: A percentage (``21``, ``5.5``): a decimal, never a float. The rate before ``changes``.
    rate: Decimal
    name: str
    #: Dated rate changes, oldest first (a centre that has none, or an older one, sends []).
    changes: list[RateChangeDown] = []


class SectionDown(msgspec.Struct):
    id: int
    name: str


class MethodDown(msgspec.Struct):
    id: int
    code: int
    name: str
    is_cash: bool


class ReferenceDown(msgspec.Struct):
    """Tax groups, fiscal sections and payment methods, whole (a store keeps this document in
    ``sync_state.reference``)."""

    taxes: list[TaxDown]
    fiscal_sections: list[SectionDown]
    payment_methods: list[MethodDown]


class InvoiceDown(msgspec.Struct):
    """An invoice posted at the centre for the store, in storage form; ``invoice`` holds the
    header columns (``invoices.repository.HEADER_COLUMNS`` less the centre's bookkeeping)."""

    common_id: int
    down_revision: int
    invoice: dict[str, Any]
    rows: list[dict[str, Any]]
    payments: list[dict[str, Any]]


class PullResponse(msgspec.Struct):
    #: The centre's clock when it answered (microseconds since the epoch).
    centre_time: int
    #: Products changed after the store's cursor, in revision order (tombstones included).
    products: list[ProductDown]
    #: The store's next catalogue cursor (its own when nothing changed).
    catalogue_revision: int
    #: The whole list and its hash, only when the store's hash differs (else None).
    categories: list[CategoryDown] | None
    categories_hash: str
    reference: ReferenceDown | None
    reference_hash: str
    #: Centre-posted invoices after the store's cursor, in ``down_revision`` order.
    invoices: list[InvoiceDown]
    invoice_revision: int
    #: A page was full: pull again at once.
    more: bool
