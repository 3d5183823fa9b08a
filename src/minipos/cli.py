"""The ``minipos`` command: run the server, migrate the database, manage API keys."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

import minipos
from minipos.api.protocol import RequestDeadlineProtocol
from minipos.auth.principal import Role
from minipos.auth.service import create_key, load_pepper
from minipos.backup import app as backup_app
from minipos.bootstrap import StartError, check_start
from minipos.catalogue import files as catalogue_files
from minipos.catalogue.service import import_export as catalogue_service
from minipos.clitools import settings_or_exit
from minipos.db import DatabaseUnavailable, open_database
from minipos.db import migrate as migrations
from minipos.domain.fiscal import FISCAL_CORE_VERSION
from minipos.events.cli import app as events_app
from minipos.keys.cli import key_list, key_revoke
from minipos.observability.logs import logging_config
from minipos.office.cli import app as user_app
from minipos.print_jobs import journal
from minipos.print_jobs.cli import app as printer_app
from minipos.print_jobs.cli import journal_app
from minipos.receipts import audit as receipt_audit
from minipos.stations.cli import app as station_app
from minipos.stores import service as store_service
from minipos.stores.cli import app as store_app
from minipos.sync.cli import app as sync_app
from minipos.timeutil import now_us
from minipos.webhooks.cli import app as webhook_app

app = typer.Typer(help="MiniPOS server: invoice middleware and back office.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
key_app = typer.Typer(help="API keys.", no_args_is_help=True)
app.add_typer(db_app, name="db")
catalogue_app = typer.Typer(help="Product catalogue files.", no_args_is_help=True)
app.add_typer(key_app, name="key")
key_app.command("list")(key_list)
key_app.command("revoke")(key_revoke)
app.add_typer(station_app, name="station")
app.add_typer(catalogue_app, name="catalogue")
app.add_typer(printer_app, name="printer")
app.add_typer(journal_app, name="journal")
app.add_typer(events_app, name="events")
app.add_typer(webhook_app, name="webhook")
app.add_typer(store_app, name="store")
app.add_typer(sync_app, name="sync")
app.add_typer(user_app, name="user")
app.add_typer(backup_app)  # no name: `minipos backup` and `minipos restore` are top-level


def _show_version(value: bool) -> None:
    if value:  # the fiscal core is versioned on its own: a certified till freezes it
        typer.echo(f"minipos {minipos.__version__}, fiscal core {FISCAL_CORE_VERSION}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_show_version,
            is_eager=True,
            help="Show the software's and the fiscal core's versions and exit.",
        ),
    ] = False,
) -> None:
    """MiniPOS server: invoice middleware and back office."""


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[
        int, typer.Option(help="Server processes (PostgreSQL only; SQLite takes one).")
    ] = 1,
) -> None:
    """Run the API server (migrating the database first unless MINIPOS_AUTO_MIGRATE=false)."""
    settings = settings_or_exit()
    if workers > 1 and settings.database_url.startswith("sqlite"):
        typer.echo("SQLite is served by one process; use PostgreSQL for --workers > 1", err=True)
        raise typer.Exit(2)
    try:
        check_start(settings)
    except StartError as exc:
        typer.echo(f"cannot start: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"MiniPOS on http://{host}:{port} (docs at /docs)", err=True)
    # uvicorn shuts down gracefully on SIGTERM, then raises the signal again against the
    # handler it found: make that a clean exit 0 (systemd, Docker and operators read it so).
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    uvicorn.run(
        "minipos.bootstrap:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http=RequestDeadlineProtocol,  # httptools, with deadlines for each request's head and body
        timeout_keep_alive=settings.keep_alive_seconds,
        limit_concurrency=settings.max_connections,
        log_config=logging_config(settings.log_format),
        # Ours replaces uvicorn's access line (MINIPOS_ACCESS_LOG): route, latency, request id.
        access_log=False,
        log_level="info",
        # Let in-flight requests (and the writer's last commit) finish on shutdown.
        timeout_graceful_shutdown=10,
    )


@db_app.command("upgrade")
def db_upgrade(revision: str = "heads") -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    settings = settings_or_exit()
    migrations.upgrade(settings.database_url, revision)
    typer.echo(f"database at {migrations.current(settings.database_url)}", err=True)


@db_app.command("current")
def db_current() -> None:
    """Print the schema revision the database is at."""
    typer.echo(migrations.current(settings_or_exit().database_url) or "empty")


@key_app.command("create")
def key_create(
    role: Annotated[Role, typer.Option(help="What the key may do.")],
    station: Annotated[int | None, typer.Option(help="Station id (for --role station).")] = None,
    name: Annotated[str | None, typer.Option(help="A note: who or what uses it.")] = None,
    store: Annotated[
        str | None,
        typer.Option(help="Centre: the store code an integrator key posts for (e.g. RIGA1)."),
    ] = None,
) -> None:
    """Create an API key and print it once (it is stored only as a digest)."""
    settings = settings_or_exit()
    if role is Role.STORE and store is None:
        typer.echo("a store key needs --store (or use `minipos store add`)", err=True)
        raise typer.Exit(2)
    migrations.upgrade(settings.database_url)
    pepper = load_pepper(settings.secret_key, settings.secret_file)
    db = open_database(settings.database_url, pool_size=1)
    try:
        new = db.run(
            lambda conn: create_key(
                conn,
                pepper,
                role,
                station_id=station,
                store_id=None if store is None else store_service.store_id_for_key(conn, store),
                name=name,
                now_us=now_us(),
            )
        )
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    except DatabaseUnavailable as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    finally:
        db.close()
    typer.echo(f"created {role.value} key {new.principal.key_id}; store it now:", err=True)
    sys.stdout.write(new.key + "\n")


@catalogue_app.command("import")
def catalogue_import(
    path: Annotated[Path, typer.Argument(help="A .csv or .json file of products.")],
) -> None:
    """Create or update (by code) every product in PATH, or none: all bad rows are reported
    with their lines."""
    settings = settings_or_exit()
    if settings.mode == "store":  # a store's catalogue is the centre's copy (docs/stores.md)
        typer.echo(
            f"The catalogue is kept at the centre ({settings.central_url}); import it there.",
            err=True,
        )
        raise typer.Exit(2)
    migrations.upgrade(settings.database_url)
    try:
        rows, unit = catalogue_files.read_file(path)
    except catalogue_files.UnreadableFile as exc:
        typer.echo(f"cannot read {path}: {exc}", err=True)
        raise typer.Exit(2) from exc
    db = open_database(settings.database_url, pool_size=1)
    try:
        result = db.run(
            lambda conn: catalogue_service.import_products(
                conn, rows, reference=settings.reference(), now_us=now_us(), unit=unit
            )
        )
    except catalogue_service.ImportFailed as exc:
        for message in exc.messages():
            typer.echo(message, err=True)
        typer.echo(f"{len(exc.lines)} bad {unit}(s); nothing was imported", err=True)
        db.close()
        raise typer.Exit(1) from exc
    if db.dialect == "postgresql":
        # Fresh statistics: until autovacuum gets there, the planner scans whole tables for
        # the sync feed's count and barcode lookups (bench/README.md, catalogue benchmark).
        db.run(lambda conn: conn.execute("ANALYZE products, product_barcodes, product_addons"))
    db.close()
    typer.echo(
        f"imported: {result.created} created, {result.updated} updated,"
        f" {result.unchanged} unchanged",
        err=True,
    )


@catalogue_app.command("export")
def catalogue_export(
    fmt: Annotated[str, typer.Option("--format", help="csv or json")] = "csv",
) -> None:
    """Write every live product to standard output, in the import format."""
    if fmt not in ("csv", "json"):
        typer.echo("--format is csv or json", err=True)
        raise typer.Exit(2)
    settings = settings_or_exit()
    db = open_database(settings.database_url, pool_size=1)
    try:
        if fmt == "csv":
            count = db.run(
                lambda conn: catalogue_files.write_csv(
                    catalogue_service.export_products(conn), sys.stdout
                )
            )
        else:
            count = db.run(
                lambda conn: catalogue_files.write_json(
                    catalogue_service.export_products(conn), sys.stdout.buffer
                )
            )
    finally:
        db.close()
    typer.echo(f"exported {count} products", err=True)


@app.command()
def verify() -> None:
    """Check every station's receipt chain, numbering and Z-reports, and its electronic journal
    (each document drawn again from the stored data); exit 1 at any break."""
    settings = settings_or_exit()
    cash = {m.id for m in settings.reference().payment_methods.values() if m.is_cash}
    db = open_database(settings.database_url, pool_size=1)
    try:
        problems = db.run(lambda conn: [*receipt_audit.verify(conn, cash), *journal.verify(conn)])
    finally:
        db.close()
    for problem in problems:
        typer.echo(problem)
    if problems:
        typer.echo(f"{len(problems)} problem(s) found", err=True)
        raise typer.Exit(1)
    typer.echo("all receipt chains and Z-reports verify", err=True)


if __name__ == "__main__":
    app()
