"""Rows of ``employees`` and the station's ``employee_id`` (who is signed in there)."""

from __future__ import annotations

from typing import Any, TypedDict, cast

from minipos.db import Connection


class EmployeeRow(TypedDict):
    id: int
    name: str
    role: str
    code: str | None
    pin_hash: str
    disabled_at: int | None
    created_at: int


_COLUMNS = "id, name, role, code, pin_hash, disabled_at, created_at"


def insert(conn: Connection, values: dict[str, Any]) -> int:
    row = conn.fetchone(
        "INSERT INTO employees (name, role, code, pin_hash, disabled_at, created_at)"
        " VALUES (:name, :role, :code, :pin_hash, NULL, :created_at) RETURNING id",
        values,
    )
    assert row is not None
    return int(row["id"])


def get(conn: Connection, employee_id: int) -> EmployeeRow | None:
    row = conn.fetchone(
        f"SELECT {_COLUMNS} FROM employees WHERE id = :id",
        {"id": employee_id},
    )
    return cast("EmployeeRow | None", row)


def by_code(conn: Connection, code: str) -> EmployeeRow | None:
    row = conn.fetchone(
        f"SELECT {_COLUMNS} FROM employees WHERE code = :code",
        {"code": code},
    )
    return cast("EmployeeRow | None", row)


def list_all(conn: Connection) -> list[EmployeeRow]:
    rows = conn.fetchall(f"SELECT {_COLUMNS} FROM employees ORDER BY id")
    return cast("list[EmployeeRow]", rows)


def any_active(conn: Connection) -> bool:
    return (
        conn.fetchone("SELECT 1 AS x FROM employees WHERE disabled_at IS NULL LIMIT 1") is not None
    )


def update(conn: Connection, employee_id: int, values: dict[str, Any]) -> None:
    """Set the given columns (names are ours, never the caller's)."""
    if not values:
        return
    sets = ", ".join(f"{column} = :{column}" for column in values)
    conn.execute(
        f"UPDATE employees SET {sets} WHERE id = :id",
        {**values, "id": employee_id},
    )


def station_exists(conn: Connection, station_id: int) -> bool:
    found = conn.fetchone("SELECT 1 AS x FROM stations WHERE id = :id", {"id": station_id})
    return found is not None


def station_employee(conn: Connection, station_id: int) -> EmployeeRow | None:
    """The employee signed in at the station, if any (and still enabled)."""
    row = conn.fetchone(
        "SELECT e.id, e.name, e.role, e.code, e.pin_hash, e.disabled_at, e.created_at"
        " FROM stations st JOIN employees e ON e.id = st.employee_id"
        " WHERE st.id = :id AND e.disabled_at IS NULL",
        {"id": station_id},
    )
    return cast("EmployeeRow | None", row)


def set_station_employee(conn: Connection, station_id: int, employee_id: int | None) -> None:
    conn.execute(
        "UPDATE stations SET employee_id = :e WHERE id = :id",
        {"e": employee_id, "id": station_id},
    )


def sign_out_everywhere(conn: Connection, employee_id: int) -> None:
    conn.execute(
        "UPDATE stations SET employee_id = NULL WHERE employee_id = :e", {"e": employee_id}
    )
