"""The cashier station in the browser (issue 6), end to end: the real server (SQLite and
PostgreSQL), Debian's headless Chromium, and the integrator's side spoken over HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import Page, chrome, require_chromium
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select
from serverproc import Server

pytestmark = pytest.mark.e2e


class Shop:
    """The server with an admin and an integrator key, spoken to over HTTP."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.admin = server.cli("key", "create", "--role", "admin").stdout.strip()
        self.integrator = server.cli("key", "create", "--role", "integrator").stdout.strip()
        server.start()

    def call(self, key: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        status, _, raw = self.server.request(method, path, body, {"Authorization": f"Token {key}"})
        return status, json.loads(raw) if raw else None

    def register(self, name: str, pos_id: str) -> dict[str, Any]:
        status, station = self.call(
            self.admin,
            "POST",
            "/api/stations",
            {"name": name, "pos_id": pos_id, "chassis_id": f"CH{pos_id}"},
        )
        assert status == 201, station
        return dict(station)

    def post_invoice(self, body: dict[str, Any]) -> dict[str, Any]:
        status, invoice = self.call(self.integrator, "POST", "/api/invoice/new", body)
        assert status == 200, invoice
        return dict(invoice)

    def invoice(self, invoice_id: int) -> dict[str, Any]:
        status, invoice = self.call(self.integrator, "GET", f"/api/invoice/{invoice_id}")
        assert status == 200, invoice
        return dict(invoice)


@pytest.fixture
def shop(server: Server) -> Shop:
    require_chromium()
    return Shop(server)


@pytest.fixture
def browsers(shop: Shop, tmp_path: Path) -> Iterator[Callable[[], Page]]:
    """Opens browser windows, each with its own profile (its own localStorage)."""
    drivers: list[Any] = []

    def open_window() -> Page:
        driver = chrome(tmp_path / f"profile-{len(drivers)}")
        drivers.append(driver)
        return Page(driver, shop.server)

    yield open_window
    for driver in drivers:
        driver.quit()


BREAD = {"text": "Rupjmaize ar ķimenēm", "code": "4750001", "quantity": 2, "price": 1.5}


def test_sale_from_feed_to_z_report(shop: Shop, browsers: Callable[[], Page]) -> None:
    """Issue 6 acceptance: open shift → an integrator's invoice appears → claim → cash with
    change → receipt → Done in the API → close shift → Z-report."""
    pos1 = shop.register("Kase 1 — Rīga", "1")
    page = browsers()
    page.login_station(pos1["key"], pos1["id"], cashier="Anna Bērziņa", shot="login")
    assert page.stored("minipos.login")["stationId"] == pos1["id"]
    assert page.text("shift-status") == "No open shift"
    page.open_shift()
    assert page.text("shift-status") == "Shift 1 open"

    # Posted over HTTP while the page sits there: it shows up without a reload.
    page.driver.execute_script("window.notReloaded = true")
    posted_at = time.monotonic()
    invoice = shop.post_invoice({"invoice_no": "E2E-1", "rows": [BREAD]})
    page.wait(lambda: page.feed_item("E2E-1") is not None, 10, "the invoice never appeared")
    seconds = time.monotonic() - posted_at
    assert seconds < 3, f"took {seconds:.1f} s to appear"  # long-poll: well under a second
    assert page.driver.execute_script("return window.notReloaded") is True
    shop.post_invoice(
        {
            "invoice_no": "E2E-WEIGHED",
            "rows": [{"text": "Siers Ķekava", "quantity": 1, "price": 9.8, "is_weight": True}],
        }
    )
    page.wait(lambda: page.feed_numbers() == ["E2E-1", "E2E-WEIGHED"])
    item = page.feed_item("E2E-1")
    assert item is not None
    assert "3.00 €" in item.text
    page.screenshot("feed")

    page.open_from_feed("E2E-1")
    page.wait_visible("sale-view")
    assert page.text("sale-title") == "Invoice E2E-1"
    assert "Rupjmaize ar ķimenēm" in page.text("sale-rows")
    assert page.text("sale-total") == "3.00 €"
    assert shop.invoice(invoice["id"])["status"] == 20  # claimed
    cash = page.el("pay-amount-0")
    assert page.driver.switch_to.active_element == cash  # ready for the cashier's number
    cash.send_keys("5")
    page.wait_text("pay-change", "2.00 €")
    page.screenshot("invoice")
    cash.send_keys(Keys.ENTER)

    page.wait_visible("receipt-view")
    assert page.text("receipt-number") == "no. 1"
    assert "3.00 €" in page.text("receipt-total")
    assert "2.00 €" in page.text("receipt-change")
    assert "Skaidrā nauda 5.00 €" in page.text("receipt-body")
    assert "Rupjmaize ar ķimenēm" in page.text("receipt-body")
    page.screenshot("receipt")
    assert page.stored("minipos.sale") is None  # nothing left to resume

    done = shop.invoice(invoice["id"])
    assert (done["status"], done["status_name"], done["check_num"]) == (30, "Done", "1")
    assert (done["total_sum"], done["changed_sum"], done["print_station"]) == (3, 2, pos1["id"])
    [receipt] = done["receipts"]
    assert receipt["cashier_name"] == "Anna Bērziņa"
    assert [(p["method_name"], p["amount"]) for p in receipt["payments"]] == [("Skaidrā nauda", 5)]
    page.wait(lambda: page.feed_numbers() == ["E2E-WEIGHED"])

    page.el("receipt-next").click()
    page.wait_visible("idle-view")
    page.el("shift-close").click()
    page.wait_visible("report-confirm")  # the X-report first, as a preview
    assert page.text("report-title") == "X-report (shift 1, still open)"
    page.el("report-confirm").click()
    page.wait_text("report-title", "Z-report no. 1")
    assert page.text("report-receipts") == "Receipts 1"
    assert page.text("report-sales") == "Sales 3.00 €"
    assert page.text("report-grand") == "Grand total 3.00 €"
    assert "21 % 3.00 € 2.48 € 0.52 €" in page.text("report-vat")
    assert page.text("report-payments") == "Skaidrā nauda 3.00 €"  # 5 paid, 2 given back
    assert not page.visible("report-confirm")
    page.wait_text("shift-status", "No open shift")
    page.screenshot("z-report")
    status, shifts = shop.call(shop.admin, "GET", f"/api/shifts?station_id={pos1['id']}")
    assert status == 200
    assert [(s["z_number"], s["grand_total"]) for s in shifts] == [(1, 3)]
    assert shifts[0]["close_date"] is not None
    assert shifts[0]["close_employee_name"] == "Anna Bērziņa"


def test_two_stations_only_one_takes_an_invoice(shop: Shop, browsers: Callable[[], Page]) -> None:
    pos1, pos2 = shop.register("POS1", "1"), shop.register("POS2", "2")
    first, second = browsers(), browsers()
    first.login_station(pos1["key"], pos1["id"])
    second.login_station(pos2["key"], pos2["id"], cashier="Jānis")
    invoice = shop.post_invoice({"invoice_no": "SHARED-1", "rows": [BREAD]})
    for page in (first, second):
        page.wait(lambda page=page: page.feed_item("SHARED-1") is not None)

    # The first takes it; the second's live feed drops it.
    first.open_from_feed("SHARED-1")
    first.wait_visible("sale-view")
    second.wait(lambda: second.feed_item("SHARED-1") is None, 10, "it never left station 2")
    assert shop.invoice(invoice["id"])["station"] == pos1["id"]

    # Given back, it comes back to both.
    first.el("sale-release").click()
    first.wait_visible("idle-view")
    assert shop.invoice(invoice["id"])["status"] == 10
    second.wait(lambda: second.feed_item("SHARED-1") is not None, 10, "it never came back")

    # Station 2's list goes stale (its feed cannot reach the server), station 1 takes the
    # invoice, and station 2 clicks it anyway: the server says no, and station 2 says why.
    second.block("*/feed*")
    second.wait_text("feed-state", "offline")
    first.open_from_feed("SHARED-1")
    first.wait_visible("sale-view")
    second.open_from_feed("SHARED-1")
    second.wait_text("feed-error", "SHARED-1: Taken by another station.")
    assert second.feed_item("SHARED-1") is None
    assert second.visible("idle-view")
    second.screenshot("taken-by-another-station")
    second.unblock()
    second.wait(lambda: second.text("feed-state") == "", 10, "the feed never came back")
    assert second.feed_item("SHARED-1") is None
    held = shop.invoice(invoice["id"])
    assert (held["status"], held["station"]) == (20, pos1["id"])


def test_reload_mid_sale_resumes_it(shop: Shop, browsers: Callable[[], Page]) -> None:
    pos1 = shop.register("POS1", "1")
    page = browsers()
    page.login_station(pos1["key"], pos1["id"])
    page.open_shift()
    invoice = shop.post_invoice(
        {
            "invoice_no": "RELOAD-1",
            "rows": [
                {"text": "Siers Ķekava", "quantity": 1, "price": 10, "is_weight": True},
                {"text": "Dāvana", "quantity": 1, "price": 5, "is_free_price": True},
            ],
        }
    )
    weighed, free = (row["id"] for row in invoice["rows"])
    page.wait(lambda: page.feed_item("RELOAD-1") is not None)
    page.open_from_feed("RELOAD-1")
    page.wait_visible("sale-view")

    weight = page.driver.find_element(By.CSS_SELECTOR, f'input[data-row-id="{weighed}"]')
    assert page.driver.switch_to.active_element == weight  # the scale's field comes first
    weight.send_keys("0,455\n")  # a Latvian keyboard's comma; Enter moves on
    price = page.driver.find_element(By.CSS_SELECTOR, f'input[data-row-id="{free}"]')
    assert page.driver.switch_to.active_element == price
    price.send_keys("7.50\n")
    page.wait_text("sale-total", "12.05 €")  # 0.455 × 10 + 7.50
    page.el("pay-methods").find_element(By.CSS_SELECTOR, "button[data-method-id='2']").click()
    page.type("pay-amount-1", "5")  # card
    page.type("pay-amount-0", "10")  # cash
    page.wait_text("pay-change", "2.95 €")

    page.driver.refresh()
    page.wait_visible("sale-view")
    assert page.text("sale-title") == "Invoice RELOAD-1"
    assert page.el("pay-amount-0").get_attribute("value") == "10"
    assert page.el("pay-amount-1").get_attribute("value") == "5"
    assert weight_value(page, weighed) == "0,455"
    assert weight_value(page, free) == "7.50"
    assert page.text("sale-total") == "12.05 €"
    assert page.text("pay-change") == "2.95 €"
    page.screenshot("resumed-after-reload")
    held = shop.invoice(invoice["id"])
    assert (held["status"], held["station"]) == (20, pos1["id"])

    # Complete gets no answer: the attempt and its request_id stay stored for the retry.
    page.block("*/complete*")
    page.el("pay-amount-0").send_keys(Keys.ENTER)
    page.wait_text("pay-error", "No answer from the server")
    pending = page.stored("minipos.sale")["pending"]
    assert pending["body"]["request_id"] == pending["requestId"]
    assert pending["body"]["rows"] == [
        {"id": weighed, "quantity": "0.455"},
        {"id": free, "price": "7.50"},
    ]
    # Suppose it did reach the server and only the answer was lost:
    status, _ = shop.call(
        pos1["key"], "POST", f"/api/invoice/{invoice['id']}/complete", pending["body"]
    )
    assert status == 200
    page.unblock()
    page.driver.refresh()  # the page sends the stored attempt again: same request_id
    page.wait_visible("receipt-view")
    assert "12.05 €" in page.text("receipt-total")
    assert "2.95 €" in page.text("receipt-change")
    assert page.text("receipt-number") == "no. 1"
    assert page.stored("minipos.sale") is None  # answered: the attempt is forgotten
    done = shop.invoice(invoice["id"])
    assert (done["status"], done["total_sum"], len(done["receipts"])) == (30, 12.05, 1)
    assert [r["quantity"] for r in done["rows"]] == [0.455, 1]
    status, receipts = shop.call(shop.admin, "GET", "/api/receipts")
    assert [r["document_id"] for r in receipts] == ["1"]  # taken once


def weight_value(page: Page, row_id: int) -> str:
    field = page.driver.find_element(By.CSS_SELECTOR, f'input[data-row-id="{row_id}"]')
    return str(field.get_attribute("value"))


def test_admin_at_a_station_with_auto_open_invoices(
    shop: Shop, browsers: Callable[[], Page]
) -> None:
    """An admin key picks the station; is_auto_open invoices open by themselves, and an
    auto-open non-fiscal slip is completed at once, even in the middle of a sale."""
    shop.register("POS1", "1")
    pos2 = shop.register("Kase 2", "2")
    page = browsers()
    page.login_with_key(shop.admin)
    page.el("login-key").submit()
    page.wait_visible("login-station-select")
    Select(page.el("login-station-select")).select_by_visible_text("Kase 2 (POS 2)")
    page.type("login-cashier", "Jānis\n")
    page.wait_text("bar-station", "Kase 2 · POS 2")
    page.open_shift()

    sale = shop.post_invoice(
        {"invoice_no": "AUTO-1", "pos_id": 2, "is_auto_open": True, "rows": [BREAD]}
    )
    page.wait_visible("sale-view")  # nobody clicked
    assert page.text("sale-title") == "Invoice AUTO-1"
    slip = shop.post_invoice(
        {
            "mode": 3,
            "pos_id": 2,
            "is_auto_open": True,
            "info": {"slip": [{"kind": "text", "content": "Kupons — 10 % atlaide"}]},
        }
    )
    page.wait(lambda: shop.invoice(slip["id"])["status"] == 30, 10, "the slip never completed")
    assert shop.invoice(slip["id"])["print_station"] == pos2["id"]
    page.wait_text("notice", "sent to the printer")
    assert page.text("sale-title") == "Invoice AUTO-1"  # the sale stayed open

    page.el("pay-submit").click()  # cash, exactly the total
    page.wait_visible("receipt-view")
    done = shop.invoice(sale["id"])
    assert (done["status"], done["changed_sum"], done["print_station"]) == (30, 0, pos2["id"])
    assert done["receipts"][0]["cashier_name"] == "Jānis"


MILK = {
    "name": "Piens 2 %",
    "price": "1.25",
    "code": 101,
    "barcodes": [{"barcode": "4750000000017"}],
}
RYE = {"name": "Rupjmaize ar ķimenēm", "price": "2.10", "code": 202}


def test_walk_in_sale_refund_and_print_jobs(shop: Shop, browsers: Callable[[], Page]) -> None:
    """A walk-in sale by barcode, code and name search → receipt; a partial refund of it
    lowers what the original may still refund; the print-jobs panel lists both jobs."""
    pos1 = shop.register("Kase 1", "1")
    products = {}
    for body in (MILK, RYE, {"name": "Vecs produkts", "price": "3.00", "code": 303}):
        status, product = shop.call(shop.admin, "POST", "/api/products", body)
        assert status == 201, product
        products[body["name"]] = product
    page = browsers()
    page.login_station(pos1["key"], pos1["id"], cashier="Anna Bērziņa")
    page.open_shift()

    # --- walk-in sale -------------------------------------------------------------------
    page.el("mode-walkin").click()
    page.wait_visible("walkin-view")
    assert page.driver.switch_to.active_element == page.el("walkin-input")
    page.scan("4750000000017")  # a scanner: digits, then Enter
    page.wait_text("walkin-total", "1.25 €")
    page.scan("4750000000017")  # the same again adds to its row
    page.wait_text("walkin-total", "2.50 €")
    assert page.el("walkin-qty-0").get_attribute("value") == "2"
    page.type("walkin-input", "maize kimen")  # words of the name, without Latvian letters
    page.wait(lambda: page.visible("walkin-results"))
    page.driver.find_element(By.CSS_SELECTOR, "#walkin-results button").click()
    page.wait_text("walkin-total", "4.60 €")
    page.scan("303")  # a product code
    page.wait_text("walkin-total", "7.60 €")
    page.scan("999999")
    page.wait_text("walkin-add-error", 'Nothing found for "999999".')
    page.type("walkin-qty-0", "3")  # quantity edited by hand
    page.wait_text("walkin-total", "8.85 €")
    assert "Rupjmaize ar ķimenēm" in page.text("walkin-rows")

    # The server's refusal shows next to the row it names.
    old = products["Vecs produkts"]
    status, _ = shop.call(shop.admin, "DELETE", f"/api/products/{old['id']}")
    assert status == 204
    page.type("walkin-amount-0", "10\n")
    page.wait_text("walkin-err-2", "No product has this code.")
    assert page.text("walkin-error") == ""
    page.el("walkin-remove-2").click()
    page.wait_text("walkin-total", "5.85 €")
    page.type("walkin-amount-0", "10")
    page.wait_text("walkin-change", "4.15 €")
    page.screenshot("walk-in")
    assert page.stored("minipos.walkin")["rows"][0]["quantity"] == "3"
    page.el("walkin-amount-0").send_keys(Keys.ENTER)

    page.wait_visible("receipt-view")
    assert page.text("receipt-number") == "no. 1"
    assert "5.85 €" in page.text("receipt-total")
    assert "4.15 €" in page.text("receipt-change")
    assert "Skaidrā nauda 10.00 €" in page.text("receipt-body")
    page.wait(lambda: "Piens 2 %" in str(page.el("receipt-preview").get_attribute("textContent")))
    assert page.stored("minipos.checkout") is None  # answered: nothing to retry
    status, receipts = shop.call(pos1["key"], "GET", "/api/receipts?document_id=1")
    assert status == 200
    [sale] = receipts
    assert (sale["mode"], sale["bruto_amount"], sale["changed_amount"]) == (1, 5.85, 4.15)
    sold = [(r["product_name"], r["quantity"], r["barcode"]) for r in sale["rows"]]
    assert sold == [("Piens 2 %", 3, "4750000000017"), ("Rupjmaize ar ķimenēm", 1, None)]
    page.el("receipt-next").click()
    page.wait_visible("walkin-view")  # the next customer's sale
    assert page.text("walkin-rows") == ""

    # --- refund of part of it -----------------------------------------------------------
    page.el("mode-refund").click()
    page.wait_visible("refund-view")
    page.type("refund-number", "1\n")
    page.wait_visible("refund-found")
    assert page.text("refund-left-0") == "3 · 3.75 €"
    page.type("refund-qty-0", "4")
    page.el("refund-submit").click()
    page.wait_text("refund-err-0", "At most 3 can be refunded.")
    page.type("refund-qty-0", "1")
    page.wait_text("refund-total", "1.25 €")
    page.screenshot("refund")
    page.el("refund-submit").click()
    page.wait_visible("receipt-view")
    assert page.text("receipt-number") == "no. 2"
    assert page.text("receipt-body").startswith("Refund receipt")
    assert "1.25 €" in page.text("receipt-total")
    status, receipts = shop.call(shop.admin, "GET", f"/api/receipts?station_id={pos1['id']}")
    original, refund = receipts
    assert [(r["max_quantity"], r["max_amount"]) for r in original["rows"]] == [
        (2, 2.5),
        (1, 2.1),
    ]
    assert (refund["mode"], refund["bruto_amount"]) == (3, 1.25)
    assert [(r["product_name"], r["quantity"]) for r in refund["rows"]] == [("Piens 2 %", 1)]

    # --- print copy, and the print-jobs panel --------------------------------------------
    page.el("receipt-copy").click()  # the Latvian profile: a supporting document
    page.wait_text("notice", "Supporting document No. 1 queued")
    page.el("receipt-next").click()
    page.wait_visible("idle-view")
    page.el("mode-printer").click()
    page.wait_visible("printer-view")
    page.wait_text("printer-state", "No printer configured")

    # No printer configured: the worker marks the jobs printed at once (printing.md).
    def jobs() -> list[dict[str, Any]]:
        status, found = shop.call(shop.admin, "GET", f"/api/print-jobs?station_id={pos1['id']}")
        assert status == 200
        return list(found)

    page.wait(lambda: all(j["status"] == "printed" for j in jobs()) and len(jobs()) == 3)
    by_receipt = {(j["receipt_id"], j["is_copy"]): j for j in jobs()}
    assert set(by_receipt) == {(sale["id"], False), (refund["id"], False), (refund["id"], True)}
    sale_job = by_receipt[(sale["id"], False)]
    page.wait_text(f"job-status-{sale_job['id']}", "printed")
    listed = [
        int(str(tr.get_attribute("data-job-id")))
        for tr in page.driver.find_elements(By.CSS_SELECTOR, "#jobs-rows tr")
    ]
    assert listed == sorted(listed, reverse=True)  # latest first
    assert sale_job["id"] in listed
    assert "(copy)" in page.text("jobs-rows")

    # A printer that cannot be reached: the queued copy gets a Retry button.
    status, _ = shop.call(
        shop.admin,
        "PUT",
        f"/api/stations/{pos1['id']}/printer",
        {"kind": "network", "address": "127.0.0.1:9", "connect_timeout": 0.5},
    )
    assert status == 200, _
    status, copy = shop.call(pos1["key"], "POST", f"/api/receipts/{sale['id']}/reprint")
    assert status == 201
    page.el("printer-refresh").click()
    page.wait_text("printer-state", "Not reachable")
    page.wait_visible(f"job-retry-{copy['id']}")
    page.screenshot("print-jobs")
    page.el(f"job-retry-{copy['id']}").click()
    page.wait_text("notice", f"Job {copy['id']}")
    assert shop.call(pos1["key"], "GET", f"/api/print-jobs/{copy['id']}")[1]["status"] in {
        "queued",
        "sending",
    }
