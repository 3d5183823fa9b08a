"""List responses: a bare JSON array, paging in headers (docs/decisions.md §7).

``X-Total-Count`` says how many items match; ``Link: <…>; rel="next"`` points at the next page
by id (keyset), so following it costs the same on page 1 and page 1,000.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from minipos.api.jsonio import JSONResponse, encode


def paged_response(
    request: Request,
    items: Sequence[Any],
    total: int | None,
    limit: int,
    *,
    cursor: str = "after_id",
) -> Response:
    """The page, with ``X-Total-Count`` (unless ``total`` is None) and the next page's link."""
    headers = {} if total is None else {"X-Total-Count": str(total)}
    if len(items) == limit and items:
        params = dict(request.query_params)
        params.pop("offset", None)
        params[cursor] = str(items[-1].id)
        params["limit"] = str(limit)
        url = request.url.replace_query_params(**params)
        headers["Link"] = f'<{url}>; rel="next"'
    return JSONResponse(encode(items), headers=headers)
