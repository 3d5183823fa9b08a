"""``minipos printer …``: configure a station's receipt printer and read its status.

A typer sub-app; ``minipos.cli`` adds it with ``app.add_typer(printer_app, name="printer")``.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
import typer

from minipos.config import ConfigError, Settings
from minipos.db import DatabaseUnavailable, open_database
from minipos.db import migrate as migrations
from minipos.domain.errors import DomainError, NotFound, ValidationFailed
from minipos.print_jobs import printers, repository
from minipos.print_jobs.schemas import PrinterIn
from minipos.timeutil import now_us

app = typer.Typer(help="Receipt printers of the stations.", no_args_is_help=True)

_KINDS = ("network", "file", "usb", "serial", "none")


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as exc:
        typer.echo(f"configuration error: {exc}", err=True)
        raise typer.Exit(2) from exc


def _json(value: Any) -> str:
    return msgspec.json.format(msgspec.json.encode(value), indent=2).decode()


def _fail(exc: Exception) -> typer.Exit:
    if isinstance(exc, ValidationFailed):
        for error in exc.errors:
            typer.echo(f"{'.'.join(map(str, error.path)) or 'printer'}: {error.message}", err=True)
        return typer.Exit(2)
    if isinstance(exc, NotFound):
        typer.echo(exc.detail if exc.detail != "Not found." else "No such station.", err=True)
        return typer.Exit(1)
    typer.echo(str(exc), err=True)
    return typer.Exit(1)


@app.command("set")
def set_printer(
    station_id: Annotated[int, typer.Argument(help="The station's id.")],
    *,
    kind: Annotated[str, typer.Option(help="network, file, usb, serial or none.")],
    address: Annotated[
        str | None,
        typer.Option(
            help="network host[:port]; file /path; usb vendor:product; serial /dev/ttyS0?baudrate=…"
        ),
    ] = None,
    columns: Annotated[int, typer.Option(help="Characters per line: 32, 42 or 48.")] = 42,
    code_page: Annotated[str, typer.Option(help="cp1257, cp775 or raster.")] = "cp1257",
    code_page_number: Annotated[
        int | None, typer.Option(help="ESC t n for the code page (default: from --model).")
    ] = None,
    model: Annotated[str, typer.Option(help="Printer model in python-escpos's database.")] = (
        "default"
    ),
    dots_per_line: Annotated[
        int | None, typer.Option(help="Printable width in dots (default: by --columns).")
    ] = None,
    cut: Annotated[bool, typer.Option(help="Cut after each document.")] = True,
    partial_cut: Annotated[bool, typer.Option(help="A partial cut instead of a full one.")] = False,
    drawer_pin: Annotated[int, typer.Option(help="Cash drawer connector pin: 2 or 5.")] = 2,
    connect_timeout: Annotated[float, typer.Option(help="Seconds.")] = 3.0,
    write_timeout: Annotated[float, typer.Option(help="Seconds.")] = 10.0,
    status_timeout: Annotated[float, typer.Option(help="Seconds.")] = 1.0,
    check_status: Annotated[
        bool, typer.Option(help="Read the printer's status before each job.")
    ] = True,
) -> None:
    """Set (replace) STATION_ID's printer, e.g. --kind network --address 10.0.0.5:9100."""
    settings = _settings()
    if kind not in _KINDS:
        typer.echo(f"--kind must be one of {', '.join(_KINDS)}", err=True)
        raise typer.Exit(2)
    raw = {
        "kind": kind,
        "address": address,
        "columns": columns,
        "code_page": code_page,
        "code_page_number": code_page_number,
        "model": model,
        "dots_per_line": dots_per_line,
        "cut": cut,
        "partial_cut": partial_cut,
        "drawer_pin": drawer_pin,
        "connect_timeout": connect_timeout,
        "write_timeout": write_timeout,
        "status_timeout": status_timeout,
        "check_status": check_status,
    }
    try:
        data = msgspec.convert(raw, PrinterIn)
    except msgspec.ValidationError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    migrations.upgrade(settings.database_url)
    db = open_database(settings.database_url, pool_size=1)
    try:
        out = db.run(
            lambda conn: printers.configure(conn, station_id, data, settings.zone(), now_us())
        )
    except (DomainError, DatabaseUnavailable) as exc:
        raise _fail(exc) from exc
    finally:
        db.close()
    typer.echo(_json(out))


@app.command("show")
def show_printer(station_id: Annotated[int, typer.Argument(help="The station's id.")]) -> None:
    """Print STATION_ID's printer configuration as JSON."""
    settings = _settings()
    db = open_database(settings.database_url, pool_size=1)
    try:
        out = db.run(lambda conn: printers.describe(conn, station_id, settings.zone()))
    except (DomainError, DatabaseUnavailable) as exc:
        raise _fail(exc) from exc
    finally:
        db.close()
    typer.echo(_json(out))


@app.command("status")
def printer_status(station_id: Annotated[int, typer.Argument(help="The station's id.")]) -> None:
    """Read STATION_ID's printer status now; exit 1 unless it is ready."""
    settings = _settings()
    db = open_database(settings.database_url, pool_size=1)
    try:
        printer, counts = db.run(
            lambda conn: (
                printers.load(conn, station_id),
                repository.count_by_status(conn, station_id),
            )
        )
    except DatabaseUnavailable as exc:
        raise _fail(exc) from exc
    finally:
        db.close()
    if printer is None:
        typer.echo("This station has no printer configured.", err=True)
        raise typer.Exit(1)
    out = printers.status_out(
        printer, printers.read_status(printer), counts, settings.zone(), now_us()
    )
    typer.echo(_json(out))
    if not out.ready:
        raise typer.Exit(1)
