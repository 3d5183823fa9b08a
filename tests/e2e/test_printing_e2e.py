"""Printing with the real server process and the fake network printer: a sale reaches the
paper; ``kill -9`` with jobs queued or mid-send loses nothing and prints nothing twice."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from serverproc import Server

from minipos.printing.readback import text_lines
from printing.fake_printer import FakePrinter

pytestmark = pytest.mark.e2e

SALE = {"rows": [{"text": "Kūka ar ķiršiem", "quantity": 2, "price": "3.20"}]}


@pytest.fixture
def printer() -> Iterator[FakePrinter]:
    with FakePrinter() as fake:
        yield fake


class Shop:
    """The admin and one station talking to the server."""

    def __init__(self, server: Server) -> None:
        self.server = server
        admin = server.cli("key", "create", "--role", "admin")
        assert admin.returncode == 0, admin.stderr
        self.admin = {"Authorization": f"Token {admin.stdout.strip()}"}
        self.station: dict[str, str] = {}
        self.station_id = 0
        self.sales = 0

    def call(self, method: str, path: str, body: Any = None, *, as_station: bool = False) -> Any:
        headers = self.station if as_station else self.admin
        status, _, raw = self.server.request(method, path, body, headers)
        assert status in (200, 201), (status, raw)
        return json.loads(raw)

    def register(self) -> None:
        created = self.call(
            "POST", "/api/stations", {"name": "Kase 1", "pos_id": "1", "chassis_id": "C1"}
        )
        self.station = {"Authorization": f"Token {created['key']}"}
        self.station_id = created["id"]
        self.call("POST", f"/api/stations/{self.station_id}/shift/open", {}, as_station=True)

    def printer(self, fake: FakePrinter, **extra: Any) -> None:
        body = {"kind": "network", "address": f"{fake.host}:{fake.port}", "connect_timeout": 1}
        self.call("PUT", f"/api/stations/{self.station_id}/printer", body | extra)

    def sell(self) -> None:
        invoice = self.call("POST", "/api/invoice/new", SALE)
        self.sales += 1
        self.call("POST", f"/api/invoice/{invoice['id']}/claim", as_station=True)
        self.call(
            "POST",
            f"/api/invoice/{invoice['id']}/complete",
            {"request_id": f"sale-{self.sales}", "payments": [{"method_id": 2}]},
            as_station=True,
        )

    def jobs(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.call("GET", "/api/print-jobs")
        return result


def wait_for(condition: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_sales_print_once_across_kill_9(server: Server, printer: FakePrinter) -> None:
    server.env |= {
        "MINIPOS_PRINT_POLL_SECONDS": "0.1",
        "MINIPOS_PRINT_LEASE_SECONDS": "2",
        "MINIPOS_PRINT_BACKOFF_CAP_SECONDS": "1",
        "MINIPOS_SHOP_NAME": "SIA Ūdensroze",
    }
    shop = Shop(server)
    server.start()
    shop.register()
    shop.printer(printer)

    # post → claim → complete → the receipt arrives
    shop.sell()
    [first] = printer.wait_for_jobs(1, timeout=20)
    lines = [line.strip() for line in text_lines(first)]
    assert "SIA Ūdensroze" in lines
    assert "Kūka ar ķiršiem" in lines
    assert any(line.startswith("KOPĀ EUR") and line.endswith("6.40") for line in lines)
    wait_for(lambda: shop.jobs()[0]["status"] == "printed")

    # printer down: two receipts wait in the queue (the second behind the first, which is
    # retried with backoff); then kill -9
    printer.refuse()
    shop.sell()
    shop.sell()
    wait_for(lambda: shop.jobs()[1]["attempts"] >= 2)
    assert [(j["status"], j["attempts"]) for j in shop.jobs()][2:] == [("queued", 0)]
    assert "cannot connect" in shop.jobs()[1]["last_error"]
    server.kill()
    printer.serve()
    server.start()
    printer.wait_for_jobs(3, timeout=20)
    wait_for(lambda: [j["status"] for j in shop.jobs()] == ["printed"] * 3)

    # kill -9 while a job is being sent to a printer that stopped reading: it becomes failed
    # (it may be on paper), is not sent again by itself, and the queue behind it goes on
    shop.printer(printer, code_page="raster", check_status=False, write_timeout=60)
    printer.stall()
    shop.sell()
    wait_for(lambda: shop.jobs()[3]["status"] == "sending")
    server.kill()
    printer.serve()
    server.start()
    shop.printer(printer)
    shop.sell()
    printer.wait_for_jobs(4, timeout=20)
    jobs = wait_for(lambda: (j := shop.jobs())[4]["status"] == "printed" and j)
    assert (jobs[3]["status"], jobs[3]["may_have_printed"]) == ("failed", True)
    assert jobs[3]["last_error"].startswith("interrupted")
    time.sleep(1.5)  # a few more worker passes: nothing else goes out
    assert len(printer.jobs) == 4
    assert [j["status"] for j in shop.jobs()] == ["printed"] * 3 + ["failed", "printed"]

    # a person retries the interrupted one: it prints as a copy
    again = shop.call("POST", f"/api/print-jobs/{jobs[3]['id']}/retry")
    assert again["is_copy"] is True
    [*_, copy] = printer.wait_for_jobs(5, timeout=20)
    assert "KOPIJA" in [line.strip() for line in text_lines(copy)]
    assert len(printer.jobs) == 5
