"""``minipos station list|disable ID|enable ID``: the registry from the shell.

A typer sub-app; ``minipos.cli`` adds it with ``app.add_typer(station_app, name="station")``.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from minipos.clitools import as_json, run_job, settings_or_exit
from minipos.db import Connection
from minipos.domain.errors import NotFound
from minipos.stations import repository
from minipos.timeutil import local_aware, now_us

app = typer.Typer(help="Stations (cash registers).", no_args_is_help=True)


@app.command("list")
def station_list(json: Annotated[bool, typer.Option("--json", help="As JSON.")] = False) -> None:
    """List the stations with their open shift and whether they are disabled."""
    settings = settings_or_exit()
    zone = settings.zone()
    rows = run_job(settings, repository.describe_stations)
    found: list[dict[str, Any]] = [
        {
            "id": r["id"],
            "name": r["name"],
            "pos_id": r["pos_id"],
            "station_group": r["station_group"],
            "open_shift": r["open_shift"],
            "disabled_at": local_aware(r["disabled_at"], zone),
            "last_receipt_at": local_aware(r["last_receipt_at"], zone),
        }
        for r in rows
    ]
    if json:
        typer.echo(as_json(found))
        return
    typer.echo(f"{'ID':>4}  {'POS':<6}  {'GROUP':<8}  {'SHIFT':>6}  {'STATE':<9}  NAME")
    for s in found:
        shift = "" if s["open_shift"] is None else str(s["open_shift"])
        state = "disabled" if s["disabled_at"] else "active"
        typer.echo(
            f"{s['id']:>4}  {s['pos_id']:<6}  {s['station_group']:<8}  {shift:>6}"
            f"  {state:<9}  {s['name']}"
        )


def _set_disabled(station_id: int, disabled: bool) -> None:
    settings = settings_or_exit()

    def job(conn: Connection) -> None:
        if repository.get_station(conn, station_id) is None:
            raise NotFound()
        repository.update_station(conn, station_id, {"disabled_at": now_us() if disabled else None})

    run_job(settings, job, subject="station")


@app.command("disable")
def disable(station_id: Annotated[int, typer.Argument(help="The station's id.")]) -> None:
    """Disable a station: its key is refused (403) and it cannot claim or sell; a running
    server notices within MINIPOS_AUTH_CACHE_SECONDS."""
    _set_disabled(station_id, True)
    typer.echo(f"station {station_id} disabled", err=True)


@app.command("enable")
def enable(station_id: Annotated[int, typer.Argument(help="The station's id.")]) -> None:
    """Enable a disabled station again."""
    _set_disabled(station_id, False)
    typer.echo(f"station {station_id} enabled", err=True)
