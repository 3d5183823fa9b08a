"""Who a request's key is: its role and, for a station key, its one station (for a store
key or a store-bound integrator key, its store).

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
    #: A shop's server talking to its centre (docs/stores.md): the sync endpoints only.
    STORE = "store"


@dataclass(frozen=True, slots=True)
class Principal:
    api_key_id: int
    key_id: str
    role: Role
    station_id: int | None
    #: The store a ``store`` key speaks for, or the one an integrator key posts for (centre).
    store_id: int | None = None
    #: A back-office user signed in as a manager (docs/office.md): an admin's reads and the
    #: catalogue, never keys, stations or webhooks (:mod:`minipos.auth.officeroles`).
    manager: bool = False
