"""Request bodies nested too deeply: a 400 naming the limit on every route that takes a body
(issue #11, hole 3), never msgspec's RecursionError as a 500."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from chaincentre import as_centre
from minipos.api.jsonio import MAX_DEPTH
from minipos.api.routing import Operation
from minipos.auth.principal import Role
from minipos.bootstrap import create_app, operations
from minipos.config import Settings
from support import Api

BODY_OPERATIONS = [op for op in operations() if op.body is not None]

#: 1,000 levels: arrays, objects, mixed, and hidden in a field every body type ignores.
DEEP = {
    "arrays": b"[" * 1000 + b"]" * 1000,
    "objects": b'{"a":' * 1000 + b"1" + b"}" * 1000,
    "mixed": b'[{"a":' * 500 + b"1" + b"}]" * 500,
    "ignored field": b'{"not_a_field": ' + b"[" * 1000 + b"]" * 1000 + b"}",
    "unclosed": b'{"x": ' + b"[" * 1000,
    "after a bracketed string": b'{"x": "]]]]", "y": ' + b"[" * 1000 + b"]" * 1000 + b"}",
}


def test_the_body_routes_are_all_here() -> None:
    """The parametrization below covers every declared write route (a new one joins it)."""
    assert {op.method for op in BODY_OPERATIONS} == {"POST", "PUT", "PATCH"}
    assert len(BODY_OPERATIONS) >= 14


@pytest.mark.parametrize("op", BODY_OPERATIONS, ids=lambda op: f"{op.method} {op.path}")
def test_deep_nesting_is_a_400_naming_the_limit_on_every_body_route(
    request: pytest.FixtureRequest, settings: Settings, keys: dict[Role, str], op: Operation
) -> None:
    # Admin may call every route but the store's sync, which a store's key calls; the chain's
    # routes answer at a centre. ``station_id`` names the station for station routes.
    path = re.sub(r"\{\w+\}", "1", op.path) + "?station_id=1"
    if not op.path.startswith(("/api/stores", "/api/sync/")):
        _refuses_deep_nesting(request.getfixturevalue("api"), op, path)
        return
    with TestClient(create_app(as_centre(settings))) as client:
        centre = Api(client, keys)
        added = centre.as_(Role.ADMIN).post("/api/stores", json={"code": "R1", "name": "R1"})
        assert added.status_code == 201, added.text
        centre.keys = {**keys, Role.STORE: added.json()["key"]}
        _refuses_deep_nesting(centre, op, path)


def _refuses_deep_nesting(api: Api, op: Operation, path: str) -> None:
    client = api.as_(Role.ADMIN if Role.ADMIN in op.roles else Role.STORE)
    for name, body in DEEP.items():
        response = client.request(
            op.method, path, content=body, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400, (name, response.text)
        assert f"deeper than {MAX_DEPTH} levels" in response.json()["detail"], name
    # The same client goes on working (the server answered rather than crashed).
    assert client.get("/health").status_code == 200


def test_brackets_inside_strings_do_not_count(api: Api) -> None:
    """Text full of brackets (a receipt line "[[[[" or a quote-escaped one) is ordinary text."""
    text = '[[[[{{{{\\"[[[[' * 20
    row = '{"text": "Kafija", "quantity": 1, "price": 1, "payload": "' + text + '"}'
    body = '{"rows": [' + row + "]}"
    response = api.as_(Role.INTEGRATOR).post(
        "/api/invoice/new", content=body.encode(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["rows"][0]["payload"] == text.replace('\\"', '"')
