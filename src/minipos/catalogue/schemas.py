"""Catalogue request and response shapes (the public API documentation; docs/catalogue.md).

Request structs carry types and simple bounds; the business rules live in
``minipos.domain.catalogue``. Response structs list fields in the documented order: msgspec
encodes them in that order.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from minipos.api.fields import QueryInt, whole
from minipos.domain.catalogue import ProductStatus
from minipos.domain.errors import Path
from minipos.domain.money import DiscountType
from minipos.invoices.schemas import Name, RowInfo
from minipos.printing.blocks import Block

#: A stored row's id: what a 64-bit column holds, so no driver ever sees a larger number.
Id = Annotated[int, Meta(ge=1, le=2**63 - 1)]
#: Tax groups and fiscal sections are looked up in configuration; bounded like the column.
Choice = Annotated[int, Meta(ge=0, le=2_147_483_647)]
#: What a scanner reads: printable ASCII without spaces.
Barcode = Annotated[str, Meta(min_length=1, max_length=64, pattern=whole("[!-~]+"))]
Payload = Annotated[str, Meta(max_length=10_000)]


class ProductInfo(RowInfo):
    """``info`` of a product: ``blocks`` printed with it, as on an invoice row."""


class BarcodeIn(Struct, kw_only=True, forbid_unknown_fields=True):
    barcode: Barcode
    #: Taken off the line a scan of this barcode adds.
    discount: Decimal = Decimal(0)
    discount_type: DiscountType | None = None
    #: Quantity a scan of this barcode adds (a 6-pack's barcode adds 6).
    default_quantity: Decimal = Decimal(1)


class ProductIn(Struct, kw_only=True, forbid_unknown_fields=True):
    """``POST /api/products`` and ``PUT /api/products/{id}`` (a full replace)."""

    barcodes: Annotated[list[BarcodeIn], Meta(max_length=100)] = msgspec.field(default_factory=list)
    #: Ids of other products offered with this one.
    addons: Annotated[list[Id], Meta(max_length=100)] = msgspec.field(default_factory=list)
    status: ProductStatus = ProductStatus.ACTIVE
    #: GUI quick-access code (PLU); unique among live products.
    code: Annotated[int, Meta(ge=0, le=2**63 - 1)] | None = None
    name: Name
    price: Decimal
    is_free_price: bool = False
    is_weight: bool = False
    default_quantity: Decimal = Decimal(1)
    payload: Payload | None = None
    info: ProductInfo = msgspec.field(default_factory=ProductInfo)
    no_discount: bool = False
    category: Id | None = None
    fiscal_section: Choice = 1
    tax: Choice = 0

    def print_blocks(self) -> Iterator[tuple[Path, Block]]:
        if isinstance(self.info.blocks, list):
            for index, block in enumerate(self.info.blocks):
                yield ("info", "blocks", index), block


#: ``PATCH /api/products/{id}``: the fields of ``ProductIn``, each optional; what is sent
#: replaces the stored value (a list replaces the whole list), then the result is checked as a
#: whole, exactly like a PUT.
ProductPatch: type[Struct] = msgspec.defstruct(
    "ProductPatch",
    [(f.name, f.type | UnsetType, UNSET) for f in msgspec.structs.fields(ProductIn)],
    kw_only=True,
    omit_defaults=True,
    forbid_unknown_fields=True,
)


class CategoryIn(Struct, kw_only=True, forbid_unknown_fields=True):
    """``POST /api/categories`` and ``PUT /api/categories/{id}``."""

    name: Name
    #: The category this one sits under (null: a top-level category).
    parent: Id | None = None


# --- responses ------------------------------------------------------------------------------


class BarcodeOut(Struct):
    barcode: str
    discount: Decimal
    discount_type: str | None
    default_quantity: Decimal


class ProductOut(Struct):
    """A product: the documented keys up to ``info``, then the PUT example's other fields."""

    id: int
    barcodes: list[BarcodeOut]
    addons: list[int]
    status: int
    code: int | None
    name: str
    price: Decimal
    is_free_price: bool
    is_weight: bool
    default_quantity: Decimal
    payload: str | None
    created_at: str
    updated_at: str
    info: msgspec.Raw
    no_discount: bool
    category: int | None
    fiscal_section: int
    tax: int


class ProductChange(ProductOut):
    """An item of the sync feed (``GET /api/products?updated_since=…``).

    A deleted product (``deleted: true``) shows its last values, with no barcodes or addons
    (they were released for other products).
    """

    #: The catalogue revision of this change; the next poll passes the last one seen.
    revision: int
    deleted: bool


class CategoryOut(Struct):
    id: int
    name: str
    parent: int | None
    created_at: str
    updated_at: str


class TaxRateOut(Struct):
    #: Local date-time (shop's zone) the rate starts; null: since always.
    valid_from: str | None
    rate: Decimal


class TaxOut(Struct):
    id: int
    #: The rate in force now.
    rate: Decimal
    name: str
    #: Every rate of the group, oldest first (docs/money.md, "VAT rates over time").
    rates: list[TaxRateOut]


class FiscalSectionOut(Struct):
    id: int
    name: str


class PaymentMethodOut(Struct):
    id: int
    code: int
    name: str
    is_cash: bool


# --- queries --------------------------------------------------------------------------------

Limit = Annotated[int, Meta(ge=1, le=1000)]


class ProductQuery(Struct, kw_only=True):
    """Filters of ``GET /api/products`` (docs/decisions.md §7)."""

    #: Any text up to a barcode's length: one that no product has simply matches nothing.
    barcode: Annotated[str, Meta(max_length=64)] | None = None
    code: QueryInt | None = None
    category: QueryInt | None = None
    status: QueryInt | None = None
    #: Name contains this (any case), or the code or a barcode is exactly this.
    search: Annotated[str, Meta(max_length=100)] | None = None
    #: Sync feed: changes (and deletions) after this revision, or at/after this date-time.
    updated_since: Annotated[str, Meta(max_length=64)] | None = None
    limit: Limit = 1000
    offset: QueryInt = 0
    #: Keyset paging: only products with a larger id (what the ``Link: rel=next`` uses).
    after_id: QueryInt | None = None


class CategoryQuery(Struct, kw_only=True):
    parent: QueryInt | None = None
    limit: Limit = 1000
    offset: QueryInt = 0
    after_id: QueryInt | None = None


class CategoryDeleteQuery(Struct, kw_only=True):
    #: Set the category of its products to null and move its children up, instead of a 409.
    detach: bool = False


class ImportQuery(Struct, kw_only=True):
    """``POST /api/catalogue/import``."""

    #: Check and answer what would change, writing nothing.
    dry_run: bool = False
    #: How many of the changes to list (the counts are always whole).
    show: Annotated[int, Meta(ge=0, le=1000)] = 100


class ImportFieldChange(Struct, kw_only=True):
    field: str
    before: Any
    after: Any


class ImportRowChange(Struct, kw_only=True):
    #: CSV: the line the record starts on (the header is line 1); JSON: the index in the array.
    line: int
    action: str
    #: The product updated; ``null`` for one to be created.
    id: int | None
    code: int | None
    name: str
    changes: list[ImportFieldChange]


class ImportRowError(Struct, kw_only=True):
    line: int
    #: The field, dotted (``barcodes.0.barcode``); empty for the row as a whole.
    field: str
    message: str


class ImportOut(Struct, kw_only=True):
    """What an import did (or, with ``dry_run``, would do). With ``errors``, nothing."""

    dry_run: bool
    #: What ``line`` counts: ``line`` (CSV) or ``index`` (JSON).
    unit: str
    rows: int
    created: int
    updated: int
    unchanged: int
    changes: list[ImportRowChange]
    errors: list[ImportRowError]
