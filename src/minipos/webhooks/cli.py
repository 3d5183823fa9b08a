"""``minipos webhook …``: add, list and remove webhook endpoints from the shell.

A typer sub-app; ``minipos.cli`` adds it with ``app.add_typer(webhook_app, name="webhook")``.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
import typer

from minipos.clitools import as_json, fail, run_job, settings_or_exit
from minipos.domain.errors import ValidationFailed
from minipos.timeutil import now_us
from minipos.webhooks import service
from minipos.webhooks.schemas import WebhookIn
from minipos.webhooks.settings import WebhookSettings

app = typer.Typer(help="Webhook endpoints that get the event log pushed to them.")


@app.command("add")
def add(
    url: Annotated[str, typer.Argument(help="http(s) URL of the receiver.")],
    events: Annotated[
        str, typer.Option(help="Comma-separated event types, `invoice.*` or `*`.")
    ] = "*",
    description: Annotated[str, typer.Option(help="A note: whose endpoint it is.")] = "",
) -> None:
    """Add an endpoint; prints it as JSON with its signing secret (shown only now)."""
    settings = settings_or_exit()
    raw = {"url": url, "events": events.split(","), "description": description}
    try:
        data = msgspec.convert(raw, WebhookIn)
        service.check_url(url, WebhookSettings.from_env().networks())
    except msgspec.ValidationError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    except ValidationFailed as exc:
        raise fail(exc, "webhook") from exc
    created = run_job(
        settings,
        lambda conn: service.create(conn, data, settings.zone(), now_us()),
        migrate=True,
        subject="webhook",
    )
    typer.echo(as_json(created))


@app.command("list")
def list_webhooks() -> None:
    """Print the endpoints as JSON."""
    settings = settings_or_exit()
    typer.echo(as_json(run_job(settings, lambda conn: service.list_all(conn, settings.zone()))))


@app.command("remove")
def remove(webhook_id: Annotated[int, typer.Argument(help="The endpoint's id.")]) -> None:
    """Remove an endpoint and its delivery log."""
    settings = settings_or_exit()
    run_job(settings, lambda conn: service.delete(conn, webhook_id), subject="webhook")
    typer.echo(f"webhook {webhook_id} removed", err=True)
