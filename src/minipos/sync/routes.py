"""Sync endpoints every role's server answers: ``/api/sync/status``."""

from __future__ import annotations

import functools

from starlette.requests import Request
from starlette.responses import Response

from minipos.api.jsonio import JSONResponse
from minipos.api.routing import Router
from minipos.appcontext import context
from minipos.auth.access import ADMIN_OR_STATION
from minipos.auth.principal import Principal, Role
from minipos.domain.errors import Forbidden
from minipos.sync import status
from minipos.timeutil import now_us

router = Router("Sync")


@router.endpoint(
    "GET",
    "/api/sync/status",
    summary="How this server's sync with the chain stands",
    roles=ADMIN_OR_STATION,
    response=status.SyncStatus,
    description=(
        "`mode` says which answer this is. A store (`MINIPOS_MODE=store`): its last contact "
        "with the centre, the last error, the estimated clock skew, `offline` (no successful "
        "contact in 15 s), the outbox items not yet sent and quarantined, per lane (a "
        "station's `pos_id`, or `-` for invoices); a station key gets the same (the cashier "
        'screen shows "offline — N not yet sent"). The centre (admin only): each store\'s '
        "last contact, skew, items received and unresolved conflicts. A standalone server: "
        '`{"mode": "standalone"}`.'
    ),
)
async def sync_status(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    settings = ctx.settings
    if settings.mode == "central" and principal.role is not Role.ADMIN:
        raise Forbidden("Only an admin sees the stores' sync status.")
    answer = await ctx.db.read(
        functools.partial(
            status.status,
            mode=settings.mode,
            centre=settings.central_url,
            zone=ctx.invoices.zone,
            now_us=now_us(),
        )
    )
    return JSONResponse(answer)
