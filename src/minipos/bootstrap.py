"""The composition root: settings, the database, every area's services, routes and workers
become one ASGI application here, and only here (docs/architecture.md)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import swagger_ui_bundle
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

import minipos
from minipos.api import errors, openapi
from minipos.api.jsonio import HTTPProblem, JSONResponse, encode
from minipos.api.routing import Handler, IndexedRouter, Operation, build_routes
from minipos.api.security import authenticate
from minipos.appcontext import AppContext, context
from minipos.auth.principal import Principal, Role
from minipos.auth.service import KeyCache, load_pepper
from minipos.catalogue import routes as catalogue_routes
from minipos.checkout import routes as checkout_routes
from minipos.config import ConfigError, Settings
from minipos.db import Connection, Database, DatabaseUnavailable, open_database
from minipos.db import migrate as migrations
from minipos.db.database import check_available, one_line
from minipos.domain.fiscal import FISCAL_CORE_VERSION
from minipos.employees import routes as employee_routes
from minipos.ereceipts import routes as messages_routes
from minipos.ereceipts.worker import start_message_worker
from minipos.events import repository as event_repository
from minipos.events import routes as event_routes
from minipos.idempotency import repository as idempotency_repository
from minipos.idempotency.service import Idempotency
from minipos.invoices import lifecycle as invoice_lifecycle
from minipos.invoices import routes as invoice_routes
from minipos.invoices.service import ShopConfig
from minipos.keys import routes as key_routes
from minipos.notifier import Notifier
from minipos.observability.metrics import Metrics
from minipos.observability.middleware import RequestObserver
from minipos.observability.queues import QueueStat, SyncLink, queue_stats, sync_link
from minipos.office import routes as office_routes
from minipos.print_jobs import routes as print_job_routes
from minipos.print_jobs.journal import JournalledZReport, journal_context
from minipos.print_jobs.settings import PrintSettings
from minipos.print_jobs.worker import start_print_worker
from minipos.receipts import routes as receipt_routes
from minipos.reports import routes as report_routes
from minipos.stations import routes as station_routes
from minipos.stations.service import StationContext
from minipos.stores import routes as store_routes
from minipos.sync import identity, outbox
from minipos.sync import routes as sync_routes
from minipos.sync.apply import first_pulled, stored_reference
from minipos.sync.client import start_sync_worker, trim_outbox
from minipos.sync.pull import Puller
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
#: How often a store drops acknowledged outbox items past retention.
OUTBOX_TRIM_SECONDS = 3600


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
        *store_routes.router.operations,
        *sync_routes.router.operations,
        *report_routes.router.operations,
        *key_routes.router.operations,
        *employee_routes.router.operations,
    ]


def app_from_env() -> Starlette:
    """Factory for ``uvicorn --factory`` and for each worker process."""
    app = create_app(Settings.from_env())
    _tune_gc()
    return app


#: CPython's cycle collector runs a young collection every 700 allocations, and a full one,
#: which walks every object the process holds, every 100 young ones: under load those pauses
#: are the tail of the latency (POST p99 at 16 connections 43-50 ms with the defaults, 19-20
#: ms with these; bench/README.md). A request's objects are freed by reference counting, not
#: by the collector, so collecting less often keeps little more memory.
GC_THRESHOLDS = (10_000, 10, 10)


def _tune_gc() -> None:
    """A server process's collector settings (tests' processes keep CPython's defaults)."""
    gc.freeze()  # what start-up built (modules, routes, schemas) is never walked again
    gc.set_threshold(*GC_THRESHOLDS)


class StartError(Exception):
    """The server cannot start: the message names the cause and the fix, on one line."""


def check_start(settings: Settings) -> None:
    """What ``minipos serve`` checks before it starts uvicorn: a server that cannot run says
    why in one line, where a failure inside uvicorn's lifespan prints a traceback."""
    try:
        _area_settings(settings)
        PrintSettings.from_env()
        check_available(settings.database_url)
    except (ConfigError, DatabaseUnavailable, ValueError) as exc:
        raise StartError(str(exc)) from None
    if settings.auto_migrate:
        migrations.upgrade(settings.database_url)
    else:
        at, needed = migrations.current(settings.database_url), migrations.head()
        if at != needed:
            raise StartError(
                f"the database schema is at {at or 'no revision'}, this version needs "
                f"{needed}, and MINIPOS_AUTO_MIGRATE=false: back the database up, run "
                "`minipos db upgrade`, then start again"
            )
    db = open_database(settings.database_url)
    try:
        db.run(functools.partial(_claim_mode, mode=settings.mode))
    finally:
        db.close()


def _sync_starters(ctx: AppContext) -> dict[str, Callable[[], asyncio.Task[None]]]:
    """A store's sync worker (woken by commits, which write its outbox rows) and the outbox
    retention; nothing in the other modes."""
    if ctx.settings.mode != "store":
        return {}
    # The reference data last pulled from the centre, so the store sells offline after a
    # restart (read once at start-up; a pull that changes it puts the new one in use).
    if (reference := ctx.db.run(stored_reference)) is not None:
        ctx.invoices.use_reference(reference)
    puller = Puller(ctx.db, ctx.settings, ctx.invoices, ctx.feed)
    trim = functools.partial(trim_outbox, ctx.db, ctx.settings.sync_retention_days)
    return {
        "sync worker": lambda: start_sync_worker(ctx.db, ctx.settings, puller, ctx.event_log),
        "outbox retention": functools.partial(
            _every, "outbox retention", OUTBOX_TRIM_SECONDS, trim
        ),
    }


async def _open(settings: Settings) -> Database:
    """The server's database, claimed for this process and checked for its mode."""
    db = open_database(
        settings.database_url,
        pool_size=settings.pg_pool_size,
        exclusive=True,
        events=settings.events,
    )
    if settings.mode == "store":
        # Before the first write: SQLite's writer connection takes the hook when it starts.
        db.on_change = outbox.record
    try:
        await db.write(functools.partial(_claim_mode, mode=settings.mode))
    except BaseException:
        db.close()
        raise
    return db


async def _tasks_not_ready(settings: Settings, request: Request) -> list[str]:
    """Background tasks that ended; and a store before its first pull, which has no catalogue
    and no reference data of its own yet."""
    workers: dict[str, asyncio.Task[None]] = request.app.state.workers
    reasons = [f"{name} stopped" for name, task in workers.items() if task.done()]
    if settings.mode == "store" and not await context(request).db.read(first_pulled):
        reasons.insert(0, "waiting for the first sync from the centre")
    return reasons


def _claim_mode(conn: Connection, mode: str) -> None:
    """The database remembers its mode; a start in another one is refused (sync.identity)."""
    try:
        identity.claim(conn, mode, now_us())
    except identity.ModeRefused as exc:
        raise StartError(str(exc)) from None


def _area_settings(settings: Settings) -> tuple[WebhookSettings, bytes, ShopConfig]:
    """The settings the areas read beside ``Settings``, each checked (a ConfigError names it)."""
    webhooks = WebhookSettings.from_env()
    webhooks.check_retention(settings.event_retention_days)
    PrintSettings.from_env().check_fiscal()  # the lv profile's seller identity (docs/fiscal.md)
    try:
        pepper = load_pepper(settings.secret_key, settings.secret_file)
    except OSError as exc:
        raise ConfigError(
            f"MINIPOS_SECRET_FILE: cannot read or create {settings.secret_file}: {exc.strerror}"
        ) from exc
    invoices = ShopConfig(
        reference=settings.reference(),
        zone=settings.zone(),
        station_group=settings.station_group,
        cash_rounding=settings.cash_rounding_step(),
    )
    return webhooks, pepper, invoices


def create_app(settings: Settings) -> Starlette:
    ops = operations()
    spec = encode(openapi.build(ops, title="MiniPOS API", version=minipos.__version__))
    metrics = Metrics(store=settings.mode == "store")
    schema_head = migrations.head()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Every setting is checked before the database is opened: a bad one stops start-up
        # with its message and leaves nothing half-started.
        webhooks, pepper, invoices = _area_settings(settings)
        db = await _open(settings)
        ctx = AppContext(
            settings=settings,
            db=db,
            pepper=pepper,
            keys=KeyCache(settings.auth_cache_seconds),
            idempotency=Idempotency(settings.idempotency_ttl_hours * 3_600_000_000, db),
            invoices=invoices,
            stations=StationContext(
                invoices,
                pepper,
                settings.lease_seconds * 1_000_000,
                # a closed shift's Z is queued for printing and written to the journal
                JournalledZReport(journal_context(PrintSettings.from_env(), invoices)),
            ),
            feed=Notifier(),
            event_log=Notifier(),
            webhooks=webhooks,
            webhook_changes=Notifier(),
        )
        loop = asyncio.get_running_loop()
        db.on_commit = functools.partial(loop.call_soon_threadsafe, ctx.event_log.notify)
        db.on_group_commit = metrics.observe_commit
        app.state.ctx = ctx
        # Every background task by name: /ready reports any that ended.
        chores: dict[str, asyncio.Task[None]] = {}
        app.state.workers = chores

        async def expire_leases() -> None:
            metrics.lease_expiries.inc(await _expire_leases(ctx))

        try:
            starters: dict[str, Callable[[], asyncio.Task[None]]] = {
                name: functools.partial(_every, name, seconds, job)
                for name, seconds, job in (
                    (
                        "idempotency sweep",
                        PURGE_INTERVAL_SECONDS,
                        functools.partial(_sweep_idempotency, ctx),
                    ),
                    ("lease expiry", LEASE_CHECK_SECONDS, expire_leases),
                    (
                        "event log retention",
                        PURGE_INTERVAL_SECONDS,
                        functools.partial(_trim_event_log, ctx),
                    ),
                )
            } | {
                "print worker": lambda: start_print_worker(db, ctx.print_context(), ctx.printing),
                "webhook sender": lambda: start_webhook_sender(
                    db, invoices.zone, webhooks, ctx.event_log, ctx.webhook_changes
                ),
                "e-receipt worker": lambda: start_message_worker(
                    db, ctx.print_context(), ctx.printing
                ),
            }
            starters |= _sync_starters(ctx)
            for name, start in starters.items():  # one by one: a failing start stops the rest
                chores[name] = start()
            log.info("MiniPOS %s serving %s", minipos.__version__, db.dialect)
            yield
        finally:
            for chore in chores.values():
                chore.cancel()
            await asyncio.gather(*chores.values(), return_exceptions=True)
            db.close()

    async def openapi_json(request: Request) -> Response:
        return JSONResponse(spec)

    async def ready(request: Request) -> Response:
        """Ready for traffic: the database answers at the schema this code needs, and every
        background task runs. 503 lists what is not."""
        reasons = []
        try:
            at = await context(request).db.read(_schema_revision)
        except Exception as exc:  # whatever the driver raises, the answer is "not ready"
            reasons.append(f"database unreachable: {one_line(exc)}")
        else:
            if at != schema_head:
                reasons.append(
                    f"database schema at {at or 'no revision'}, this version needs "
                    f"{schema_head}: run `minipos db upgrade`"
                )
        reasons.extend(await _tasks_not_ready(settings, request))
        if reasons:
            return JSONResponse({"status": "not ready", "reasons": reasons}, status_code=503)
        return JSONResponse({"status": "ready"})

    async def metrics_page(request: Request) -> Response:
        if not settings.metrics_public:
            principal = await authenticate(request)
            if principal.role is not Role.ADMIN:
                raise HTTPProblem(403, "You do not have permission to perform this action.")
        stats, link = await context(request).db.read(
            functools.partial(_scrape, now=now_us(), store=settings.mode == "store")
        )
        return Response(metrics.render(stats, link), media_type=CONTENT_TYPE_LATEST)

    routes = [
        # The API first: Starlette tries routes in order, and these take nearly all traffic.
        *build_routes(
            ops, authenticate, unknown_fields=settings.unknown_fields, wrap_post=_idempotent
        ),
        Route("/health", health, methods=["GET"]),
        Route("/ready", ready, methods=["GET"]),
        Route("/metrics", metrics_page, methods=["GET"]),
        Route("/openapi.json", openapi_json, methods=["GET"]),
        Route("/docs", docs, methods=["GET"]),
        Mount("/docs/static", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path)),
        Route("/", lambda request: RedirectResponse("/docs"), methods=["GET"]),
        Route("/pos", lambda request: RedirectResponse("/pos/"), methods=["GET"]),
        Mount("/pos", StaticFiles(packages=[("minipos.web", "static")], html=True)),
        Route("/favicon.ico", StaticFiles(packages=[("minipos.web", "static")])),
        *office_routes.routes(),  # /office/: the back office's sign-in and pages
    ]
    app = Starlette(
        exception_handlers=errors.HANDLERS,
        middleware=[Middleware(RequestObserver, metrics=metrics, access_log=settings.access_log)],
    )
    # Starlette takes no router of another kind: this one, given before the first request
    # builds the middleware stack, is the one it serves with.
    app.router = IndexedRouter(routes, lifespan=lifespan)
    return app


async def health(request: Request) -> Response:
    """Liveness: the process answers. Needs no key; readiness is /ready."""
    return JSONResponse(
        {"status": "ok", "version": minipos.__version__, "fiscal_core": FISCAL_CORE_VERSION}
    )


def _scrape(conn: Connection, now: int, store: bool) -> tuple[list[QueueStat], SyncLink | None]:
    """What /metrics reads at scrape time: the queues, and a store's link to its centre."""
    return queue_stats(conn, now_us=now), sync_link(conn, now) if store else None


def _schema_revision(conn: Connection) -> str | None:
    row = conn.fetchone("SELECT version_num FROM alembic_version")
    return None if row is None else str(row["version_num"])


async def docs(request: Request) -> Response:
    return HTMLResponse(_DOCS_PAGE)


def _every(name: str, seconds: float, chore: Callable[[], Awaitable[None]]) -> asyncio.Task[None]:
    """Run a housekeeping chore forever; a failure is logged and retried next time."""

    async def loop() -> None:
        while True:
            try:
                await chore()
            except Exception:
                log.exception("%s failed; will retry", name)
            await asyncio.sleep(seconds)

    return asyncio.create_task(loop())


def _idempotent(handler: Handler) -> Handler:
    """Any POST may carry ``Idempotency-Key`` (decisions §8): each goes through the one
    ``Idempotency.serve``, which without the header just calls the handler."""

    def serve(request: Request, principal: Principal) -> Awaitable[Response]:
        return context(request).idempotency.serve(request, principal, handler)

    return serve


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


async def _expire_leases(ctx: AppContext) -> int:
    expired = await ctx.db.write(
        lambda conn: invoice_lifecycle.expire_leases(conn, ctx.invoices, now_us())
    )
    if expired:
        log.info("%d invoice claims expired; back to New", expired)
        ctx.feed.notify()
    return expired


_DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>MiniPOS API</title>
<link rel="stylesheet" href="/docs/static/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script>
SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", persistAuthorization: true});
</script>
</body></html>"""
