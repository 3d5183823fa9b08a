"""``GET /api/reports/sales``: the sales report as JSON or as CSV (docs/reports.md)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from minipos.api import jsonio
from minipos.api.jsonio import JSONResponse, encode
from minipos.api.routing import Router
from minipos.appcontext import context
from minipos.auth.access import ADMIN_OR_INTEGRATOR
from minipos.auth.principal import Principal
from minipos.reports import service
from minipos.reports.schemas import SalesQuery, SalesReport
from minipos.reports.service import ReportContext
from minipos.timeutil import now_us

router = Router("Reports")


@router.endpoint(
    "GET",
    "/api/reports/sales",
    summary="Sales totals per day, hour, station, store, employee, payment method, tax group,"
    " product or category (JSON, or CSV for spreadsheets)",
    roles=ADMIN_OR_INTEGRATOR,
    query=SalesQuery,
    response=SalesReport,
    media_types=("text/csv",),
)
async def sales_report(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    query = jsonio.query(request, SalesQuery)
    report_ctx = ReportContext(
        zone=ctx.invoices.zone,
        reference=ctx.invoices.reference,
        cash_methods=frozenset(ctx.stations.cash_methods),
    )
    report = await ctx.db.read(lambda conn: service.sales(conn, query, report_ctx, now_us()))
    wants_csv = "format" not in request.query_params and "text/csv" in request.headers.get(
        "accept", ""
    )
    if query.format == "csv" or wants_csv:
        name = f"sales-{query.group_by}-{report.from_[:10]}-{report.to[:10]}.csv"
        return Response(
            service.as_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return JSONResponse(encode(report))
