"""Previews: what a receipt or an invoice prints, as text or PNG, without a printer.

The documents are built from the stored rows (:mod:`minipos.print_jobs.documents`) with the
station's printer profile and drawn in the shared render pool (:mod:`minipos.printing.pool`),
so a preview shows what the paper shows. Previews never mark anything printed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from minipos.db import Connection
from minipos.domain.errors import NotFound
from minipos.invoices import repository as invoices
from minipos.print_jobs import documents, printers
from minipos.print_jobs.documents import PrintContext
from minipos.printing import Document, PrinterProfile, pool, to_png, to_text
from minipos.printing.wording import Wording
from minipos.receipts import repository as receipts

PreviewFormat = Literal["txt", "png"]

MEDIA_TYPES: dict[PreviewFormat, str] = {
    "txt": "text/plain; charset=utf-8",
    "png": "image/png",
}


@dataclass(frozen=True, slots=True)
class Printout:
    """What a preview draws: the documents, the profile they print with, and a file name."""

    documents: tuple[Document, ...]
    profile: PrinterProfile
    #: Without the extension: ``receipt-01-17``, ``invoice-40``.
    name: str


def receipt_printout(
    conn: Connection, receipt_id: int, station_id: int | None, context: PrintContext
) -> Printout:
    """A receipt as its station prints it; a station (``station_id`` given) sees only its own."""
    found = receipts.get(conn, receipt_id)
    if found is None or (station_id is not None and found["station_id"] != station_id):
        raise NotFound()
    document = documents.receipt_document(conn, receipt_id, context)
    name = f"receipt-{found['station_pos_id']}-{found['document_id']}"
    return Printout((document,), printers.profile_of(conn, found["station_id"]), name)


def invoice_printout(
    conn: Connection, invoice_id: int, station_id: int | None, context: PrintContext
) -> Printout:
    """What an invoice prints: its slip (mode 3), or its receipt(s) and then its slip once done.

    A station (``station_id`` given) sees only the invoices it may see.
    """
    invoice = invoices.get(conn, invoice_id, station_id)
    if invoice is None:
        raise NotFound()
    found = documents.invoice_documents(conn, invoice_id, context)
    station = invoice["print_station"] or invoice["station"]
    return Printout(found, printers.profile_of(conn, station), f"invoice-{invoice_id}")


async def render(printout: Printout, output: PreviewFormat, wording: Wording) -> bytes:
    """The printout drawn in the shared pool (cached by content).

    Raises :class:`~minipos.printing.preview.TooLarge` for a document too large to draw, and
    :class:`~minipos.printing.pool.Busy` or :class:`~minipos.printing.preview.RenderTimeout`
    when the renderer is overloaded.
    """
    found, profile = printout.documents, printout.profile

    def draw(deadline: float) -> bytes:
        if output == "png":
            return to_png(found, profile, wording, deadline)
        return to_text(found, profile, wording).encode()

    key = pool.content_key(output, found, profile, wording)
    return await pool.shared().render_async(key, draw)
