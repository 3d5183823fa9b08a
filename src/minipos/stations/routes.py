"""Station endpoints: ``/api/stations…``, the claim protocol on ``/api/invoice/{id}/…`` and
``/api/shifts``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from msgspec import Struct
from starlette.requests import Request
from starlette.responses import Response

from minipos.api import jsonio
from minipos.api.context import AppContext, context
from minipos.api.jsonio import JSONResponse, encode
from minipos.api.paging import paged_response
from minipos.api.routing import Router
from minipos.auth.access import (
    ADMIN_ONLY,
    ADMIN_OR_STATION,
    ANY_ROLE,
    STATION_ONLY,
    acting_station,
    confine,
    own_station,
    posted_by,
)
from minipos.auth.service import Principal
from minipos.db import Connection
from minipos.invoices.schemas import InvoiceDetail
from minipos.receipts.schemas import ReceiptOut
from minipos.stations import service
from minipos.stations.schemas import (
    CashierIn,
    CompleteIn,
    FeedQuery,
    SaleIn,
    ShiftOut,
    ShiftQuery,
    ShiftWithReport,
    StationCreated,
    StationIn,
    StationOut,
)
from minipos.stations.service import StationContext
from minipos.timeutil import now_us

router = Router("Stations")


async def _body(request: Request, ctx: AppContext) -> bytes:
    jsonio.require_json(request)
    return await jsonio.read_body(request, ctx.settings.max_body_bytes)


@router.endpoint(
    "POST",
    "/api/stations",
    summary="Register a station; returns its API key once",
    roles=ADMIN_ONLY,
    body=StationIn,
    response=StationCreated,
    status=201,
)
async def register_station(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    data = jsonio.decode(await _body(request, ctx), StationIn)
    created = await ctx.db.write(lambda conn: service.register(conn, data, ctx.stations, now_us()))
    return JSONResponse(encode(created), status_code=201)


@router.endpoint(
    "GET", "/api/stations", summary="List stations", roles=ADMIN_ONLY, response=list[StationOut]
)
async def list_stations(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    return JSONResponse(
        encode(await ctx.db.read(lambda conn: service.list_all(conn, ctx.stations)))
    )


@router.endpoint(
    "GET",
    "/api/stations/me",
    summary="The station a station key belongs to",
    roles=STATION_ONLY,
    response=StationOut,
)
async def my_station(request: Request, principal: Principal) -> Response:
    return await _describe(request, principal)


@router.endpoint(
    "GET",
    "/api/stations/{station_id}",
    summary="One station",
    roles=ADMIN_OR_STATION,
    response=StationOut,
)
async def get_station(request: Request, principal: Principal) -> Response:
    return await _describe(request, principal)


async def _describe(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    station_id = acting_station(request, principal)
    found = await ctx.db.read(lambda conn: service.describe(conn, station_id, ctx.stations))
    return JSONResponse(encode(found))


@router.endpoint(
    "POST",
    "/api/stations/{station_id}/shift/open",
    summary="Open a shift",
    roles=ADMIN_OR_STATION,
    body=CashierIn,
    response=ShiftOut,
)
async def open_shift(request: Request, principal: Principal) -> Response:
    return await _shift_change(request, principal, service.open_shift)


@router.endpoint(
    "GET",
    "/api/stations/{station_id}/shift/x-report",
    summary="Totals of the open shift (read-only)",
    roles=ADMIN_OR_STATION,
    response=ShiftWithReport,
)
async def x_report(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    station_id = acting_station(request, principal)
    return JSONResponse(
        encode(await ctx.db.read(lambda conn: service.x_report(conn, station_id, ctx.stations)))
    )


@router.endpoint(
    "POST",
    "/api/stations/{station_id}/shift/close",
    summary="Close the shift: the Z-report",
    roles=ADMIN_OR_STATION,
    body=CashierIn,
    response=ShiftWithReport,
)
async def close_shift(request: Request, principal: Principal) -> Response:
    return await _shift_change(request, principal, service.close_shift)


async def _shift_change(
    request: Request,
    principal: Principal,
    change: Callable[[Connection, int, CashierIn, StationContext, int], Struct],
) -> Response:
    """Open or close a shift: the cashier from an optional body, one write."""
    ctx = context(request)
    station_id = acting_station(request, principal)
    cashier = jsonio.decode(await _body(request, ctx) or b"{}", CashierIn)
    result = await ctx.db.write(
        lambda conn: change(conn, station_id, cashier, ctx.stations, now_us())
    )
    return JSONResponse(encode(result))


@router.endpoint(
    "GET",
    "/api/stations/{station_id}/feed",
    summary="Invoices this station may take or holds, oldest first; long-poll: ?wait=",
    roles=ADMIN_OR_STATION,
    query=FeedQuery,
    response=list[InvoiceDetail],
)
async def station_feed(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    station_id = acting_station(request, principal)
    query = jsonio.query(request, FeedQuery)
    clock = asyncio.get_running_loop().time
    deadline = clock() + query.wait
    while True:
        items = await ctx.db.read(
            lambda conn: service.feed(conn, station_id, ctx.stations, now_us(), query.limit)
        )
        remaining = deadline - clock()
        if items or remaining <= 0:
            return JSONResponse(encode(items))
        # Woken at once by a new invoice in this process; re-checks each second for others.
        await ctx.feed.wait(min(remaining, 1.0))


def _claim_route(action: str, summary: str) -> None:
    async def handler(request: Request, principal: Principal) -> Response:
        ctx = context(request)
        station_id = acting_station(request, principal)
        invoice_id: int = request.path_params["id"]
        operation = service.claim if action == "claim" else service.release
        found = await ctx.db.write(
            lambda conn: operation(conn, station_id, invoice_id, ctx.stations, now_us())
        )
        if action == "release":
            ctx.feed.notify()
        return JSONResponse(encode(found))

    handler.__name__ = f"{action}_invoice"
    router.endpoint(
        "POST",
        f"/api/invoice/{{id}}/{action}",
        summary=summary,
        roles=ADMIN_OR_STATION,
        response=InvoiceDetail,
    )(handler)


_claim_route(
    "claim", "Open (claim) an invoice at a station; renews the lease if it already holds it"
)
_claim_route("release", "Give a claimed invoice back (status New)")


@router.endpoint(
    "POST",
    "/api/invoice/{id}/cancel",
    summary="Cancel an invoice (its station, the integrator key that posted it, or an admin)",
    roles=ANY_ROLE,
    response=InvoiceDetail,
)
async def cancel_invoice(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    invoice_id: int = request.path_params["id"]
    station_id = own_station(principal)  # None: the integrator's (or an admin's) cancel
    found = await ctx.db.write(
        lambda conn: service.cancel(
            conn,
            station_id,
            invoice_id,
            ctx.stations,
            now_us(),
            posted_by=posted_by(principal),
        )
    )
    return JSONResponse(encode(found))


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
    data = jsonio.decode(await _body(request, ctx), CompleteIn)
    done = await ctx.db.write(
        lambda conn: service.complete(
            conn,
            station_id=station_id,
            invoice_id=invoice_id,
            request=data,
            ctx=ctx.stations,
            now_us=now_us(),
        )
    )
    return JSONResponse(encode(done))


@router.endpoint(
    "POST",
    "/api/stations/{station_id}/receipts",
    summary="A walk-in sale or refund: rows by barcode, product code or free text",
    roles=ADMIN_OR_STATION,
    body=SaleIn,
    response=ReceiptOut,
    status=201,
)
async def sell(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    station_id = acting_station(request, principal)
    data = jsonio.decode(await _body(request, ctx), SaleIn)
    receipt = await ctx.db.write(
        lambda conn: service.sell(
            conn, station_id=station_id, request=data, ctx=ctx.stations, now_us=now_us()
        )
    )
    return JSONResponse(encode(receipt), status_code=201)


@router.endpoint(
    "GET",
    "/api/shifts",
    summary="Shifts (Z-reports)",
    roles=ANY_ROLE,
    query=ShiftQuery,
    response=list[ShiftOut],
)
async def list_shifts(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    query = confine(jsonio.query(request, ShiftQuery), principal)
    items, total = await ctx.db.read(lambda conn: service.search_shifts(conn, query, ctx.stations))
    return paged_response(request, items, total, query.limit)
