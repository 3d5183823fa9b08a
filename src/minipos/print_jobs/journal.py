"""The electronic journal (control tape): the exact text of every printed fiscal document.

A receipt, a refund, a Z-report or a supporting document is drawn as text (the printer's
preview, at the station printer's width) in the transaction that issues it and appended to the
station's journal: numbered (``seq``), hash-chained like receipts, with the chassis number and
``render``, what the text was drawn with besides the stored rows (seller, time zone, width,
wording, versions). ``verify`` draws every entry again from the stored rows and that
``render`` and reports the first line that differs (docs/fiscal.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo

from minipos.db import Connection, Row
from minipos.domain.errors import Conflict, NotFound, ValidationFailed
from minipos.domain.fiscal import FiscalProfile, JournalKind
from minipos.domain.receipt import GENESIS_HASH, ReceiptMode, chain_hash
from minipos.invoices.service import ShopConfig
from minipos.print_jobs import documents, printers, repository
from minipos.print_jobs.documents import PrintContext, ReceiptSource
from minipos.print_jobs.schemas import JournalEntryOut, JournalQuery, PrintJobOut
from minipos.print_jobs.service import (
    JobKind,
    JobStatus,
    enqueue,
    enqueue_z_report,
    get_job,
    job_out,
    retry,
)
from minipos.print_jobs.settings import PrintSettings
from minipos.printing import (
    Document,
    PrintableReceipt,
    PrintableZReport,
    PrinterProfile,
    ShopInfo,
    to_text,
)
from minipos.printing.wording import ENGLISH, LATVIAN
from minipos.receipts import repository as receipts
from minipos.timeutil import local_aware, parse_local

Language = Literal["lv", "en"]


@dataclass(frozen=True, slots=True)
class JournalContext:
    """What journal entries are drawn with: the print context, the wording's language and the
    supporting-document limit of the ``lv`` profile."""

    context: PrintContext
    language: Language = "lv"
    supporting_limit: int = 3


def journal_context(printing: PrintSettings, shop: ShopConfig) -> JournalContext:
    """The journal's context from the settings read at start-up."""
    cash = frozenset(m.id for m in shop.reference.payment_methods.values() if m.is_cash)
    return JournalContext(
        PrintContext(printing.shop, shop.zone, cash, profile=printing.fiscal_profile),
        language=printing.print_language,
        supporting_limit=printing.supporting_document_limit,
    )


# --- writing ----------------------------------------------------------------------------------


def record_receipt(
    conn: Connection, journal: JournalContext, source: ReceiptSource, now_us: int
) -> None:
    """Journal a receipt just issued, in the sale's transaction: drawn from ``source``, the
    values the sale has just stored (as ``verify`` draws it from them read back)."""
    receipt = source.receipt
    kind = JournalKind.REFUND if receipt["mode"] == ReceiptMode.REFUND else JournalKind.RECEIPT
    _append(
        conn,
        journal,
        station_id=receipt["station_id"],
        kind=kind,
        receipt_id=receipt["id"],
        document_no=receipt["document_id"],
        now_us=now_us,
        source=source,
    )


def record_z_report(
    conn: Connection, journal: JournalContext, station_id: int, shift_id: int, now_us: int
) -> None:
    """Journal a Z-report just closed, in the close's transaction."""
    shift = conn.fetchone("SELECT z_number FROM shifts WHERE id = :id", {"id": shift_id})
    assert shift is not None
    _append(
        conn,
        journal,
        station_id=station_id,
        kind=JournalKind.Z_REPORT,
        shift_id=shift_id,
        document_no=str(shift["z_number"]),
        now_us=now_us,
    )


@dataclass(frozen=True, slots=True)
class JournalledZReport:
    """The stations' ``print_z_report`` hook: the Z queued for printing and journaled."""

    journal: JournalContext

    def __call__(self, conn: Connection, *, station_id: int, shift_id: int, now_us: int) -> None:
        enqueue_z_report(conn, station_id=station_id, shift_id=shift_id, now_us=now_us)
        record_z_report(conn, self.journal, station_id, shift_id, now_us)


def issue_supporting_document(
    conn: Connection,
    journal: JournalContext,
    receipt_id: int,
    *,
    station_id: int | None,
    now_us: int,
) -> PrintJobOut:
    """``lv``'s "print copy": the receipt's next supporting document (attaisnojuma dokuments),
    journaled and queued. 409 past the limit. A station (``station_id``) reaches only its own."""
    receipt = receipts.get(conn, receipt_id)
    if receipt is None or (station_id is not None and receipt["station_id"] != station_id):
        raise NotFound()
    # The journal's number locks the station row first: two requests cannot take one number.
    numbered = repository.next_journal_number(conn, receipt["station_id"])
    number = repository.supporting_documents(conn, receipt_id) + 1
    if number > journal.supporting_limit:
        raise Conflict(
            f"Receipt {receipt['document_id']} has had its {journal.supporting_limit} supporting "
            "documents (MINIPOS_SUPPORTING_DOCUMENT_LIMIT); no more can be issued."
        )
    _append(
        conn,
        journal,
        station_id=receipt["station_id"],
        kind=JournalKind.SUPPORTING,
        receipt_id=receipt_id,
        supporting_number=number,
        document_no=receipt["document_id"],
        now_us=now_us,
        numbered=numbered,
    )
    job_id = enqueue(
        conn,
        station_id=receipt["station_id"],
        kind=JobKind.RECEIPT,
        now_us=now_us,
        receipt_id=receipt_id,
        is_copy=True,
        supporting_number=number,
    )
    job = repository.get(conn, job_id)
    assert job is not None
    return job_out(job, journal.context.zone)


def retry_lv(
    conn: Connection, journal: JournalContext, job_id: int, *, station_id: int | None, now_us: int
) -> tuple[PrintJobOut, bool]:
    """A job printed again in ``lv``: a printed receipt's (not already a supporting document's)
    copy is its next supporting document, never a second receipt; anything else as
    :func:`~minipos.print_jobs.service.retry`."""
    job = get_job(conn, job_id, station_id)
    if (
        job["status"] == JobStatus.PRINTED
        and job["kind"] == JobKind.RECEIPT
        and job["supporting_number"] is None
    ):
        issued = issue_supporting_document(
            conn, journal, job["receipt_id"], station_id=station_id, now_us=now_us
        )
        return issued, True
    return retry(conn, job_id, station_id, journal.context.zone, now_us)


def _append(
    conn: Connection,
    journal: JournalContext,
    *,
    station_id: int,
    kind: JournalKind,
    document_no: str,
    now_us: int,
    receipt_id: int | None = None,
    shift_id: int | None = None,
    supporting_number: int | None = None,
    numbered: tuple[int, str, int | None] | None = None,
    source: ReceiptSource | None = None,
) -> None:
    seq, previous, columns = numbered or repository.next_journal_number(conn, station_id)
    if columns is None:  # no printer: drawn as its previews are
        columns = printers.DEFAULT_PROFILE.columns
    render, render_json = _render_params(journal, columns)
    entry: dict[str, Any] = {
        "station_id": station_id,
        "seq": seq,
        "kind": kind.value,
        "receipt_id": receipt_id,
        "shift_id": shift_id,
        "supporting_number": supporting_number,
        "document_no": document_no,
        "issued_at": now_us,
        "render": render_json,
    }
    # The journal's own context is what ``render`` was made from (the same values, so the same
    # text); ``verify`` rebuilds it from the stored ``render``, as the settings may change.
    document = _document(conn, entry, render, source, journal.context)
    entry["chassis_id"] = document.chassis_id  # the station's, as the document prints it
    entry["text"] = _text(document, render)
    entry["prev_hash"] = previous
    entry["hash"] = chain_hash(previous, hash_content(entry))
    repository.append_journal(conn, entry)


@lru_cache(maxsize=16)
def _render_params(journal: JournalContext, columns: int) -> tuple[dict[str, Any], str]:
    """``render`` and its stored JSON, made once per context and width (a few per server): the
    dict is shared between entries, so nothing may change it."""
    ctx = journal.context
    render = {
        "shop": {
            "name": ctx.shop.name,
            "address_lines": list(ctx.shop.address_lines),
            "vat_number": ctx.shop.vat_number,
            "registration_number": ctx.shop.registration_number,
        },
        "zone": ctx.zone.key,
        "cash_methods": sorted(ctx.cash_methods),
        "profile": ctx.profile.value,
        "software_version": ctx.software_version,
        "fiscal_version": ctx.fiscal_version,
        "columns": columns,
        "language": journal.language,
    }
    return render, json.dumps(render, sort_keys=True, ensure_ascii=False)


def hash_content(entry: Any) -> dict[str, Any]:
    """What an entry's hash covers: all of it but its own chain links."""
    names = (
        "station_id", "seq", "kind", "receipt_id", "shift_id", "supporting_number",
        "document_no", "chassis_id", "issued_at", "render", "text",
    )  # fmt: skip
    return {name: entry[name] for name in names}


# --- drawing ----------------------------------------------------------------------------------


def draw(conn: Connection, entry: Any, render: dict[str, Any]) -> str:
    """An entry's document drawn from the stored rows with ``render``: the journal's text."""
    return _text(_document(conn, entry, render), render)


def _text(document: Document, render: dict[str, Any]) -> str:
    wording = ENGLISH if render["language"] == "en" else LATVIAN
    return to_text(document, PrinterProfile(columns=render["columns"]), wording)


def _document(
    conn: Connection,
    entry: Any,
    render: dict[str, Any],
    source: ReceiptSource | None = None,
    context: PrintContext | None = None,
) -> PrintableReceipt | PrintableZReport:
    """An entry's document; a receipt's from ``source`` when given, else read back; drawn with
    ``context`` when given (the one ``render`` was made from), else with ``render``'s."""
    context = context or _print_context(render)
    kind = JournalKind(entry["kind"])
    if kind is JournalKind.Z_REPORT:
        return documents.z_report_document(conn, entry["shift_id"], context)
    return documents.printable_receipt(
        source or documents.receipt_source(conn, entry["receipt_id"]),
        context,
        is_copy=kind is JournalKind.SUPPORTING,
        supporting_number=entry["supporting_number"],
    )


def _print_context(render: dict[str, Any]) -> PrintContext:
    shop = render["shop"]
    return PrintContext(
        shop=ShopInfo(
            shop["name"],
            tuple(shop["address_lines"]),
            vat_number=shop["vat_number"],
            registration_number=shop["registration_number"],
        ),
        zone=ZoneInfo(render["zone"]),
        cash_methods=frozenset(render["cash_methods"]),
        profile=FiscalProfile(render["profile"]),
        software_version=render["software_version"],
        fiscal_version=render["fiscal_version"],
    )


# --- reading and checking ---------------------------------------------------------------------


def period(
    text_from: str | None, text_to: str | None, zone: ZoneInfo, names: tuple[str, str]
) -> tuple[int | None, int | None]:
    """``from``/``to`` (local ISO dates or date-times) as microseconds, ``to`` exclusive: a
    plain date as ``to`` takes in that whole day. A bad one is a 400 naming it."""
    found: list[int | None] = []
    for name, text, day_after in ((names[0], text_from, False), (names[1], text_to, True)):
        if text is None:
            found.append(None)
            continue
        try:
            moment = parse_local(text, zone)
        except (ValueError, OverflowError):
            raise ValidationFailed.single(
                (name,), "Datetime has wrong format. Use YYYY-MM-DD or YYYY-MM-DDThh:mm:ss."
            ) from None
        if day_after:
            moment += 86_400_000_000 if len(text) == 10 else 1
        found.append(moment)
    return found[0], found[1]


def search(
    conn: Connection, query: JournalQuery, zone: ZoneInfo
) -> tuple[list[JournalEntryOut], int]:
    from_us, to_us = period(query.from_, query.to, zone, ("from", "to"))
    rows, total = repository.search_journal(
        conn,
        {
            "station_id": query.station_id,
            "from_us": from_us,
            "to_us": to_us,
            "after_id": query.after_id,
        },
        limit=query.limit,
        offset=query.offset,
    )
    return [entry_out(row, zone) for row in rows], total


def entry_out(row: Row, zone: ZoneInfo) -> JournalEntryOut:
    return JournalEntryOut(
        id=row["id"],
        station_id=row["station_id"],
        seq=row["seq"],
        kind=row["kind"],
        receipt_id=row["receipt_id"],
        shift_id=row["shift_id"],
        supporting_number=row["supporting_number"],
        document_no=row["document_no"],
        chassis_id=row["chassis_id"],
        issued_at=local_aware(row["issued_at"], zone) or "",
        text=row["text"],
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )


def export_text(entries: Sequence[Row], zone: ZoneInfo) -> Iterator[str]:
    """Entries as a tax inspector reads them: a heading line, then the document's text."""
    for entry in entries:
        yield (
            f"=== {entry['station_id']}/{entry['seq']} {entry['kind']} "
            f"{entry['document_no']} chassis {entry['chassis_id']} hash {entry['hash']} ===\n"
        )
        text = entry["text"]
        yield text if text.endswith("\n") else text + "\n"


def verify(conn: Connection) -> Iterator[str]:
    """Every break in every station's journal: numbering, chain, and the first line where the
    stored text differs from the document drawn again from the stored rows."""
    for station in repository.journal_heads(conn):
        name = f"station {station['id']} ({station['name']}) journal"
        entries = repository.journal_of_station(conn, station["id"])
        head = GENESIS_HASH
        for expected, entry in enumerate(entries, start=1):
            label = f"{name} {entry['seq']} ({entry['kind']} {entry['document_no']})"
            if entry["seq"] != expected:
                yield f"{label}: expected number {expected} (a gap or a reordering)"
            if entry["prev_hash"] != head:
                yield f"{label}: does not follow the previous entry (chain broken)"
            if chain_hash(entry["prev_hash"], hash_content(entry)) != entry["hash"]:
                yield f"{label}: content does not match its hash (altered)"
            if difference := _first_difference(conn, entry):
                yield f"{label}: {difference}"
            head = entry["hash"]
        if station["journal_head"] != head:
            yield f"{name}: the last entry is not the journal head (entries removed?)"
        if station["journal_seq"] != len(entries):
            yield f"{name}: {station['journal_seq']} numbers issued, {len(entries)} entries kept"


def _first_difference(conn: Connection, entry: Row) -> str | None:
    try:
        drawn = draw(conn, entry, json.loads(entry["render"]))
    except (NotFound, Conflict, KeyError, ValueError) as exc:
        return f"cannot be drawn again from the stored data ({type(exc).__name__})"
    kept, again = entry["text"].splitlines(), drawn.splitlines()
    for number, (old, new) in enumerate(zip(kept, again, strict=False), start=1):
        if old != new:
            return f"line {number} differs: journal {old!r}, stored data prints {new!r}"
    if len(kept) != len(again):
        return f"the journal has {len(kept)} lines, the stored data prints {len(again)}"
    return None
