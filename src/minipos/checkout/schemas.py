"""Checkout shapes: completing an invoice (``CompleteIn``) and a walk-in sale (``SaleIn``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

import msgspec
from msgspec import Meta, Struct

from minipos.api.fields import QueryInt
from minipos.domain.money import DiscountType
from minipos.stations.schemas import Name, PosId, Ref


class TenderIn(Struct, kw_only=True, forbid_unknown_fields=True):
    method_id: int
    #: null = the rest of the amount due.
    amount: Decimal | None = None
    method_name: Name | None = None
    request_id: Ref | None = None
    transaction_id: Ref | None = None
    psp_reference: Ref | None = None
    poiid: Ref | None = None
    sale_id: Ref | None = None
    card_no: Annotated[str, Meta(max_length=32)] | None = None


class RowEdit(Struct, kw_only=True, forbid_unknown_fields=True):
    """A change the cashier made to an invoice row the row allows to change."""

    id: QueryInt
    quantity: Decimal | None = None  # rows with is_weight
    price: Decimal | None = None  # rows with is_free_price


class CompleteIn(Struct, kw_only=True, forbid_unknown_fields=True):
    """``POST /api/invoice/{id}/complete``."""

    #: The station's id for this attempt: a retry with the same id is a no-op.
    request_id: Ref
    payments: Annotated[list[TenderIn], Meta(max_length=20)] = msgspec.field(default_factory=list)
    rows: Annotated[list[RowEdit], Meta(max_length=1000)] = msgspec.field(default_factory=list)
    cashier_name: Name | None = None
    cashier_id: QueryInt | None = None


class SaleRowIn(Struct, kw_only=True, forbid_unknown_fields=True):
    """A walk-in row: a product by ``barcode`` or ``code``, or free ``text`` with a ``price``."""

    barcode: Annotated[str, Meta(min_length=1, max_length=64)] | None = None
    code: QueryInt | None = None
    text: Annotated[str, Meta(min_length=1, max_length=255)] | None = None
    #: Default: the barcode's or product's default quantity, else 1.
    quantity: Decimal | None = None
    #: Only for free text and ``is_free_price`` products.
    price: Decimal | None = None
    #: For free text (products carry their own): default 0. No ``fiscal_section``: a receipt
    #: keeps none, so the field would be taken and lost (an unknown field is a 400).
    tax: int | None = None
    #: A cashier's line discount; default: the barcode's own discount.
    discount: Decimal | None = None
    discount_type: DiscountType | None = None


class SaleIn(Struct, kw_only=True, forbid_unknown_fields=True):
    """``POST /api/stations/{station_id}/receipts``: a sale (or refund) with no invoice."""

    request_id: Ref
    #: 1 sale, 3 refund (receipt modes).
    mode: Literal[1, 3] = 1
    rows: Annotated[list[SaleRowIn], Meta(min_length=1, max_length=1000)]
    discount: Decimal = Decimal(0)
    discount_type: DiscountType | None = None
    payments: Annotated[list[TenderIn], Meta(max_length=20)] = msgspec.field(default_factory=list)
    cashier_name: Name | None = None
    cashier_id: QueryInt | None = None
    parent_document_id: Annotated[str, Meta(min_length=1, max_length=32)] | None = None
    parent_pos_id: PosId | None = None


class TrainingReceiptOut(Struct, kw_only=True):
    """What a station in training mode gets for a sale: a non-fiscal training document, not a
    receipt (docs/fiscal.md, "Training mode"). ``text`` is the document as printed."""

    id: int
    #: Always true: the cashier UI shows the document as training, never as a receipt.
    training: bool = True
    fiscal: bool = False
    #: Its number in the station's own training series (not a ``document_id``).
    training_number: int
    mode: int
    station: int
    pos_id: str
    total: Decimal
    cashier_name: str | None
    print_time: str
    text: str
