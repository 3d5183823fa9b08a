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

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from minipos.api.jsonio import HTTPProblem, reject_unknown
from minipos.auth.officeroles import permits
from minipos.auth.principal import Principal, Role
from minipos.domain.errors import FieldError, NotFound, ValidationFailed
from minipos.jsoncodec import UNKNOWN

MAX_ID = 2**63 - 1
Handler = Callable[[Request, Principal], Awaitable[Response]]
Authenticator = Callable[[Request], Awaitable[Principal]]

#: Query parameters every endpoint accepts besides its own: DRF's paging pair (a DRF client may
#: add it anywhere), and the station an admin's cashier screen acts for, which it adds to every
#: ``/api/invoice/…`` call (auth.access.acting_station reads it where the path has none).
ALWAYS_ACCEPTED = frozenset({"limit", "offset", "station_id"})


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

    def query_names(self) -> frozenset[str]:
        """Every query parameter this operation accepts."""
        declared = (
            {f.encode_name for f in msgspec.structs.fields(self.query)} if self.query else set()
        )
        return frozenset(declared | set(self.extra_query) | ALWAYS_ACCEPTED)


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


def build_routes(
    operations: Iterable[Operation],
    authenticate: Authenticator,
    *,
    unknown_fields: str = "reject",
) -> list[Route]:
    """Starlette routes; operations sharing a path share one route (one 405 answer).

    ``unknown_fields`` (``MINIPOS_UNKNOWN_FIELDS``): refuse undeclared body fields and query
    parameters with a 400 naming them, or ignore them as DRF does (docs/api-conventions.md).
    """
    by_path: dict[str, dict[str, Operation]] = {}
    for op in operations:
        by_path.setdefault(op.path, {})[op.method] = op
    reject = unknown_fields == "reject"
    return [
        Route(
            _starlette_path(path),
            _dispatch(methods, authenticate, reject),
            methods=list(methods),
        )
        for path, methods in by_path.items()
    ]


def _dispatch(
    methods: dict[str, Operation], authenticate: Authenticator, reject: bool
) -> Callable[[Request], Awaitable[Response]]:
    accepted = {method: op.query_names() for method, op in methods.items()}

    async def endpoint(request: Request) -> Response:
        method = request.method if request.method != "HEAD" else "GET"
        op = methods[method]
        principal = await authenticate(request)
        if not permits(principal, op.roles, method, op.path):
            raise HTTPProblem(403, "You do not have permission to perform this action.")
        if any(isinstance(v, int) and v > MAX_ID for v in request.path_params.values()):
            raise NotFound()  # no row has such an id, and the drivers cannot even bind it
        reject_unknown.set(reject)  # for jsonio.decode, in this request's context only
        # The raw query string: building ``request.url`` costs more than the whole check.
        if reject and request.scope["query_string"]:
            unknown = [name for name in request.query_params if name not in accepted[method]]
            if unknown:
                raise ValidationFailed(FieldError((name,), UNKNOWN) for name in unknown)
        return await op.handler(request, principal)

    return endpoint


PATH_PARAMETER = re.compile(r"\{(\w+)\}")


def _starlette_path(path: str) -> str:
    # Every path parameter of this API (``{id}``, ``{station_id}``) is an integer id.
    return PATH_PARAMETER.sub(r"{\1:int}", path)
