"""The centre's shapes: the stores registry, and the bodies of the items a store pushes as the
centre reads them (the contract is ``sync.bodies``, which writes them at the store).

Bodies are decoded into typed structs before anything is stored, so a malformed item is a
422 result naming what is wrong, never a half-stored copy nor a 500. Unknown fields are
ignored: a newer store may send more than this centre keeps.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from msgspec import Meta, Struct

from minipos.api.fields import whole
from minipos.domain.money import MAX_GRAND_TOTAL, MAX_SHIFT_TOTAL, MAX_TOTAL, to_cents

#: A store code: what ``?store=`` and ``--store`` name (upper case, digits, ``_`` and ``-``).
Code = Annotated[str, Meta(pattern=whole("[A-Z0-9_-]{1,32}"))]

# Column-sized values: the database refuses longer ones (PostgreSQL), so the decode must.
BigInt = Annotated[int, Meta(ge=-(2**63), le=2**63 - 1)]
#: Money in cents, within the limits every path that makes money keeps (docs/security.md): a
#: store never issues more, so a larger amount is a malformed item (422), not a fact.
Cents = Annotated[int, Meta(ge=-to_cents(MAX_TOTAL), le=to_cents(MAX_TOTAL))]
ShiftCents = Annotated[int, Meta(ge=-to_cents(MAX_SHIFT_TOTAL), le=to_cents(MAX_SHIFT_TOTAL))]
GrandCents = Annotated[int, Meta(ge=-to_cents(MAX_GRAND_TOTAL), le=to_cents(MAX_GRAND_TOTAL))]
Id = Annotated[int, Meta(ge=1, le=2**63 - 1)]
Hash = Annotated[str, Meta(pattern=whole("[0-9a-f]{64}"))]
DocumentId = Annotated[str, Meta(pattern=whole("[1-9][0-9]{0,17}"))]
PosId = Annotated[str, Meta(pattern=whole("[0-9]{1,9}"))]
Text32 = Annotated[str, Meta(max_length=32)]
Text64 = Annotated[str, Meta(max_length=64)]
Text100 = Annotated[str, Meta(max_length=100)]
Text255 = Annotated[str, Meta(max_length=255)]
SmallInt = Annotated[int, Meta(ge=-32768, le=32767)]
# The centre's enumerations, as the plain values stored (drivers must not see an Enum): a value
# outside them is a malformed item (422), never a copy every later read fails on.
# tests/unit/test_store_schemas.py holds them equal to the domain's enums.
InvoiceModeValue = Literal[1, 2, 3]  # domain.invoice.InvoiceMode
InvoiceStatusValue = Literal[10, 20, 30, 40]  # domain.invoice.InvoiceStatus
ReceiptModeValue = Literal[1, 2, 3]  # domain.receipt.ReceiptMode
ReceiptStateValue = Literal[1]  # domain.receipt.ReceiptState
DiscountTypeValue = Literal["amount", "percent"]  # domain.money.DiscountType
Int32 = Annotated[int, Meta(ge=-(2**31), le=2**31 - 1)]


class StoreIn(Struct, kw_only=True, forbid_unknown_fields=True):
    code: Code
    name: Annotated[str, Meta(min_length=1, max_length=200)]


class StoreOut(Struct):
    id: int
    code: str
    name: str
    created_at: str
    #: The centre's clock when this store last pushed or pulled (null: never).
    last_contact_at: str | None
    #: Centre clock minus the store's at its last push, in milliseconds.
    last_skew_ms: int | None
    #: What went wrong with its last push (items refused), or null.
    last_error: str | None
    #: Items stored from this store (every kind), ever.
    items_received: int
    #: Items offered with the key of a stored one but another content, not yet resolved.
    conflicts_open: int
    #: Receipts stored with a flag (unknown product, chain break, …).
    receipts_flagged: int
    #: Closed shifts of its stations that did not reconcile (see their ``reconcile_note``).
    shifts_unreconciled: int


class StoreCreated(StoreOut):
    #: The store's API key (role ``store``), shown this once: ``MINIPOS_CENTRAL_KEY`` there.
    key: str


class ConflictOut(Struct):
    """An item a store offered under a stored key with other content (``sync_conflicts``)."""

    id: int
    kind: str
    local_id: str
    stored_hash: str
    offered_hash: str
    #: The offered body as it arrived; the centre's stored copy is unchanged.
    offered_body: str
    received_at: str
    resolved_at: str | None


# --- pushed bodies (sync.bodies) ------------------------------------------------------------
#
# Some text fields carry JSON that the centre's answers splice in as it is (an invoice's and
# a row's ``info``, an invoice's ``report``): ``ingest`` decodes each into the shape the
# centre itself stores (below, and ``invoices.schemas.InvoiceInfo``/``RowInfo``) and keeps
# its own encoding of it, so a store cannot forge the fields around them nor break the JSON.


class RateChange(Struct, forbid_unknown_fields=True):
    """One row of an invoice's ``report`` (``checkout.service._rates_in_force``)."""

    row: Id
    tax: Int32
    posted_rate: Decimal
    applied_rate: Decimal


class InvoiceReport(Struct, forbid_unknown_fields=True):
    """An invoice's ``report``: the rows whose VAT rate changed at completion."""

    tax_rate_changes: list[RateChange]


class InvoiceHeader(Struct):
    invoice_no: Text64
    mode: InvoiceModeValue
    status: InvoiceStatusValue
    pos_id: BigInt | None
    station_group: Text64
    discount: BigInt
    discount_type: DiscountTypeValue | None
    comment: str | None
    print_paper_receipt: bool | None
    keep_drawer_closed: bool
    is_auto_open: bool
    info: str
    total_sum: Cents
    changed_sum: Cents
    printed_at: BigInt | None
    print_pos_id: Text32 | None
    print_chassis_id: Text64 | None
    check_num: Text32 | None
    report: str | None
    created_at: BigInt
    updated_at: BigInt
    request_hash: Text64
    parent_document_id: Text32 | None
    parent_pos_id: Text32 | None


class InvoiceRow(Struct):
    position: Int32
    code: Text64
    text: Text255
    quantity: BigInt
    maxquantity: BigInt
    init_quantity: BigInt
    price: Cents
    is_free_price: bool
    is_weight: bool
    tax: Int32
    tax_rate: BigInt
    fiscal_section: Int32
    discount: BigInt
    discount_type: DiscountTypeValue | None
    payload: str | None
    info: str


class InvoicePayment(Struct):
    position: Int32
    method_id: Int32
    method_name: Text100
    amount: Cents | None


class InvoiceBody(Struct):
    invoice: InvoiceHeader
    rows: list[InvoiceRow]
    payments: list[InvoicePayment]


class InvoiceStateBody(Struct):
    invoice_common_id: Id | None
    invoice_local_id: Annotated[str, Meta(pattern=whole("[0-9]{1,18}"))] | None
    status: InvoiceStatusValue
    station_pos_id: Text32 | None
    check_num: Text32 | None
    printed_at: BigInt | None
    print_pos_id: Text32 | None
    print_chassis_id: Text64 | None
    changed_sum: Cents
    at: BigInt


class ReceiptHeader(Struct):
    document_id: DocumentId
    mode: ReceiptModeValue
    state: ReceiptStateValue
    customer_id: BigInt | None
    cashier_id: BigInt | None
    cashier_name: Text100 | None
    start_time: BigInt | None
    print_time: BigInt
    neto_amount: Cents
    bruto_amount: Cents
    changed_amount: Cents
    tax_amount: Cents
    discount: BigInt
    discount_type: DiscountTypeValue | None
    discount_amount: Cents
    parent_document_id: Text32 | None
    request_id: Text100 | None
    prev_hash: Hash
    hash: Hash


class ChainIds(Struct):
    """The store's own row ids its chain hash covers (``receipts.service.hash_content``)."""

    station_id: BigInt
    shift_id: BigInt
    invoice_id: BigInt | None
    parent_station: BigInt | None


class ReceiptRow(Struct):
    position: Int32
    product_id: BigInt | None
    product_name: Text255
    product_code: Text64 | None
    barcode: Text64 | None
    category_id: BigInt | None
    category_name: Text255 | None
    price: Cents
    tax: Int32
    tax_rate: BigInt
    discount: BigInt
    discount_type: DiscountTypeValue | None
    discount_amount: Cents
    quantity: BigInt
    amount: Cents
    max_quantity: BigInt
    max_amount: Cents


class ReceiptPayment(Struct):
    position: Int32
    method: Int32
    method_name: Text100
    method_code: Int32
    amount: Cents
    request_id: Text100 | None
    transaction_id: Text100 | None
    psp_reference: Text100 | None
    poiid: Text100 | None
    sale_id: Text100 | None
    card_no: Text32 | None


class ReceiptBody(Struct):
    receipt: ReceiptHeader
    pos_id: PosId
    z_number: Id
    parent_pos_id: PosId | None
    invoice_common_id: Id | None
    invoice_local_id: Annotated[str, Meta(pattern=whole("[0-9]{1,18}"))] | None
    chain_ids: ChainIds
    rows: list[ReceiptRow]
    payments: list[ReceiptPayment]


class StationBody(Struct):
    name: Text100
    pos_number: BigInt
    chassis_id: Text64
    station_group: Text64


class ShiftOpenBody(Struct):
    pos_id: PosId
    z_number: Id
    start_date: BigInt
    start_employee: BigInt | None
    start_employee_name: Text100 | None
    station: StationBody


class ShiftCloseBody(Struct):
    pos_id: PosId
    z_number: Id
    close_date: BigInt
    grand_total: GrandCents
    close_employee: BigInt | None
    close_employee_name: Text100 | None
    #: The Z-report as the store stored and hashed it (``receipts.audit.report_content``).
    report: str
    hash: Hash
    volume: ShiftCents
    receipt_count: Annotated[int, Meta(ge=0)]
    first_document_id: DocumentId | None
    last_document_id: DocumentId | None
