"""What every handler reaches through ``request.app.state.ctx``."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from minipos.auth.service import KeyCache
from minipos.config import Settings
from minipos.db import Database
from minipos.events import Notifier
from minipos.idempotency.service import Idempotency
from minipos.invoices.service import InvoiceContext
from minipos.stations.service import StationContext


@dataclass
class AppContext:
    settings: Settings
    db: Database
    pepper: bytes
    keys: KeyCache
    idempotency: Idempotency
    invoices: InvoiceContext
    stations: StationContext
    events: Notifier


def context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx
