"""``/api/events``: the event log as a paged list and as a server-sent event stream."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from minipos.api import jsonio
from minipos.api.draining import DRAINING
from minipos.api.jsonio import encode
from minipos.api.paging import paged_response
from minipos.api.routing import Router
from minipos.appcontext import AppContext, context
from minipos.auth.access import ADMIN_OR_INTEGRATOR
from minipos.auth.principal import Principal
from minipos.domain.errors import ValidationFailed
from minipos.events import repository, service
from minipos.events.schemas import EventOut, EventQuery, StreamQuery

router = Router("Events")

#: Events one stream read takes; a reader far behind catches up in steps of this.
STREAM_BATCH = 500
#: A comment line this often keeps proxies from closing a quiet stream.
KEEPALIVE_SECONDS = 15.0
#: What an ``EventSource`` waits before reconnecting (with ``Last-Event-ID``) after a drop.
RETRY_MS = 2000


@router.endpoint(
    "GET",
    "/api/events",
    summary="The event log after a cursor, in commit order",
    roles=ADMIN_OR_INTEGRATOR,
    query=EventQuery,
    response=list[EventOut],
    description=(
        "Every change worth telling, in the order it committed, kept for "
        "`MINIPOS_EVENT_RETENTION_DAYS` (30). An event is listed as soon as its change has "
        "committed: right after a write, its event is here. "
        "Read on with `after` = the last `id` you have "
        '(the `Link: rel="next"` header says so when the page is full). No `X-Total-Count`: '
        "counting a growing log would make each page cost more than the last."
    ),
)
async def list_events(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    query = jsonio.query(request, EventQuery)
    types = service.wanted(query.type)
    zone = ctx.invoices.zone
    items = await ctx.db.read(
        lambda conn: service.after(conn, query.after, types, query.limit, zone)
    )
    return paged_response(request, items, None, query.limit, cursor="after")


@router.endpoint(
    "GET",
    "/api/events/stream",
    summary="The event log as server-sent events, resumable with Last-Event-ID",
    roles=ADMIN_OR_INTEGRATOR,
    query=StreamQuery,
    media_types=("text/event-stream",),
    description=(
        "Each event is sent as `id: <id>`, `event: <type>`, `data: <the event JSON>`. Without "
        "`after` or `Last-Event-ID` the stream starts with the next new event."
    ),
)
async def stream_events(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    query = jsonio.query(request, StreamQuery)
    types = service.wanted(query.type)
    cursor = query.after
    if cursor is None:
        cursor = _last_event_id(request.headers.get("last-event-id"))
    if cursor is None:
        cursor = await ctx.db.read(repository.last_id)
    return StreamingResponse(
        _stream(ctx, cursor, types),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _last_event_id(header: str | None) -> int | None:
    if header is None or header == "":
        return None
    if not header.isdigit() or len(header) > 18:
        raise ValidationFailed.single(("Last-Event-ID",), "A valid integer is required.")
    return int(header)


async def _stream(
    ctx: AppContext, cursor: int, types: frozenset[str] | None
) -> AsyncIterator[bytes]:
    zone = ctx.invoices.zone
    loop = asyncio.get_running_loop()
    yield f"retry: {RETRY_MS}\n\n".encode()
    quiet_since = loop.time()
    while True:
        batch = await ctx.db.read(
            functools.partial(
                service.after, cursor=cursor, types=types, limit=STREAM_BATCH, zone=zone
            )
        )
        for event in batch:
            yield b"id: %d\nevent: %s\ndata: %s\n\n" % (
                event.id,
                event.type.encode(),
                encode(event),
            )
            cursor = event.id
        if len(batch) == STREAM_BATCH:
            continue
        if DRAINING.is_set():
            return  # the server is shutting down: the client reconnects with Last-Event-ID
        if batch:
            quiet_since = loop.time()
        elif loop.time() - quiet_since >= KEEPALIVE_SECONDS:
            yield b": keep-alive\n\n"
            quiet_since = loop.time()
        # Woken at once by a commit with events in this process; re-checks each second for
        # other processes sharing a PostgreSQL database.
        await ctx.event_log.wait(1.0)
