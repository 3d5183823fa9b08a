"""The router's index (``api.routing.IndexedRouter``) picks, for every path, the route that
Starlette's own walk over all routes would pick: the index may only make the walk shorter."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st
from starlette.routing import BaseRoute, Match, Route

from minipos.api.routing import IndexedRouter, index_key
from minipos.bootstrap import create_app
from minipos.config import Settings
from support import Api

APP = create_app(Settings())
ROUTER = APP.router
assert isinstance(ROUTER, IndexedRouter)
ROUTES: list[BaseRoute] = ROUTER.routes
#: Every fixed segment the app's paths use, so generated paths hit real routes often.
SEGMENTS = sorted(
    {part for route in ROUTES for part in getattr(route, "path", "").split("/") if "{" not in part}
)


def first_full(routes: list[BaseRoute], method: str, path: str) -> BaseRoute | None:
    scope = {"type": "http", "method": method, "path": path, "root_path": ""}
    return next((r for r in routes if r.matches(scope)[0] is Match.FULL), None)


def candidates(path: str) -> list[BaseRoute]:
    return ROUTER._index.get(index_key(path), ROUTER._anywhere)


paths = st.builds(
    lambda parts, slash: "/" + "/".join(parts) + ("/" if slash else ""),
    st.lists(st.sampled_from(SEGMENTS) | st.sampled_from(["7", "0", "x", "99999"]), max_size=5),
    st.booleans(),
)


@given(method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE"]), path=paths)
def test_the_index_picks_what_the_walk_picks(method: str, path: str) -> None:
    # Where the index finds nothing, the router walks every route itself: that is only sound
    # if the walk then finds nothing either.
    assert first_full(candidates(path), method, path) is first_full(ROUTES, method, path)


def test_every_declared_path_reaches_its_own_route() -> None:
    for route in ROUTES:
        if isinstance(route, Route):
            path = re.sub(r"\{\w+(:\w+)?\}", "7", route.path)
            for method in route.methods or ():
                assert first_full(candidates(path), method, path) is first_full(
                    ROUTES, method, path
                ), (method, path)


def test_a_station_call_tries_only_its_own_area() -> None:
    # What the index is for: a claim no longer walks the whole table.
    assert len(candidates("/api/invoice/7/claim")) < len(ROUTES) // 4
    assert [r.path for r in candidates("/health") if isinstance(r, Route)] == ["/health"]


def test_misses_get_starlettes_answers(api: Api) -> None:
    client = api.as_(None)
    assert client.get("/health").status_code == 200
    assert client.get("/no/such/path").status_code == 404
    assert client.put("/health").status_code == 405
    moved = client.get("/health/", follow_redirects=False)
    assert (moved.status_code, moved.headers["location"]) == (307, "http://testserver/health")
