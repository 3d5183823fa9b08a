"""Checkout endpoints: ``POST /api/invoice/{id}/complete`` and the walk-in
``POST /api/stations/{station_id}/receipts``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from minipos.api import jsonio
from minipos.api.jsonio import JSONResponse, encode
from minipos.api.routing import Router
from minipos.appcontext import context
from minipos.auth.access import ADMIN_OR_STATION, acting_station
from minipos.auth.principal import Principal
from minipos.checkout import service
from minipos.checkout.schemas import CompleteIn, SaleIn
from minipos.invoices.schemas import InvoiceDetail
from minipos.receipts.schemas import ReceiptOut
from minipos.timeutil import now_us

#: Part of the station protocol in the spec, as the cashier sees it.
router = Router("Stations")


@router.endpoint(
    "POST",
    "/api/invoice/{id}/complete",
    summary="Payment taken: fiscal receipt, invoice Done, printing queued",
    roles=ADMIN_OR_STATION,
    body=CompleteIn,
    response=InvoiceDetail,
)
async def complete_invoice(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    station_id = acting_station(request, principal)
    invoice_id: int = request.path_params["id"]
    jsonio.require_json(request)
    data = jsonio.decode(await jsonio.read_body(request, ctx.settings.max_body_bytes), CompleteIn)
    done = await ctx.db.write(
        lambda conn: service.complete(
            conn,
            station_id=station_id,
            invoice_id=invoice_id,
            request=data,
            ctx=ctx.invoices,
            now_us=now_us(),
            journal=ctx.journal_context(),
        )
    )
    return JSONResponse(encode(done))


@router.endpoint(
    "POST",
    "/api/stations/{station_id}/receipts",
    summary="A walk-in sale or refund: rows by barcode, product code or free text (at a station"
    " in training mode, a non-fiscal training document: docs/fiscal.md)",
    roles=ADMIN_OR_STATION,
    body=SaleIn,
    # A union of untagged structs has no schema; the training answer is in docs/fiscal.md.
    response=ReceiptOut,
    status=201,
)
async def sell(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    station_id = acting_station(request, principal)
    jsonio.require_json(request)
    data = jsonio.decode(await jsonio.read_body(request, ctx.settings.max_body_bytes), SaleIn)
    receipt = await ctx.db.write(
        lambda conn: service.sell(
            conn,
            station_id=station_id,
            request=data,
            ctx=ctx.invoices,
            now_us=now_us(),
            journal=ctx.journal_context(),
        )
    )
    return JSONResponse(encode(receipt), status_code=201)
