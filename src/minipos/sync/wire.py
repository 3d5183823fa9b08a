"""The store–centre protocol's messages (docs/stores.md, "The wire protocol").

A store pushes its outbox items in order and gets one result per item; it pulls the centre's
catalogue, reference data and the invoices posted at the centre for it.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

#: Most items one push may carry (a store sends ``MINIPOS_SYNC_BATCH``, 500 by default).
MAX_PUSH_ITEMS = 5000
#: A push body's own size limit: other routes keep ``MINIPOS_MAX_BODY_BYTES``.
MAX_PUSH_BYTES = 8 * 1024 * 1024


class PushItem(msgspec.Struct, forbid_unknown_fields=True):
    kind: str
    local_id: Annotated[str, Meta(min_length=1, max_length=64)]
    lane: Annotated[str, Meta(min_length=1, max_length=32)]
    #: SHA-256 of ``body``'s bytes exactly as sent (the canonical JSON the store stored).
    hash: Annotated[str, Meta(pattern="^[0-9a-f]{64}$")]
    body: msgspec.Raw


class PushRequest(msgspec.Struct, forbid_unknown_fields=True):
    #: The store's clock when it sent this (microseconds since the epoch): the skew estimate.
    sent_at: int
    items: Annotated[list[PushItem], Meta(max_length=MAX_PUSH_ITEMS)]


class PushResult(msgspec.Struct, omit_defaults=True):
    #: ``domain.sync.ItemStatus``: 201 stored, 200 replayed, 409 conflict, 425 gap, 422 invalid.
    status: int
    #: The centre's id of what was stored (invoice, receipt, shift); the same on every replay.
    common_id: int | None = None
    error: str | None = None


class PushResponse(msgspec.Struct):
    #: The centre's clock when it answered (microseconds since the epoch).
    centre_time: int
    results: list[PushResult]
