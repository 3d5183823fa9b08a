"""A store's pull from its centre: the catalogue, reference data and the invoices posted at
the centre for it (docs/stores.md, "Down")."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from minipos.config import Settings
from minipos.db import Database
from minipos.invoices.service import ShopConfig
from minipos.notifier import Notifier


@dataclass
class Puller:
    db: Database
    settings: Settings
    shop: ShopConfig
    #: Wakes the stations' feed after new invoices or catalogue changes were applied.
    feed: Notifier

    async def pull_once(self, http: httpx.AsyncClient) -> bool:
        """Fetch and apply one page; True when the centre has more."""
        return False
