"""Centre endpoints: ``/api/stores``, ``/api/sync/push``, ``/api/sync/pull``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from minipos.api.jsonio import JSONResponse, decode, encode, read_body, require_json
from minipos.api.routing import Router
from minipos.appcontext import context
from minipos.auth.access import ADMIN_ONLY, STORE_ONLY, own_store
from minipos.auth.principal import Principal
from minipos.stores import pull, service
from minipos.stores.schemas import StoreCreated, StoreIn, StoreOut
from minipos.sync.wire import (
    MAX_PUSH_BYTES,
    PullRequest,
    PullResponse,
    PushRequest,
    PushResponse,
)
from minipos.timeutil import now_us

router = Router("Stores")


# --- the registry and the up path: a store's push (docs/stores.md) ------------------------


@router.endpoint(
    "POST",
    "/api/stores",
    summary="Register a store (centre only); returns its store key once",
    roles=ADMIN_ONLY,
    body=StoreIn,
    response=StoreCreated,
    status=201,
    description="The key (role `store`) is the store's `MINIPOS_CENTRAL_KEY`; it is shown once.",
)
async def add_store(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    service.require_centre(ctx.settings.mode)
    require_json(request)
    data = decode(await read_body(request, ctx.settings.max_body_bytes), StoreIn)
    zone = ctx.settings.zone()
    created = await ctx.db.write(lambda conn: service.add(conn, data, ctx.pepper, zone, now_us()))
    return JSONResponse(encode(created), status_code=201)


@router.endpoint(
    "GET",
    "/api/stores",
    summary="The stores (centre only), each with its sync status",
    roles=ADMIN_ONLY,
    response=list[StoreOut],
)
async def list_stores(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    service.require_centre(ctx.settings.mode)
    zone = ctx.settings.zone()
    return JSONResponse(encode(await ctx.db.read(lambda conn: service.list_all(conn, zone))))


@router.endpoint(
    "POST",
    "/api/sync/push",
    summary="A store pushes its outbox items (centre only); one result per item, in order",
    roles=STORE_ONLY,
    body=PushRequest,
    response=PushResponse,
    description=(
        "One transaction per push. Item statuses: 201 stored, 200 the same item again (its"
        " stored `common_id`), 409 other content under a stored key (the centre keeps its"
        " original), 425 out of order (nothing stored), 422 malformed or a wrong hash."
        f" Bodies up to {MAX_PUSH_BYTES} bytes (`MINIPOS_MAX_BODY_BYTES` does not apply)."
    ),
)
async def sync_push(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    store_id = own_store(principal)
    service.require_centre(ctx.settings.mode)
    require_json(request)
    # Its own limit: a batch of receipts is larger than any other request body.
    pushed = decode(await read_body(request, MAX_PUSH_BYTES), PushRequest)
    answer = await ctx.db.write(
        lambda conn: service.push(
            conn, store_id, pushed, shop=ctx.invoices, stations=ctx.stations, now_us=now_us()
        )
    )
    return JSONResponse(encode(answer))


# --- the down path: a store's pull (docs/stores.md, "Down") -----------------------------------


@router.endpoint(
    "POST",
    "/api/sync/pull",
    summary="A store pulls the catalogue, reference data and the invoices posted for it",
    roles=STORE_ONLY,
    body=PullRequest,
    response=PullResponse,
    description=(
        "A POST: the first pull that serves a centre-posted invoice marks it delivered (from"
        " then on only the store may cancel it). `more: true`: a page was full, pull again."
    ),
)
async def sync_pull(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    store_id = own_store(principal)
    require_json(request)
    cursors = decode(await read_body(request, ctx.settings.max_body_bytes), PullRequest)
    shop = ctx.invoices
    page = await ctx.db.write(
        lambda conn: pull.serve(
            conn,
            store_id,
            cursors,
            reference=shop.reference,
            station_group=shop.station_group,
            now_us=now_us(),
        )
    )
    return JSONResponse(encode(page))
