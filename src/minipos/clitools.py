"""What every ``minipos`` sub-command does the same way: settings, one database job, errors.

Errors become a message on stderr and an exit status: 2 for bad input or configuration (the
operator fixes the command), 1 for anything else (not found, database unavailable).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import msgspec
import typer

from minipos.config import ConfigError, Settings
from minipos.db import Connection, DatabaseUnavailable, open_database
from minipos.db import migrate as migrations
from minipos.domain.errors import DomainError, NotFound, ValidationFailed

T = TypeVar("T")


def settings_or_exit() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as exc:
        typer.echo(f"configuration error: {exc}", err=True)
        raise typer.Exit(2) from exc


def run_job(
    settings: Settings,
    job: Callable[[Connection], T],
    *,
    migrate: bool = False,
    subject: str = "record",
) -> T:
    """Run ``job`` in one transaction on the configured database (migrated first if asked);
    a refusal ends the command with its message, the fields named as ``subject.field``."""
    if migrate:
        migrations.upgrade(settings.database_url)
    db = open_database(settings.database_url, pool_size=1)
    try:
        return db.run(job)
    except (DomainError, DatabaseUnavailable) as exc:
        raise fail(exc, subject) from exc
    finally:
        db.close()


def fail(exc: Exception, subject: str) -> typer.Exit:
    if isinstance(exc, ValidationFailed):
        for error in exc.errors:
            typer.echo(f"{'.'.join(map(str, error.path)) or subject}: {error.message}", err=True)
        return typer.Exit(2)
    if isinstance(exc, NotFound):
        detail = exc.detail if exc.detail != "Not found." else f"No such {subject}."
        typer.echo(detail, err=True)
        return typer.Exit(1)
    typer.echo(str(exc), err=True)
    return typer.Exit(1)


def as_json(value: Any) -> str:
    return msgspec.json.format(msgspec.json.encode(value), indent=2).decode()
