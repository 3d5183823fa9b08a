"""Endpoints declared once: the route, who may call it, and what it takes and returns.

The same declaration builds the Starlette route (with authentication and the role check in
front of the handler) and the OpenAPI operation, so the published spec cannot drift from what
the server accepts.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from minipos.api.jsonio import HTTPProblem
from minipos.auth.principal import Principal, Role
from minipos.domain.errors import NotFound

MAX_ID = 2**63 - 1
Handler = Callable[[Request, Principal], Awaitable[Response]]
Authenticator = Callable[[Request], Awaitable[Principal]]


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    roles: frozenset[Role]
    handler: Handler
    tag: str
    body: Any = None
    response: Any = None
    status: int = 200
    query: Any = None
    #: Extra query parameters that are not a struct field: name → (JSON schema, description).
    extra_query: dict[str, tuple[dict[str, Any], str]] = field(default_factory=dict)
    description: str = ""
    #: Media types of a non-JSON success body (a document: ``text/plain``, ``image/png``).
    media_types: tuple[str, ...] = ()


@dataclass
class Router:
    """Collects the operations of one business area."""

    tag: str
    operations: list[Operation] = field(default_factory=list)

    def endpoint(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        roles: Iterable[Role],
        body: Any = None,
        response: Any = None,
        status: int = 200,
        query: Any = None,
        extra_query: dict[str, tuple[dict[str, Any], str]] | None = None,
        description: str = "",
        media_types: tuple[str, ...] = (),
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.operations.append(
                Operation(
                    method=method,
                    path=path,
                    summary=summary,
                    roles=frozenset(roles),
                    handler=handler,
                    tag=self.tag,
                    body=body,
                    response=response,
                    status=status,
                    query=query,
                    extra_query=extra_query or {},
                    description=description,
                    media_types=media_types,
                )
            )
            return handler

        return register


def build_routes(operations: Iterable[Operation], authenticate: Authenticator) -> list[Route]:
    """Starlette routes; operations sharing a path share one route (one 405 answer)."""
    by_path: dict[str, dict[str, Operation]] = {}
    for op in operations:
        by_path.setdefault(op.path, {})[op.method] = op
    return [
        Route(_starlette_path(path), _dispatch(methods, authenticate), methods=list(methods))
        for path, methods in by_path.items()
    ]


def _dispatch(
    methods: dict[str, Operation], authenticate: Authenticator
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        op = methods[request.method if request.method != "HEAD" else "GET"]
        principal = await authenticate(request)
        if principal.role not in op.roles:
            raise HTTPProblem(403, "You do not have permission to perform this action.")
        if any(isinstance(v, int) and v > MAX_ID for v in request.path_params.values()):
            raise NotFound()  # no row has such an id, and the drivers cannot even bind it
        return await op.handler(request, principal)

    return endpoint


PATH_PARAMETER = re.compile(r"\{(\w+)\}")


def _starlette_path(path: str) -> str:
    # Every path parameter of this API (``{id}``, ``{station_id}``) is an integer id.
    return PATH_PARAMETER.sub(r"{\1:int}", path)
