"""What a key may call, see and act for: the role groups the endpoints name and the one
visibility rule (docs/security.md, "Visibility").

Admin and integrator keys see every station's data. A station key is bound to one station:

- it acts only for that station (:func:`acting_station`);
- it sees only that station's receipts, shifts, print jobs and printer (:func:`own_station`,
  :func:`confine`, :func:`sees_station`);
- it may take its group's invoices addressed to its POS number or to none (:func:`may_take`);
- it sees those invoices while they are open (New, Opened), and afterwards only the ones
  addressed to its POS or that it held itself (:data:`INVOICE_SEEN_BY`). A shared invoice
  another station completed carries that station's fiscal receipt, so it leaves the view.

An integrator key cancels only the invoices it posted (:func:`posted_by`); an admin any.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

from starlette.requests import Request

from minipos.auth.principal import Principal, Role
from minipos.db import Row
from minipos.domain.errors import Forbidden, ValidationFailed
from minipos.domain.invoice import InvoiceStatus

# Who may call an endpoint (``roles=`` of its declaration). Each name lists its roles: admin
# keys may call every endpoint but the station-only ones.
ADMIN_ONLY = (Role.ADMIN,)
STATION_ONLY = (Role.STATION,)
#: The back office side: integrators' systems and admins.
ADMIN_OR_INTEGRATOR = (Role.ADMIN, Role.INTEGRATOR)
#: The station protocol, and admins (a back-office cashier screen acts for a station).
ADMIN_OR_STATION = (Role.ADMIN, Role.STATION)
ANY_ROLE = (Role.ADMIN, Role.INTEGRATOR, Role.STATION)
#: A shop's server pushing to and pulling from its centre: the sync endpoints, nothing else
#: (so ``ANY_ROLE`` leaves it out).
STORE_ONLY = (Role.STORE,)

_OPEN = f"{int(InvoiceStatus.NEW)}, {int(InvoiceStatus.OPENED)}"

#: SQL over ``invoices``: the invoices station ``:seen_by`` may see. One parameter, so the list
#: filters by it in SQL (paging and counts stay right) and a lookup by id uses the same text.
INVOICE_SEEN_BY = (
    "EXISTS (SELECT 1 FROM stations seer WHERE seer.id = :seen_by"  # noqa: S608 - constants only
    " AND seer.station_group = invoices.station_group"
    " AND (invoices.pos_id = seer.pos_number OR (invoices.pos_id IS NULL"
    f" AND (invoices.status IN ({_OPEN}) OR invoices.station = seer.id))))"
)


def own_station(principal: Principal) -> int | None:
    """The one station a key is limited to; ``None`` for a key that sees every station."""
    if principal.role is not Role.STATION:
        return None
    if principal.station_id is None:  # create_key refuses this; fail closed all the same
        raise Forbidden("This station key is bound to no station.")
    return principal.station_id


def own_store(principal: Principal) -> int:
    """The store a ``store`` key speaks for (its identity comes from the key, never a body)."""
    if principal.role is not Role.STORE or principal.store_id is None:
        raise Forbidden("This key is bound to no store.")  # fail closed
    return principal.store_id


def sees_station(principal: Principal, station_id: int) -> bool:
    """May this key see data (a receipt, a shift, a print job) of ``station_id``?"""
    own = own_station(principal)
    return own is None or own == station_id


class StationFiltered(Protocol):
    station_id: int | None


Query = TypeVar("Query", bound=StationFiltered)


def confine(query: Query, principal: Principal) -> Query:
    """A list query narrowed to the key's own station (a station key's own filter is ignored)."""
    own = own_station(principal)
    if own is not None:
        query.station_id = own
    return query


def acting_station(request: Request, principal: Principal) -> int:
    """The station a request acts for: a station key only for itself; an admin (a back-office
    cashier screen) names it in the path or in ``?station_id=``."""
    named = request.path_params.get("station_id")
    if named is None and "station_id" in request.query_params:
        text = request.query_params["station_id"]
        if not text.isdigit() or len(text) > 18:
            raise ValidationFailed.single(("station_id",), "A valid integer is required.")
        named = int(text)
    own = own_station(principal)
    if own is not None:
        if named is not None and named != own:
            raise Forbidden("A station may only act for itself.")
        return own
    if named is None:
        raise ValidationFailed.single(("station_id",), "Name the station this acts for.")
    return int(named)


def may_take(station: Row, invoice: Row) -> bool:
    """May ``station`` claim or complete ``invoice``: its group's, addressed to its POS or to
    none. (The claim's atomic UPDATE and the feed say the same in SQL, invoices.repository.)"""
    return invoice["station_group"] == station["station_group"] and invoice["pos_id"] in (
        None,
        station["pos_number"],
    )


def posted_by(principal: Principal) -> int | None:
    """The key whose invoices this key may cancel: an integrator only its own (two shops'
    systems sharing a server must not cancel each other's sales); ``None``: no such limit."""
    return principal.api_key_id if principal.role is Role.INTEGRATOR else None
