"""Station endpoints: the registry (``/api/stations…``), shifts and ``/api/shifts``. The
station's invoice endpoints live in ``invoices.routes``, its sales in ``checkout.routes``."""

from __future__ import annotations

from collections.abc import Callable

from msgspec import Struct
from starlette.requests import Request
from starlette.responses import Response

from minipos.api import jsonio
from minipos.api.jsonio import JSONResponse, encode
from minipos.api.paging import paged_response
from minipos.api.routing import Router
from minipos.appcontext import AppContext, context
from minipos.auth.access import (
    ADMIN_ONLY,
    ADMIN_OR_STATION,
    ANY_ROLE,
    STATION_ONLY,
    acting_station,
    confine,
    sees_station,
)
from minipos.auth.principal import Principal
from minipos.db import Connection
from minipos.domain.errors import Conflict, NotFound
from minipos.domain.shift import CashKind
from minipos.stations import service
from minipos.stations.schemas import (
    CashierIn,
    CashMoveIn,
    ShiftCloseIn,
    ShiftDetail,
    ShiftOpenIn,
    ShiftOut,
    ShiftQuery,
    ShiftWithReport,
    StationCreated,
    StationIn,
    StationKey,
    StationOut,
    StationPatch,
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
    if ctx.settings.mode == "central":
        # Its station rows are copies of the stores', made by the first item naming them.
        raise Conflict("The centre has no tills; stations belong to stores.")
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
    "PATCH",
    "/api/stations/{station_id}",
    summary="Rename a station, change its group, disable or enable it",
    roles=ADMIN_ONLY,
    body=StationPatch,
    response=StationOut,
)
async def update_station(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    _not_at_centre(ctx)
    station_id: int = request.path_params["station_id"]
    data = jsonio.decode(await _body(request, ctx), StationPatch)
    updated = await ctx.db.write(
        lambda conn: service.update(conn, station_id, data, ctx.stations, now_us())
    )
    return JSONResponse(encode(updated))


@router.endpoint(
    "POST",
    "/api/stations/{station_id}/key",
    summary="Rotate a station's key: a new one, shown once; the old ones revoked",
    roles=ADMIN_ONLY,
    response=StationKey,
    status=201,
)
async def rotate_key(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    _not_at_centre(ctx)
    station_id: int = request.path_params["station_id"]
    created = await ctx.db.write(
        lambda conn: service.new_key(conn, station_id, ctx.stations, now_us())
    )
    for revoked in created.revoked:
        ctx.keys.forget(revoked)
    return JSONResponse(encode(created), status_code=201)


def _not_at_centre(ctx: AppContext) -> None:
    if ctx.settings.mode == "central":
        raise Conflict("The centre's stations are copies of the stores'; change them at the store.")


@router.endpoint(
    "POST",
    "/api/stations/{station_id}/shift/open",
    summary="Open a shift (with the drawer's opening float)",
    roles=ADMIN_OR_STATION,
    body=ShiftOpenIn,
    response=ShiftOut,
)
async def open_shift(request: Request, principal: Principal) -> Response:
    return await _shift_change(request, principal, service.open_shift, ShiftOpenIn)


@router.endpoint(
    "POST",
    "/api/stations/{station_id}/shift/cash-in",
    summary="Cash put in the drawer, with its reason; answers with the X figures",
    roles=ADMIN_OR_STATION,
    body=CashMoveIn,
    response=ShiftWithReport,
)
async def cash_in(request: Request, principal: Principal) -> Response:
    return await _move_cash(request, principal, CashKind.IN)


@router.endpoint(
    "POST",
    "/api/stations/{station_id}/shift/cash-out",
    summary="Cash taken out of the drawer, with its reason; answers with the X figures",
    roles=ADMIN_OR_STATION,
    body=CashMoveIn,
    response=ShiftWithReport,
)
async def cash_out(request: Request, principal: Principal) -> Response:
    return await _move_cash(request, principal, CashKind.OUT)


async def _move_cash(request: Request, principal: Principal, kind: CashKind) -> Response:
    ctx = context(request)
    station_id = acting_station(request, principal)
    data = jsonio.decode(await _body(request, ctx), CashMoveIn)
    result = await ctx.db.write(
        lambda conn: service.move_cash(
            conn, station_id, kind=kind, data=data, ctx=ctx.stations, now_us=now_us()
        )
    )
    return JSONResponse(encode(result))


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
        encode(
            await ctx.db.read(
                lambda conn: service.x_report(conn, station_id, ctx.stations, now_us())
            )
        )
    )


@router.endpoint(
    "POST",
    "/api/stations/{station_id}/shift/close",
    summary="Close the shift: the Z-report (with the counted cash)",
    roles=ADMIN_OR_STATION,
    body=ShiftCloseIn,
    response=ShiftWithReport,
)
async def close_shift(request: Request, principal: Principal) -> Response:
    return await _shift_change(request, principal, service.close_shift, ShiftCloseIn)


async def _shift_change(
    request: Request,
    principal: Principal,
    change: Callable[[Connection, int, CashierIn, StationContext, int], Struct],
    body: type[CashierIn],
) -> Response:
    """Open or close a shift: the cashier (and the drawer's figure) from an optional body,
    one write."""
    ctx = context(request)
    station_id = acting_station(request, principal)
    cashier = jsonio.decode(await _body(request, ctx) or b"{}", body)
    result = await ctx.db.write(
        lambda conn: change(conn, station_id, cashier, ctx.stations, now_us())
    )
    return JSONResponse(encode(result))


@router.endpoint(
    "GET",
    "/api/shifts",
    summary="Shifts (Z-reports), filtered by station, Z number, period, open or closed",
    roles=ANY_ROLE,
    query=ShiftQuery,
    response=list[ShiftOut],
)
async def list_shifts(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    query = confine(jsonio.query(request, ShiftQuery), principal)
    items, total = await ctx.db.read(lambda conn: service.search_shifts(conn, query, ctx.stations))
    return paged_response(request, items, total, query.limit)


@router.endpoint(
    "GET",
    "/api/shifts/{id}",
    summary="One shift with its Z-report (closed: as frozen at close) or X figures (open)",
    roles=ANY_ROLE,
    response=ShiftDetail,
)
async def get_shift(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    shift_id: int = request.path_params["id"]
    found = await ctx.db.read(lambda conn: service.shift_detail(conn, shift_id, ctx.stations))
    if not sees_station(principal, found.station):
        raise NotFound()  # another station's shift: as if it did not exist
    return JSONResponse(encode(found))
