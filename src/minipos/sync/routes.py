"""Store-side sync endpoints: ``/api/sync/status``."""

from __future__ import annotations

from minipos.api.routing import Router

router = Router("Sync")
