"""The ASGI application: routes from every area, error handlers, OpenAPI and its docs page."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator

import swagger_ui_bundle
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

import minipos
from minipos.api import errors, openapi
from minipos.api.context import AppContext, context
from minipos.api.jsonio import JSONResponse, encode
from minipos.api.routing import Operation, build_routes
from minipos.api.security import authenticate
from minipos.auth.service import KeyCache, load_pepper
from minipos.config import Settings
from minipos.db import open_database
from minipos.idempotency import repository as idempotency_repository
from minipos.idempotency.service import Idempotency
from minipos.invoices import routes as invoice_routes
from minipos.invoices.service import InvoiceContext
from minipos.timeutil import now_us

log = logging.getLogger("minipos")

#: How often expired idempotency records are swept.
PURGE_INTERVAL_SECONDS = 3600


def operations() -> list[Operation]:
    return [*invoice_routes.router.operations]


def app_from_env() -> Starlette:
    """Factory for ``uvicorn --factory`` and for each worker process."""
    return create_app(Settings.from_env())


def create_app(settings: Settings) -> Starlette:
    ops = operations()
    spec = encode(openapi.build(ops, title="MiniPOS API", version=minipos.__version__))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        db = open_database(settings.database_url, pool_size=settings.pg_pool_size, exclusive=True)
        ctx = AppContext(
            settings=settings,
            db=db,
            pepper=load_pepper(settings.secret_key, settings.secret_file),
            keys=KeyCache(settings.auth_cache_seconds),
            idempotency=Idempotency(settings.idempotency_ttl_hours * 3_600_000_000),
            invoices=InvoiceContext(
                reference=settings.reference(),
                zone=settings.zone(),
                station_group=settings.station_group,
            ),
        )
        app.state.ctx = ctx
        sweeper = asyncio.create_task(_sweep_idempotency(ctx))
        try:
            yield
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            db.close()

    async def openapi_json(request: Request) -> Response:
        return JSONResponse(spec)

    routes = [
        Route("/health", health, methods=["GET"]),
        Route("/openapi.json", openapi_json, methods=["GET"]),
        Route("/docs", docs, methods=["GET"]),
        Mount("/docs/static", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path)),
        Route("/", lambda request: RedirectResponse("/docs"), methods=["GET"]),
        *build_routes(ops, authenticate),
    ]
    return Starlette(routes=routes, lifespan=lifespan, exception_handlers=errors.HANDLERS)


async def health(request: Request) -> Response:
    """Liveness and database reachability; needs no key (for load balancers and monitors)."""
    ctx = context(request)
    await ctx.db.read(lambda conn: conn.fetchone("SELECT 1 AS ok"))
    return JSONResponse({"status": "ok", "version": minipos.__version__})


async def docs(request: Request) -> Response:
    return HTMLResponse(_DOCS_PAGE)


async def _sweep_idempotency(ctx: AppContext) -> None:
    while True:
        try:
            removed = await ctx.db.write(
                functools.partial(
                    idempotency_repository.purge, older_than=now_us() - ctx.idempotency.ttl_us
                )
            )
            if removed:
                log.info("removed %d expired idempotency records", removed)
        except Exception:
            log.exception("idempotency sweep failed; will retry")
        await asyncio.sleep(PURGE_INTERVAL_SECONDS)


_DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>MiniPOS API</title>
<link rel="stylesheet" href="/docs/static/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script>
SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", persistAuthorization: true});
</script>
</body></html>"""
