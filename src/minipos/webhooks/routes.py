"""``/api/webhooks``: endpoints that get the event log pushed to them, and their delivery log."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response

from minipos.api import jsonio
from minipos.api.jsonio import JSONResponse, encode
from minipos.api.paging import paged_response
from minipos.api.routing import Router
from minipos.appcontext import context
from minipos.auth.access import ADMIN_ONLY
from minipos.auth.principal import Principal
from minipos.timeutil import now_us
from minipos.webhooks import service
from minipos.webhooks.schemas import (
    DeliveryOut,
    DeliveryQuery,
    WebhookCreated,
    WebhookIn,
    WebhookOut,
    WebhookPatch,
)

router = Router("Webhooks")


@router.endpoint(
    "POST",
    "/api/webhooks",
    summary="Add an endpoint; returns its signing secret once",
    roles=ADMIN_ONLY,
    body=WebhookIn,
    response=WebhookCreated,
    status=201,
    description=(
        "The endpoint gets the events committed from now on. `url` must be http(s) and resolve "
        "to public addresses only, unless `MINIPOS_WEBHOOK_ALLOW_NETWORKS` allows its network."
    ),
)
async def create_webhook(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    jsonio.require_json(request)
    data = jsonio.decode(await jsonio.read_body(request, ctx.settings.max_body_bytes), WebhookIn)
    await asyncio.to_thread(service.check_url, data.url, ctx.webhooks.networks())
    zone = ctx.invoices.zone
    created = await ctx.db.write(lambda conn: service.create(conn, data, zone, now_us()))
    ctx.webhook_changes.notify()
    return JSONResponse(encode(created), status_code=201)


@router.endpoint(
    "GET", "/api/webhooks", summary="List endpoints", roles=ADMIN_ONLY, response=list[WebhookOut]
)
async def list_webhooks(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    found = await ctx.db.read(lambda conn: service.list_all(conn, ctx.invoices.zone))
    return JSONResponse(encode(found))


@router.endpoint(
    "GET", "/api/webhooks/{id}", summary="One endpoint", roles=ADMIN_ONLY, response=WebhookOut
)
async def get_webhook(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    webhook_id: int = request.path_params["id"]
    row = await ctx.db.read(lambda conn: service.get(conn, webhook_id))
    return JSONResponse(encode(service.webhook_out(row, ctx.invoices.zone)))


@router.endpoint(
    "PATCH",
    "/api/webhooks/{id}",
    summary="Change an endpoint: url, events, description; active false pauses it",
    roles=ADMIN_ONLY,
    body=WebhookPatch,
    response=WebhookOut,
    description="A paused endpoint's events wait for it and go out in order when it is resumed.",
)
async def patch_webhook(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    webhook_id: int = request.path_params["id"]
    jsonio.require_json(request)
    body = await jsonio.read_body(request, ctx.settings.max_body_bytes)
    data = jsonio.decode(body, WebhookPatch)
    if isinstance(data.url, str):
        await asyncio.to_thread(service.check_url, data.url, ctx.webhooks.networks())
    zone = ctx.invoices.zone
    found = await ctx.db.write(lambda conn: service.change(conn, webhook_id, data, zone, now_us()))
    ctx.webhook_changes.notify()  # a resumed endpoint starts sending at once
    return JSONResponse(encode(found))


@router.endpoint(
    "DELETE",
    "/api/webhooks/{id}",
    summary="Remove an endpoint and its delivery log",
    roles=ADMIN_ONLY,
    status=204,
)
async def delete_webhook(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    webhook_id: int = request.path_params["id"]
    await ctx.db.write(lambda conn: service.delete(conn, webhook_id))
    return Response(status_code=204)


@router.endpoint(
    "GET",
    "/api/webhooks/{id}/deliveries",
    summary="The endpoint's delivery log: each event sent, its tries, status codes and errors",
    roles=ADMIN_ONLY,
    query=DeliveryQuery,
    response=list[DeliveryOut],
)
async def list_deliveries(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    webhook_id: int = request.path_params["id"]
    query = jsonio.query(request, DeliveryQuery)
    items, total = await ctx.db.read(
        lambda conn: service.deliveries(conn, webhook_id, query, ctx.invoices.zone)
    )
    return paged_response(request, items, total, query.limit)


@router.endpoint(
    "POST",
    "/api/webhooks/{id}/deliveries/{delivery_id}/retry",
    summary="Send a failed delivery again (under the same delivery id)",
    roles=ADMIN_ONLY,
    response=DeliveryOut,
    description="It goes ahead of the endpoint's pending deliveries, so out of event order.",
)
async def retry_delivery(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    webhook_id: int = request.path_params["id"]
    delivery_id: int = request.path_params["delivery_id"]
    found = await ctx.db.write(
        lambda conn: service.redeliver(conn, webhook_id, delivery_id, ctx.invoices.zone, now_us())
    )
    ctx.event_log.notify()
    return JSONResponse(encode(found))
