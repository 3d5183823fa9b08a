"""``GET /api/receipts`` and ``GET /api/receipts/{id}``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from minipos.api import jsonio
from minipos.api.jsonio import JSONResponse, encode
from minipos.api.paging import paged_response
from minipos.api.routing import Router
from minipos.appcontext import context
from minipos.auth.access import ANY_ROLE, confine, sees_station
from minipos.auth.principal import Principal
from minipos.domain.errors import NotFound
from minipos.receipts import service
from minipos.receipts.schemas import ReceiptOut, ReceiptQuery

router = Router("Receipts")


@router.endpoint(
    "GET",
    "/api/receipts",
    summary="Fiscal receipts, filtered by POS, station, Z number, document number, period,"
    " employee, amount or payment method",
    roles=ANY_ROLE,
    query=ReceiptQuery,
    response=list[ReceiptOut],
)
async def list_receipts(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    query = confine(jsonio.query(request, ReceiptQuery), principal)
    items, total = await ctx.db.read(lambda conn: service.search(conn, query, ctx.invoices.zone))
    return paged_response(request, items, total, query.limit)


@router.endpoint(
    "GET",
    "/api/receipts/{id}",
    summary="One fiscal receipt with its rows and payments",
    roles=ANY_ROLE,
    response=ReceiptOut,
)
async def get_receipt(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    receipt_id: int = request.path_params["id"]
    found = await ctx.db.read(lambda conn: service.get(conn, receipt_id, ctx.invoices.zone))
    if not sees_station(principal, found.station):
        raise NotFound()  # another station's receipt: as if it did not exist
    return JSONResponse(encode(found))
