"""``/api/employees`` (admins) and an employee's PIN sign-in at a station (the station)."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response

from minipos.api import jsonio
from minipos.api.jsonio import HTTPProblem, JSONResponse, encode
from minipos.api.routing import Router
from minipos.appcontext import AppContext, context
from minipos.auth.access import ADMIN_ONLY, ADMIN_OR_STATION, acting_station
from minipos.auth.principal import Principal
from minipos.employees import service
from minipos.employees.schemas import (
    EmployeeIn,
    EmployeeOut,
    EmployeePatch,
    SignInIn,
    StationEmployee,
)
from minipos.timeutil import now_us

router = Router("Employees")


async def _body(request: Request, ctx: AppContext) -> bytes:
    jsonio.require_json(request)
    return await jsonio.read_body(request, ctx.settings.max_body_bytes)


@router.endpoint(
    "GET",
    "/api/employees",
    summary="Employees (never their PINs)",
    roles=ADMIN_ONLY,
    response=list[EmployeeOut],
)
async def list_employees(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    zone = ctx.invoices.zone
    return JSONResponse(encode(await ctx.db.read(lambda conn: service.list_all(conn, zone))))


@router.endpoint(
    "POST",
    "/api/employees",
    summary="Add an employee: name, role (cashier or manager), a 4-8 digit PIN",
    roles=ADMIN_ONLY,
    body=EmployeeIn,
    response=EmployeeOut,
    status=201,
)
async def add_employee(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    data = jsonio.decode(await _body(request, ctx), EmployeeIn)
    pin_hash = await asyncio.to_thread(service.hash_pin, data.pin)
    zone = ctx.invoices.zone
    created = await ctx.db.write(lambda conn: service.create(conn, data, pin_hash, zone, now_us()))
    return JSONResponse(encode(created), status_code=201)


@router.endpoint(
    "PATCH",
    "/api/employees/{id}",
    summary="Change an employee's name, role, code or PIN, or disable them",
    roles=ADMIN_ONLY,
    body=EmployeePatch,
    response=EmployeeOut,
)
async def change_employee(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    employee_id: int = request.path_params["id"]
    data = jsonio.decode(await _body(request, ctx), EmployeePatch)
    pin_hash = None if data.pin is None else await asyncio.to_thread(service.hash_pin, data.pin)
    zone = ctx.invoices.zone
    changed = await ctx.db.write(
        lambda conn: service.update(
            conn, employee_id, data, pin_hash=pin_hash, zone=zone, now_us=now_us()
        )
    )
    return JSONResponse(encode(changed))


@router.endpoint(
    "GET",
    "/api/stations/{station_id}/employee",
    summary="The employee signed in at the station, and whether the shop has employees",
    roles=ADMIN_OR_STATION,
    response=StationEmployee,
)
async def station_employee(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    station_id = acting_station(request, principal)
    return JSONResponse(
        encode(await ctx.db.read(lambda conn: service.at_station(conn, station_id)))
    )


@router.endpoint(
    "POST",
    "/api/stations/{station_id}/employee/sign-in",
    summary="An employee signs in at the station with a PIN (wrong PINs: 403, then 429)",
    roles=ADMIN_OR_STATION,
    body=SignInIn,
    response=StationEmployee,
)
async def sign_in(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    station_id = acting_station(request, principal)
    data = jsonio.decode(await _body(request, ctx), SignInIn)
    outcome = await service.sign_in(ctx.db, station_id, data, now_us())
    if isinstance(outcome, service.WrongPin):
        if outcome.retry_after_s:
            raise HTTPProblem(
                429,
                "Too many wrong PINs at this station; wait before trying again.",
                {"Retry-After": str(outcome.retry_after_s)},
            )
        raise HTTPProblem(403, "Wrong employee or PIN.")
    return JSONResponse(encode(outcome))


@router.endpoint(
    "POST",
    "/api/stations/{station_id}/employee/sign-out",
    summary="Sign the station's employee out",
    roles=ADMIN_OR_STATION,
    response=StationEmployee,
)
async def sign_out(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    station_id = acting_station(request, principal)
    return JSONResponse(encode(await ctx.db.write(lambda conn: service.sign_out(conn, station_id))))
