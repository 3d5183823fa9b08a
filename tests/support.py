"""Helpers shared by the test suites (imported as ``support``: a name no other module has)."""

from __future__ import annotations

from typing import Any

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


class Station:
    """A registered station speaking with its own key."""

    def __init__(self, client: TestClient, data: dict[str, Any]) -> None:
        self.client = client
        self.id: int = data["id"]
        self.pos_id: str = data["pos_id"]
        self.headers = {"Authorization": f"Token {data['key']}"}

    def post(self, path: str, body: Any = None) -> Any:
        return self.client.post(path, json=body if body is not None else {}, headers=self.headers)

    def get(self, path: str) -> Any:
        return self.client.get(path, headers=self.headers)

    def open_shift(self, cashier: str = "Anna") -> Any:
        return self.post(f"/api/stations/{self.id}/shift/open", {"cashier_name": cashier})

    def close_shift(self) -> Any:
        return self.post(f"/api/stations/{self.id}/shift/close", {"cashier_name": "Anna"})

    def claim(self, invoice_id: int) -> Any:
        return self.post(f"/api/invoice/{invoice_id}/claim")

    def complete(self, invoice_id: int, request_id: str = "r1", **body: Any) -> Any:
        return self.post(f"/api/invoice/{invoice_id}/complete", {"request_id": request_id, **body})


def register(api: Api, name: str, pos_id: str, group: str = "1") -> Station:
    response = api.as_(Role.ADMIN).post(
        "/api/stations",
        json={"name": name, "pos_id": pos_id, "chassis_id": f"CH{pos_id}", "station_group": group},
    )
    assert response.status_code == 201, response.text
    return Station(api.client, response.json())


def post_invoice(api: Api, body: dict[str, Any] | None = None) -> dict[str, Any]:
    body = body or {"rows": [{"text": "Kafija", "quantity": 2, "price": 1.5}]}
    response = api.as_(Role.INTEGRATOR).post("/api/invoice/new", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result
