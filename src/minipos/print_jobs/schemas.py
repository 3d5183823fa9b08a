"""Printer configuration, printer status, print job and preview shapes (docs/printing.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, Struct

from minipos.api.fields import QueryInt

PrinterKind = Literal["network", "file", "usb", "serial", "none"]
JobStatusName = Literal["queued", "sending", "printed", "failed"]
JobKindName = Literal["receipt", "slip", "z_report"]
Seconds = Annotated[float, Meta(ge=0.1, le=300)]


class PrinterIn(Struct, kw_only=True, forbid_unknown_fields=True):
    """``PUT /api/stations/{station_id}/printer``: the whole configuration (a replacement).

    ``address`` by kind: ``network`` ``host[:port]`` (port 9100 by default); ``file`` an
    absolute path (a file, or a device such as ``/dev/usb/lp0``); ``usb``
    ``vendor:product[?interface=n]`` in hex; ``serial`` a device or a pyserial URL with
    options (``/dev/ttyS0?baudrate=19200&rtscts=1``); ``none``: no address (nothing is printed).
    """

    kind: PrinterKind
    address: Annotated[str, Meta(max_length=255)] | None = None
    #: Characters per line: 32 (58 mm paper), 42 or 48 (80 mm).
    columns: Literal[32, 42, 48] = 42
    code_page: Literal["cp1257", "cp775", "raster"] = "cp1257"
    #: The ``n`` of ``ESC t n``; null looks it up for ``model`` (Epson: CP1257 = 51).
    code_page_number: Annotated[int, Meta(ge=0, le=255)] | None = None
    #: A printer in python-escpos's database (``default`` is Epson numbering).
    model: Annotated[str, Meta(min_length=1, max_length=64)] = "default"
    #: Printable width in dots; null: 384, 512 or 576 for 32, 42 or 48 columns.
    dots_per_line: Annotated[int, Meta(ge=32, le=4096)] | None = None
    cut: bool = True
    partial_cut: bool = False
    #: Cash drawer: connector pin (2 or 5) and pulse on/off times in ms.
    drawer_pin: Literal[2, 5] = 2
    drawer_on_ms: Annotated[int, Meta(ge=0, le=510)] = 100
    drawer_off_ms: Annotated[int, Meta(ge=0, le=510)] = 100
    connect_timeout: Seconds = 3.0
    write_timeout: Seconds = 10.0
    status_timeout: Seconds = 1.0
    #: Read the printer's status before each job; a printer known to be out of paper, open or
    #: offline gets the job later instead.
    check_status: bool = True


class PrinterOut(Struct):
    station_id: int
    kind: str
    address: str | None
    columns: int
    code_page: str
    code_page_number: int | None
    model: str
    dots_per_line: int
    cut: bool
    partial_cut: bool
    drawer_pin: int
    drawer_on_ms: int
    drawer_off_ms: int
    connect_timeout: float
    write_timeout: float
    status_timeout: float
    check_status: bool
    updated_at: str


class PrinterStatusOut(Struct):
    """What the printer said just now, and the station's queue.

    ``reachable`` false: the printer could not be reached (``detail`` says why) and every
    status field is ``online: false`` or null. A field the printer does not report is null.
    ``ready``: nothing known stops printing.
    """

    station_id: int
    kind: str
    address: str | None
    reachable: bool
    ready: bool
    online: bool | None
    paper_out: bool | None
    paper_low: bool | None
    cover_open: bool | None
    error: bool | None
    detail: str | None
    checked_at: str
    queued_jobs: int
    failed_jobs: int


class PrintJobOut(Struct):
    id: int
    station_id: int
    kind: str
    status: str
    is_copy: bool
    receipt_id: int | None
    invoice_id: int | None
    shift_id: int | None
    attempts: int
    next_attempt_at: str | None
    last_error: str | None
    #: An attempt may have reached the paper (a partial send, or the sender died): a retry
    #: prints a copy.
    may_have_printed: bool
    created_at: str
    claimed_at: str | None
    printed_at: str | None
    #: The job prints the receipt's n-th supporting document (``lv`` profile's "print copy").
    supporting_number: int | None = None


class PrintJobQuery(Struct, kw_only=True):
    station_id: QueryInt | None = None
    status: JobStatusName | None = None
    kind: JobKindName | None = None
    limit: Annotated[int, Meta(ge=1, le=1000)] = 1000
    offset: QueryInt = 0
    after_id: QueryInt | None = None


class PreviewQuery(Struct, kw_only=True):
    format: Literal["txt", "png"] = "txt"


class JournalQuery(Struct, kw_only=True, rename={"from_": "from"}):
    station_id: QueryInt | None = None
    #: A local date or date-time (ISO); ``to`` as a plain date includes that day.
    from_: Annotated[str, Meta(max_length=64)] | None = None
    to: Annotated[str, Meta(max_length=64)] | None = None
    limit: Annotated[int, Meta(ge=1, le=1000)] = 1000
    offset: QueryInt = 0
    after_id: QueryInt | None = None


class JournalEntryOut(Struct):
    id: int
    station_id: int
    seq: int
    kind: str
    receipt_id: int | None
    shift_id: int | None
    supporting_number: int | None
    document_no: str
    chassis_id: str
    issued_at: str
    text: str
    prev_hash: str
    hash: str
