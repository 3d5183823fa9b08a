"""``minipos store …``: the centre's stores registry, from the shell."""

from __future__ import annotations

import sys
from typing import Annotated

import msgspec
import typer

from minipos.auth.service import load_pepper
from minipos.clitools import as_json, fail, run_job, settings_or_exit
from minipos.domain.errors import Conflict
from minipos.stores import service
from minipos.stores.schemas import StoreIn, StoreOut
from minipos.timeutil import now_us

app = typer.Typer(help="The stores a centre serves (docs/stores.md).", no_args_is_help=True)


@app.command("add")
def add(
    code: Annotated[str, typer.Option(help="The store's code, e.g. RIGA1 (A-Z, 0-9, _ and -).")],
    name: Annotated[str, typer.Option(help='The store\'s name, e.g. "Rīga 1".')],
) -> None:
    """Register a store; prints its key (the store's MINIPOS_CENTRAL_KEY) once, on stdout."""
    settings = settings_or_exit()
    try:
        service.require_centre(settings.mode)
        data = msgspec.convert({"code": code, "name": name}, StoreIn)
    except Conflict as exc:
        raise fail(exc, "store") from exc
    except msgspec.ValidationError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    pepper = load_pepper(settings.secret_key, settings.secret_file)
    created = run_job(
        settings,
        lambda conn: service.add(conn, data, pepper, settings.zone(), now_us()),
        migrate=True,
        subject="store",
    )
    typer.echo(f"created store {created.code} (id {created.id}); its key, shown once:", err=True)
    sys.stdout.write(created.key + "\n")


@app.command("list")
def list_stores() -> None:
    """Print the stores with their sync status as JSON."""
    settings = settings_or_exit()
    stores: list[StoreOut] = run_job(settings, lambda conn: service.list_all(conn, settings.zone()))
    typer.echo(as_json(stores))


@app.command("conflicts")
def conflicts(
    code: Annotated[str, typer.Option(help="The store's code.")],
    resolve: Annotated[
        int | None, typer.Option(help="Mark this conflict resolved (after settling it).")
    ] = None,
) -> None:
    """Print what the store offered against items the centre holds (the centre kept its
    originals), as JSON; or mark one resolved."""
    settings = settings_or_exit()
    if resolve is not None:
        run_job(settings, lambda conn: service.resolve(conn, code, resolve, now_us()))
        typer.echo(f"conflict {resolve} of store {code} resolved", err=True)
        return
    typer.echo(
        as_json(run_job(settings, lambda conn: service.conflicts(conn, code, settings.zone())))
    )
