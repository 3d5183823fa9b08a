"""Printing: receipts, slips and Z-reports to ESC/POS bytes, text and PNG previews; transports.

Independent of the database: callers build a :class:`PrintableReceipt`, :class:`PrintableSlip`
or :class:`PrintableZReport`, pick a :class:`PrinterProfile`, and get bytes for a transport or a
preview. Every output goes through one layout (:mod:`minipos.printing.layout`), so the paper
and the previews cannot diverge. See ``docs/printing.md``.
"""

from __future__ import annotations

from minipos.printing.blocks import decode_blocks
from minipos.printing.escpos import render_escpos
from minipos.printing.layout import layout_document
from minipos.printing.model import (
    PaymentLine,
    PrintableReceipt,
    PrintableSlip,
    PrintableZReport,
    PrinterProfile,
    ReceiptLine,
    ShopInfo,
    VatLine,
    ZDetails,
)
from minipos.printing.ops import Op
from minipos.printing.preview import render_png, render_text
from minipos.printing.transport import (
    FileTransport,
    NetworkTransport,
    NullTransport,
    PrinterConfigError,
    PrinterError,
    PrinterStatus,
    PrinterUnavailable,
    SerialTransport,
    Transport,
    UsbTransport,
    transport_from_url,
)
from minipos.printing.wording import LATVIAN, Wording

__all__ = [
    "Document",
    "FileTransport",
    "NetworkTransport",
    "NullTransport",
    "PaymentLine",
    "PrintableReceipt",
    "PrintableSlip",
    "PrintableZReport",
    "PrinterConfigError",
    "PrinterError",
    "PrinterProfile",
    "PrinterStatus",
    "PrinterUnavailable",
    "ReceiptLine",
    "SerialTransport",
    "ShopInfo",
    "Transport",
    "UsbTransport",
    "VatLine",
    "ZDetails",
    "decode_blocks",
    "layout_document",
    "to_escpos",
    "to_png",
    "to_text",
    "transport_from_url",
]

Document = PrintableReceipt | PrintableSlip | PrintableZReport


def _ops(documents: Document | tuple[Document, ...], profile: PrinterProfile,
         wording: Wording) -> list[Op]:  # fmt: skip
    if not isinstance(documents, tuple):
        documents = (documents,)
    return [op for document in documents for op in layout_document(document, profile, wording)]


def to_escpos(
    documents: Document | tuple[Document, ...],
    profile: PrinterProfile,
    wording: Wording = LATVIAN,
) -> bytes:
    """One print job for one or more documents (a receipt and its slip print as one job)."""
    return render_escpos(_ops(documents, profile, wording), profile)


def to_text(
    documents: Document | tuple[Document, ...],
    profile: PrinterProfile,
    wording: Wording = LATVIAN,
) -> str:
    """The text preview of what :func:`to_escpos` prints."""
    return render_text(_ops(documents, profile, wording), profile)


def to_png(
    documents: Document | tuple[Document, ...],
    profile: PrinterProfile,
    wording: Wording = LATVIAN,
    deadline: float | None = None,
) -> bytes:
    """The PNG preview of what :func:`to_escpos` prints (limits: :func:`preview.render_image`)."""
    return render_png(_ops(documents, profile, wording), profile, deadline)
