"""``minipos printer …``: configure a station's receipt printer and read its status;
``minipos journal export``: the electronic journal as text.

Typer sub-apps; ``minipos.cli`` adds them with ``app.add_typer(printer_app, name="printer")``
and ``app.add_typer(journal_app, name="journal")``.
"""

from __future__ import annotations

import sys
from typing import Annotated

import msgspec
import typer

from minipos.clitools import as_json, run_job, settings_or_exit
from minipos.db import Connection
from minipos.print_jobs import journal, printers, repository
from minipos.print_jobs.schemas import PrinterIn
from minipos.timeutil import now_us

app = typer.Typer(help="Receipt printers of the stations.", no_args_is_help=True)

_KINDS = ("network", "file", "usb", "serial", "none")


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
    settings = settings_or_exit()
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
    out = run_job(
        settings,
        lambda conn: printers.configure(conn, station_id, data, settings.zone(), now_us()),
        migrate=True,
        subject="station",
    )
    typer.echo(as_json(out))


@app.command("show")
def show_printer(station_id: Annotated[int, typer.Argument(help="The station's id.")]) -> None:
    """Print STATION_ID's printer configuration as JSON."""
    settings = settings_or_exit()
    out = run_job(
        settings,
        lambda conn: printers.describe(conn, station_id, settings.zone()),
        subject="station",
    )
    typer.echo(as_json(out))


@app.command("status")
def printer_status(station_id: Annotated[int, typer.Argument(help="The station's id.")]) -> None:
    """Read STATION_ID's printer status now; exit 1 unless it is ready."""
    settings = settings_or_exit()
    printer, counts = run_job(
        settings,
        lambda conn: (
            printers.load(conn, station_id),
            repository.count_by_status(conn, station_id),
        ),
        subject="station",
    )
    if printer is None:
        typer.echo("This station has no printer configured.", err=True)
        raise typer.Exit(1)
    out = printers.status_out(
        printer, printers.read_status(printer), counts, settings.zone(), now_us()
    )
    typer.echo(as_json(out))
    if not out.ready:
        raise typer.Exit(1)


journal_app = typer.Typer(help="The electronic journal (control tape).", no_args_is_help=True)


@journal_app.command("export")
def export_journal(
    station: Annotated[int, typer.Option(help="The station's id.")],
    from_: Annotated[
        str | None, typer.Option("--from", help="Local date or date-time (ISO), inclusive.")
    ] = None,
    to: Annotated[
        str | None,
        typer.Option(help="Local date or date-time (ISO); a plain date includes that day."),
    ] = None,
) -> None:
    """Write a station's journal as plain UTF-8 text, one document after another."""
    settings = settings_or_exit()
    zone = settings.zone()

    def job(conn: Connection) -> list[str]:
        from_us, to_us = journal.period(from_, to, zone, ("--from", "--to"))
        return list(
            journal.export_text(repository.journal_of_station(conn, station, from_us, to_us), zone)
        )

    for chunk in run_job(settings, job, subject="journal"):
        sys.stdout.write(chunk)
