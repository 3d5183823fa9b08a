"""``/api/invoice/new``, ``/api/invoices``, ``/api/invoice/{id}``, and the lifecycle a station
drives: its waiting invoices (``/api/stations/{station_id}/feed``), claim, release, cancel."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response

from minipos.api import jsonio
from minipos.api.draining import DRAINING
from minipos.api.jsonio import JSONResponse, decode, encode, read_body, require_json
from minipos.api.paging import paged_response
from minipos.api.routing import Router
from minipos.appcontext import context
from minipos.auth.access import (
    ADMIN_OR_INTEGRATOR,
    ADMIN_OR_STATION,
    ANY_ROLE,
    acting_station,
    own_station,
    posted_by,
)
from minipos.auth.principal import Principal
from minipos.domain.errors import ValidationFailed
from minipos.idempotency.service import StoredResponse, describe
from minipos.invoices import lifecycle, service
from minipos.invoices.schemas import InvoiceDetail, InvoiceIn, InvoiceQuery, InvoiceSummary
from minipos.stations.schemas import WaitingQuery
from minipos.timeutil import now_us

router = Router("Invoices")
#: The station protocol's invoice endpoints, grouped with the other station ones in the spec.
station_router = Router("Stations")


_TRUE = frozenset({"1", "true", "yes"})
_BOOLEAN = _TRUE | {"", "0", "false", "no"}


@router.endpoint(
    "POST",
    "/api/invoice/new",
    summary="Create a sales, refund or non-fiscal slip invoice (or only validate it)",
    roles=ADMIN_OR_INTEGRATOR,
    body=InvoiceIn,
    response=InvoiceDetail,
    extra_query={
        "validateonly": (
            {"type": "string", "enum": ["0", "1", "true", "false"]},
            "1: check and price the invoice, store nothing; the answer has id null.",
        ),
        "store": (
            {"type": "string"},
            "At a chain's centre, with a key bound to no store: the code of the store the"
            " invoice is for (docs/stores.md).",
        ),
    },
    description="Money may be sent as JSON numbers or strings. `total_sum` is the amount due.",
)
async def create_invoice(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    flag = request.query_params.get("validateonly", "").lower()
    if flag not in _BOOLEAN:
        raise ValidationFailed.single(("validateonly",), "Must be a valid boolean.")
    require_json(request)
    body = await read_body(request, ctx.settings.max_body_bytes)
    invoice = service.prepare(
        decode(body, InvoiceIn), ctx.invoices, now_us(), created_by=principal.api_key_id
    )
    central = ctx.settings.mode == "central"
    code = request.query_params.get("store")
    if central or code is not None:  # standalone's hot path asks nothing more
        invoice.store_id = await ctx.db.read(
            lambda conn: service.target_store(
                conn, code=code, bound_store=principal.store_id, central=central
            )
        )
    if flag in _TRUE:
        return JSONResponse(
            encode(service.detail(invoice.header, invoice.rows, invoice.payments, ctx.invoices))
        )
    # With Idempotency-Key, the canonical digest prepare() made for invoice_no re-posts is what
    # a replay must match: no second encoding of the body.
    describe(invoice.header["request_hash"].encode)
    # The answer made in the transaction is kept there with the key (minipos.idempotency).
    stored = await ctx.db.write(
        lambda conn: StoredResponse(200, encode(service.create(conn, invoice, ctx.invoices)))
    )
    ctx.feed.notify()  # wake stations long-polling their feed (a centre has none)
    return JSONResponse(stored.body, status_code=stored.status_code)


@router.endpoint(
    "GET",
    "/api/invoices",
    summary="List invoices (summary shape), oldest first",
    roles=ANY_ROLE,
    query=InvoiceQuery,
    response=list[InvoiceSummary],
)
async def list_invoices(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    query = jsonio.query(request, InvoiceQuery)
    items, total = await ctx.db.read(
        lambda conn: service.search(conn, query, ctx.invoices, own_station(principal))
    )
    return paged_response(request, items, total, query.limit)


@router.endpoint(
    "GET",
    "/api/invoice/{id}",
    summary="One invoice with its rows, payments and receipts",
    roles=ANY_ROLE,
    response=InvoiceDetail,
)
async def get_invoice(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    invoice_id: int = request.path_params["id"]
    found = await ctx.db.read(
        lambda conn: service.get(conn, invoice_id, ctx.invoices, own_station(principal)),
        quick=True,
    )
    return JSONResponse(encode(found))


@station_router.endpoint(
    "GET",
    "/api/stations/{station_id}/feed",
    summary="Invoices this station may take or holds, oldest first; long-poll: ?wait=",
    roles=ADMIN_OR_STATION,
    query=WaitingQuery,
    response=list[InvoiceDetail],
)
async def station_feed(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    station_id = acting_station(request, principal)
    query = jsonio.query(request, WaitingQuery)
    clock = asyncio.get_running_loop().time
    deadline = clock() + query.wait
    while True:
        items = await ctx.db.read(
            lambda conn: lifecycle.waiting_for(
                conn, station_id, ctx.invoices, now_us(), query.limit
            )
        )
        remaining = deadline - clock()
        # The answer is due, or the server is shutting down, or nobody waits for it any more
        # (a closed screen must not keep a read a second going, nor hold a shutdown).
        if items or remaining <= 0 or DRAINING.is_set() or await request.is_disconnected():
            return JSONResponse(encode(items))
        # Woken at once by a new invoice in this process; re-checks each second for others.
        await ctx.feed.wait(min(remaining, 1.0))


@station_router.endpoint(
    "POST",
    "/api/invoice/{id}/claim",
    summary="Open (claim) an invoice at a station; renews the lease if it already holds it",
    roles=ADMIN_OR_STATION,
    response=InvoiceDetail,
)
async def claim_invoice(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    station_id = acting_station(request, principal)
    invoice_id: int = request.path_params["id"]
    found = await ctx.db.write(
        lambda conn: lifecycle.claim(
            conn, station_id, invoice_id, ctx.invoices, now_us(), lease_us=ctx.stations.lease_us
        )
    )
    return JSONResponse(encode(found))


@station_router.endpoint(
    "POST",
    "/api/invoice/{id}/release",
    summary="Give a claimed invoice back (status New)",
    roles=ADMIN_OR_STATION,
    response=InvoiceDetail,
)
async def release_invoice(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    station_id = acting_station(request, principal)
    invoice_id: int = request.path_params["id"]
    found = await ctx.db.write(
        lambda conn: lifecycle.release(conn, station_id, invoice_id, ctx.invoices, now_us())
    )
    ctx.feed.notify()  # it waits for a station again
    return JSONResponse(encode(found))


@station_router.endpoint(
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
        lambda conn: lifecycle.cancel(
            conn,
            station_id,
            invoice_id,
            ctx.invoices,
            now_us(),
            posted_by=posted_by(principal),
        )
    )
    return JSONResponse(encode(found))
