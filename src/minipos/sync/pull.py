"""A store's pull from its centre: the catalogue, reference data and the invoices posted at
the centre for it (docs/stores.md, "Down")."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import httpx
import msgspec

from minipos.config import Settings
from minipos.db import Database
from minipos.invoices.service import ShopConfig
from minipos.notifier import Notifier
from minipos.sync import apply
from minipos.sync.wire import MAX_PULL_LIMIT, PullRequest, PullResponse
from minipos.timeutil import now_us

_decoder = msgspec.json.Decoder(PullResponse)


@dataclass
class Puller:
    db: Database
    settings: Settings
    shop: ShopConfig
    #: Wakes the stations' feed after new invoices or catalogue changes were applied.
    feed: Notifier

    async def pull_once(self, http: httpx.AsyncClient) -> bool:
        """Fetch and apply one page; True when the centre has more.

        Raises ``httpx.HTTPError`` (the link, or the centre's refusal) or ``msgspec.DecodeError``
        (an answer that is not a page); nothing is applied then and the cursors stay."""
        at = await self.db.read(apply.cursors)
        request = PullRequest(
            catalogue_revision=at.catalogue_revision,
            categories_hash=at.categories_hash,
            reference_hash=at.reference_hash,
            invoice_revision=at.invoice_revision,
            limit=min(self.settings.sync_batch, MAX_PULL_LIMIT),
        )
        answer = await http.post(
            self.settings.central_url.rstrip("/") + "/api/sync/pull",
            content=msgspec.json.encode(request),
            headers={
                "Authorization": f"Token {self.settings.store_key()}",
                "Content-Type": "application/json",
            },
        )
        answer.raise_for_status()
        page = _decoder.decode(answer.content)
        applied = await self.db.write(
            functools.partial(apply.apply_page, page=page, shop=self.shop, now_us=now_us())
        )
        # Only after the commit: a page rolled back must not leave its reference data in use.
        if applied.reference is not None:
            self.shop.use_reference(applied.reference)
        if applied.products or applied.invoices:
            self.feed.notify()
        return page.more
