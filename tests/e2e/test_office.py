"""The back office in the browser (issue 15), end to end: the real server (SQLite and
PostgreSQL), Debian's headless Chromium, a signed-in admin and manager. Screenshots of each
page go to test-output/office/."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from browser import Page, chrome, require_chromium
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from serverproc import MINIPOS, Server, call, open_station

pytestmark = pytest.mark.e2e

SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "office"
PASSWORD = "labdien-2026"


class Office(Page):
    """A browser window on /office/."""

    def __init__(self, driver: Any, server: Server) -> None:
        super().__init__(driver, server)
        self.base = f"http://127.0.0.1:{server.port}"
        self.url = f"{self.base}/office/"

    def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.driver.save_screenshot(str(SHOTS / f"{name}.png"))

    def go(self, hash_path: str) -> None:
        self.driver.get(f"{self.url}#/{hash_path}")

    def sign_in(self, name: str, password: str = PASSWORD) -> None:
        self.driver.get(self.url)
        self.wait_visible("login-name")
        self.type("login-name", name)
        self.type("login-password", password + "\n")
        self.wait_visible("nav")

    def css(self, selector: str) -> Any:
        return self.driver.find_element(By.CSS_SELECTOR, selector)

    def accept(self) -> None:
        self.wait(lambda: self.driver.switch_to.alert, message="no confirmation asked")
        self.driver.switch_to.alert.accept()


def add_user(server: Server, name: str, role: str) -> None:
    done = subprocess.run(
        [MINIPOS, "user", "add", "--name", name, "--role", role, "--password-stdin"],
        input=PASSWORD + "\n",
        env=server.env,
        cwd=server.cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr


class Shop:
    def __init__(self, server: Server) -> None:
        self.server = server
        made = server.cli("key", "create", "--role", "admin")
        assert made.returncode == 0, made.stderr
        self.admin = made.stdout.strip()
        add_user(server, "anna", "admin")
        add_user(server, "maris", "manager")
        server.start()
        station = open_station(server, self.admin, "Kase 1", "1", "C1")
        self.station_key, self.station_id = station["key"], station["id"]
        self.sales = 0

    def call(self, method: str, path: str, body: Any = None, key: str | None = None) -> Any:
        status, data = call(self.server, key or self.admin, method, path, body)
        assert status in (200, 201, 204), (method, path, status, data)
        return data

    def sell(self, price: str, quantity: int = 1, method_id: int = 1) -> dict[str, Any]:
        invoice = {"rows": [{"text": "Rupjmaize", "quantity": quantity, "price": price}]}
        posted = self.call("POST", "/api/invoice/new", invoice)
        self.sales += 1
        self.call("POST", f"/api/invoice/{posted['id']}/claim", key=self.station_key)
        done: dict[str, Any] = self.call(
            "POST",
            f"/api/invoice/{posted['id']}/complete",
            {"request_id": f"office-{self.sales}", "payments": [{"method_id": method_id}]},
            key=self.station_key,
        )
        return done


@pytest.fixture
def shop(database_url: str, tmp_path: Path) -> Iterator[Shop]:
    require_chromium()
    env = {
        **os.environ,
        "MINIPOS_DATABASE_URL": database_url,
        "MINIPOS_ACCESS_LOG": "false",
        "MINIPOS_LANGUAGE": "lv",  # the default, said outright (serverproc's is English)
        "MINIPOS_AUTH_CACHE_SECONDS": "0",  # a revoked or disabled key is refused at once
    }
    env.pop("MINIPOS_SECRET_KEY", None)
    server = Server(env, tmp_path)
    server.env["MINIPOS_LANGUAGE"] = "lv"
    if database_url.startswith("postgresql"):
        _clear_users(database_url)
    yield Shop(server)
    server.stop()


def _clear_users(url: str) -> None:
    import psycopg  # noqa: PLC0415 - PostgreSQL half only

    with psycopg.connect(url, autocommit=True) as conn:
        for table in ("office_login_failures", "office_sessions", "office_users"):
            conn.execute(f"DELETE FROM {table}")  # tables kept between tests (not in TABLES)


@pytest.fixture
def windows(shop: Shop, tmp_path: Path) -> Iterator[Callable[[], Office]]:
    drivers: list[Any] = []

    def open_window() -> Office:
        driver = chrome(tmp_path / f"office-profile-{len(drivers)}")
        drivers.append(driver)
        return Office(driver, shop.server)

    yield open_window
    for driver in drivers:
        driver.quit()


def test_the_back_office_day(shop: Shop, windows: Callable[[], Office]) -> None:
    shop.sell("1.50", 2, method_id=1)  # 3.00 cash
    shop.sell("4.25", 1, method_id=2)  # 4.25 card
    office = windows()

    # Sign in: Latvian by default, numbers and dates the Latvian way
    office.driver.get(office.url)
    office.wait_visible("login-name")
    assert office.text("login-submit") == "Ienākt"
    office.shot("01-sign-in")
    office.type("login-name", "anna")
    office.type("login-password", "wrong password\n")
    office.wait_text("login-error", "Nepareizs")
    office.type("login-password", PASSWORD + "\n")
    office.wait_visible("nav")
    assert office.text("nav-dashboard") == "Pārskats"

    # Dashboard with the seeded sales
    office.wait(lambda: office.css("#dash-body").get_attribute("data-loaded") == "true")
    assert office.text("fig-period-gross") == "7,25 €"
    assert office.text("fig-today-gross") == "7,25 €"
    assert office.text("fig-period-count") == "2"
    assert office.driver.execute_script("return window.Chart && Chart.version") == "4.4.7"
    assert office.driver.find_elements(By.CSS_SELECTOR, "#chart-days")[0].size["height"] > 100
    methods = office.driver.find_element(By.CSS_SELECTOR, ".columns table").text
    assert "3,00 €" in methods
    assert "4,25 €" in methods
    office.shot("02-dashboard-lv")

    # Switch language: English, and numbers the English way; the choice is remembered
    Select(office.el("lang")).select_by_value("en")
    office.wait(lambda: office.text("nav-dashboard") == "Dashboard")
    office.wait(lambda: office.css("#dash-body").get_attribute("data-loaded") == "true")
    assert office.text("fig-period-gross") == "€7.25"
    office.driver.refresh()
    office.wait(lambda: office.text("nav-dashboard") == "Dashboard")
    office.shot("03-dashboard-en")

    # Catalogue: change a price; the station's catalogue feed carries it
    product = shop.call("POST", "/api/products", {"name": "Piens 2%", "price": "0.99", "code": 501})
    office.go("catalogue")
    office.wait(lambda: office.driver.find_elements(By.CSS_SELECTOR, f".product-{product['id']}"))
    # a category added, then given to the product
    office.wait_visible("cat-new-name")
    office.type("cat-new-name", "Piena produkti\n")
    office.wait(lambda: office.driver.find_elements(By.CSS_SELECTOR, "#categories tbody tr"))
    category = shop.call("GET", "/api/categories")[0]
    assert category["name"] == "Piena produkti"
    office.shot("04-catalogue")
    office.css(f".product-{product['id']}").click()
    office.wait_visible("p-price")
    office.type("p-price", "1,15")
    office.type("p-barcodes", "4750000000017")
    Select(office.el("p-category")).select_by_value(str(category["id"]))
    office.el("p-save").click()
    office.wait_text("p-status", "€1.15")
    office.shot("05-product")
    feed = shop.call("GET", "/api/products?updated_since=0", key=shop.station_key)
    seen = next(p for p in feed if p["id"] == product["id"])
    assert Decimal(str(seen["price"])) == Decimal("1.15")
    assert [b["barcode"] for b in seen["barcodes"]] == ["4750000000017"]
    assert seen["category"] == category["id"]

    # Stations: disable one, and its key is refused; enable; rotate its key
    office.go(f"stations/{shop.station_id}")
    office.wait_visible("st-disable")
    office.wait_text("printer-status", "No printer configured")
    office.shot("06-stations")
    office.el("st-disable").click()
    office.accept()
    office.wait_text("st-notice", "disabled")
    status, _ = call(shop.server, shop.station_key, "GET", "/api/stations/me")
    assert status in (401, 403)
    office.el("st-enable").click()
    office.wait_text("st-notice", "enabled")
    assert call(shop.server, shop.station_key, "GET", "/api/stations/me")[0] == 200
    office.el("st-rotate").click()
    office.accept()
    office.wait_visible("station-key")
    new_key = office.text("station-key")
    office.shot("07-station-key")
    assert call(shop.server, shop.station_key, "GET", "/api/stations/me")[0] == 401
    assert call(shop.server, new_key, "GET", "/api/stations/me")[0] == 200
    # revoke the new key from its list: the station is refused again
    office.wait(lambda: office.driver.find_elements(By.CSS_SELECTOR, "#station-keys button"))
    office.css("#station-keys button").click()
    office.accept()
    office.wait_text("st-notice", "revoked")
    assert call(shop.server, new_key, "GET", "/api/stations/me")[0] == 401

    # Shifts: close the shift, open its Z-report as printed
    closed = shop.call("POST", f"/api/stations/{shop.station_id}/shift/close", {})
    office.go("shifts")
    office.wait(lambda: office.driver.find_elements(By.CSS_SELECTOR, "#shift-list tbody tr"))
    office.shot("08-shifts")
    office.css("#shift-list tbody tr").click()
    office.wait_visible("shift-printout")
    assert f"no. {closed['z_number']}" in office.text("shift-title")
    office.wait(lambda: "7" in office.text("shift-printout"))
    office.shot("09-z-report")

    # Receipts: search, open one as printed, reprint it
    office.go("receipts")
    office.wait(
        lambda: len(office.driver.find_elements(By.CSS_SELECTOR, "#receipt-list tbody tr")) == 2
    )
    office.type("rc-min", "4")
    office.el("rc-find").click()
    office.wait(
        lambda: len(office.driver.find_elements(By.CSS_SELECTOR, "#receipt-list tbody tr")) == 1
    )
    office.shot("10-receipts")
    office.css("#receipt-list tbody tr").click()
    office.wait(lambda: "4.25" in office.text("receipt-printout"))
    office.el("rc-reprint").click()
    office.wait(lambda: office.text("rc-notice") or office.text("page-error"))
    office.shot("11-receipt")

    # Operations: print jobs, and an integrator key made (shown once) and revoked
    office.go("operations")
    office.wait(lambda: office.driver.find_elements(By.CSS_SELECTOR, "#ops-jobs tbody tr"))
    office.wait_visible("key-name")
    Select(office.el("key-role")).select_by_value("integrator")
    office.type("key-name", "web shop\n")
    office.wait_visible("new-key")
    made = office.text("new-key")
    assert call(shop.server, made, "GET", "/api/invoices")[0] == 200
    office.shot("12-operations")
    key_id = made.split("_")[1]
    row = office.driver.find_element(By.XPATH, f"//tr[td[text()='{key_id}']]")
    row.find_element(By.TAG_NAME, "button").click()
    office.accept()
    office.wait(lambda: not office.driver.find_elements(By.XPATH, f"//tr[td[text()='{key_id}']]"))
    assert call(shop.server, made, "GET", "/api/invoices")[0] == 401

    # a new back-office user, made here, signs in elsewhere
    office.wait_visible("user-name")
    office.type("user-name", "liga")
    Select(office.el("user-role")).select_by_value("manager")
    office.type("user-password", PASSWORD + "\n")
    office.wait(lambda: office.driver.find_elements(By.CSS_SELECTOR, ".user-liga"))
    status, _, _ = shop.server.request(
        "POST", "/office/login", {"name": "liga", "password": PASSWORD}
    )
    assert status == 200

    # Sign out: the session is over
    office.el("logout").click()
    office.wait_visible("login-name")
    office.go("dashboard")
    office.wait_visible("login-name")


def test_a_manager_reads_and_edits_the_catalogue_but_not_stations(
    shop: Shop, windows: Callable[[], Office]
) -> None:
    office = windows()
    office.sign_in("maris")
    office.go("stations")
    office.wait(lambda: "administrators" in office.text("page"))
    assert not office.driver.find_elements(By.ID, "station-register")
    office.shot("13-manager-stations")
    # the API says the same as the page
    office.driver.get(f"{office.base}/api/keys")
    assert "permission" in office.driver.find_element(By.TAG_NAME, "body").text


def test_import_a_csv_with_a_dry_run(
    shop: Shop, windows: Callable[[], Office], tmp_path: Path
) -> None:
    """A manager checks a Latvian spreadsheet's CSV (semicolons, decimal commas): the dry run
    lists the changes and writes nothing; applied, the station's feed has the new price."""
    kefir = shop.call("POST", "/api/products", {"name": "Kefīrs", "price": "1.09", "code": 601})
    before = shop.call("GET", "/api/products?updated_since=0", key=shop.station_key)
    prices = tmp_path / "cenas.csv"
    prices.write_text("name;price;code\nKefīrs;1,19;601\nJogurts;0,79;602\n", encoding="utf-8")
    office = windows()
    office.sign_in("maris")
    office.go("catalogue")
    office.wait_visible("cat-import")
    office.css("#cat-import summary").click()
    office.el("imp-file").send_keys(str(prices))
    office.el("imp-check").click()
    office.wait(lambda: office.driver.find_elements(By.CSS_SELECTOR, "#imp-result tr.imp-update"))
    change = office.css("#imp-result tr.imp-update").text
    assert "1.09" in change, change
    assert "1.19" in change, change
    assert "Jogurts" in office.css("#imp-result tr.imp-create").text
    office.shot("14-import-dry-run")
    assert shop.call("GET", "/api/products?updated_since=0", key=shop.station_key) == before
    office.wait(lambda: office.el("imp-apply").is_enabled())
    office.el("imp-apply").click()
    office.wait_text("imp-counts", "Importētas 2")
    office.shot("15-import-applied")
    feed = shop.call("GET", "/api/products?updated_since=0", key=shop.station_key)
    seen = next(p for p in feed if p["id"] == kefir["id"])
    assert Decimal(str(seen["price"])) == Decimal("1.19")
    assert "Jogurts" in [p["name"] for p in feed]
    # the list's search asks the server: any case, Latvian letters too
    office.type("cat-search", "KEFĪ\n")
    office.wait(
        lambda: (
            office.text("cat-list").count("Kefīrs") == 1
            and "Jogurts" not in office.text("cat-list")
        )
    )


def test_the_cashier_screen_speaks_latvian_and_switches(
    shop: Shop, windows: Callable[[], Office]
) -> None:
    till = windows()
    till.driver.get(f"{till.base}/pos/")
    till.wait_visible("login-key")
    till.wait(lambda: till.css("#login-key-form button[type=submit]").text == "Turpināt")
    assert "kases vai administratora" in till.css("label[for=login-key]").text
    till.shot("14-cashier-lv")
    # at work: the bar in Latvian, amounts with the decimal comma
    shop.sell("2.50", 1)
    till.type("login-key", shop.station_key + "\n")
    till.wait_visible("login-cashier")
    till.type("login-cashier", "Anna\n")
    till.wait_visible("pos-screen")
    till.wait(lambda: till.text("shift-x") == "X-pārskats")
    till.el("shift-x").click()
    till.wait(lambda: "X-pārskats (maiņa 1 vēl atvērta)" in till.text("pos-screen"))
    assert "2,50 €" in till.text("pos-screen")
    till.shot("15-cashier-lv-x-report")
    Select(till.el("pos-lang")).select_by_value("en")
    till.wait(lambda: till.text("shift-x") == "X-report")
    till.shot("16-cashier-en")


def test_a_centre_shows_its_stores(database_url: str, tmp_path: Path) -> None:
    require_chromium()
    if database_url.startswith("postgresql"):
        _clear_users(database_url)
    env = {
        **os.environ,
        "MINIPOS_DATABASE_URL": database_url,
        "MINIPOS_ACCESS_LOG": "false",
        "MINIPOS_MODE": "central",
    }
    env.pop("MINIPOS_SECRET_KEY", None)
    server = Server(env, tmp_path)
    driver = None
    try:
        made = server.cli("key", "create", "--role", "admin")
        assert made.returncode == 0, made.stderr
        add_user(server, "anna", "admin")
        server.start()
        for code, name in (("RIGA1", "Rīga 1"), ("LIEP1", "Liepāja 1")):
            status, store = call(server, made.stdout.strip(), "POST", "/api/stores",
                                 {"code": code, "name": name})  # fmt: skip
            assert status == 201, store
        driver = chrome(tmp_path / "centre-profile")
        office = Office(driver, server)
        office.sign_in("anna")
        assert office.visible("nav-stores")
        office.go("stores")
        office.wait(lambda: office.driver.find_elements(By.CSS_SELECTOR, ".store-RIGA1"))
        row = office.css(".store-LIEP1").text
        assert "Liepāja 1" in row
        assert "never" in row or "nekad" in row
        office.shot("17-centre-stores")
    finally:
        if driver is not None:
            driver.quit()
        server.stop()
