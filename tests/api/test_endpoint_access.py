"""Every declared endpoint guards itself the same way: no key is a 401, a role outside the
operation's roles is a 403, and both come before anything else the endpoint looks at (the
body, the resource: ``1`` names no row here, so a 404 would mean a lookup ran first)."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette

from minipos.api.routing import PATH_PARAMETER, Operation
from minipos.auth.principal import Role
from minipos.bootstrap import create_app
from minipos.config import Settings
from support import Api, declared_operations

#: Read off an app's routes, so an endpoint added tomorrow is in this list at once.
OPERATIONS = declared_operations(create_app(Settings()))


def test_the_operations_are_those_the_spec_publishes(api: Api) -> None:
    # Guards the route reading above: if it finds fewer operations, this fails, not skips.
    spec = api.as_(None).get("/openapi.json").json()
    published = {(method.upper(), path) for path, item in spec["paths"].items() for method in item}
    app = api.client.app
    assert isinstance(app, Starlette)
    served = {(op.method, op.path) for op in declared_operations(app)}
    assert served == published == {(op.method, op.path) for op in OPERATIONS}


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: f"{op.method} {op.path}")
def test_no_key_is_401_and_a_role_outside_the_operation_is_403(api: Api, op: Operation) -> None:
    path = PATH_PARAMETER.sub("1", op.path)
    # An invalid body: the refusal must come before decoding it.
    body = {"json": {"unknown": []}} if op.method in ("POST", "PUT", "PATCH") else {}
    response = api.as_(None).request(op.method, path, **body)
    assert response.status_code == 401, response.text
    outsiders = set(Role) - op.roles
    for role in outsiders:
        response = api.as_(role).request(op.method, path, **body)
        assert response.status_code == 403, (role, response.text)
