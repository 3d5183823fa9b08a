"""Employees (issue 14; docs/employees.md): admins add and change them, the PIN is stored as
a slow hash and never shown; an employee signs in at a station with a PIN and is then the
cashier of the shift, of each receipt and of the journal; wrong PINs are throttled per
station."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from minipos.auth.principal import Role
from minipos.db import open_database
from minipos.employees.service import STATION_ALLOWANCE
from support import Api, Station, register, sign_in_failures


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


def _sell(station: Station, request_id: str, **more: Any) -> Any:
    return station.post(
        f"/api/stations/{station.id}/receipts",
        {
            "request_id": request_id,
            "rows": [{"text": "Maize", "price": "1.50"}],
            "payments": [{"method_id": 1, "amount": "2"}],
            **more,
        },
    )


def test_the_signed_in_employee_is_on_the_shift_the_receipt_and_the_journal(api: Api) -> None:
    anna = _add(api, code="17")
    pos = register(api, "Kase 1", "01")
    signed = _sign_in(pos, "1234", code="17")
    assert signed.status_code == 200, signed.text
    assert signed.json()["employee"] == {
        "id": anna["id"],
        "name": "Anna Bērziņa",
        "role": "cashier",
    }
    here = pos.get(f"/api/stations/{pos.id}/employee").json()
    assert here["employees_configured"] is True
    assert here["employee"]["id"] == anna["id"]
    # The request's own cashier name gives way to the signed-in employee's.
    opened = pos.post(f"/api/stations/{pos.id}/shift/open", {"cashier_name": "Someone"})
    assert opened.status_code == 200, opened.text
    assert opened.json()["start_employee"] == anna["id"]
    assert opened.json()["start_employee_name"] == "Anna Bērziņa"
    sold = _sell(pos, "s1")
    assert sold.status_code == 201, sold.text
    assert sold.json()["cashier"] == anna["id"]
    assert sold.json()["cashier_name"] == "Anna Bērziņa"
    # Naming another employee while Anna is signed in is a conflict, not a sale in their name.
    other = _sell(pos, "s2", cashier_id=anna["id"] + 1)
    assert other.status_code == 409, other.text
    assert "cashier_id" in other.text
    closed = pos.post(f"/api/stations/{pos.id}/shift/close", {})
    assert closed.status_code == 200, closed.text
    assert closed.json()["close_employee"] == anna["id"]
    assert closed.json()["close_employee_name"] == "Anna Bērziņa"
    journal = api.as_(Role.ADMIN).get("/api/journal", params={"station_id": pos.id}).json()
    assert [e["kind"] for e in journal] == ["receipt", "z_report"]
    assert all("Anna Bērziņa" in e["text"] for e in journal)
    # Signed out: the station is back to the request's own cashier.
    out = pos.post(f"/api/stations/{pos.id}/employee/sign-out")
    assert out.status_code == 200
    assert out.json()["employee"] is None
    reopened = pos.post(f"/api/stations/{pos.id}/shift/open", {"cashier_name": "Jānis"})
    assert reopened.json()["start_employee_name"] == "Jānis"


def test_without_employees_the_request_names_the_cashier(api: Api) -> None:
    pos = register(api, "Kase 1", "01")
    here = pos.get(f"/api/stations/{pos.id}/employee").json()
    assert here == {"station_id": pos.id, "employees_configured": False, "employee": None}
    opened = pos.post(
        f"/api/stations/{pos.id}/shift/open", {"cashier_name": "Anna", "cashier_id": 7}
    )
    assert opened.json()["start_employee"] == 7
    sold = _sell(pos, "s1", cashier_name="Anna", cashier_id=7)
    assert (sold.json()["cashier"], sold.json()["cashier_name"]) == (7, "Anna")


def test_wrong_pins_are_throttled_per_station(api: Api) -> None:
    anna = _add(api)
    pos = register(api, "Kase 1", "01")
    other = register(api, "Kase 2", "02")
    for _ in range(5):
        wrong = _sign_in(pos, "0000", employee_id=anna["id"])
        assert wrong.status_code == 403, wrong.text
    # Past the allowance even the right PIN waits (30 s, doubling), with Retry-After.
    held = _sign_in(pos, "1234", employee_id=anna["id"])
    assert held.status_code == 429, held.text
    assert 0 < int(held.headers["Retry-After"]) <= 30
    # Another station is not slowed down by this one's wrong PINs.
    assert _sign_in(other, "1234", employee_id=anna["id"]).status_code == 200
    # An unknown employee or a disabled one is the same refusal as a wrong PIN.
    assert _sign_in(other, "1234", employee_id=999).status_code == 403
    api.as_(Role.ADMIN).patch(f"/api/employees/{anna['id']}", json={"disabled": True})
    assert other.get(f"/api/stations/{other.id}/employee").json()["employee"] is None
    assert _sign_in(other, "1234", employee_id=anna["id"]).status_code == 403


def test_wrong_pins_sent_together_are_throttled_too(api: Api, settings: Any) -> None:
    """A burst of PINs sent side by side: no more are checked than one after another would
    be (each is counted before its PIN is checked), the rest wait; after the wait the right
    PIN signs in."""
    _add(api, code="18")
    pos = register(api, "Kase 1", "01")
    pins = [f"{n:04}" for n in range(12)]  # the right PIN is 1234, not among them
    with ThreadPoolExecutor(len(pins)) as pool:
        answers = list(pool.map(lambda pin: _sign_in(pos, pin, code="18"), pins))
    statuses = sorted(answer.status_code for answer in answers)
    checked = statuses.count(403)
    assert 1 <= checked <= STATION_ALLOWANCE, statuses
    assert statuses.count(429) == len(pins) - checked, statuses
    assert all(0 < int(a.headers["Retry-After"]) <= 30 for a in answers if a.status_code == 429)
    assert sign_in_failures(settings.database_url, f"station:{pos.id}") == checked
    # The wait over (the failures made 31 s older), the right PIN signs in and clears them.
    assert (
        sign_in_failures(settings.database_url, f"station:{pos.id}", older_by_us=31_000_000)
        == checked
    )
    signed = _sign_in(pos, "1234", code="18")
    assert signed.status_code == 200, signed.text
    assert sign_in_failures(settings.database_url, f"station:{pos.id}") == 0


def test_the_right_pin_among_wrong_ones_sent_together_signs_in(api: Api, settings: Any) -> None:
    """Within the allowance, the right PIN sent alongside wrong ones is not held up by the
    failure counted for it while its PIN was checked (nor by the others')."""
    _add(api, code="18")
    pos = register(api, "Kase 1", "01")
    pins = ["0000", "0001", "1234", "0002", "0003"]
    with ThreadPoolExecutor(len(pins)) as pool:
        answers = list(pool.map(lambda pin: _sign_in(pos, pin, code="18"), pins))
    assert [a.status_code for a in answers] == [403, 403, 200, 403, 403]
    assert sign_in_failures(settings.database_url, f"station:{pos.id}") <= len(pins) - 1


@pytest.mark.parametrize(
    ("body", "field"),
    [({"pin": "1234"}, "employee_id"), ({"pin": "12", "employee_id": 1}, "pin")],
)
def test_sign_in_bad_input_names_the_field(api: Api, body: dict[str, Any], field: str) -> None:
    pos = register(api, "Kase 1", "01")
    response = pos.post(f"/api/stations/{pos.id}/employee/sign-in", body)
    assert response.status_code == 400, response.text
    assert field in response.text


def test_a_station_signs_in_only_at_itself(api: Api) -> None:
    _add(api)
    pos = register(api, "Kase 1", "01")
    other = register(api, "Kase 2", "02")
    response = pos.post(
        f"/api/stations/{other.id}/employee/sign-in", {"pin": "1234", "employee_id": 1}
    )
    assert response.status_code == 403
