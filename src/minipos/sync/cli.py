"""``minipos sync …``: a store's sync with its centre, from the shell."""

from __future__ import annotations

import typer

app = typer.Typer(help="A store's sync with its centre (docs/stores.md).", no_args_is_help=True)
