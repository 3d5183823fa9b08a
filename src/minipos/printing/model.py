"""What gets printed: plain, immutable descriptions of receipts, slips and printers.

Nothing here knows about the database or the API. The receipts and stations code builds these
from its own rows; :mod:`minipos.printing.layout` turns them into render operations. Money and
quantities are ``Decimal`` (never ``float``), printed as they are given: a refund's builder
decides the signs. Print blocks are :mod:`minipos.printing.blocks`' structs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal, TypeAlias

from minipos.printing.blocks import Blocks

__all__ = [
    "CodePage",
    "PaymentLine",
    "PrintableReceipt",
    "PrintableSlip",
    "PrintableZReport",
    "PrinterProfile",
    "ReceiptLine",
    "ShopInfo",
    "VatLine",
]

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class ShopInfo:
    """The shop's particulars, printed at the top of every fiscal receipt (configuration)."""

    name: str
    address_lines: tuple[str, ...] = ()
    #: VAT payer number ("PVN reģ. Nr."), e.g. ``LV40003000000``.
    vat_number: str | None = None
    #: Company registration number ("Reģ. Nr.").
    registration_number: str | None = None


@dataclass(frozen=True, slots=True)
class ReceiptLine:
    """One row: ``amount = round(quantity × unit_price − discount)``, before the document discount.

    ``vat_letter`` is the short tax-group mark printed beside the amount ("A" for 21 %); when
    empty the rate itself is shown. ``blocks`` are the row's ``info.blocks``, printed under it.
    """

    name: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    vat_rate: Decimal
    vat_letter: str = ""
    #: The line discount as money (already worked out from a percentage, if it was one).
    discount: Decimal = _ZERO
    #: Unit of measure for weighed goods ("kg"); empty for pieces.
    unit: str = ""
    blocks: Blocks = ()


@dataclass(frozen=True, slots=True)
class VatLine:
    """VAT of one rate: ``net + tax == gross``."""

    rate: Decimal
    net: Decimal
    tax: Decimal
    gross: Decimal
    letter: str = ""


@dataclass(frozen=True, slots=True)
class PaymentLine:
    """One payment, by the method's printed name ("Skaidrā nauda", "Karte")."""

    name: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class PrintableReceipt:
    """A fiscal receipt (sale or refund) as it is printed.

    ``refund_of`` is the original receipt's document number for a refund, else ``None``.
    ``is_copy`` marks a reprint ("KOPIJA"). ``supporting_number`` makes it a supporting
    document (attaisnojuma dokuments, the Latvian replacement of a lost receipt: never titled
    a receipt), the receipt's n-th. ``chassis_id`` is the station's full chassis number.
    ``open_drawer`` asks for the cash-drawer pulse (a cash payment with
    ``keep_drawer_closed: false``). ``chain_hash`` is the receipt's
    hash-chain link as hex; a short form and a QR code of it are printed.
    """

    shop: ShopInfo
    lines: tuple[ReceiptLine, ...]
    vat_lines: tuple[VatLine, ...]
    total: Decimal
    payments: tuple[PaymentLine, ...]
    station_name: str
    pos_id: str
    document_id: str
    printed_at: datetime
    chain_hash: str
    z_number: int | None = None
    cashier: str | None = None
    header: Blocks = ()
    footer: Blocks = ()
    #: The document discount as money (spread over the lines by the pricing rules).
    document_discount: Decimal = _ZERO
    change: Decimal = _ZERO
    #: Cash rounding (docs/money.md): the payments cover ``total + rounding``.
    rounding: Decimal = _ZERO
    refund_of: str | None = None
    is_copy: bool = False
    open_drawer: bool = False
    chassis_id: str = ""
    supporting_number: int | None = None
    #: A training-mode document: non-fiscal, its own number series, never titled a receipt.
    training: bool = False

    def __post_init__(self) -> None:
        if self.printed_at.tzinfo is None or self.printed_at.utcoffset() is None:
            raise ValueError("printed_at must be an aware datetime")
        if self.chain_hash and not _is_hex(self.chain_hash):
            raise ValueError("chain_hash must be a hexadecimal string")


@dataclass(frozen=True, slots=True)
class PrintableSlip:
    """A non-fiscal slip: an invoice's ``info.slip`` (mode 3, or after a sale's receipt)."""

    blocks: Blocks
    is_copy: bool = False


@dataclass(frozen=True, slots=True)
class ZDetails:
    """What a Z-report prints besides the receipt figures (absent on Z-reports closed before
    they existed, which print as they did): discounts, counts by document type, the drawer.
    ``movements`` are the cash in and out as (``"in"`` or ``"out"``, reason, amount), in
    order; ``counted`` and ``difference`` are None when the cash was not counted."""

    sale_count: int
    refund_count: int
    supporting_documents: int
    cancelled_invoices: int
    training: int
    sale_discounts: Decimal
    refund_discounts: Decimal
    opening_float: Decimal
    cash_sales: Decimal
    change: Decimal
    cash_refunds: Decimal
    cash_in: Decimal
    cash_out: Decimal
    expected: Decimal
    counted: Decimal | None
    difference: Decimal | None
    movements: tuple[tuple[str, str, Decimal], ...] = ()
    #: Cash rounding over the shift (0 when off, and on Z-reports closed before it).
    cash_rounding: Decimal = _ZERO


@dataclass(frozen=True, slots=True)
class PrintableZReport:
    """A closed shift's Z-report (the totals frozen at close), as it is printed.

    The figures are the stored report's: ``sales`` and ``refunds`` are gross amounts,
    ``turnover = sales - refunds``, ``tax`` the VAT of the turnover, ``vat_lines`` per rate and
    ``payments`` per method (cash net of change). ``grand_total`` is the station's cumulative
    sales at close. ``chain_hash`` is the report's hash (chained to the shift's last receipt).
    """

    shop: ShopInfo
    station_name: str
    pos_id: str
    z_number: int
    opened_at: datetime
    closed_at: datetime
    receipts: int
    sales: Decimal
    refunds: Decimal
    turnover: Decimal
    tax: Decimal
    vat_lines: tuple[VatLine, ...]
    payments: tuple[PaymentLine, ...]
    grand_total: Decimal
    cashier: str | None = None
    chain_hash: str = ""
    is_copy: bool = False
    chassis_id: str = ""
    #: Who opened the shift (``cashier`` closed it).
    opened_by: str | None = None
    #: The software's and the fiscal core's versions, printed at the bottom.
    software_version: str = ""
    fiscal_version: str = ""
    details: ZDetails | None = None

    def __post_init__(self) -> None:
        for moment in (self.opened_at, self.closed_at):
            if moment.tzinfo is None or moment.utcoffset() is None:
                raise ValueError("opened_at and closed_at must be aware datetimes")
        if self.chain_hash and not _is_hex(self.chain_hash):
            raise ValueError("chain_hash must be a hexadecimal string")


#: How text reaches the paper: a code page selected with ``ESC t n``, or every text line sent
#: as a raster image (for printers without a Baltic code page).
CodePage: TypeAlias = Literal["cp1257", "cp775", "raster"]

_COLUMNS = (32, 42, 48)
_DRAWER_PINS = (2, 5)


@dataclass(frozen=True, slots=True)
class PrinterProfile:
    """A printer's geometry and dialect.

    ``columns`` is the line width in characters of font A (32 for 58 mm paper, 42 or 48 for
    80 mm). ``dots_per_line`` is the printable width in dots (384 for 58 mm, 512 or 576 for
    80 mm); previews and raster text use it. ``code_page_number`` is the ``n`` of ``ESC t n``;
    ``None`` looks it up in python-escpos's printer database under ``model`` (Epson numbering
    for ``"default"``: CP1257 = 51, CP775 = 33). The drawer pulse is ``ESC p m t1 t2`` on
    connector pin 2 or 5, with on/off times in milliseconds (sent in 2 ms units).
    """

    columns: int = 42
    code_page: CodePage = "cp1257"
    code_page_number: int | None = None
    model: str = "default"
    dots_per_line: int = 576
    cut: bool = True
    partial_cut: bool = False
    drawer_pin: int = 2
    drawer_on_ms: int = 100
    drawer_off_ms: int = 100

    def __post_init__(self) -> None:
        if self.columns not in _COLUMNS:
            raise ValueError(f"columns must be one of {_COLUMNS}, not {self.columns}")
        if self.code_page not in ("cp1257", "cp775", "raster"):
            raise ValueError(f"unknown code page {self.code_page!r}")
        if self.code_page_number is not None and not 0 <= self.code_page_number <= 255:
            raise ValueError("code_page_number must be 0-255")
        if not self.columns <= self.dots_per_line <= 4096:
            raise ValueError("dots_per_line must be at least the column count and at most 4096")
        if self.drawer_pin not in _DRAWER_PINS:
            raise ValueError("drawer_pin must be 2 or 5")
        for name in ("drawer_on_ms", "drawer_off_ms"):
            if not 0 <= getattr(self, name) <= 510:
                raise ValueError(f"{name} must be 0-510 (ms)")


_HEX = re.compile("[0-9a-fA-F]*")


def _is_hex(text: str) -> bool:
    return _HEX.fullmatch(text) is not None
