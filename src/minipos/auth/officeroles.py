"""What a back-office manager may call (docs/office.md, "Roles").

A signed-in admin is an admin. A manager (a principal with ``manager`` set; its role is the
admin's so the admin's views apply) is limited here, on every endpoint declared for admins or
integrators, without naming it in every declaration:

- reading: everything the back office reads, except API keys and webhooks (their secrets and
  who may call the server are the admin's);
- changing: the catalogue, and reprinting or retrying print jobs; nothing else (stations,
  keys, shifts, invoices, webhooks, stores stay the admin's).
"""

from __future__ import annotations

from collections.abc import Collection

from minipos.auth.principal import Principal, Role

_BACK_OFFICE = frozenset({Role.ADMIN, Role.INTEGRATOR})
#: Never for a manager, read or write.
MANAGER_NEVER = ("/api/keys", "/api/webhooks", "/api/sync/")
#: What a manager may change (by path prefix of the endpoint's declaration).
MANAGER_CHANGES = (
    "/api/products",
    "/api/categories",
    "/api/catalogue",
    "/api/receipts/{id}/reprint",
    "/api/print-jobs/{id}/retry",
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def permits(principal: Principal, roles: Collection[Role], method: str, path: str) -> bool:
    """May ``principal`` call the endpoint ``method path`` declared for ``roles``?"""
    if not principal.manager:
        return principal.role in roles
    if _BACK_OFFICE.isdisjoint(roles):
        return False
    if path.startswith(MANAGER_NEVER):
        return False
    if method.upper() in SAFE_METHODS:
        return True
    return path.startswith(MANAGER_CHANGES)
