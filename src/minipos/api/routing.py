"""Endpoints declared once: the route, who may call it, and what it takes and returns.

The same declaration builds the Starlette route (with authentication and the role check in
front of the handler) and the OpenAPI operation, so the published spec cannot drift from what
the server accepts.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec
from starlette._utils import get_route_path
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route
from starlette.routing import Router as StarletteRouter
from starlette.types import Lifespan, Receive, Scope, Send

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
    wrap_post: Callable[[Handler], Handler] | None = None,
) -> list[Route]:
    """Starlette routes; operations sharing a path share one route (one 405 answer).

    ``unknown_fields`` (``MINIPOS_UNKNOWN_FIELDS``): refuse undeclared body fields and query
    parameters with a 400 naming them, or ignore them as DRF does (docs/api-conventions.md).
    ``wrap_post`` wraps every POST handler, after authentication: how ``Idempotency-Key``
    reaches them all (minipos.idempotency).
    """
    by_path: dict[str, dict[str, Operation]] = {}
    for declared in operations:
        op = declared
        if wrap_post is not None and op.method == "POST":
            op = dataclasses.replace(op, handler=wrap_post(op.handler))
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


class IndexedRouter(StarletteRouter):
    """Starlette's router with an index in front of its walk.

    Starlette tries every route in order, a regular expression each: with some 80 routes the
    walk cost more than everything else in a ``GET /health``, and a station's calls sat some
    25 routes deep. The index maps a path's first two segments (``/api/invoice`` for
    ``/api/invoice/7/claim``) to the routes that could take such a path, in their order. A path
    that none of them takes fully (a 404, a 405, a slash to redirect) gets Starlette's own walk,
    so every answer is the one Starlette would give.
    """

    def __init__(self, routes: list[BaseRoute], *, lifespan: Lifespan[Any] | None = None) -> None:
        super().__init__(routes, lifespan=lifespan)
        self._index, self._anywhere = route_index(self.routes)

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for route in self._index.get(index_key(get_route_path(scope)), self._anywhere):
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    scope.setdefault("router", self)
                    scope["route"] = route
                    scope.update(child_scope)
                    await route.handle(scope, receive, send)
                    return
        await super().app(scope, receive, send)


def index_key(path: str) -> str:
    """A path's first two segments: ``/api/invoice/7/claim`` → ``/api/invoice``."""
    first = path.find("/", 1)
    second = path.find("/", first + 1) if first != -1 else -1
    return path if second == -1 else path[:second]


def route_index(routes: list[BaseRoute]) -> tuple[dict[str, list[BaseRoute]], list[BaseRoute]]:
    """Each key's candidate routes in their order, and the routes any path may reach.

    A ``Route`` whose path starts with two fixed segments (``/api/invoice/{id:int}``,
    ``/health``) can only take paths with that key; anything else (a mount, a parameter in
    the first two segments) goes under every key.
    """
    index: dict[str, list[BaseRoute]] = {}
    anywhere: list[BaseRoute] = []
    for route in routes:
        key = _route_key(route)
        if key is None:
            anywhere.append(route)
            for candidates in index.values():
                candidates.append(route)
        else:
            index.setdefault(key, list(anywhere)).append(route)
    return index, anywhere


def _route_key(route: BaseRoute) -> str | None:
    if not isinstance(route, Route):
        return None
    fixed, brace, _ = route.path.partition("{")
    if not brace:
        return index_key(fixed)  # no parameter: it takes this one path only
    # A parameter may span segments ({p:path}): only a fixed part reaching the third "/"
    # pins the key.
    return index_key(fixed) if fixed.count("/") >= 3 else None
