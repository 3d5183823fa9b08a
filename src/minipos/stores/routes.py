"""Centre endpoints: ``/api/stores``, ``/api/sync/push``, ``/api/sync/pull``."""

from __future__ import annotations

from minipos.api.routing import Router

router = Router("Stores")
