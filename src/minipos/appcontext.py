"""The services one server process holds, built once by :mod:`minipos.bootstrap`; every route
reaches them through :func:`context`."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request

from minipos.auth.service import KeyCache
from minipos.config import Settings
from minipos.db import Database
from minipos.idempotency.service import Idempotency
from minipos.invoices.service import ShopConfig
from minipos.notifier import Notifier
from minipos.print_jobs.documents import PrintContext
from minipos.print_jobs.journal import JournalContext, journal_context
from minipos.print_jobs.settings import PrintSettings
from minipos.stations.service import StationContext
from minipos.webhooks.settings import WebhookSettings


@dataclass
class AppContext:
    settings: Settings
    db: Database
    pepper: bytes
    keys: KeyCache
    idempotency: Idempotency
    invoices: ShopConfig
    stations: StationContext
    #: Wakes stations long-polling their feed (a new or released invoice).
    feed: Notifier
    #: Wakes event readers (streams, the webhook sender) after a commit that wrote events.
    event_log: Notifier
    webhooks: WebhookSettings
    #: Wakes the webhook sender when an endpoint was added, changed or removed.
    webhook_changes: Notifier
    #: The printed shop particulars and the print worker's knobs, read once at start-up.
    printing: PrintSettings = field(default_factory=PrintSettings.from_env)
    _journal: JournalContext | None = field(default=None, init=False, repr=False)

    def print_context(self) -> PrintContext:
        """What printed documents need besides their rows (previews, printer, e-receipts)."""
        return PrintContext(
            shop=self.printing.shop,
            zone=self.invoices.zone,
            cash_methods=frozenset(self.stations.cash_methods),
            profile=self.printing.fiscal_profile,
        )

    def journal_context(self) -> JournalContext:
        """What journal entries are drawn with (the printed text of fiscal documents)."""
        if self._journal is None:  # built once: the settings do not change while serving
            self._journal = journal_context(self.printing, self.invoices)
        return self._journal


def context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx
