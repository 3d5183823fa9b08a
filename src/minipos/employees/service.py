"""Employees and their sign-in at a station (docs/employees.md).

The PIN is hashed and checked with the back office's scrypt code, and wrong PINs go through
its failure throttle (:mod:`minipos.auth.people`), counted per station: a till's PINs are
short, so the station, not the employee, is what is slowed down. Each try is counted before
its PIN is checked (``people.reserve_attempt``), so tries sent together cannot pass it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from minipos.auth import people
from minipos.db import Connection, Database, UniqueViolation
from minipos.domain.errors import Conflict, NotFound, ValidationFailed
from minipos.employees import repository
from minipos.employees.repository import EmployeeRow
from minipos.employees.schemas import (
    EmployeeBrief,
    EmployeeIn,
    EmployeeOut,
    EmployeePatch,
    SignInIn,
    StationEmployee,
)
from minipos.timeutil import local_aware

#: Wrong PINs allowed at one station before each further try must wait (30 s, doubling).
STATION_ALLOWANCE = 5


def _subject(station_id: int) -> str:
    return f"station:{station_id}"


def employee_out(row: EmployeeRow, zone: ZoneInfo) -> EmployeeOut:
    return EmployeeOut(
        id=row["id"],
        name=row["name"],
        role=row["role"],
        code=row["code"],
        disabled=row["disabled_at"] is not None,
        created_at=local_aware(row["created_at"], zone) or "",
    )


def hash_pin(pin: str) -> str:
    """Slow (scrypt): call it off the event loop and outside the write transaction."""
    return people.hash_password(pin)


def list_all(conn: Connection, zone: ZoneInfo) -> list[EmployeeOut]:
    return [employee_out(row, zone) for row in repository.list_all(conn)]


def _code_taken(code: str | None) -> ValidationFailed:
    return ValidationFailed.single(("code",), f"another employee has the code {code!r}")


def create(
    conn: Connection, data: EmployeeIn, pin_hash: str, zone: ZoneInfo, now_us: int
) -> EmployeeOut:
    if not data.name.strip():
        raise ValidationFailed.single(("name",), "a name is not blank")
    values = {
        "name": data.name.strip(), "role": data.role, "code": data.code,
        "pin_hash": pin_hash, "created_at": now_us,
    }  # fmt: skip
    try:
        employee_id = repository.insert(conn, values)
    except UniqueViolation:
        raise _code_taken(data.code) from None
    row = repository.get(conn, employee_id)
    assert row is not None
    return employee_out(row, zone)


def update(
    conn: Connection,
    employee_id: int,
    data: EmployeePatch,
    *,
    pin_hash: str | None,
    zone: ZoneInfo,
    now_us: int,
) -> EmployeeOut:
    """Change what is given; disabling (or a new PIN) signs the employee out everywhere."""
    row = repository.get(conn, employee_id)
    if row is None:
        raise NotFound("No employee with this id.")
    values: dict[str, Any] = {}
    if data.name is not None:
        if not data.name.strip():
            raise ValidationFailed.single(("name",), "a name is not blank")
        values["name"] = data.name.strip()
    if data.role is not None:
        values["role"] = data.role
    if data.code is not None:
        values["code"] = data.code
    if pin_hash is not None:
        values["pin_hash"] = pin_hash
    if data.disabled is not None:
        values["disabled_at"] = (row["disabled_at"] or now_us) if data.disabled else None
    try:
        repository.update(conn, employee_id, values)
    except UniqueViolation:
        raise _code_taken(data.code) from None
    if data.disabled or pin_hash is not None:
        repository.sign_out_everywhere(conn, employee_id)
    changed = repository.get(conn, employee_id)
    assert changed is not None
    return employee_out(changed, zone)


def _brief(row: EmployeeRow) -> EmployeeBrief:
    return EmployeeBrief(id=row["id"], name=row["name"], role=row["role"])


def at_station(conn: Connection, station_id: int) -> StationEmployee:
    if not repository.station_exists(conn, station_id):
        raise NotFound("No station with this id.")
    row = repository.station_employee(conn, station_id)
    return StationEmployee(
        station_id=station_id,
        employees_configured=repository.any_active(conn),
        employee=None if row is None else _brief(row),
    )


@dataclass(frozen=True, slots=True)
class WrongPin:
    """A wrong employee or PIN (``retry_after_s`` 0), or too many tries: wait."""

    retry_after_s: int


def _check_sign_in(data: SignInIn) -> None:
    if (data.employee_id is None) == (data.code is None):
        raise ValidationFailed.single(("employee_id",), "give either employee_id or code")


async def sign_in(
    db: Database, station_id: int, data: SignInIn, now_us: int
) -> StationEmployee | WrongPin:
    """Throttle, count the try as a wrong PIN, then check the PIN (off the event loop): the
    station's employee (the failures cleared) or a failure. Whoever was signed in at the
    station is replaced."""
    _check_sign_in(data)
    subject = _subject(station_id)

    def look(conn: Connection) -> tuple[int, EmployeeRow | None]:
        if not repository.station_exists(conn, station_id):
            raise NotFound("No station with this id.")
        wait = people.subject_wait_us(conn, subject, STATION_ALLOWANCE, now_us)
        if data.employee_id is not None:
            return wait, repository.get(conn, data.employee_id)
        assert data.code is not None
        return wait, repository.by_code(conn, data.code)

    wait, row = await db.read(look)
    if not wait:
        # Counted as a wrong PIN before it is checked: PINs sent side by side cannot all pass.
        attempt = await db.write(
            lambda conn: people.reserve_attempt(conn, [(subject, STATION_ALLOWANCE)], now_us)
        )
        wait = attempt.wait_us
    if wait:
        return WrongPin(retry_after_s=-(-wait // 1_000_000))
    # An unknown employee costs as long as a wrong PIN (no hint which one was wrong).
    stored = row["pin_hash"] if row is not None else None

    def check() -> bool:
        return people.check_password(stored or people.dummy_hash(), data.pin)

    ok = await asyncio.to_thread(check)
    if not ok or row is None or row["disabled_at"] is not None:
        return WrongPin(retry_after_s=0)  # counted already
    employee_id = row["id"]

    def sign(conn: Connection) -> StationEmployee:
        people.clear_failures(conn, subject)
        repository.set_station_employee(conn, station_id, employee_id)
        return at_station(conn, station_id)

    return await db.write(sign)


def sign_out(conn: Connection, station_id: int) -> StationEmployee:
    if not repository.station_exists(conn, station_id):
        raise NotFound("No station with this id.")
    repository.set_station_employee(conn, station_id, None)
    return at_station(conn, station_id)


def cashier(
    conn: Connection, station_id: int, cashier_id: int | None, cashier_name: str | None
) -> tuple[int | None, str | None]:
    """Who a shift change or a sale at the station is by: the signed-in employee when there is
    one (a request naming another ``cashier_id`` is refused, so a till cannot sell in someone
    else's name), otherwise the request's own cashier, as before employees existed."""
    row = repository.station_employee(conn, station_id)
    if row is None:
        return cashier_id, cashier_name
    if cashier_id is not None and cashier_id != row["id"]:
        raise Conflict(
            f"cashier_id {cashier_id} is not the employee signed in at this station "
            f"({row['id']}); sign in as that employee first."
        )
    return row["id"], row["name"]
