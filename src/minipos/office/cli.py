"""``minipos user …``: the back office's people (docs/office.md)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from minipos.auth import people
from minipos.clitools import run_job, settings_or_exit
from minipos.config import Settings
from minipos.timeutil import now_us

app = typer.Typer(help="Back-office users who sign in at /office/.", no_args_is_help=True)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@app.command("add")
def add(
    name: Annotated[str, typer.Option(help="The name to sign in with.")],
    role: Annotated[
        people.OfficeRole, typer.Option(help="manager: reports and catalogue; admin: all.")
    ] = people.OfficeRole.MANAGER,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin's first line.")
    ] = False,
) -> None:
    """Create a user (asks for the password twice unless --password-stdin)."""
    settings = settings_or_exit()
    password = _password(password_stdin)
    try:
        run_job(
            settings,
            lambda conn: people.add_user(conn, name, role, password, now_us()),
            migrate=True,
        )
    except people.UserError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"user {name} ({role.value}) created; sign in at /office/", err=True)


@app.command("passwd")
def passwd(
    name: Annotated[str, typer.Option(help="The user.")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin")] = False,
) -> None:
    """Set a new password (every session of the user ends)."""
    settings = settings_or_exit()
    password = _password(password_stdin)
    _change(name=name, job_password=password, settings=settings)


@app.command("disable")
def disable(name: Annotated[str, typer.Option(help="The user.")]) -> None:
    """Stop a user from signing in (every session of the user ends)."""
    _change(name=name, disabled=True, settings=settings_or_exit())


@app.command("enable")
def enable(name: Annotated[str, typer.Option(help="The user.")]) -> None:
    """Let a disabled user sign in again."""
    _change(name=name, disabled=False, settings=settings_or_exit())


@app.command("list")
def list_users() -> None:
    """The users: name, role, and whether disabled."""
    rows = run_job(settings_or_exit(), people.list_users, migrate=True)
    for row in rows:
        state = "disabled" if row["disabled_at"] is not None else "active"
        typer.echo(f"{row['name']}\t{row['role']}\t{state}")


def _change(
    *,
    name: str,
    settings: Settings,
    job_password: str | None = None,
    disabled: bool | None = None,
) -> None:
    try:
        run_job(
            settings,
            lambda conn: people.change_user(
                conn, name, password=job_password, disabled=disabled, now_us=now_us()
            ),
            migrate=True,
        )
    except people.UserError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"user {name} changed", err=True)
