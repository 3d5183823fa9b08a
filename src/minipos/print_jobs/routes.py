"""Printing endpoints: a station's printer and its status, the print queue, reprints, previews."""

from __future__ import annotations

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response

from minipos.api import jsonio
from minipos.api.jsonio import HTTPProblem, JSONResponse, encode
from minipos.api.paging import paged_response
from minipos.api.routing import Router
from minipos.appcontext import AppContext, context
from minipos.auth.access import (
    ADMIN_ONLY,
    ADMIN_OR_STATION,
    ANY_ROLE,
    acting_station,
    confine,
    own_station,
)
from minipos.auth.principal import Principal
from minipos.domain.fiscal import FiscalProfile
from minipos.print_jobs import previews, printers, service
from minipos.print_jobs.journal import issue_supporting_document, retry_lv
from minipos.print_jobs.journal import search as journal_search
from minipos.print_jobs.schemas import (
    JournalEntryOut,
    JournalQuery,
    PreviewQuery,
    PrinterIn,
    PrinterOut,
    PrinterStatusOut,
    PrintJobOut,
    PrintJobQuery,
)
from minipos.printing import pool
from minipos.printing.preview import RenderTimeout, TooLarge
from minipos.timeutil import now_us

router = Router("Printing")

PREVIEW_TYPES = ("text/plain", "image/png")
_PREVIEW_DESCRIPTION = (
    "The same layout the printer gets, for the station's printer profile (the default 42-column "
    "profile without a printer). `format=txt`: `text/plain; charset=utf-8`, one printed line "
    "per line; `format=png`: `image/png`, one pixel per printer dot, barcodes and QR codes "
    "drawn scannable. A document too large to draw answers 400 naming the limit; a busy "
    "renderer answers 503 with `Retry-After`."
)


# --- the station's printer ----------------------------------------------------------------------


@router.endpoint(
    "PUT",
    "/api/stations/{station_id}/printer",
    summary="Configure the station's printer (replaces the whole configuration)",
    roles=ADMIN_ONLY,
    body=PrinterIn,
    response=PrinterOut,
    description="`kind`: `network` (raw TCP, `address` host[:port], port 9100 by default), "
    "`file` (an absolute path or device), `usb` (`vendor:product` in hex), `serial` (a device "
    "or pyserial URL with `?baudrate=`…), `none` (nothing is printed; jobs are marked printed). "
    "The station's waiting jobs are tried again at once.",
)
async def put_printer(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    station_id: int = request.path_params["station_id"]
    jsonio.require_json(request)
    data = jsonio.decode(await jsonio.read_body(request, ctx.settings.max_body_bytes), PrinterIn)
    out = await ctx.db.write(
        lambda conn: printers.configure(conn, station_id, data, ctx.invoices.zone, now_us())
    )
    return JSONResponse(encode(out))


@router.endpoint(
    "GET",
    "/api/stations/{station_id}/printer",
    summary="The station's printer configuration (404 when it has none)",
    roles=ADMIN_OR_STATION,
    response=PrinterOut,
)
async def get_printer(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    station_id = acting_station(request, principal)
    out = await ctx.db.read(lambda conn: printers.describe(conn, station_id, ctx.invoices.zone))
    return JSONResponse(encode(out))


@router.endpoint(
    "GET",
    "/api/stations/{station_id}/printer/status",
    summary="Read the printer's status now (DLE EOT), and the station's waiting jobs",
    roles=ADMIN_OR_STATION,
    response=PrinterStatusOut,
    description="Always 200 for a configured printer: an unreachable one has `reachable: "
    "false`, `online: false` and the reason in `detail`. A status the transport cannot read "
    "(files) is null. Takes up to the connect timeout plus four status timeouts.",
)
async def printer_status(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    station_id = acting_station(request, principal)
    printer, counts = await ctx.db.read(lambda conn: printers.with_queue(conn, station_id))
    reading = await anyio.to_thread.run_sync(printers.read_status, printer)
    out = printers.status_out(printer, reading, counts, ctx.invoices.zone, now_us())
    return JSONResponse(encode(out))


# --- the queue ----------------------------------------------------------------------------------


@router.endpoint(
    "GET",
    "/api/print-jobs",
    summary="Print jobs, oldest first; a station sees its own",
    roles=ADMIN_OR_STATION,
    query=PrintJobQuery,
    response=list[PrintJobOut],
)
async def list_print_jobs(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    query = confine(jsonio.query(request, PrintJobQuery), principal)
    items, total = await ctx.db.read(lambda conn: service.search(conn, query, ctx.invoices.zone))
    return paged_response(request, items, total, query.limit)


@router.endpoint(
    "GET",
    "/api/print-jobs/{id}",
    summary="One print job",
    roles=ADMIN_OR_STATION,
    response=PrintJobOut,
)
async def get_print_job(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    job_id: int = request.path_params["id"]
    own = own_station(principal)
    job = await ctx.db.read(
        lambda conn: service.job_out(service.get_job(conn, job_id, own), ctx.invoices.zone)
    )
    return JSONResponse(encode(job))


@router.endpoint(
    "POST",
    "/api/print-jobs/{id}/retry",
    summary="Print a job again: a queued or failed job now; a printed one as a new copy job",
    roles=ADMIN_OR_STATION,
    response=PrintJobOut,
    description="Queued or failed: the same job, due now. A failed job that may have reached "
    "the paper (`may_have_printed`) comes back with `is_copy: true`, so the receipt is never "
    "printed twice as an original. Printed: a new job (another `id`) printing a copy; in the "
    "lv profile a printed receipt's copy is its next supporting document, as with "
    "`/api/receipts/{id}/reprint` (409 past the limit). Sending: 409.",
)
async def retry_print_job(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    job_id: int = request.path_params["id"]
    own = own_station(principal)
    zone = ctx.invoices.zone
    if ctx.printing.fiscal_profile is FiscalProfile.LV:
        journal = ctx.journal_context()
        job, _ = await ctx.db.write(
            lambda conn: retry_lv(conn, journal, job_id, station_id=own, now_us=now_us())
        )
    else:
        job, _ = await ctx.db.write(lambda conn: service.retry(conn, job_id, own, zone, now_us()))
    return JSONResponse(encode(job))


@router.endpoint(
    "POST",
    "/api/receipts/{id}/reprint",
    summary="Print a copy of a receipt: a supporting document in the lv profile, a KOPIJA copy "
    "in the generic one",
    roles=ADMIN_OR_STATION,
    response=PrintJobOut,
    status=201,
    description="Queues a new print job with `is_copy: true`. Works whether or not the original "
    "was printed (also for `print_paper_receipt: false`). A copy never opens the drawer. "
    "`MINIPOS_FISCAL_PROFILE=lv` (the default): the job prints the receipt's next supporting "
    "document (attaisnojuma dokuments, `supporting_number`), journaled with it; past "
    "`MINIPOS_SUPPORTING_DOCUMENT_LIMIT` per receipt the answer is 409 (docs/fiscal.md). "
    "`generic`: a `KOPIJA` copy, as often as asked.",
)
async def reprint_receipt(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    receipt_id: int = request.path_params["id"]
    own = own_station(principal)
    zone = ctx.invoices.zone
    if ctx.printing.fiscal_profile is FiscalProfile.LV:
        journal = ctx.journal_context()
        job = await ctx.db.write(
            lambda conn: issue_supporting_document(
                conn, journal, receipt_id, station_id=own, now_us=now_us()
            )
        )
    else:
        job = await ctx.db.write(
            lambda conn: service.reprint_receipt(conn, receipt_id, own, zone, now_us())
        )
    return JSONResponse(encode(job), status_code=201)


# --- the electronic journal ---------------------------------------------------------------------


@router.endpoint(
    "GET",
    "/api/journal",
    summary="The electronic journal (control tape): the text of every printed fiscal document",
    roles=ADMIN_ONLY,
    query=JournalQuery,
    response=list[JournalEntryOut],
    description="Receipts, refunds, Z-reports and supporting documents as they were printed, "
    "oldest first, each with its station's journal number (`seq`), chassis number and hash "
    "chain (`prev_hash`, `hash`). `from` and `to`: a local date or date-time (`to` as a date "
    "includes that day). `minipos journal export` writes the same as plain text.",
)
async def list_journal(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    query = jsonio.query(request, JournalQuery)
    zone = ctx.invoices.zone
    items, total = await ctx.db.read(lambda conn: journal_search(conn, query, zone))
    return paged_response(request, items, total, query.limit)


# --- previews -----------------------------------------------------------------------------------


@router.endpoint(
    "GET",
    "/api/receipts/{id}/preview",
    summary="A receipt as it prints: text or PNG",
    roles=ANY_ROLE,
    query=PreviewQuery,
    media_types=PREVIEW_TYPES,
    description=_PREVIEW_DESCRIPTION,
)
async def preview_receipt(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    receipt_id: int = request.path_params["id"]
    query = jsonio.query(request, PreviewQuery)
    own, print_context = own_station(principal), ctx.print_context()
    printout = await ctx.db.read(
        lambda conn: previews.receipt_printout(conn, receipt_id, own, print_context)
    )
    return await _preview(ctx, query, printout)


@router.endpoint(
    "GET",
    "/api/invoice/{id}/preview",
    summary="What an invoice prints: its receipt(s) once done, and its slip; text or PNG",
    roles=ANY_ROLE,
    query=PreviewQuery,
    media_types=PREVIEW_TYPES,
    description=_PREVIEW_DESCRIPTION
    + " A non-fiscal slip invoice (mode 3) shows its slip whatever its status; a sale shows its "
    "receipt once it is completed, then its `info.slip`. 404 when there is nothing to print yet.",
)
async def preview_invoice(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    invoice_id: int = request.path_params["id"]
    query = jsonio.query(request, PreviewQuery)
    own, print_context = own_station(principal), ctx.print_context()
    printout = await ctx.db.read(
        lambda conn: previews.invoice_printout(conn, invoice_id, own, print_context)
    )
    return await _preview(ctx, query, printout)


async def _preview(ctx: AppContext, query: PreviewQuery, printout: previews.Printout) -> Response:
    try:
        body = await previews.render(printout, query.format, ctx.printing.wording)
    except TooLarge as exc:  # 400, not 413: the published spec lists 400 for reads
        raise HTTPProblem(400, str(exc)) from exc
    except (pool.Busy, RenderTimeout) as exc:
        raise HTTPProblem(503, str(exc), {"Retry-After": str(pool.shared().retry_after)}) from exc
    disposition = f'inline; filename="{printout.name}.{query.format}"'
    return Response(
        body,
        media_type=previews.MEDIA_TYPES[query.format],
        headers={"Content-Disposition": disposition},
    )
