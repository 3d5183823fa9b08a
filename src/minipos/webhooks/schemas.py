"""Webhook endpoint and delivery log shapes."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from minipos.api.fields import QueryInt


class WebhookIn(Struct, kw_only=True, forbid_unknown_fields=True):
    url: Annotated[str, Meta(min_length=1, max_length=2048)]
    #: Event types, ``invoice.*`` for all of a resource's, or ``*`` for every event.
    events: Annotated[list[Annotated[str, Meta(max_length=64)]], Meta(max_length=64)] = (
        msgspec.field(default_factory=lambda: ["*"])
    )
    description: Annotated[str, Meta(max_length=255)] = ""
    active: bool = True


class WebhookPatch(Struct, kw_only=True, forbid_unknown_fields=True):
    """Fields sent replace the stored ones. ``active: false`` pauses the endpoint: its events
    wait (nothing is skipped) and go out, in order, once it is active again."""

    url: Annotated[str, Meta(min_length=1, max_length=2048)] | UnsetType = UNSET
    events: (
        Annotated[list[Annotated[str, Meta(max_length=64)]], Meta(max_length=64)] | UnsetType
    ) = UNSET
    description: Annotated[str, Meta(max_length=255)] | UnsetType = UNSET
    active: bool | UnsetType = UNSET


class WebhookOut(Struct, kw_only=True):
    id: int
    url: str
    events: list[str]
    description: str
    active: bool
    created_at: str
    updated_at: str


class WebhookCreated(WebhookOut, kw_only=True):
    #: Shown once, at creation: keep it to verify ``MiniPOS-Signature``.
    secret: str


class AttemptOut(Struct, kw_only=True):
    attempted_at: str
    #: The receiver's HTTP status; null when no answer came (refused, timeout).
    status_code: int | None
    error: str | None
    duration_ms: int


DeliveryStatus = Literal["pending", "delivered", "failed"]


class DeliveryOut(Struct, kw_only=True):
    #: Sent as ``MiniPOS-Delivery``: the same on every retry of this event to this endpoint.
    id: int
    event_id: int
    event_type: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: str | None
    last_status_code: int | None
    last_error: str | None
    created_at: str
    delivered_at: str | None
    #: Every try, oldest first.
    log: list[AttemptOut]


class DeliveryQuery(Struct, kw_only=True):
    status: DeliveryStatus | None = None
    event_id: QueryInt | None = None
    limit: Annotated[int, Meta(ge=1, le=1000)] = 100
    offset: QueryInt = 0
    after_id: QueryInt | None = None
