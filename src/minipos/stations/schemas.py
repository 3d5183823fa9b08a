"""Station and shift shapes (docs/decisions.md §6; /api/shifts as the public API docs show it)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from msgspec import Meta, Struct

from minipos.api.fields import QueryInt, whole

Name = Annotated[str, Meta(min_length=1, max_length=100)]
Ref = Annotated[str, Meta(min_length=1, max_length=100)]
PosId = Annotated[str, Meta(pattern=whole("[0-9]{1,9}"))]


class StationIn(Struct, kw_only=True, forbid_unknown_fields=True):
    name: Name
    #: The POS number invoices address with ``pos_id`` (digits; "01" and "1" are the same POS).
    pos_id: PosId
    chassis_id: Annotated[str, Meta(min_length=1, max_length=64)]
    station_group: Annotated[str, Meta(min_length=1, max_length=64)] | None = None


class StationOut(Struct):
    id: int
    name: str
    pos_id: str
    chassis_id: str
    station_group: str
    created_at: str
    open_shift: int | None
    z_number: int | None
    last_document_id: str | None
    #: A disabled station's key is refused and it cannot claim or sell.
    disabled: bool
    disabled_at: str | None
    #: When its last receipt was printed (null before its first).
    last_receipt_at: str | None
    #: In training mode its sales are non-fiscal training documents (docs/fiscal.md).
    training: bool


class StationPatch(Struct, kw_only=True, forbid_unknown_fields=True):
    """``PATCH /api/stations/{id}``: only the fields sent change."""

    name: Name | None = None
    station_group: Annotated[str, Meta(min_length=1, max_length=64)] | None = None
    disabled: bool | None = None
    #: Training mode on or off (refused while the station has an open shift).
    training: bool | None = None


class StationKey(Struct):
    """A station's new key (``POST /api/stations/{id}/key``), shown this once; every key the
    station had before is revoked."""

    station: int
    id: int
    key_id: str
    key: str
    revoked: list[int]


class StationCreated(StationOut):
    #: The station's API key (role ``station``), shown this once.
    key: str


class CashierIn(Struct, kw_only=True, forbid_unknown_fields=True):
    cashier_name: Name | None = None
    cashier_id: QueryInt | None = None


class ShiftOpenIn(CashierIn, kw_only=True, forbid_unknown_fields=True):
    #: The cash put in the drawer to give change from (0 to 9,999,999,999.99, 2 places).
    opening_float: Decimal | None = None


class ShiftCloseIn(CashierIn, kw_only=True, forbid_unknown_fields=True):
    #: The cash counted in the drawer at close; the Z shows it against the expected cash.
    counted_cash: Decimal | None = None


class CashMoveIn(Struct, kw_only=True, forbid_unknown_fields=True):
    """``POST /api/stations/{id}/shift/cash-in`` and ``…/cash-out``."""

    amount: Decimal
    reason: Annotated[str, Meta(min_length=1, max_length=200)]
    cashier_name: Name | None = None


class ShiftOut(Struct, omit_defaults=True):
    """The documented ``/api/shifts`` item; at a chain's centre, a store's shift also names
    its store and whether it reconciled (docs/stores.md), fields absent everywhere else."""

    id: int
    z_number: int
    start_date: str
    close_date: str | None
    grand_total: Decimal | None
    station: int
    station_name: str
    station_pos_id: str
    station_chassis_id: str
    start_employee: int | None
    start_employee_name: str | None
    close_employee: int | None
    close_employee_name: str | None
    common_shift: int | None
    local_id: int
    store: str | None = None
    #: When the centre found the Z-report equal to the receipts it holds.
    reconciled_at: str | None = None
    #: What differs, when a closed shift did not reconcile.
    reconcile_note: str | None = None


class VatTotal(Struct):
    rate: Decimal
    gross: Decimal
    net: Decimal
    tax: Decimal


class MethodTotal(Struct):
    method_name: str
    amount: Decimal


class CashMoveOut(Struct):
    #: ``float`` (the opening float), ``in`` or ``out``.
    kind: str
    amount: Decimal
    reason: str | None
    cashier_name: str | None
    at: str


class DrawerOut(Struct):
    """The cash drawer: ``expected = opening_float + cash_sales - change - cash_refunds +
    cash_in - cash_out``; ``counted`` and ``difference`` (counted - expected) once counted."""

    opening_float: Decimal
    cash_sales: Decimal
    change: Decimal
    cash_refunds: Decimal
    cash_in: Decimal
    cash_out: Decimal
    expected: Decimal
    counted: Decimal | None
    difference: Decimal | None
    movements: list[CashMoveOut]


class DocumentCounts(Struct):
    """Documents of the shift by type; ``training`` ones are counted only, never summed."""

    sales: int
    refunds: int
    supporting_documents: int
    cancelled_invoices: int
    training: int


class ShiftReport(Struct):
    """X-report (open shift) or Z-report (closed): totals of the shift's receipts, and (since
    migration 0014) the drawer, the discounts and the counts by document type; a Z-report
    closed before has them null."""

    receipts: int
    sales: Decimal
    refunds: Decimal
    turnover: Decimal
    tax: Decimal
    vat: list[VatTotal]
    payments: list[MethodTotal]
    #: Discounts on sales and on the refunded rows, separately.
    sale_discounts: Decimal | None = None
    refund_discounts: Decimal | None = None
    counts: DocumentCounts | None = None
    drawer: DrawerOut | None = None
    #: Cash rounding over the shift's receipts (MINIPOS_CASH_ROUNDING; 0 when off): what the
    #: cash paid exceeds the totals by, refunds subtracted (docs/money.md).
    cash_rounding: Decimal | None = None


class ShiftWithReport(ShiftOut, kw_only=True):
    report: ShiftReport


class ShiftDetail(ShiftWithReport, kw_only=True):
    """``GET /api/shifts/{id}``: a closed shift's Z-report as frozen at close, or an open
    shift's X figures as of now."""

    #: ``"Z"`` (closed: the stored report) or ``"X"`` (open: the figures so far).
    report_type: str


class ShiftQuery(Struct, kw_only=True, rename={"from_": "from"}):
    station_id: QueryInt | None = None
    #: Shifts open at any moment from this local date or date-time (ISO, shop time)…
    from_: Annotated[str, Meta(max_length=64)] | None = None
    #: …up to this one (a plain date takes in that whole day).
    to: Annotated[str, Meta(max_length=64)] | None = None
    #: Only open (``true``) or only closed (``false``) shifts.
    open: bool | None = None
    z_number_from: QueryInt | None = None
    z_number_to: QueryInt | None = None
    #: A chain's centre: only this store's (its code); an unknown code is a 400.
    store: Annotated[str, Meta(max_length=32)] | None = None
    limit: Annotated[int, Meta(ge=1, le=1000)] = 1000
    offset: QueryInt = 0
    after_id: QueryInt | None = None


class WaitingQuery(Struct, kw_only=True):
    """``GET /api/stations/{station_id}/feed``: the invoices waiting for the station."""

    #: Long-poll: wait up to this many seconds for an invoice to arrive.
    wait: Annotated[float, Meta(ge=0, le=60)] = 0
    limit: Annotated[int, Meta(ge=1, le=100)] = 50
