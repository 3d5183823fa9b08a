"""``GET /api/receipts``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from minipos.api import jsonio
from minipos.api.paging import paged_response
from minipos.api.routing import Router
from minipos.appcontext import context
from minipos.auth.access import ANY_ROLE, confine
from minipos.auth.principal import Principal
from minipos.receipts import service
from minipos.receipts.schemas import ReceiptOut, ReceiptQuery

router = Router("Receipts")


@router.endpoint(
    "GET",
    "/api/receipts",
    summary="Fiscal receipts, filtered by POS, station, Z number or document number",
    roles=ANY_ROLE,
    query=ReceiptQuery,
    response=list[ReceiptOut],
)
async def list_receipts(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    query = confine(jsonio.query(request, ReceiptQuery), principal)
    items, total = await ctx.db.read(lambda conn: service.search(conn, query, ctx.invoices.zone))
    return paged_response(request, items, total, query.limit)
