"""``/api/invoice/new``, ``/api/invoices``, ``/api/invoice/{id}``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from minipos.api import jsonio
from minipos.api.context import context
from minipos.api.jsonio import JSONResponse, decode, encode, read_body, require_json
from minipos.api.paging import paged_response
from minipos.api.routing import Router
from minipos.auth.access import ADMIN_OR_INTEGRATOR, ANY_ROLE, own_station
from minipos.auth.service import Principal
from minipos.domain.errors import ValidationFailed
from minipos.idempotency.service import StoredResponse, fingerprint
from minipos.invoices import service
from minipos.invoices.schemas import InvoiceDetail, InvoiceIn, InvoiceQuery, InvoiceSummary
from minipos.timeutil import now_us

router = Router("Invoices")


_TRUE = frozenset({"1", "true", "yes"})
_FALSE = frozenset({"", "0", "false", "no"})


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
        )
    },
    description="Money may be sent as JSON numbers or strings. `total_sum` is the amount due.",
)
async def create_invoice(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    flag = request.query_params.get("validateonly", "").lower()
    if flag not in _TRUE | _FALSE:
        raise ValidationFailed.single(("validateonly",), "Must be a valid boolean.")
    require_json(request)
    body = await read_body(request, ctx.settings.max_body_bytes)
    invoice = service.prepare(
        decode(body, InvoiceIn), ctx.invoices, now_us(), created_by=principal.api_key_id
    )
    if flag in _TRUE:
        return JSONResponse(
            encode(service.detail(invoice.header, invoice.rows, invoice.payments, ctx.invoices))
        )
    stored = await ctx.idempotency.run(
        ctx.db,
        api_key_id=principal.api_key_id,
        key=request.headers.get("idempotency-key"),
        # The canonical digest prepare() made for invoice_no re-posts: no second encoding.
        fingerprint=fingerprint("POST", request.url.path, invoice.header["request_hash"].encode()),
        now_us=invoice.header["created_at"],
        job=lambda conn: StoredResponse(200, encode(service.create(conn, invoice, ctx.invoices))),
    )
    if not stored.replayed:
        ctx.feed.notify()  # wake stations long-polling their feed
    headers = {"Idempotent-Replayed": "true"} if stored.replayed else None
    return JSONResponse(stored.body, status_code=stored.status_code, headers=headers)


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
        lambda conn: service.get(conn, invoice_id, ctx.invoices, own_station(principal))
    )
    return JSONResponse(encode(found))
