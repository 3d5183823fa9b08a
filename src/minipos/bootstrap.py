"""The composition root: settings, the database, every area's services, routes and workers
become one ASGI application here, and only here (docs/architecture.md)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import swagger_ui_bundle
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

import minipos
from minipos.api import errors, openapi
from minipos.api.jsonio import JSONResponse, encode
from minipos.api.routing import Operation, build_routes
from minipos.api.security import authenticate
from minipos.appcontext import AppContext, context
from minipos.auth.service import KeyCache, load_pepper
from minipos.catalogue import routes as catalogue_routes
from minipos.checkout import routes as checkout_routes
from minipos.config import Settings
from minipos.db import open_database
from minipos.ereceipts import routes as messages_routes
from minipos.ereceipts.worker import start_message_worker
from minipos.events import repository as event_repository
from minipos.events import routes as event_routes
from minipos.idempotency import repository as idempotency_repository
from minipos.idempotency.service import Idempotency
from minipos.invoices import lifecycle as invoice_lifecycle
from minipos.invoices import routes as invoice_routes
from minipos.invoices.service import ShopConfig
from minipos.notifier import Notifier
from minipos.print_jobs import routes as print_job_routes
from minipos.print_jobs.service import enqueue_z_report
from minipos.print_jobs.worker import start_print_worker
from minipos.receipts import routes as receipt_routes
from minipos.stations import routes as station_routes
from minipos.stations.service import StationContext
from minipos.timeutil import now_us
from minipos.webhooks import repository as webhook_repository
from minipos.webhooks import routes as webhook_routes
from minipos.webhooks.settings import WebhookSettings
from minipos.webhooks.worker import start_webhook_sender

log = logging.getLogger("minipos")

#: How often expired idempotency records are swept.
PURGE_INTERVAL_SECONDS = 3600
#: Events one retention transaction removes.
EVENT_PURGE_BATCH = 5000
#: How often expired invoice claims are put back to New.
LEASE_CHECK_SECONDS = 5


def operations() -> list[Operation]:
    return [
        *invoice_routes.router.operations,
        *catalogue_routes.router.operations,
        *catalogue_routes.reference_router.operations,
        *station_routes.router.operations,
        *invoice_routes.station_router.operations,
        *checkout_routes.router.operations,
        *receipt_routes.router.operations,
        *print_job_routes.router.operations,
        *event_routes.router.operations,
        *webhook_routes.router.operations,
        *messages_routes.router.operations,
    ]


def app_from_env() -> Starlette:
    """Factory for ``uvicorn --factory`` and for each worker process."""
    return create_app(Settings.from_env())


def create_app(settings: Settings) -> Starlette:
    ops = operations()
    spec = encode(openapi.build(ops, title="MiniPOS API", version=minipos.__version__))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Every setting is checked before the database is opened: a bad one stops start-up
        # with its message and leaves nothing half-started.
        webhooks = WebhookSettings.from_env()
        webhooks.check_retention(settings.event_retention_days)
        pepper = load_pepper(settings.secret_key, settings.secret_file)
        invoices = ShopConfig(
            reference=settings.reference(),
            zone=settings.zone(),
            station_group=settings.station_group,
        )
        db = open_database(
            settings.database_url,
            pool_size=settings.pg_pool_size,
            exclusive=True,
            events=settings.events,
        )
        ctx = AppContext(
            settings=settings,
            db=db,
            pepper=pepper,
            keys=KeyCache(settings.auth_cache_seconds),
            idempotency=Idempotency(settings.idempotency_ttl_hours * 3_600_000_000),
            invoices=invoices,
            stations=StationContext(
                invoices, pepper, settings.lease_seconds * 1_000_000, enqueue_z_report
            ),
            feed=Notifier(),
            event_log=Notifier(),
            webhooks=webhooks,
            webhook_changes=Notifier(),
        )
        loop = asyncio.get_running_loop()
        db.on_commit = functools.partial(loop.call_soon_threadsafe, ctx.event_log.notify)
        app.state.ctx = ctx
        chores: list[asyncio.Task[None]] = []
        try:
            starters: list[Callable[[], asyncio.Task[None]]] = [
                lambda: asyncio.create_task(
                    _every(PURGE_INTERVAL_SECONDS, _sweep_idempotency, ctx)
                ),
                lambda: asyncio.create_task(_every(LEASE_CHECK_SECONDS, _expire_leases, ctx)),
                lambda: asyncio.create_task(_every(PURGE_INTERVAL_SECONDS, _trim_event_log, ctx)),
                lambda: start_print_worker(db, ctx.print_context(), ctx.printing),
                lambda: start_webhook_sender(
                    db, invoices.zone, webhooks, ctx.event_log, ctx.webhook_changes
                ),
                lambda: start_message_worker(db, ctx.print_context(), ctx.printing),
            ]
            for start in starters:  # one by one: a failing start stops those already running
                chores.append(start())
            yield
        finally:
            for chore in chores:
                chore.cancel()
            await asyncio.gather(*chores, return_exceptions=True)
            db.close()

    async def openapi_json(request: Request) -> Response:
        return JSONResponse(spec)

    routes = [
        Route("/health", health, methods=["GET"]),
        Route("/openapi.json", openapi_json, methods=["GET"]),
        Route("/docs", docs, methods=["GET"]),
        Mount("/docs/static", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path)),
        Route("/", lambda request: RedirectResponse("/docs"), methods=["GET"]),
        Route("/pos", lambda request: RedirectResponse("/pos/"), methods=["GET"]),
        Mount("/pos", StaticFiles(packages=[("minipos.web", "static")], html=True)),
        Route("/favicon.ico", StaticFiles(packages=[("minipos.web", "static")])),
        *build_routes(ops, authenticate, unknown_fields=settings.unknown_fields),
    ]
    return Starlette(routes=routes, lifespan=lifespan, exception_handlers=errors.HANDLERS)


async def health(request: Request) -> Response:
    """Liveness and database reachability; needs no key (for load balancers and monitors)."""
    ctx = context(request)
    await ctx.db.read(lambda conn: conn.fetchone("SELECT 1 AS ok"))
    return JSONResponse({"status": "ok", "version": minipos.__version__})


async def docs(request: Request) -> Response:
    return HTMLResponse(_DOCS_PAGE)


async def _every(
    seconds: float, chore: Callable[[AppContext], Awaitable[None]], ctx: AppContext
) -> None:
    """Run a housekeeping chore forever; a failure is logged and retried next time."""
    while True:
        try:
            await chore(ctx)
        except Exception:
            log.exception("%s failed; will retry", chore.__name__)
        await asyncio.sleep(seconds)


async def _sweep_idempotency(ctx: AppContext) -> None:
    cutoff = now_us() - ctx.idempotency.ttl_us
    removed = await ctx.db.write(functools.partial(idempotency_repository.purge, older_than=cutoff))
    if removed:
        log.info("removed %d expired idempotency records", removed)


async def _trim_event_log(ctx: AppContext) -> None:
    """Drop events and finished webhook deliveries past retention, a batch per transaction so
    writers are never held long."""
    cutoff = now_us() - ctx.settings.event_retention_days * 86_400_000_000
    for purge, what in (
        (event_repository.purge, "events"),
        (webhook_repository.purge_deliveries, "webhook deliveries"),
    ):
        removed = 0
        while count := await ctx.db.write(
            functools.partial(purge, older_than_us=cutoff, batch=EVENT_PURGE_BATCH)
        ):
            removed += count
        if removed:
            log.info("removed %d %s past retention", removed, what)


async def _expire_leases(ctx: AppContext) -> None:
    expired = await ctx.db.write(
        lambda conn: invoice_lifecycle.expire_leases(conn, ctx.invoices, now_us())
    )
    if expired:
        log.info("%d invoice claims expired; back to New", expired)
        ctx.feed.notify()


_DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>MiniPOS API</title>
<link rel="stylesheet" href="/docs/static/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script>
SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", persistAuthorization: true});
</script>
</body></html>"""
