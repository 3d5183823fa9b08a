"""Helpers shared by the test suites (imported as ``support``: a name no other module has)."""

from __future__ import annotations

from starlette.testclient import TestClient

from minipos.auth.service import Role


class Api:
    """A test client that sends one role's key with every request."""

    def __init__(self, client: TestClient, keys: dict[Role, str]) -> None:
        self.client = client
        self.keys = keys

    def as_(self, role: Role | None) -> TestClient:
        self.client.headers.pop("Authorization", None)
        if role is not None:
            self.client.headers["Authorization"] = f"Token {self.keys[role]}"
        return self.client
