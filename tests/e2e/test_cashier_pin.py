"""The cashier screen's employee PIN sign-in (issue 14; docs/employees.md), end to end: with
employees in the shop the screen asks for a code and PIN after the key, wrong PINs are
refused, and the sale and the shift carry the employee; without employees nothing changes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import Page, chrome, require_chromium
from serverproc import Server
from test_cashier_ui import Shop

pytestmark = pytest.mark.e2e


@pytest.fixture
def shop(server: Server) -> Shop:
    require_chromium()
    return Shop(server)


@pytest.fixture
def page(shop: Shop, tmp_path: Path) -> Iterator[Page]:
    driver = chrome(tmp_path / "profile")
    yield Page(driver, shop.server)
    driver.quit()


def _key_login(page: Page, key: str, cashier: str) -> None:
    page.login_with_key(key)
    page.el("login-key").submit()
    page.wait_visible("login-station-name")
    page.type("login-cashier", cashier)
    page.el("login-cashier").send_keys("\n")


def test_pin_sign_in_names_the_cashier(shop: Shop, page: Page) -> None:
    status, anna = shop.call(
        shop.admin,
        "POST",
        "/api/employees",
        {"name": "Anna Bērziņa", "role": "cashier", "pin": "4821", "code": "17"},
    )
    assert status == 201, anna
    pos = shop.register("Kase 1", "1")
    _key_login(page, pos["key"], "Someone")
    page.wait_visible("pin-screen")
    assert not page.visible("pos-screen")
    page.type("pin-code", "17")
    page.type("pin-pin", "0000")
    page.el("pin-pin").send_keys("\n")
    page.wait_text("pin-error", "Wrong code or PIN.")
    page.screenshot("pin-wrong")
    page.type("pin-pin", "4821")
    page.el("pin-pin").send_keys("\n")
    page.wait_visible("pos-screen")
    page.wait_text("bar-cashier", "Cashier: Anna Bērziņa")
    assert page.visible("employee-signout")
    page.el("shift-open").click()
    # Not page.open_shift(): its "open" is also in "No open shift", so it may not wait.
    page.wait_text("shift-status", "Shift 1 open")
    status, shifts = shop.call(shop.admin, "GET", f"/api/shifts?station_id={pos['id']}")
    assert status == 200
    assert (shifts[0]["start_employee"], shifts[0]["start_employee_name"]) == (
        anna["id"],
        "Anna Bērziņa",
    )
    # A reload keeps the signed-in employee; "Change cashier" signs out and asks again.
    page.driver.refresh()
    page.wait_text("bar-cashier", "Cashier: Anna Bērziņa")
    page.el("employee-signout").click()
    page.wait_visible("pin-screen")
    status, here = shop.call(pos["key"], "GET", f"/api/stations/{pos['id']}/employee")
    assert status == 200
    assert here["employee"] is None


def test_without_employees_there_is_no_pin(shop: Shop, page: Page) -> None:
    pos = shop.register("Kase 1", "1")
    _key_login(page, pos["key"], "Jānis")
    page.wait_visible("pos-screen")
    page.wait_text("bar-cashier", "Cashier: Jānis")
    assert not page.visible("pin-screen")
    assert not page.visible("employee-signout")
