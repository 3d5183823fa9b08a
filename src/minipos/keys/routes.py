"""``/api/keys``: list, create and revoke API keys (admins only)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from minipos.api import jsonio
from minipos.api.jsonio import JSONResponse, encode
from minipos.api.paging import paged_response
from minipos.api.routing import Router
from minipos.appcontext import context
from minipos.auth.access import ADMIN_ONLY
from minipos.auth.principal import Principal
from minipos.keys import service
from minipos.keys.schemas import KeyCreated, KeyIn, KeyOut, KeyQuery
from minipos.timeutil import now_us

router = Router("API keys")


@router.endpoint(
    "GET",
    "/api/keys",
    summary="API keys (never their secrets), filtered by role, station, revoked",
    roles=ADMIN_ONLY,
    query=KeyQuery,
    response=list[KeyOut],
)
async def list_keys(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    query = jsonio.query(request, KeyQuery)
    items, total = await ctx.db.read(lambda conn: service.search(conn, query, ctx.invoices.zone))
    return paged_response(request, items, total, query.limit)


@router.endpoint(
    "POST",
    "/api/keys",
    summary="Create an API key; returns it once",
    roles=ADMIN_ONLY,
    body=KeyIn,
    response=KeyCreated,
    status=201,
)
async def create_key(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    jsonio.require_json(request)
    data = jsonio.decode(await jsonio.read_body(request, ctx.settings.max_body_bytes), KeyIn)
    created = await ctx.db.write(
        lambda conn: service.create(conn, data, ctx.pepper, ctx.invoices.zone, now_us())
    )
    return JSONResponse(encode(created), status_code=201)


@router.endpoint("GET", "/api/keys/{id}", summary="One API key", roles=ADMIN_ONLY, response=KeyOut)
async def get_key(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    row_id: int = request.path_params["id"]
    return JSONResponse(
        encode(await ctx.db.read(lambda conn: service.get(conn, row_id, ctx.invoices.zone)))
    )


@router.endpoint(
    "DELETE",
    "/api/keys/{id}",
    summary="Revoke an API key (refused everywhere within MINIPOS_AUTH_CACHE_SECONDS)",
    roles=ADMIN_ONLY,
    status=204,
)
async def revoke_key(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    row_id: int = request.path_params["id"]
    await ctx.db.write(lambda conn: service.revoke(conn, row_id, now_us()))
    ctx.keys.forget(row_id)
    return Response(status_code=204)
