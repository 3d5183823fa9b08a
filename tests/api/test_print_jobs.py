"""Printing through the real app and database: printers, the print queue and its worker,
previews, against the fake network printer on 127.0.0.1 (tests/printing/fake_printer.py).

The app's own worker is switched off (``MINIPOS_PRINT_WORKER=false``): the tests drive
:class:`PrintWorker` passes themselves, so every attempt is deterministic.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
import zxingcpp
from PIL import Image
from starlette.testclient import TestClient

from minipos.appcontext import AppContext
from minipos.auth.principal import Role
from minipos.bootstrap import create_app
from minipos.config import Settings
from minipos.db import open_database
from minipos.print_jobs.documents import PrintContext
from minipos.print_jobs.settings import PrintSettings
from minipos.print_jobs.worker import PrintWorker, start_print_worker
from minipos.printing import PrintableSlip, PrinterProfile, decode_blocks, to_escpos
from minipos.printing.readback import parse_escpos, text_lines
from minipos.timeutil import now_us
from printing.fake_printer import PAPER_OUT, FakePrinter
from support import Api, Station, open_station

EXAMPLES = Path(__file__).with_name("examples")
SHOP = {
    "MINIPOS_SHOP_NAME": "SIA Ūdensroze",
    "MINIPOS_SHOP_ADDRESS": "Ģertrūdes iela 5|Rīga, LV-1010",
    "MINIPOS_SHOP_VAT_NUMBER": "LV40003000000",
    "MINIPOS_SHOP_REGISTRATION_NUMBER": "40003000000",
}
PRINT = PrintSettings(
    shop_name=SHOP["MINIPOS_SHOP_NAME"],
    shop_address=SHOP["MINIPOS_SHOP_ADDRESS"],
    shop_vat_number=SHOP["MINIPOS_SHOP_VAT_NUMBER"],
    shop_registration_number=SHOP["MINIPOS_SHOP_REGISTRATION_NUMBER"],
)
PROFILE_42 = PrinterProfile(columns=42, dots_per_line=512)
ESC_P = b"\x1bp"  # the drawer pulse
SALE = {
    "keep_drawer_closed": False,
    "info": {
        "header": [{"kind": "text", "content": "Paldies, ka iepērkaties!"}],
        "footer": [{"kind": "barcode", "code": "4006381333931", "type": 2}],
    },
    "rows": [
        {"text": "Kūka ar ķiršiem un šokolādi", "quantity": 2, "price": "3.20", "tax": 0},
        {
            "text": "Ūdens gāzēts",
            "quantity": 1,
            "price": "0.99",
            "tax": 1,
            "info": {"blocks": [{"kind": "text", "content": "Ņem līdzi pudeli"}]},
        },
    ],
}


@pytest.fixture
def api(
    settings: Settings, keys: dict[Role, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Api]:
    """The app without its print worker."""
    for name, value in SHOP.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("MINIPOS_PRINT_WORKER", "false")
    with TestClient(create_app(settings)) as client:
        yield Api(client, keys)


@pytest.fixture
def printer() -> Iterator[FakePrinter]:
    with FakePrinter() as fake:
        yield fake


def configure(api: Api, station: Station, fake: FakePrinter | None, **extra: Any) -> Any:
    body = {"kind": "network", "address": f"{fake.host}:{fake.port}"} if fake else {}
    body |= {"connect_timeout": 1, "write_timeout": 2, "status_timeout": 0.5} | extra
    response = api.as_(Role.ADMIN).put(f"/api/stations/{station.id}/printer", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def work(settings: Settings, passes: int = 1, clock: Callable[[], int] = now_us) -> list[int]:
    """Drive the print worker: each pass recovers, claims due jobs and waits for their sends."""

    async def main() -> list[int]:
        db = open_database(settings.database_url)
        context = PrintContext(PRINT.shop, settings.zone(), frozenset({1}))
        worker = PrintWorker(db, context, PRINT, clock=clock)
        started = []
        try:
            for _ in range(passes):
                await worker.recover(force=True)
                started.append(await worker.run_once())
                await worker.drain()
        finally:
            worker.close()
            db.close()
        return started

    return asyncio.run(main())


def jobs(api: Api, **params: Any) -> list[dict[str, Any]]:
    response = api.as_(Role.ADMIN).get("/api/print-jobs", params=params)
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()
    return result


def sql(settings: Settings, statement: str, params: dict[str, Any] | None = None) -> None:
    db = open_database(settings.database_url)
    try:
        db.run(lambda conn: conn.execute(statement, params or {}))
    finally:
        db.close()


def printed_text(job: bytes) -> list[str]:
    """The job's text lines as the paper shows them (alignment is the printer's: stripped)."""
    return [line.strip() for line in text_lines(job)]


def preview_lines(text: str) -> list[str]:
    """The text preview without its placeholders for codes and the cut, stripped likewise."""
    return [line.strip() for line in text.splitlines() if not line.strip().startswith(("[", "8<"))]


# --- a sale on paper ----------------------------------------------------------------------------


def test_a_completed_sale_arrives_at_the_printer(
    api: Api, settings: Settings, printer: FakePrinter
) -> None:
    pos = open_station(api)
    configure(api, pos, printer)
    done = pos.sell(api, SALE, payments=[{"method_id": 1, "amount": 10}], cashier_name="Jānis")
    [receipt] = done["receipts"]
    [queued] = jobs(api)
    assert (queued["kind"], queued["status"], queued["receipt_id"]) == (
        "receipt",
        "queued",
        receipt["id"],
    )

    assert work(settings) == [1]
    [job] = printer.wait_for_jobs(1)
    lines = printed_text(job)
    text = "\n".join(lines)
    # Latvian text decoded back with the code page the job selected (ESC t 51: CP1257)
    assert b"\x1bt\x33" in job
    for expected in (
        "SIA Ūdensroze",
        "Ģertrūdes iela 5",
        "PVN reģ. Nr. LV40003000000",
        "Paldies, ka iepērkaties!",
        "Kūka ar ķiršiem un šokolādi",
        "Ņem līdzi pudeli",
        "Kasieris",
        "Jānis",
        "Kase 1",
    ):
        assert expected in text, expected
    assert re.search(r"^2 x 3\.20 +6\.40 A$", text, re.MULTILINE)
    assert re.search(r"^1 x 0\.99 +0\.99 B$", text, re.MULTILINE)
    # VAT per rate: net, VAT, gross (21 % of 6.40 and 12 % of 0.99)
    assert re.search(r"^A 21% +5\.29 +1\.11 +6\.40$", text, re.MULTILINE)
    assert re.search(r"^B 12% +0\.88 +0\.11 +0\.99$", text, re.MULTILINE)
    assert re.search(r"^KOPĀ EUR +7\.39$", text, re.MULTILINE)
    assert re.search(r"^Skaidrā nauda +10\.00$", text, re.MULTILINE)
    assert re.search(r"^Atlikums +2\.61$", text, re.MULTILINE)
    assert re.search(r"^Čeks Nr\. +1$", text, re.MULTILINE)
    # the chain hash: short form and QR code; the footer's EAN-13; cash → drawer pulse
    short = re.search(r"^Kontrolkods +((?:[0-9A-F]{4} ){3}[0-9A-F]{4})$", text, re.MULTILINE)
    assert short is not None
    commands = parse_escpos(job)
    [stored_qr] = [c.args[3:] for c in commands if c.name == "GS ( k" and c.args[:3] == b"1P0"]
    assert stored_qr.decode().upper().startswith(short[1].replace(" ", ""))
    assert len(stored_qr) == 64
    assert any(c.name == "GS k" and c.args == b"\x02" + b"4006381333931" for c in commands)
    assert job.startswith(b"\x1b@\x1bt\x33" + ESC_P)
    [printed] = jobs(api)
    assert (printed["status"], printed["attempts"], printed["last_error"]) == ("printed", 1, None)
    assert printed["printed_at"] is not None
    assert printed["next_attempt_at"] is None

    # the text preview is what the printer got, line for line
    preview = api.as_(Role.INTEGRATOR).get(f"/api/receipts/{receipt['id']}/preview")
    assert preview.status_code == 200
    assert preview.headers["content-type"] == "text/plain; charset=utf-8"
    assert preview_lines(preview.text) == lines
    # nothing more to print: another pass sends nothing
    assert work(settings) == [0]
    assert len(printer.jobs) == 1


def test_printer_down_keeps_the_job_then_prints_it_exactly_once(
    api: Api, settings: Settings, printer: FakePrinter
) -> None:
    pos = open_station(api)
    configure(api, pos, printer)
    printer.refuse()
    pos.sell(api, SALE, payments=[{"method_id": 2}])
    assert work(settings) == [1]
    [job] = jobs(api)
    assert (job["status"], job["attempts"], job["may_have_printed"]) == ("queued", 1, False)
    assert "cannot connect" in job["last_error"]
    assert job["next_attempt_at"] > job["created_at"]  # backing off
    # not due yet: nothing is tried
    assert work(settings) == [0]
    assert jobs(api, status="queued")[0]["attempts"] == 1
    # later, still down: the next delay doubles
    later = now_us() + 5_000_000
    assert work(settings, clock=lambda: later) == [1]
    job = jobs(api)[0]
    assert (job["status"], job["attempts"]) == ("queued", 2)

    printer.serve()
    much_later = now_us() + 120_000_000
    assert work(settings, passes=3, clock=lambda: much_later) == [1, 0, 0]
    printer.wait_for_jobs(1)
    assert len(printer.jobs) == 1
    job = jobs(api)[0]
    assert (job["status"], job["attempts"], job["last_error"]) == ("printed", 3, None)
    assert jobs(api, status="queued") == []


def test_a_printer_out_of_paper_gets_the_job_later(
    api: Api, settings: Settings, printer: FakePrinter
) -> None:
    pos = open_station(api)
    configure(api, pos, printer)
    printer.status = dict(PAPER_OUT)
    pos.sell(api, SALE, payments=[{"method_id": 2}])
    work(settings)
    [job] = jobs(api)
    assert (job["status"], job["last_error"]) == ("queued", "printer not ready: offline, paper out")
    assert printer.jobs == []
    status = api.as_(Role.ADMIN).get(f"/api/stations/{pos.id}/printer/status").json()
    assert (status["reachable"], status["ready"], status["paper_out"]) == (True, False, True)
    assert status["queued_jobs"] == 1


def test_a_job_left_sending_by_a_crash_fails_and_its_retry_is_a_copy(
    api: Api, settings: Settings, printer: FakePrinter
) -> None:
    pos = open_station(api)
    configure(api, pos, printer)
    done = pos.sell(api, SALE, payments=[{"method_id": 1, "amount": 10}])
    # the state a kill -9 between claim and mark leaves: sending, its lease long gone
    sql(
        settings,
        "UPDATE print_jobs SET status = 'sending', attempts = 1, claimed_at = 0,"
        " claim_token = 'dead'",
    )
    assert work(settings) == [0]
    [job] = jobs(api)
    assert (job["status"], job["may_have_printed"], job["is_copy"]) == ("failed", True, False)
    assert job["last_error"].startswith("interrupted")
    assert printer.jobs == []  # never resent by itself

    retried = api.as_(Role.ADMIN).post(f"/api/print-jobs/{job['id']}/retry")
    assert retried.status_code == 200
    assert (retried.json()["id"], retried.json()["status"], retried.json()["is_copy"]) == (
        job["id"],
        "queued",
        True,
    )
    work(settings)
    [copy] = printer.wait_for_jobs(1)
    lines = printed_text(copy)
    assert lines.count("KOPIJA") == 2
    assert ESC_P not in copy  # a copy never opens the drawer
    assert jobs(api)[0]["status"] == "printed"

    # a printed receipt: retry makes a new copy job; reprint does the same
    again = api.as_(Role.ADMIN).post(f"/api/print-jobs/{job['id']}/retry").json()
    assert again["id"] != job["id"]
    assert (again["is_copy"], again["status"]) == (True, "queued")
    receipt_id = done["receipts"][0]["id"]
    reprint = pos.post(f"/api/receipts/{receipt_id}/reprint")
    assert reprint.status_code == 201
    assert (reprint.json()["kind"], reprint.json()["receipt_id"]) == ("receipt", receipt_id)
    work(settings, passes=2)
    assert len(printer.wait_for_jobs(3)) == 3
    assert [j["status"] for j in jobs(api)] == ["printed"] * 3


def test_a_partial_send_fails_and_is_not_resent(
    api: Api, settings: Settings, printer: FakePrinter
) -> None:
    pos = open_station(api)
    # raster text makes the job big (about 100 KB): a stalled printer takes only the start
    configure(api, pos, printer, code_page="raster", write_timeout=0.5, check_status=False)
    printer.stall()
    pos.sell(api, SALE, payments=[{"method_id": 2}])
    work(settings)
    [job] = jobs(api)
    assert (job["status"], job["may_have_printed"]) == ("failed", True)
    assert "may have printed part" in job["last_error"]
    printer.serve()
    assert work(settings, clock=lambda: now_us() + 3_600_000_000) == [0]
    assert printer.jobs == []


def test_two_workers_never_send_the_same_job(
    api: Api, settings: Settings, printer: FakePrinter
) -> None:
    stations = [open_station(api, f"Kase {n}", f"0{n}") for n in range(1, 4)]
    for station in stations:
        configure(api, station, printer, check_status=False)
        for _ in range(2):
            station.sell(api, SALE, payments=[{"method_id": 2}])

    async def race() -> None:
        async def one() -> None:
            db = open_database(settings.database_url)
            worker = PrintWorker(db, PrintContext(PRINT.shop, settings.zone(), frozenset()), PRINT)
            try:
                for _ in range(6):
                    await worker.run_once()
                    await worker.drain()
            finally:
                worker.close()
                db.close()

        await asyncio.gather(one(), one())

    asyncio.run(race())
    printed = printer.wait_for_jobs(6)
    assert len(printed) == 6
    numbers = sorted(
        (line.split()[-1], lines_station)
        for job in printed
        for lines_station in [next(x for x in printed_text(job) if x.startswith("Kase "))]
        for line in printed_text(job)
        if line.startswith("Čeks Nr.")
    )
    assert len(set(numbers)) == 6
    assert {j["status"] for j in jobs(api)} == {"printed"}
    assert all(j["attempts"] == 1 for j in jobs(api))


# --- what prints and what does not --------------------------------------------------------------


def test_the_documented_coupon_slip_prints_byte_for_byte(
    api: Api, settings: Settings, printer: FakePrinter
) -> None:
    pos = open_station(api)
    configure(api, pos, printer)
    body = json.loads((EXAMPLES / "non_fiscal_slip.json").read_text())
    pos.sell(api, body)
    [job] = jobs(api)
    assert (job["kind"], job["receipt_id"]) == ("slip", None)
    work(settings)
    [printed] = printer.wait_for_jobs(1)
    blocks = json.dumps(body["info"]["slip"]).encode()
    assert printed == to_escpos(PrintableSlip(decode_blocks(blocks)), PROFILE_42)
    # the escpos blocks verbatim, around our framing
    assert printed.startswith(b"\x1b@\x1bt\x33")
    assert (
        bytes.fromhex("1D21221D42011D4201") + b" " * 18 + b"COUPON" + b" " * 18 + b"\n" in printed
    )
    assert bytes.fromhex("1B40") + b"\x1bt\x33" + b"The text line should not" in printed
    assert b"\x1dk\x02" + b"1234567890128" + b"\x00" in printed  # EAN-13, check digit 8
    assert printed.endswith(b"\x1dV\x00")
    assert printed_text(printed).count("NEFISKĀLS DOKUMENTS") == 2


def test_receipt_then_its_slip_in_order(api: Api, settings: Settings, printer: FakePrinter) -> None:
    pos = open_station(api)
    configure(api, pos, printer)
    body = json.loads((EXAMPLES / "sales_slip_after_payment.json").read_text())
    pos.sell(api, body, payments=[{"method_id": 2}])
    assert [j["kind"] for j in jobs(api)] == ["receipt", "slip"]
    # one pass sends one job per station: the slip waits for the receipt
    assert work(settings) == [1]
    assert [j["status"] for j in jobs(api)] == ["printed", "queued"]
    work(settings)
    receipt, slip = printer.wait_for_jobs(2)
    assert any(line.startswith("KOPĀ EUR") for line in printed_text(receipt))
    assert b"COUPON" in slip
    assert "KOPĀ EUR".encode("cp1257") not in slip


def test_paper_off_queues_nothing_but_the_preview_works(api: Api, pos_printer: Any) -> None:
    pos, _ = pos_printer
    done = pos.sell(api, {**SALE, "print_paper_receipt": False}, payments=[{"method_id": 2}])
    assert jobs(api) == []
    preview = pos.get(f"/api/receipts/{done['receipts'][0]['id']}/preview")
    assert preview.status_code == 200
    assert re.search(r"^KOPĀ EUR +7\.39$", preview.text, re.MULTILINE)


@pytest.mark.parametrize(
    ("keep_closed", "payments", "kicks"),
    [
        (False, [{"method_id": 1, "amount": 10}], True),
        (True, [{"method_id": 1, "amount": 10}], False),
        (False, [{"method_id": 2}], False),
    ],
    ids=["cash", "cash-kept-closed", "card"],
)
def test_drawer_pulse_only_for_cash_unless_kept_closed(
    api: Api,
    settings: Settings,
    printer: FakePrinter,
    keep_closed: bool,
    payments: list[dict[str, Any]],
    kicks: bool,
) -> None:
    pos = open_station(api)
    configure(api, pos, printer, drawer_pin=5, drawer_on_ms=50)
    pos.sell(api, {**SALE, "keep_drawer_closed": keep_closed}, payments=payments)
    work(settings)
    [job] = printer.wait_for_jobs(1)
    assert (b"\x1bp\x01\x19\x32" in job) is kicks  # pin 5, 50 ms on, 100 ms off (2 ms units)


def test_without_a_printer_jobs_are_done_at_once(api: Api, settings: Settings) -> None:
    pos = open_station(api)
    pos.sell(api, SALE, payments=[{"method_id": 2}])
    other = open_station(api, "Kase 2", "02")
    configure(api, other, None, kind="none")
    other.sell(api, SALE, payments=[{"method_id": 2}])
    work(settings)
    assert [(j["status"], j["station_id"]) for j in jobs(api)] == [
        ("printed", pos.id),
        ("printed", other.id),
    ]


def test_the_z_report_prints(api: Api, settings: Settings, printer: FakePrinter) -> None:
    pos = open_station(api)
    configure(api, pos, printer)
    pos.sell(api, SALE, payments=[{"method_id": 1, "amount": 10}])
    z = pos.post(f"/api/stations/{pos.id}/shift/close", {"cashier_name": "Anna"}).json()
    work(settings, passes=2)
    _, report = printer.wait_for_jobs(2)
    text = "\n".join(printed_text(report))
    assert "Z ATSKAITE" in text
    assert re.search(rf"^Z Nr\. +{z['z_number']}$", text, re.MULTILINE)
    assert re.search(r"^Pārdošana +7\.39$", text, re.MULTILINE)
    assert re.search(r"^21% +5\.29 +1\.11 +6\.40$", text, re.MULTILINE)
    assert re.search(r"^Skaidrā nauda +7\.39$", text, re.MULTILINE)
    assert re.search(r"^Kopsumma \(kopš sākuma\) +7\.39$", text, re.MULTILINE)
    assert [j["kind"] for j in jobs(api)] == ["receipt", "z_report"]


# --- previews -----------------------------------------------------------------------------------


@pytest.fixture
def pos_printer(api: Api, printer: FakePrinter) -> tuple[Station, FakePrinter]:
    pos = open_station(api)
    configure(api, pos, printer, columns=32)
    return pos, printer


def test_receipt_previews_text_and_png(
    api: Api, settings: Settings, pos_printer: tuple[Station, FakePrinter]
) -> None:
    pos, printer = pos_printer
    done = pos.sell(api, SALE, payments=[{"method_id": 1, "amount": 10}])
    receipt_id = done["receipts"][0]["id"]
    text = pos.get(f"/api/receipts/{receipt_id}/preview", format="txt")
    assert max(len(line) for line in text.text.splitlines()) == 32  # the station's profile
    work(settings)
    [job] = printer.wait_for_jobs(1)
    assert preview_lines(text.text) == printed_text(job)
    png = pos.get(f"/api/receipts/{receipt_id}/preview", format="png")
    assert png.status_code == 200
    assert png.headers["content-type"] == "image/png"
    assert png.headers["content-disposition"] == 'inline; filename="receipt-01-1.png"'
    image = Image.open(io.BytesIO(png.content))
    assert image.width == 384 + 2 * 16
    found = {(r.format.name, r.text) for r in zxingcpp.read_barcodes(image)}
    assert ("EAN13", "4006381333931") in found
    assert any(kind == "QRCode" and len(value) == 64 for kind, value in found)
    assert pos.get(f"/api/receipts/{receipt_id}/preview", format="pdf").status_code == 400


def test_invoice_previews(api: Api, pos_printer: tuple[Station, FakePrinter]) -> None:
    pos, _ = pos_printer
    slip_body = json.loads((EXAMPLES / "non_fiscal_slip.json").read_text())
    slip = api.as_(Role.INTEGRATOR).post("/api/invoice/new", json=slip_body).json()
    # a mode-3 invoice shows its slip before it is done (default profile: no station yet)
    text = api.as_(Role.INTEGRATOR).get(f"/api/invoice/{slip['id']}/preview").text
    assert "C  O  U  P  O  N" in text
    assert text.splitlines()[0].strip() == "NEFISKĀLS DOKUMENTS"

    body = json.loads((EXAMPLES / "sales_slip_after_payment.json").read_text())
    pending = api.as_(Role.INTEGRATOR).post("/api/invoice/new", json=body).json()
    missing = api.as_(Role.INTEGRATOR).get(f"/api/invoice/{pending['id']}/preview")
    assert missing.status_code == 404
    assert "nothing to print yet" in missing.json()["detail"]
    done = pos.sell(api, body, payments=[{"method_id": 2}])
    both = pos.get(f"/api/invoice/{done['id']}/preview").text
    assert both.index("KOPĀ EUR") < both.index("NEFISKĀLS DOKUMENTS") < both.index("U  P  O  N")
    png = pos.get(f"/api/invoice/{done['id']}/preview", format="png")
    assert png.headers["content-type"] == "image/png"
    codes = {r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))}
    assert "1234567890128" in codes


def test_a_station_sees_only_its_own(api: Api, settings: Settings) -> None:
    one = open_station(api)
    two = open_station(api, "Kase 2", "02")
    sale = one.sell(api, SALE, payments=[{"method_id": 2}])
    receipt_id = sale["receipts"][0]["id"]
    assert two.get(f"/api/receipts/{receipt_id}/preview").status_code == 404
    assert two.post(f"/api/receipts/{receipt_id}/reprint").status_code == 404
    [job] = jobs(api)
    assert two.get("/api/print-jobs").json() == []
    assert one.get("/api/print-jobs").json()[0]["id"] == job["id"]
    assert two.get(f"/api/print-jobs/{job['id']}").status_code == 404
    assert two.post(f"/api/print-jobs/{job['id']}/retry").status_code == 404
    assert one.get(f"/api/print-jobs/{job['id']}").json()["status"] == "queued"


# --- configuration, status and roles ------------------------------------------------------------


def test_printer_configuration(api: Api, printer: FakePrinter) -> None:
    pos = open_station(api)
    admin = api.as_(Role.ADMIN)
    assert admin.get(f"/api/stations/{pos.id}/printer").status_code == 404
    out = configure(api, pos, printer, columns=48, code_page="cp775")
    assert (out["kind"], out["address"]) == ("network", f"127.0.0.1:{printer.port}")
    assert (out["columns"], out["dots_per_line"], out["code_page"]) == (48, 576, "cp775")
    assert (out["connect_timeout"], out["write_timeout"], out["status_timeout"]) == (1, 2, 0.5)
    assert pos.get(f"/api/stations/{pos.id}/printer").json() == out
    file_printer = admin.put(
        f"/api/stations/{pos.id}/printer", json={"kind": "file", "address": "/dev/usb/lp0"}
    ).json()
    assert (file_printer["kind"], file_printer["columns"], file_printer["dots_per_line"]) == (
        "file",
        42,
        512,
    )
    none = admin.put(f"/api/stations/{pos.id}/printer", json={"kind": "none", "address": "x"})
    assert none.json()["address"] is None

    for body, field in [
        ({"kind": "network", "address": "1.1"}, "address"),
        ({"kind": "network", "address": "10.0.0.5:70000"}, "address"),
        ({"kind": "network"}, "address"),
        ({"kind": "file", "address": "relative/path"}, "address"),
        ({"kind": "usb", "address": "zz:01"}, "address"),
        ({"kind": "network", "address": "a.lan", "columns": 40}, "columns"),
        ({"kind": "network", "address": "a.lan", "model": "no-such-printer"}, "model"),
        (
            {"kind": "network", "address": "a.lan", "columns": 48, "dots_per_line": 40},
            "dots_per_line",
        ),
        ({"kind": "laser", "address": "a.lan"}, "kind"),
    ]:
        refused = admin.put(f"/api/stations/{pos.id}/printer", json=body)
        assert refused.status_code == 400, body
        assert list(refused.json()) == [field], refused.json()
    assert admin.put("/api/stations/999/printer", json={"kind": "none"}).status_code == 404


def test_printer_status(api: Api, printer: FakePrinter) -> None:
    pos = open_station(api)
    assert pos.get(f"/api/stations/{pos.id}/printer/status").status_code == 404
    configure(api, pos, printer)
    status = pos.get(f"/api/stations/{pos.id}/printer/status").json()
    assert {k: status[k] for k in ("reachable", "ready", "online", "paper_out", "cover_open")} == {
        "reachable": True,
        "ready": True,
        "online": True,
        "paper_out": False,
        "cover_open": False,
    }
    assert (status["detail"], status["queued_jobs"], status["failed_jobs"]) == (None, 0, 0)
    printer.refuse()
    down = pos.get(f"/api/stations/{pos.id}/printer/status").json()
    assert (down["reachable"], down["ready"], down["online"], down["paper_out"]) == (
        False,
        False,
        False,
        None,
    )
    assert "cannot connect" in down["detail"]


def test_roles(api: Api) -> None:
    pos = open_station(api)
    other = open_station(api, "Kase 2", "02")
    body = {"kind": "none"}
    integrator = api.as_(Role.INTEGRATOR)
    assert integrator.put(f"/api/stations/{pos.id}/printer", json=body).status_code == 403
    assert integrator.get(f"/api/stations/{pos.id}/printer").status_code == 403
    assert integrator.get("/api/print-jobs").status_code == 403
    assert integrator.post("/api/print-jobs/1/retry").status_code == 403
    station_put = pos.client.put(f"/api/stations/{pos.id}/printer", json=body, headers=pos.headers)
    assert station_put.status_code == 403
    assert api.as_(Role.ADMIN).put(f"/api/stations/{pos.id}/printer", json=body).status_code == 200
    assert pos.get(f"/api/stations/{pos.id}/printer").status_code == 200
    assert pos.get(f"/api/stations/{other.id}/printer").status_code == 403
    assert api.as_(None).get("/api/print-jobs").status_code == 401


def test_print_jobs_paging_and_filters(api: Api, settings: Settings) -> None:
    pos = open_station(api)
    for _ in range(3):
        pos.sell(api, SALE, payments=[{"method_id": 2}])
    page = api.as_(Role.ADMIN).get("/api/print-jobs", params={"limit": 2})
    assert page.headers["x-total-count"] == "3"
    assert len(page.json()) == 2
    assert "after_id=" in page.headers["link"]
    assert jobs(api, status="printed") == []
    assert len(jobs(api, station_id=pos.id, kind="receipt", status="queued")) == 3
    assert api.as_(Role.ADMIN).get("/api/print-jobs", params={"status": "lost"}).status_code == 400


def test_the_openapi_document_declares_the_previews(api: Api) -> None:
    spec = api.as_(None).get("/openapi.json").json()
    content = spec["paths"]["/api/receipts/{id}/preview"]["get"]["responses"]["200"]["content"]
    assert content == {
        "text/plain": {"schema": {"type": "string"}},
        "image/png": {"schema": {"type": "string", "contentMediaType": "image/png"}},
    }
    assert "put" in spec["paths"]["/api/stations/{station_id}/printer"]


def test_start_print_worker_sends_in_the_background(
    api: Api, settings: Settings, printer: FakePrinter
) -> None:
    """The one call bootstrap makes: a task that keeps sending until it is cancelled."""
    pos = open_station(api)
    configure(api, pos, printer)
    pos.sell(api, SALE, payments=[{"method_id": 2}])
    started: AppContext = api.client.app.state.ctx  # type: ignore[attr-defined]
    # The settings are read once at start-up: this worker gets its own.
    printing = msgspec.structs.replace(started.printing, print_worker=True, print_poll_seconds=0.05)

    async def run_until_printed() -> None:
        task = start_print_worker(started.db, started.print_context(), printing)
        try:
            for _ in range(200):
                if printer.jobs:
                    break
                await asyncio.sleep(0.05)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    assert api.client.portal is not None
    api.client.portal.call(run_until_printed)
    printer.wait_for_jobs(1)
    assert jobs(api)[0]["status"] == "printed"
