"""The cashier screen at a store whose centre is out of reach (issue 13): a banner says
"offline — N not yet sent", and the count follows the sales; a standalone till shows none."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from browser import Page, chrome, require_chromium
from serverproc import Server, free_port

pytestmark = pytest.mark.e2e


def _server(database_url: str, tmp_path: Path, **env: str) -> Server:
    environ = {
        **os.environ,
        "MINIPOS_DATABASE_URL": database_url,
        "MINIPOS_ACCESS_LOG": "false",
        **env,
    }
    environ.pop("MINIPOS_SECRET_KEY", None)
    return Server(environ, tmp_path)


def _call(server: Server, key: str, method: str, path: str, body: Any = None) -> Any:
    status, _, raw = server.request(method, path, body, {"Authorization": f"Token {key}"})
    assert status < 300, raw
    return json.loads(raw)


def _till(server: Server, tmp_path: Path) -> tuple[Page, str]:
    """The server started with an admin and an integrator key, a station, and its till
    logged in: the page and the integrator's key."""
    admin = server.cli("key", "create", "--role", "admin").stdout.strip()
    integrator = server.cli("key", "create", "--role", "integrator").stdout.strip()
    server.start()
    station = _call(
        server,
        admin,
        "POST",
        "/api/stations",
        {"name": "Kase 1", "pos_id": "1", "chassis_id": "CH1"},
    )
    page = Page(chrome(tmp_path / "profile"), server)
    page.login_station(station["key"], station["id"])
    return page, integrator


def test_a_store_till_shows_offline_and_what_waits(database_url: str, tmp_path: Path) -> None:
    require_chromium()
    server = _server(
        database_url,
        tmp_path,
        MINIPOS_MODE="store",
        # Nothing listens there: the centre is down from the start.
        MINIPOS_CENTRAL_URL=f"http://127.0.0.1:{free_port()}",
        MINIPOS_CENTRAL_KEY="store-key-of-a-centre-that-is-down",
    )
    try:
        page, integrator = _till(server, tmp_path)
        try:
            page.wait_visible("sync-banner", 20)
            page.wait_text("sync-banner", "offline — 0 not yet sent")
            page.screenshot("sync-offline")
            for number in ("S-1", "S-2"):
                _call(
                    server,
                    integrator,
                    "POST",
                    "/api/invoice/new",
                    {"invoice_no": number, "rows": [{"text": "Kafija", "quantity": 1, "price": 2}]},
                )
            page.wait_text("sync-banner", "offline — 2 not yet sent", 15)
            # Selling goes on: the invoices are in the feed as ever.
            page.wait(lambda: page.feed_numbers() == ["S-1", "S-2"])
        finally:
            page.driver.quit()
    finally:
        server.stop()


def test_a_standalone_till_shows_no_banner(database_url: str, tmp_path: Path) -> None:
    require_chromium()
    server = _server(database_url, tmp_path)
    try:
        page, _ = _till(server, tmp_path)
        try:
            page.wait(
                lambda: page.driver.execute_script(
                    "return performance.getEntriesByType('resource')"
                    ".some(e => e.name.includes('/api/sync/status'))"
                ),
                10,
                "the till never asked for the sync status",
            )
            time.sleep(0.5)
            assert not page.visible("sync-banner")
        finally:
            page.driver.quit()
    finally:
        server.stop()
