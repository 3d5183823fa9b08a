"""``/api/employees`` and a station's employee sign-in: what goes in and what comes out (the
PIN and its hash never come out)."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, Struct

from minipos.api.fields import QueryInt, whole

Name = Annotated[str, Meta(min_length=1, max_length=100)]
#: 4 to 8 digits.
Pin = Annotated[str, Meta(pattern=whole("[0-9]{4,8}"))]
#: A short code typed at the till instead of choosing a name (optional, unique).
Code = Annotated[str, Meta(pattern=whole("[A-Za-z0-9]{1,16}"))]
EmployeeRole = Literal["cashier", "manager"]


class EmployeeOut(Struct):
    id: int
    name: str
    role: str
    code: str | None
    disabled: bool
    created_at: str


class EmployeeIn(Struct, kw_only=True, forbid_unknown_fields=True):
    name: Name
    role: EmployeeRole
    pin: Pin
    code: Code | None = None


class EmployeePatch(Struct, kw_only=True, forbid_unknown_fields=True):
    name: Name | None = None
    role: EmployeeRole | None = None
    pin: Pin | None = None
    code: Code | None = None
    disabled: bool | None = None


class SignInIn(Struct, kw_only=True, forbid_unknown_fields=True):
    """One of ``employee_id`` and ``code``, and the PIN."""

    pin: Pin
    employee_id: QueryInt | None = None
    code: Code | None = None


class StationEmployee(Struct):
    """The employee signed in at a station (``employee`` null: nobody), and whether the shop
    has any employees (the cashier UI asks for a PIN only then)."""

    station_id: int
    employees_configured: bool
    employee: EmployeeBrief | None


class EmployeeBrief(Struct):
    id: int
    name: str
    role: str
