"""Who a request's key is: its role and, for a station key, its one station.

Plain values, apart from the key store (:mod:`minipos.auth.service`), so the access rules
(:mod:`minipos.auth.access`) and the repositories that use them depend on no use case.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"  # everything: catalogue writes, keys, stations
    INTEGRATOR = "integrator"  # create and read invoices; read the catalogue
    STATION = "station"  # the station protocol, bound to one station


@dataclass(frozen=True, slots=True)
class Principal:
    api_key_id: int
    key_id: str
    role: Role
    station_id: int | None
