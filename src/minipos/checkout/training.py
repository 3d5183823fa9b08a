"""Training mode (issue 14; docs/fiscal.md, "Training mode"): a station an admin put in
training sells as usual, but each sale becomes a non-fiscal training document.

It is numbered in the station's own training series (``stations.last_training_number``), kept
in ``training_receipts`` (never in ``receipts``), printed and shown marked ``MĀCĪBU REŽĪMS`` /
``NEFISKĀLS DOKUMENTS`` and titled neither ``ČEKS`` nor a number of the receipt series. So no
fiscal reading can count it: the Z and the grand total (they sum ``receipts``), the receipt
chain and ``minipos verify``, ``/api/receipts``, the sales reports, the sync to a chain's
centre (which copies receipts) and the event log (no ``receipt.created``). A Z counts the
training documents of its shift, and nothing more.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from minipos.checkout.schemas import TrainingReceiptOut
from minipos.db import Connection, Row
from minipos.domain.errors import Conflict
from minipos.domain.money import DocumentPrice, from_cents, json_number, to_cents, vat
from minipos.domain.receipt import ReceiptMode, Settlement
from minipos.print_jobs import printers
from minipos.print_jobs.documents import tax_letter
from minipos.print_jobs.journal import JournalContext
from minipos.print_jobs.service import JobKind, enqueue
from minipos.printing import (
    PaymentLine,
    PrintableReceipt,
    PrinterProfile,
    ReceiptLine,
    ShopInfo,
    VatLine,
    to_text,
)
from minipos.printing.wording import ENGLISH, LATVIAN
from minipos.receipts.service import SaleLine
from minipos.timeutil import local_aware, to_datetime


def in_training(station: Row) -> bool:
    return bool(station["training"])


def refuse_invoice(station: Row) -> None:
    """An invoice is a customer's real order: a training document must not mark it Done."""
    if in_training(station):
        raise Conflict(
            f"Station {station['id']} is in training mode: it issues no fiscal receipt, so it"
            " cannot complete an invoice (an admin turns training off: PATCH"
            f' /api/stations/{station["id"]} {{"training": false}}).'
        )


def previous(
    conn: Connection, station_id: int, request_id: str, zone: ZoneInfo
) -> TrainingReceiptOut | None:
    """The training document already issued for ``request_id`` (a retry), or None."""
    found = conn.fetchone(
        "SELECT t.*, s.pos_id AS pos_id FROM training_receipts t"
        " JOIN stations s ON s.id = t.station_id"
        " WHERE t.station_id = :station AND t.request_id = :request",
        {"station": station_id, "request": request_id},
    )
    return None if found is None else _out(found, zone)


def issue(
    conn: Connection,
    *,
    station: Row,
    shift_id: int | None,
    mode: ReceiptMode,
    lines: Sequence[SaleLine],
    price: DocumentPrice,
    settlement: Settlement,
    cashier_name: str | None,
    request_id: str,
    journal: JournalContext | None,
    zone: ZoneInfo,
    now_us: int,
) -> TrainingReceiptOut:
    """Number, draw, keep and queue for printing one training document."""
    numbered = conn.fetchone(
        "UPDATE stations SET last_training_number = last_training_number + 1 WHERE id = :id"
        " RETURNING last_training_number",
        {"id": station["id"]},
    )
    assert numbered is not None
    number = int(numbered["last_training_number"])
    document = PrintableReceipt(
        shop=journal.context.shop if journal is not None else ShopInfo(name=""),
        lines=tuple(
            ReceiptLine(
                name=line.product_name,
                quantity=line.quantity,
                unit_price=line.price,
                amount=priced.amount,
                vat_rate=line.tax_rate,
                vat_letter=tax_letter(line.tax),
                discount=priced.line_discount,
            )
            for line, priced in zip(lines, price.lines, strict=True)
        ),
        vat_lines=_vat_lines(lines, price),
        total=price.total,
        payments=tuple(PaymentLine(t.method.name, t.amount) for t in settlement.tenders),
        station_name=station["name"],
        pos_id=station["pos_id"],
        document_id=str(number),
        printed_at=to_datetime(now_us, zone),
        chain_hash="",  # on no chain: nothing to check it against
        cashier=cashier_name,
        document_discount=price.document_discount,
        change=settlement.change,
        refund_of="" if mode is ReceiptMode.REFUND else None,
        chassis_id=station["chassis_id"],
        training=True,
    )
    columns = printers.profile_of(conn, station["id"]).columns
    wording = ENGLISH if journal is not None and journal.language == "en" else LATVIAN
    text = to_text(document, PrinterProfile(columns=columns), wording)
    row: dict[str, Any] = {
        "station_id": station["id"],
        "shift_id": shift_id,
        "number": number,
        "request_id": request_id,
        "mode": int(mode),
        "total": to_cents(price.total),
        "cashier_name": cashier_name,
        "created_at": now_us,
        "text": text,
    }
    row["id"] = conn.insert(
        "INSERT INTO training_receipts (station_id, shift_id, number, request_id, mode, total,"
        " cashier_name, created_at, text) VALUES (:station_id, :shift_id, :number, :request_id,"
        " :mode, :total, :cashier_name, :created_at, :text) RETURNING id",
        row,
    )
    enqueue(
        conn,
        station_id=station["id"],
        kind=JobKind.TRAINING,
        training_receipt_id=row["id"],
        now_us=now_us,
    )
    return _out({**row, "pos_id": station["pos_id"]}, zone)


def _vat_lines(lines: Sequence[SaleLine], price: DocumentPrice) -> tuple[VatLine, ...]:
    gross: dict[Decimal, Decimal] = defaultdict(Decimal)
    letters: dict[Decimal, set[str]] = defaultdict(set)
    for line, priced in zip(lines, price.lines, strict=True):
        gross[line.tax_rate] += priced.total
        letters[line.tax_rate].add(tax_letter(line.tax))
    out = []
    for rate in sorted(gross, reverse=True):
        net, tax = vat(gross[rate], rate)
        out.append(VatLine(rate, net, tax, gross[rate], "".join(sorted(letters[rate]))))
    return tuple(out)


def _out(row: Any, zone: ZoneInfo) -> TrainingReceiptOut:
    return TrainingReceiptOut(
        id=int(row["id"]),
        training_number=int(row["number"]),
        mode=int(row["mode"]),
        station=int(row["station_id"]),
        pos_id=str(row["pos_id"]),
        total=json_number(from_cents(int(row["total"]))),
        cashier_name=row["cashier_name"],
        print_time=local_aware(int(row["created_at"]), zone) or "",
        text=str(row["text"]),
    )
