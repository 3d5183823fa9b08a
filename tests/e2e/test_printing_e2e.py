"""Printing with the real server process and the fake network printer: a sale reaches the
paper; ``kill -9`` with jobs queued or mid-send loses nothing and prints nothing twice."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from serverproc import Server, wait_until
from shop import Shop

from minipos.printing.readback import text_lines
from printing.fake_printer import FakePrinter

pytestmark = pytest.mark.e2e

SALE = {"rows": [{"text": "Kūka ar ķiršiem", "quantity": 2, "price": "3.20"}]}


@pytest.fixture
def printer() -> Iterator[FakePrinter]:
    with FakePrinter() as fake:
        yield fake


class PrintShop(Shop):
    """The shop selling SALE, paid by card, with a printer at its station."""

    def printer(self, fake: FakePrinter, **extra: Any) -> None:
        body = {"kind": "network", "address": f"{fake.host}:{fake.port}", "connect_timeout": 1}
        self.call("PUT", f"/api/stations/{self.station_id}/printer", body | extra)

    def sell_cake(self) -> None:
        self.sell(SALE, payments=[{"method_id": 2}])

    def jobs(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.call("GET", "/api/print-jobs")
        return result


def test_sales_print_once_across_kill_9(server: Server, printer: FakePrinter) -> None:
    server.env |= {
        "MINIPOS_PRINT_POLL_SECONDS": "0.1",
        "MINIPOS_PRINT_LEASE_SECONDS": "2",
        "MINIPOS_PRINT_BACKOFF_CAP_SECONDS": "1",
        "MINIPOS_SHOP_NAME": "SIA Ūdensroze",
    }
    shop = PrintShop(server)
    server.start()
    shop.register()
    shop.printer(printer)

    # post → claim → complete → the receipt arrives
    shop.sell_cake()
    [first] = printer.wait_for_jobs(1, timeout=20)
    lines = [line.strip() for line in text_lines(first)]
    assert "SIA Ūdensroze" in lines
    assert "Kūka ar ķiršiem" in lines
    assert any(line.startswith("KOPĀ EUR") and line.endswith("6.40") for line in lines)
    wait_until(lambda: shop.jobs()[0]["status"] == "printed", "the first printed", 20)

    # printer down: two receipts wait in the queue (the second behind the first, which is
    # retried with backoff); then kill -9
    printer.refuse()
    shop.sell_cake()
    shop.sell_cake()
    wait_until(lambda: shop.jobs()[1]["attempts"] >= 2, "a second attempt", 20)
    assert [(j["status"], j["attempts"]) for j in shop.jobs()][2:] == [("queued", 0)]
    assert "cannot connect" in shop.jobs()[1]["last_error"]
    server.kill()
    printer.serve()
    server.start()
    printer.wait_for_jobs(3, timeout=20)
    wait_until(lambda: [j["status"] for j in shop.jobs()] == ["printed"] * 3, "three printed", 20)

    # kill -9 while a job is being sent to a printer that stopped reading: it becomes failed
    # (it may be on paper), is not sent again by itself, and the queue behind it goes on
    shop.printer(printer, code_page="raster", check_status=False, write_timeout=60)
    printer.stall()
    shop.sell_cake()
    wait_until(lambda: shop.jobs()[3]["status"] == "sending", "the fourth sending", 20)
    server.kill()
    printer.serve()
    server.start()
    shop.printer(printer)
    shop.sell_cake()
    printer.wait_for_jobs(4, timeout=20)
    jobs = wait_until(
        lambda: (j := shop.jobs())[4]["status"] == "printed" and j, "the fifth printed", 20
    )
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
