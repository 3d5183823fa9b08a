"""``/api/keys``: what a key shows (never its secret or digest) and how the list filters."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, Struct

from minipos.api.fields import QueryInt
from minipos.auth.principal import Role


class KeyOut(Struct):
    id: int
    #: The public part of the key (``mpk_<key_id>_…``): names it in logs.
    key_id: str
    role: str
    name: str | None
    station_id: int | None
    store_id: int | None
    created_at: str
    revoked_at: str | None


class KeyCreated(KeyOut):
    #: The whole key, shown this once.
    key: str


class KeyIn(Struct, kw_only=True, forbid_unknown_fields=True):
    #: A store's key comes with the store (``POST /api/stores``), not from here.
    role: Literal["admin", "integrator", "station"]
    name: Annotated[str, Meta(min_length=1, max_length=100)] | None = None
    #: The station a ``station`` key belongs to (only for that role).
    station_id: QueryInt | None = None


class KeyQuery(Struct, kw_only=True):
    role: Role | None = None
    station_id: QueryInt | None = None
    #: ``true``: only revoked keys; ``false``: only live ones.
    revoked: bool | None = None
    limit: Annotated[int, Meta(ge=1, le=1000)] = 1000
    offset: QueryInt = 0
    after_id: QueryInt | None = None
