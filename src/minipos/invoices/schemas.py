"""Invoice request and response shapes (the invoice pages of the public MiniPOS API docs).

Request structs carry types and simple bounds; the business rules live in
``minipos.domain.invoice``. Response structs list fields in the documented order: msgspec
encodes them in that order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from minipos.api.fields import QueryInt, whole
from minipos.domain.errors import FieldError, Path
from minipos.domain.invoice import InvoiceMode, row_problems
from minipos.domain.money import DiscountType
from minipos.domain.receipt import parent_problems
from minipos.printing.blocks import Block
from minipos.receipts.schemas import InvoiceReceiptOut

Code = Annotated[str, Meta(min_length=1, max_length=64)]
Name = Annotated[str, Meta(min_length=1, max_length=255)]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
#: E.164-ish: an optional +, then 6 to 15 digits; single spaces between digits are allowed.
_PHONE = re.compile(r"\+?[0-9](?: ?[0-9]){5,14}")  # fullmatch: no trailing newline, ASCII digits


#: The blocks of one place in a request (a header, a footer, a slip, a row): at most 200.
BlockList = Annotated[list[Block], Meta(max_length=200)]


class Customer(Struct, omit_defaults=True, forbid_unknown_fields=True):
    phone: Annotated[str, Meta(max_length=32)] | UnsetType | None = UNSET
    email: Annotated[str, Meta(max_length=254)] | UnsetType | None = UNSET

    def problems(self) -> Iterable[FieldError]:
        if isinstance(self.email, str) and self.email and not _EMAIL.match(self.email):
            yield FieldError(("email",), "Enter a valid email address.")
        if isinstance(self.phone, str) and self.phone and not _PHONE.fullmatch(self.phone):
            yield FieldError(
                ("phone",),
                "Enter a phone number in international form: an optional +, then 6 to 15 "
                'digits (spaces allowed), e.g. "+371 2000 0000".',
            )


class InvoiceInfo(Struct, omit_defaults=True, forbid_unknown_fields=True):
    header: BlockList | UnsetType = UNSET
    footer: BlockList | UnsetType = UNSET
    slip: BlockList | UnsetType = UNSET
    customer: Customer | UnsetType = UNSET


class RowInfo(Struct, omit_defaults=True, forbid_unknown_fields=True):
    blocks: BlockList | UnsetType = UNSET


class RowIn(Struct, kw_only=True, forbid_unknown_fields=True):
    code: Code = "0"
    text: Name
    quantity: Decimal
    init_quantity: Decimal | None = None
    price: Decimal
    tax: int = 0
    fiscal_section: int = 1
    discount: Decimal = Decimal(0)
    discount_type: DiscountType | None = None
    is_free_price: bool = False
    is_weight: bool = False
    payload: Annotated[str, Meta(max_length=10_000)] | None = None
    info: RowInfo = msgspec.field(default_factory=RowInfo)

    def problems(self) -> Iterable[FieldError]:
        """Only for a request that failed elsewhere (jsoncodec.all_errors); a valid one is
        checked whole by validate_invoice."""
        return row_problems(self)

    def print_blocks(self) -> Iterable[tuple[Path, Block]]:
        # Read twice a row by the validator (its rules, then the document's print budget), and
        # most rows have no blocks: no generator for them.
        if not isinstance(self.info.blocks, list):
            return ()
        return [(("info", "blocks", index), block) for index, block in enumerate(self.info.blocks)]


class PaymentIn(Struct, kw_only=True, forbid_unknown_fields=True):
    method_id: int
    method_name: Annotated[str, Meta(min_length=1, max_length=100)] | None = None
    amount: Decimal | None = None


class InvoiceIn(Struct, kw_only=True, forbid_unknown_fields=True):
    """``POST /api/invoice/new``."""

    invoice_no: Code | None = None
    mode: InvoiceMode = InvoiceMode.SALE
    pos_id: Annotated[int, Meta(ge=0, le=2_147_483_647)] | None = None
    #: Our addition: the station group that may take the invoice (default: configuration).
    station_group: Annotated[str, Meta(min_length=1, max_length=64)] | None = None
    #: Our addition, refunds (mode 2): the original receipt's number and POS, so the refund is
    #: checked against what that receipt still allows.
    parent_document_id: Annotated[str, Meta(min_length=1, max_length=32)] | None = None
    parent_pos_id: Annotated[str, Meta(pattern=whole("[0-9]{1,9}"))] | None = None
    discount: Decimal = Decimal(0)
    discount_type: DiscountType | None = None
    comment: Annotated[str, Meta(max_length=4000)] | None = None
    print_paper_receipt: bool | None = None
    keep_drawer_closed: bool = False
    is_auto_open: bool = False
    info: InvoiceInfo = msgspec.field(default_factory=InvoiceInfo)
    rows: Annotated[list[RowIn], Meta(max_length=1000)] = msgspec.field(default_factory=list)
    payments: Annotated[list[PaymentIn], Meta(max_length=20)] = msgspec.field(default_factory=list)

    def has_slip(self) -> bool:
        return isinstance(self.info.slip, list) and bool(self.info.slip)

    def print_blocks(
        self,
    ) -> Iterator[tuple[Path, Block]]:
        for section in ("header", "footer", "slip"):
            found = getattr(self.info, section)
            if isinstance(found, list):
                for index, block in enumerate(found):
                    yield ("info", section, index), block

    def other_problems(self) -> Iterable[FieldError]:
        yield from parent_problems(
            self.mode is InvoiceMode.REFUND,
            InvoiceMode.REFUND,
            self.parent_document_id,
            self.parent_pos_id,
        )
        if isinstance(self.info.customer, Customer):
            for problem in self.info.customer.problems():
                yield FieldError(("info", "customer", *problem.path), problem.message)


# --- responses ------------------------------------------------------------------------------


class RowOut(Struct):
    id: int | None
    invoice: int | None
    code: str
    text: str
    quantity: Decimal
    maxquantity: Decimal
    init_quantity: Decimal
    price: Decimal
    is_free_price: bool
    is_weight: bool
    tax: int
    fiscal_section: int
    fiscal_section_name: str
    discount: Decimal
    discount_type: str | None
    payload: str | None
    info: msgspec.Raw
    tax_rate: Decimal


class PaymentOut(Struct):
    id: int | None
    invoice: int | None
    method_id: int
    method_name: str
    #: null = "the rest of the amount due".
    amount: Decimal | None


class InvoiceSummary(Struct):
    """An item of ``GET /api/invoices``."""

    id: int | None
    mode: int
    station: int | None
    invoice_no: str
    discount: Decimal
    discount_type: str | None
    created_at: str
    updated_at: str
    printed_at: str | None
    print_station: int | None
    print_pos_id: str | None
    print_chassis_id: str | None
    check_num: str | None
    total_sum: Decimal
    changed_sum: Decimal
    status: int
    comment: str | None
    keep_drawer_closed: bool
    print_paper_receipt: bool | None
    is_auto_open: bool
    report: Any
    common_id: int | None
    synchronized_at: str | None
    info: msgspec.Raw
    status_name: str


class InvoiceDetail(InvoiceSummary):
    """``POST /api/invoice/new`` and ``GET /api/invoice/{id}``."""

    station_group: str
    rows: list[RowOut]
    payments: list[PaymentOut]
    receipts: list[InvoiceReceiptOut]


class InvoiceQuery(Struct, kw_only=True):
    """Filters of ``GET /api/invoices`` (docs/decisions.md §7)."""

    status: QueryInt | None = None
    mode: QueryInt | None = None
    invoice_no: str | None = None
    pos_id: QueryInt | None = None
    station_group: str | None = None
    #: At a chain's centre: only this store's invoices (its code).
    store: str | None = None
    #: Created at or after / before this local date or date-time.
    created_from: str | None = None
    created_to: str | None = None
    #: Changed at or after this local date-time (for following changes).
    updated_since: str | None = None
    limit: Annotated[int, Meta(ge=1, le=1000)] = 1000
    offset: QueryInt = 0
    #: Keyset paging: only invoices with a larger id (what the ``Link: rel=next`` uses).
    after_id: QueryInt | None = None
