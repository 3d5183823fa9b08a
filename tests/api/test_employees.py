"""Employees (issue 14; docs/employees.md): admins add and change them, the PIN is stored as
a slow hash and never shown; an employee signs in at a station with a PIN and is then the
cashier of the shift, of each receipt and of the journal; wrong PINs are throttled per
station."""

from __future__ import annotations

from typing import Any

import pytest

from minipos.auth.principal import Role
from minipos.db import open_database
from support import Api, Station


def _add(api: Api, name: str = "Anna Bērziņa", pin: str = "1234", **more: Any) -> Any:
    response = api.as_(Role.ADMIN).post(
        "/api/employees", json={"name": name, "role": "cashier", "pin": pin, **more}
    )
    assert response.status_code == 201, response.text
    return response.json()


def _sign_in(station: Station, pin: str, **who: Any) -> Any:
    return station.post(f"/api/stations/{station.id}/employee/sign-in", {"pin": pin, **who})


def test_crud_and_the_pin_is_never_shown(api: Api, settings: Any) -> None:
    admin = api.as_(Role.ADMIN)
    anna = _add(api, code="17")
    assert anna == {
        "id": anna["id"], "name": "Anna Bērziņa", "role": "cashier", "code": "17",
        "disabled": False, "created_at": anna["created_at"],
    }  # fmt: skip
    listed = admin.get("/api/employees")
    assert listed.status_code == 200
    assert [e["name"] for e in listed.json()] == ["Anna Bērziņa"]
    assert "1234" not in listed.text
    assert "pin" not in listed.text
    assert "scrypt" not in listed.text
    changed = admin.patch(
        f"/api/employees/{anna['id']}", json={"role": "manager", "pin": "98765", "disabled": True}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["role"] == "manager"
    assert changed.json()["disabled"] is True
    assert "98765" not in changed.text
    assert "pin" not in changed.text
    # The stored hash is scrypt, never the PIN itself.
    db = open_database(settings.database_url)
    try:
        stored = db.run(lambda conn: conn.fetchone("SELECT pin_hash FROM employees"))
    finally:
        db.close()
    assert stored is not None
    assert stored["pin_hash"].startswith("scrypt$")
    assert "98765" not in stored["pin_hash"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "A", "role": "cashier", "pin": "123"}, "pin"),
        ({"name": "A", "role": "cashier", "pin": "123456789"}, "pin"),
        ({"name": "A", "role": "cashier", "pin": "12a4"}, "pin"),
        ({"name": "A", "role": "boss", "pin": "1234"}, "role"),
        ({"name": "", "role": "cashier", "pin": "1234"}, "name"),
        ({"name": "   ", "role": "cashier", "pin": "1234"}, "name"),
        ({"role": "cashier", "pin": "1234"}, "name"),
    ],
)
def test_bad_input_names_the_field(api: Api, body: dict[str, Any], field: str) -> None:
    response = api.as_(Role.ADMIN).post("/api/employees", json=body)
    assert response.status_code == 400, response.text
    assert field in response.text


def test_a_code_is_unique_and_unknown_ids_are_404(api: Api) -> None:
    _add(api, code="7")
    again = api.as_(Role.ADMIN).post(
        "/api/employees", json={"name": "B", "role": "cashier", "pin": "1234", "code": "7"}
    )
    assert again.status_code == 400
    assert "code" in again.text
    missing = api.as_(Role.ADMIN).patch("/api/employees/999", json={"name": "X"})
    assert missing.status_code == 404


@pytest.mark.parametrize("role", [Role.INTEGRATOR, Role.STATION])
def test_only_admins_manage_employees(api: Api, role: Role) -> None:
    client = api.as_(role)
    assert client.get("/api/employees").status_code == 403
    body = {"name": "A", "role": "cashier", "pin": "1234"}
    assert client.post("/api/employees", json=body).status_code == 403
