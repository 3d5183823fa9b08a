"""``minipos key list`` and ``minipos key revoke ID`` (``minipos key create`` is in
``minipos.cli``). A running server refuses a revoked key within
``MINIPOS_AUTH_CACHE_SECONDS`` (its cache of checked keys)."""

from __future__ import annotations

from typing import Annotated

import typer

from minipos.clitools import as_json, run_job, settings_or_exit
from minipos.keys import service
from minipos.keys.schemas import KeyQuery
from minipos.timeutil import now_us


def key_list(
    all_keys: Annotated[
        bool, typer.Option("--all", help="Revoked keys too (default: live ones only).")
    ] = False,
    json: Annotated[bool, typer.Option("--json", help="As JSON.")] = False,
) -> None:
    """List the API keys (never their secrets)."""
    settings = settings_or_exit()
    query = KeyQuery(revoked=None if all_keys else False)
    keys, _ = run_job(settings, lambda conn: service.search(conn, query, settings.zone()))
    if json:
        typer.echo(as_json(keys))
        return
    typer.echo(f"{'ID':>5}  {'KEY ID':<12}  {'ROLE':<10}  {'STATION':>7}  {'CREATED':<25}  NAME")
    for key in keys:
        station = "" if key.station_id is None else str(key.station_id)
        revoked = f"  (revoked {key.revoked_at[:19]})" if key.revoked_at else ""
        typer.echo(
            f"{key.id:>5}  {key.key_id:<12}  {key.role:<10}  {station:>7}"
            f"  {key.created_at[:19]:<25}  {key.name or ''}{revoked}"
        )


def key_revoke(
    key_id: Annotated[int, typer.Argument(help="The key's ID (from key list).")],
) -> None:
    """Revoke a key: refused from the next check (a running server's cache forgets it within
    MINIPOS_AUTH_CACHE_SECONDS)."""
    settings = settings_or_exit()
    run_job(settings, lambda conn: service.revoke(conn, key_id, now_us()), subject="key")
    typer.echo(f"revoked key {key_id}", err=True)
