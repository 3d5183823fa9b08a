"""Event log shapes: one event, and the list query."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta, Struct

from minipos.api.fields import QueryInt


class EventOut(Struct, kw_only=True):
    #: The cursor: events are numbered in commit order, and numbers are never reused.
    id: int
    type: str
    created_at: str
    resource: str
    resource_id: int
    #: The resource's state after the change, in the shape its own GET answers.
    data: msgspec.Raw


class EventQuery(Struct, kw_only=True):
    #: Events after this id (the last one the reader has); 0 from the oldest kept.
    after: QueryInt = 0
    #: Comma-separated types, ``invoice.*`` for all of a resource's, ``*`` (or absent) for all.
    type: Annotated[str, Meta(max_length=1000)] | None = None
    limit: Annotated[int, Meta(ge=1, le=1000)] = 1000


class StreamQuery(Struct, kw_only=True):
    #: Start after this id; else after ``Last-Event-ID``; else with the next new event.
    after: QueryInt | None = None
    type: Annotated[str, Meta(max_length=1000)] | None = None
