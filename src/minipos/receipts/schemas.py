"""Receipt shapes: the ``GET /api/receipts`` serializer (as the public API
documentation shows it) and the one embedded in ``GET /api/invoice/{id}``, which names several
fields differently."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from msgspec import Meta, Struct

from minipos.api.fields import QueryInt


class ReceiptRowOut(Struct):
    id: int
    product: int | None
    product_id: int | None
    product_name: str
    product_code: str | None
    barcode: str | None
    category_name: str | None
    price: Decimal
    tax_rate: Decimal
    discount: Decimal
    discount_type: str | None
    discount_amount: Decimal
    quantity: Decimal
    amount: Decimal
    max_quantity: Decimal
    max_amount: Decimal
    receipt: int
    category: int | None
    tax: int


class ReceiptPaymentOut(Struct):
    id: int
    method_name: str
    method_code: int
    amount: Decimal
    request_id: str | None
    transaction_id: str | None
    psp_reference: str | None
    poiid: str | None
    sale_id: str | None
    card_no: str | None
    receipt: int
    method: int


class ReceiptOut(Struct):
    """An item of ``GET /api/receipts``."""

    id: int
    document_id: str
    mode: int
    state: int
    start_time: str | None
    print_time: str
    neto_amount: Decimal
    bruto_amount: Decimal
    changed_amount: Decimal
    tax_amount: Decimal
    discount: Decimal
    discount_type: str | None
    discount_amount: Decimal
    station: int
    station_name: str
    station_pos_id: str
    cashier: int | None
    #: The cashier's name the station sent (``cashier`` is the id, often not sent): printed
    #: on the receipt, so shown here too.
    cashier_name: str | None
    z_number: int
    rows: list[ReceiptRowOut]
    payments: list[ReceiptPaymentOut]


class InvoiceReceiptRowOut(Struct):
    id: int
    receipt_id: int
    product_id: int | None
    product_name: str
    product_code: str | None
    barcode: str | None
    category_id: int | None
    category_name: str | None
    price: Decimal
    tax_id: int
    tax_rate: Decimal
    discount: Decimal
    discount_type: str | None
    discount_amount: Decimal
    quantity: Decimal
    amount: Decimal
    max_quantity: Decimal
    max_amount: Decimal


class InvoiceReceiptPaymentOut(Struct):
    id: int
    receipt_id: int
    method_id: int
    method_name: str
    method_code: int
    amount: Decimal
    request_id: str | None
    transaction_id: str | None
    psp_reference: str | None
    poiid: str | None
    sale_id: str | None
    card_no: str | None


class InvoiceReceiptOut(Struct):
    """A receipt inside ``GET /api/invoice/{id}``."""

    id: int
    mode: int
    customer_id: int | None
    document_id: str
    invoice_id: int | None
    station_id: int
    station_name: str
    cash_shift_id: int
    cashier_id: int | None
    cashier_name: str | None
    state: int
    start_time: str | None
    print_time: str
    neto_amount: Decimal
    bruto_amount: Decimal
    changed_amount: Decimal
    tax_amount: Decimal
    discount: Decimal
    discount_type: str | None
    discount_amount: Decimal
    parent_station: int | None
    parent_document_id: str | None
    refunded_at: str | None
    rows: list[InvoiceReceiptRowOut]
    payments: list[InvoiceReceiptPaymentOut]


class ReceiptQuery(Struct, kw_only=True, rename={"from_": "from"}):
    pos_id: Annotated[str, Meta(max_length=32)] | None = None
    station_id: QueryInt | None = None
    z_number: QueryInt | None = None
    document_id: Annotated[str, Meta(max_length=32)] | None = None
    #: Printed from this local date or date-time (ISO, shop time unless it has an offset).
    from_: Annotated[str, Meta(max_length=64)] | None = None
    #: Printed up to this moment; a plain date takes in that whole day.
    to: Annotated[str, Meta(max_length=64)] | None = None
    #: The employee (the cashier id the station sent).
    cashier_id: QueryInt | None = None
    #: The receipt's total (``bruto_amount``) at least / at most this much.
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    #: Paid (in part) with this payment method id.
    payment_method: QueryInt | None = None
    #: 1 walk-in sale, 2 invoice sale, 3 refund.
    mode: Annotated[int, Meta(ge=1, le=3)] | None = None
    #: A chain's centre: only this store's (its code); an unknown code is a 400.
    store: Annotated[str, Meta(max_length=32)] | None = None
    limit: Annotated[int, Meta(ge=1, le=1000)] = 1000
    offset: QueryInt = 0
    after_id: QueryInt | None = None
