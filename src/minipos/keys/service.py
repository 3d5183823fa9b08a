"""Listing, creating and revoking API keys; each inside the caller's unit of work."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from minipos.auth import repository
from minipos.auth import service as auth
from minipos.auth.principal import Role
from minipos.db import Connection
from minipos.domain.errors import NotFound, ValidationFailed
from minipos.keys.schemas import KeyCreated, KeyIn, KeyOut, KeyQuery
from minipos.stations import repository as stations
from minipos.timeutil import local_aware


def key_out(row: Any, zone: ZoneInfo) -> KeyOut:
    return KeyOut(
        id=row["id"],
        key_id=row["key_id"],
        role=row["role"],
        name=row["name"],
        station_id=row["station_id"],
        store_id=row["store_id"],
        created_at=local_aware(row["created_at"], zone) or "",
        revoked_at=local_aware(row["revoked_at"], zone),
    )


def search(conn: Connection, query: KeyQuery, zone: ZoneInfo) -> tuple[list[KeyOut], int]:
    rows, total = repository.list_keys(
        conn,
        {
            "role": query.role,
            "station_id": query.station_id,
            "revoked": query.revoked,
            "after_id": query.after_id,
        },
        limit=query.limit,
        offset=query.offset,
    )
    return [key_out(row, zone) for row in rows], total


def get(conn: Connection, row_id: int, zone: ZoneInfo) -> KeyOut:
    row = repository.listed_key(conn, row_id)
    if row is None:
        raise NotFound()
    return key_out(row, zone)


def create(conn: Connection, data: KeyIn, pepper: bytes, zone: ZoneInfo, now_us: int) -> KeyCreated:
    role = Role(data.role)
    if (role is Role.STATION) != (data.station_id is not None):
        raise ValidationFailed.single(
            ("station_id",),
            "A station key needs station_id, and only a station key takes one.",
        )
    if data.station_id is not None and stations.get_station(conn, data.station_id) is None:
        raise ValidationFailed.single(("station_id",), "No station has this id.")
    new = auth.create_key(
        conn, pepper, role, station_id=data.station_id, name=data.name, now_us=now_us
    )
    out = get(conn, new.principal.api_key_id, zone)
    return KeyCreated(**{f: getattr(out, f) for f in out.__struct_fields__}, key=new.key)


def revoke(conn: Connection, row_id: int, now_us: int) -> None:
    if not auth.revoke(conn, row_id, now_us):
        raise NotFound()
