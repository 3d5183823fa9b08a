"""``minipos store …``: the centre's stores registry, from the shell."""

from __future__ import annotations

import typer

app = typer.Typer(help="The stores a centre serves (docs/stores.md).", no_args_is_help=True)
