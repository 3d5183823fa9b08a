"""Debian's Chromium driven by Selenium for the cashier UI tests, and page helpers.

Nothing is downloaded: the browser is /usr/bin/chromium and the driver /usr/bin/chromedriver
(``scripts/test`` installs both when they are missing), and naming the driver's path keeps
Selenium Manager from looking for one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import (
    NoSuchElementException,
    StaleElementReferenceException,
    TimeoutException,
    WebDriverException,
)
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.wait import WebDriverWait
from serverproc import Server

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1024,768",
]


def require_chromium() -> None:
    if CHROMIUM.exists() and CHROMEDRIVER.exists():
        return
    message = (
        "Chromium is missing: scripts/test installs it (apt-get install chromium chromium-driver)"
    )
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def chrome(profile: Path) -> webdriver.Chrome:
    """A fresh headless Chromium with its own profile (so its own localStorage)."""
    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in [*FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    # --window-size counts the window's frame; grow it so the page itself gets 1024×768.
    width, height = driver.execute_script("return [window.innerWidth, window.innerHeight]")
    driver.set_window_size(2 * 1024 - width, 2 * 768 - height)
    return driver


#: How some ChromeDriver builds (156.0.8078.114) report an element the page has just replaced,
#: instead of a StaleElementReferenceException.
_DETACHED = "does not belong to the document"


def _checked(condition: Any) -> Any:
    """``condition()``, with ChromeDriver's other word for a stale element made the usual one."""
    try:
        return condition()
    except WebDriverException as exc:
        if _DETACHED in (exc.msg or ""):
            raise StaleElementReferenceException(exc.msg) from exc
        raise


class Page:
    """One browser window on the cashier screen."""

    def __init__(self, driver: webdriver.Chrome, server: Server) -> None:
        self.driver = driver
        self.url = f"http://127.0.0.1:{server.port}/pos/"

    def el(self, element_id: str) -> WebElement:
        return self.driver.find_element(By.ID, element_id)

    def text(self, element_id: str) -> str:
        return str(self.el(element_id).text)

    def visible(self, element_id: str) -> bool:
        found = self.driver.find_elements(By.ID, element_id)
        return bool(found) and bool(found[0].is_displayed())

    def wait(self, condition: Any, seconds: float = 10, message: str = "") -> Any:
        # The page redraws parts of itself (the feed, the report), so an element found a
        # moment ago may be gone: that is "not yet", not a failure.
        return WebDriverWait(
            self.driver,
            seconds,
            poll_frequency=0.05,
            ignored_exceptions=[StaleElementReferenceException, NoSuchElementException],
        ).until(lambda _: _checked(condition), message)

    def wait_visible(self, element_id: str, seconds: float = 10) -> WebElement:
        self.wait(lambda: self.visible(element_id), seconds, f"#{element_id} never showed")
        return self.el(element_id)

    def wait_text(self, element_id: str, expected: str, seconds: float = 10) -> None:
        try:
            self.wait(lambda: expected in self.text(element_id), seconds)
        except TimeoutException:
            said = self.text(element_id)
            raise AssertionError(f"#{element_id} never said {expected!r} (says {said!r})") from None

    def type(self, element_id: str, text: str, *, clear: bool = True) -> WebElement:
        field = self.el(element_id)
        if clear:
            field.clear()
        field.send_keys(text)
        return field

    def feed_item(self, invoice_no: str) -> WebElement | None:
        found = self.driver.find_elements(
            By.CSS_SELECTOR, f'#feed-list button[data-invoice-no="{invoice_no}"]'
        )
        return found[0] if found else None

    def open_from_feed(self, invoice_no: str) -> None:
        """Click the invoice in the feed (found afresh if the list was redrawn meanwhile)."""

        def click() -> bool:
            item = self.feed_item(invoice_no)
            if item is None:
                return False
            item.click()
            return True

        self.wait(click, message=f"{invoice_no} is not in the feed")

    def feed_numbers(self) -> list[str]:
        return [
            str(b.get_attribute("data-invoice-no"))
            for b in self.driver.find_elements(By.CSS_SELECTOR, "#feed-list button")
        ]

    def stored(self, name: str) -> Any:
        raw = self.driver.execute_script("return localStorage.getItem(arguments[0])", name)
        return json.loads(raw) if raw else None

    def screenshot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))

    def block(self, *patterns: str) -> None:
        """Make requests whose URL matches fail as if the network were down (CDP)."""
        self.driver.execute_cdp_cmd("Network.enable", {})
        self.driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": list(patterns)})

    def unblock(self) -> None:
        self.driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})

    # --- the screens ---------------------------------------------------------------------

    def login_with_key(self, key: str) -> None:
        self.driver.get(self.url)
        self.wait_visible("login-key")
        self.type("login-key", key)

    def login_station(
        self, key: str, station_id: int, cashier: str = "Anna", shot: str | None = None
    ) -> None:
        """Log in with a station key: the screen finds its station (GET /api/stations/me)."""
        self.login_with_key(key)
        self.el("login-key").submit()
        self.wait_visible("login-station-name")
        assert not self.visible("login-station-id")  # nothing to type but the cashier
        self.type("login-cashier", cashier)
        if shot:
            self.screenshot(shot)
        self.el("login-cashier").send_keys("\n")
        self.wait_visible("pos-screen")
        self.wait(lambda: self.text("bar-station") != "", message="station name never showed")
        assert self.stored("minipos.login")["stationId"] == station_id

    def open_shift(self) -> None:
        self.el("shift-open").click()
        # By its class, in any language: "No open shift" has "open" in its text too.
        try:
            self.wait(
                lambda: "open" in (self.el("shift-status").get_attribute("class") or "").split()
            )
        except TimeoutException:
            raise AssertionError(
                f"the shift never opened ({self.text('shift-status')!r})"
            ) from None

    def scan(self, text: str) -> None:
        """Type into the walk-in sale's product field and press Enter, as a scanner does."""
        self.type("walkin-input", text + "\n")
