"""``GET /api/reports/sales``: its query and its answer."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from msgspec import Meta, Struct

from minipos.api.fields import QueryInt

GroupBy = Literal[
    "day", "hour", "station", "store", "employee", "payment_method", "tax_group", "product",
    "category",
]  # fmt: skip


class SalesQuery(Struct, kw_only=True, rename={"from_": "from"}):
    #: A local date or date-time (ISO, shop time unless it has an offset); default: 29 days
    #: before today, so the report covers 30 days.
    from_: Annotated[str, Meta(max_length=64)] | None = None
    #: Up to this moment; a plain date takes in that whole day. Default: the end of today.
    to: Annotated[str, Meta(max_length=64)] | None = None
    group_by: GroupBy = "day"
    #: Only this station's receipts.
    station_id: QueryInt | None = None
    #: A chain's centre: only this store's receipts (its code); an unknown code is a 400.
    store: Annotated[str, Meta(max_length=32)] | None = None
    #: ``csv`` (or ``Accept: text/csv``): the spreadsheet form (docs/reports.md).
    format: Literal["json", "csv"] = "json"
    #: The first N groups (the top N products by gross); default all.
    limit: Annotated[int, Meta(ge=1, le=100_000)] | None = None


class SalesFigures(Struct):
    """Totals of a group's receipts; refunds are subtracted from gross, net, VAT and discounts
    (as on the Z-report), and shown on their own in ``refunds``."""

    #: Sale receipts (refund receipts are ``refund_count``).
    count: int
    refund_count: int
    gross: Decimal
    #: Null where a figure has no meaning for the grouping (VAT per payment method).
    net: Decimal | None
    vat: Decimal | None
    refunds: Decimal
    discounts: Decimal | None
    #: Products and categories only: the quantity sold (refunds subtracted).
    quantity: Decimal | None


class SalesGroup(SalesFigures):
    #: What the group is: ``2026-11-29``, ``2026-11-29T14:00+02:00``, a station, store, tax
    #: group, payment method, product or category id, an employee's cashier id.
    key: str
    label: str


class SalesReport(Struct, rename={"from_": "from"}):
    group_by: str
    #: The period as read (shop time), ``to`` exclusive.
    from_: str
    to: str
    timezone: str
    groups: list[SalesGroup]
    #: All groups together (with ``limit``, also those left out).
    total: SalesFigures
    #: ``aggregates`` (the hourly sums kept with each receipt) or ``receipts``.
    source: str
