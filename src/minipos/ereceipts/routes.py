"""E-receipt endpoints: the messages sent to customers, and retrying one."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from minipos.api import jsonio
from minipos.api.jsonio import JSONResponse, encode
from minipos.api.paging import paged_response
from minipos.api.routing import Router
from minipos.appcontext import context
from minipos.auth.access import ADMIN_ONLY, ADMIN_OR_INTEGRATOR
from minipos.auth.principal import Principal
from minipos.ereceipts import service
from minipos.ereceipts.schemas import MessageOut, MessageQuery
from minipos.timeutil import now_us

router = Router("E-receipts")


@router.endpoint(
    "GET",
    "/api/messages",
    summary="Receipts sent to customers by email or SMS, oldest first",
    roles=ADMIN_OR_INTEGRATOR,
    query=MessageQuery,
    response=list[MessageOut],
    description="One message per channel for each receipt whose invoice has "
    "`info.customer.email` (email) or `info.customer.phone` (SMS). `status`: `pending` (waiting "
    "for its first try or a retry at `next_attempt_at`), `sending`, `sent` (the SMTP server or "
    "SMS provider accepted it), `failed` (refused, or given up; `last_error` says why).",
)
async def list_messages(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    query = jsonio.query(request, MessageQuery)
    items, total = await ctx.db.read(lambda conn: service.search(conn, query, ctx.invoices.zone))
    return paged_response(request, items, total, query.limit)


@router.endpoint(
    "GET",
    "/api/messages/{id}",
    summary="One message to a customer",
    roles=ADMIN_OR_INTEGRATOR,
    response=MessageOut,
)
async def get_message(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    message_id: int = request.path_params["id"]
    out = await ctx.db.read(
        lambda conn: service.message_out(service.get(conn, message_id), ctx.invoices.zone)
    )
    return JSONResponse(encode(out))


@router.endpoint(
    "POST",
    "/api/messages/{id}/retry",
    summary="Send a message again: a failed or pending one now; a sent one as a new message",
    roles=ADMIN_ONLY,
    response=MessageOut,
    description="Failed or pending: the same message, due now, retried with backoff for a "
    "fresh give-up period (`attempts` starts from 0). Sent: a new message (another `id`) to the "
    "same recipient, for a customer who lost the first. Sending: 409.",
)
async def retry_message(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    message_id: int = request.path_params["id"]
    out, _ = await ctx.db.write(
        lambda conn: service.retry(conn, message_id, ctx.invoices.zone, now_us())
    )
    return JSONResponse(encode(out))
