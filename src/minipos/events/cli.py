"""``minipos events tail``: read the event log straight from the database, and follow it.

A typer sub-app; ``minipos.cli`` adds it with ``app.add_typer(events_app, name="events")``.

It reads through ``Database.read``, not ``Database.run`` as the one-shot commands do: on
SQLite ``run`` opens a connection and takes the write lock (``BEGIN IMMEDIATE``) for each
call, and a follower polling twice a second would make the server's writer wait behind it.
``read`` keeps one read-only connection and reads a WAL snapshot beside the writer.
"""

from __future__ import annotations

import asyncio
import functools
import os
import signal
import sys
from types import FrameType
from typing import Annotated, TextIO
from zoneinfo import ZoneInfo

import typer

from minipos.clitools import settings_or_exit
from minipos.db import Database, DatabaseUnavailable, open_database
from minipos.domain.errors import ValidationFailed
from minipos.events import repository, service
from minipos.events.schemas import EventOut
from minipos.jsoncodec import encode

app = typer.Typer(help="The event log.", no_args_is_help=True)

#: Seconds between two reads when the log had nothing new.
POLL_SECONDS = 0.5
#: Events one read takes; a follower far behind catches up in steps of this, without pausing.
BATCH = 500


@app.command("tail")
def tail(
    after: Annotated[
        int | None,
        typer.Option(min=0, help="Start after this event id (default: only events to come)."),
    ] = None,
    from_start: Annotated[
        bool, typer.Option("--from-start", help="Start with the oldest event kept.")
    ] = False,
    types: Annotated[
        str | None,
        typer.Option(
            "--type",
            help="Comma-separated types; invoice.* for all of a resource's (default: all).",
        ),
    ] = None,
    follow: Annotated[
        bool,
        typer.Option(
            "--follow/--no-follow",
            help=f"Keep reading new events (every {POLL_SECONDS:g} s), until Ctrl-C or SIGTERM.",
        ),
    ] = True,
    as_json: Annotated[
        bool, typer.Option("--json", help="One event per line as the API's JSON.")
    ] = False,
) -> None:
    """Print the event log in commit order: id, shop time, type, resource/id (or --json)."""
    if after is not None and from_start:
        typer.echo("--after and --from-start exclude each other", err=True)
        raise typer.Exit(2)
    settings = settings_or_exit()
    try:
        wanted = service.wanted(types)
    except ValidationFailed as exc:
        for error in exc.errors:
            typer.echo(f"--type: {error.message}", err=True)
        raise typer.Exit(2) from exc
    cursor = 0 if from_start else after
    # SIGTERM ends a follow the way Ctrl-C does: the database is closed on the way out.
    signal.signal(signal.SIGTERM, _interrupt)
    db = open_database(settings.database_url, pool_size=1)
    try:
        asyncio.run(_tail(db, cursor, wanted, settings.zone(), follow=follow, as_json=as_json))
    except KeyboardInterrupt:
        pass  # the usual end of a follow, not an error
    except DatabaseUnavailable as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    except BrokenPipeError:
        # The reader went away (`… | head -3`): stop quietly. Point stdout at /dev/null so the
        # interpreter's own flush at exit does not fail on the closed pipe a second time.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    finally:
        db.close()


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


async def _tail(
    db: Database,
    cursor: int | None,
    types: frozenset[str] | None,
    zone: ZoneInfo,
    *,
    follow: bool,
    as_json: bool,
) -> None:
    if cursor is None:
        cursor = await db.read(repository.last_id)
    out = sys.stdout
    while True:
        batch = await db.read(
            functools.partial(service.after, cursor=cursor, types=types, limit=BATCH, zone=zone)
        )
        for event in batch:
            _write(out, event, as_json=as_json)
            cursor = event.id
        # Flushed per read, not per line: a pipe sees each event within one poll.
        out.flush()
        if len(batch) == BATCH:
            continue
        if not follow:
            return
        await asyncio.sleep(POLL_SECONDS)


def _write(out: TextIO, event: EventOut, *, as_json: bool) -> None:
    if as_json:
        # The API's encoding: the line is byte for byte what GET /api/events lists.
        out.write(encode(event).decode())
    else:
        # created_at is the shop's local ISO time; seconds are enough to read a log by.
        moment = event.created_at[:19].replace("T", " ")
        out.write(
            f"{event.id:>8}  {moment}  {event.type:<18}  {event.resource}/{event.resource_id}"
        )
    out.write("\n")
