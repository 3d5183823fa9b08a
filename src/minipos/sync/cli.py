"""``minipos sync …``: a store's sync with its centre, from the shell.

``status`` reads the database directly (a read-only snapshot beside a running server's
writer), so it answers with the server stopped too: what waits, what is held, last contact.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from minipos.clitools import as_json, run_job, settings_or_exit
from minipos.db import Connection, DatabaseUnavailable, open_database
from minipos.sync import identity, repository
from minipos.sync.status import CentralStatus, StoreStatus, SyncStatus, status
from minipos.timeutil import local_aware, now_us

app = typer.Typer(help="A store's sync with its centre (docs/stores.md).", no_args_is_help=True)


@app.command("status")
def show_status(
    json_out: Annotated[
        bool, typer.Option("--json", help="The answer of GET /api/sync/status, as JSON.")
    ] = False,
) -> None:
    """Last contact with the centre, items waiting and quarantined, per lane (at a store);
    each store's last contact and what arrived (at a centre)."""
    settings = settings_or_exit()
    zone = settings.zone()

    def read(conn: Connection) -> SyncStatus:
        # The mode the database was started in, whatever this shell's environment says.
        mode = identity.held(conn) or settings.mode
        return status(conn, mode, settings.central_url, zone, now_us())

    db = open_database(settings.database_url, pool_size=1)
    try:
        answer = asyncio.run(db.read(read))
    except DatabaseUnavailable as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    finally:
        db.close()
    typer.echo(as_json(answer) if json_out else "\n".join(describe(answer)))


@app.command("quarantined")
def list_quarantined() -> None:
    """The outbox items held after the centre refused them (409, or 422 three times): id,
    kind, the store's id, lane, tries and the centre's reason. A held item stops the rest of
    its station's lane until it is requeued."""
    settings = settings_or_exit()
    zone = settings.zone()
    rows = run_job(settings, repository.quarantined)
    if not rows:
        typer.echo("no quarantined items")
        return
    for row in rows:
        typer.echo(
            f"{row['id']}  {row['kind']:<13} {row['local_id']:<10} lane {row['lane']:<5} "
            f"{local_aware(row['created_at'], zone)}  tries {row['attempts']}  "
            f"{row['last_error'] or ''}"
        )


@app.command("requeue")
def requeue(
    outbox_id: Annotated[int, typer.Argument(help="The item's id (minipos sync quarantined).")],
) -> None:
    """Send a quarantined item again, as it is stored (same body, same hash), its tries
    forgotten: after the centre's side was put right (a 422 it could not read, a conflict
    resolved there). An item that conflicts again is quarantined again."""
    settings = settings_or_exit()
    if not run_job(settings, lambda conn: repository.requeue(conn, outbox_id)):
        typer.echo(f"outbox item {outbox_id} is not quarantined", err=True)
        raise typer.Exit(1)
    typer.echo(f"outbox item {outbox_id} is pending again")


def describe(answer: SyncStatus) -> list[str]:
    """The status as lines for a person."""
    if isinstance(answer, StoreStatus):
        skew = "unknown" if answer.skew_seconds is None else f"{answer.skew_seconds:+.1f} s"
        lines = [
            f"mode: store, centre {answer.centre or '(not set in this shell)'}",
            f"link: {'OFFLINE' if answer.offline else 'online'}; last contact "
            f"{answer.last_contact_at or 'never'}; clock skew {skew}",
            f"last error: {answer.last_error or '-'}",
            f"waiting: {answer.waiting} (oldest {answer.oldest_waiting_at or '-'}); "
            f"quarantined: {answer.quarantined}",
            "lane  waiting  oldest                            quarantined  last acked",
        ]
        lines += [
            f"{lane.lane:<5} {lane.waiting:>7}  {lane.oldest_waiting_at or '-':<33} "
            f"{lane.quarantined:>11}  {lane.last_acked_local_id or '-'}"
            for lane in answer.lanes
        ]
        return lines
    if isinstance(answer, CentralStatus):
        lines = [
            "mode: central",
            "store       last contact                      skew  received  conflicts",
        ]
        lines += [
            f"{s.code:<11} {s.last_contact_at or 'never':<33} "
            f"{'-' if s.skew_seconds is None else f'{s.skew_seconds:+.1f}':>5} "
            f"{s.received:>9} {s.conflicts:>10}"
            for s in answer.stores
        ]
        return lines
    return ["mode: standalone (no chain: nothing to sync)"]
