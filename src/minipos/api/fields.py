"""Field types shared by the request schemas of several areas."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

#: Any integer a query may carry: what a 64-bit column can hold, so no driver overflows.
QueryInt = Annotated[int, Meta(ge=0, le=2**63 - 1)]


def whole(body: str) -> str:
    """A field pattern that ``body`` must match whole. msgspec tests a pattern with
    ``re.search``, and Python's ``$`` also matches before a final newline, so ``^[0-9]{4}$``
    took "1234\n"; the lookahead refuses that and is still JSON Schema (ECMA-262) syntax, as
    the published OpenAPI document needs."""
    return f"^(?:{body})(?!\n)$"
