"""Field types shared by the request schemas of several areas."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

#: Any integer a query may carry: what a 64-bit column can hold, so no driver overflows.
QueryInt = Annotated[int, Meta(ge=0, le=2**63 - 1)]
