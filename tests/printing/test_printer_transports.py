"""Transports against real peers: the fake network printer, files, pyserial's socket:// port."""

from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from fake_printer import COVER_OPEN, ONLINE, PAPER_LOW, PAPER_OUT, FakePrinter

from minipos.printing import (
    PaymentLine,
    PrintableReceipt,
    PrinterProfile,
    ReceiptLine,
    ShopInfo,
    VatLine,
    to_escpos,
)
from minipos.printing.readback import text_lines
from minipos.printing.transport import (
    FileTransport,
    NetworkTransport,
    NullTransport,
    PrinterConfigError,
    PrinterError,
    PrinterStatus,
    PrinterUnavailable,
    SerialTransport,
    UsbTransport,
    parse_status,
    transport_from_url,
)

D = Decimal


def receipt() -> PrintableReceipt:
    return PrintableReceipt(
        shop=ShopInfo("Kafejnīca Ūdensroze", ("Ģertrūdes iela 5, Rīga",)),
        lines=(ReceiptLine("Kūka ar ķiršiem", D(2), D("3.20"), D("6.40"), D(21), "A"),),
        vat_lines=(VatLine(D(21), D("5.29"), D("1.11"), D("6.40"), "A"),),
        total=D("6.40"),
        payments=(PaymentLine("Skaidrā nauda", D("10.00")),),
        change=D("3.60"),
        station_name="Kase 2",
        pos_id="2",
        document_id="17",
        printed_at=datetime(2026, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=2))),
        chain_hash="ab" * 32,
        open_drawer=True,
    )


def network(printer: FakePrinter, **timeouts: float) -> NetworkTransport:
    options = {"connect_timeout": 1.0, "write_timeout": 1.0, "status_timeout": 0.5} | timeouts
    return NetworkTransport(printer.host, printer.port, **options)


# --- network ------------------------------------------------------------------------------------


def test_a_receipt_arrives_byte_for_byte(printer: FakePrinter) -> None:
    job = to_escpos(receipt(), PrinterProfile())
    network(printer).send(job)
    assert printer.wait_for_jobs(1) == [job]
    lines = text_lines(job)
    assert "Kafejnīca Ūdensroze" in lines
    assert "KOPĀ EUR".ljust(38) + "6.40" in lines
    assert "A 21%             5.29      1.11      6.40" in lines
    assert "Kūka ar ķiršiem" in lines
    assert job.startswith(b"\x1b@\x1bt\x33\x1bp\x00")  # CP1257, then the drawer pulse


def test_a_large_job_arrives_whole(printer: FakePrinter) -> None:
    job = bytes(range(256)).replace(b"\x10", b"") * 8000  # ~2 MB, no status queries in it
    network(printer).send(job)
    assert printer.wait_for_jobs(1) == [job]


def test_each_send_is_one_connection(printer: FakePrinter) -> None:
    transport = network(printer)
    transport.send(b"one\n")
    transport.send(b"two\n")
    assert printer.wait_for_jobs(2) == [b"one\n", b"two\n"]


@pytest.mark.parametrize(
    ("replies", "expected"),
    [
        (
            ONLINE,
            PrinterStatus(
                online=True, paper_out=False, paper_low=False, cover_open=False, error=False
            ),
        ),
        (
            PAPER_OUT,
            PrinterStatus(
                online=False, paper_out=True, paper_low=True, cover_open=False, error=False
            ),
        ),
        (
            PAPER_LOW,
            PrinterStatus(
                online=True, paper_out=False, paper_low=True, cover_open=False, error=False
            ),
        ),
        (
            COVER_OPEN,
            PrinterStatus(
                online=False, paper_out=False, paper_low=False, cover_open=True, error=False
            ),
        ),
    ],
    ids=["online", "paper-out", "paper-low", "cover-open"],
)
def test_status(printer: FakePrinter, replies: dict[int, int], expected: PrinterStatus) -> None:
    printer.status = dict(replies)
    status = network(printer).status()
    assert status == expected
    assert status.ready is (
        expected == PrinterStatus(True, False, False, False, False) or replies is PAPER_LOW
    )
    assert printer.status_queries[:4] == [1, 2, 3, 4]
    assert printer.jobs == []  # a status query is not a print job


def test_status_of_a_printer_that_does_not_answer_is_unknown(printer: FakePrinter) -> None:
    printer.silent()
    started = time.monotonic()
    status = network(printer, status_timeout=0.3).status()
    assert time.monotonic() - started < 2
    assert status == PrinterStatus()
    assert not status.known
    assert status.ready  # unknown: the queue tries to print


def test_status_skips_stray_bytes() -> None:
    assert parse_status({1: 0x12}) == PrinterStatus(online=True)
    assert parse_status({}) == PrinterStatus()
    assert parse_status({2: 0x52}).error is True
    assert parse_status({3: 0x1A}).error is True  # autocutter error


def test_refused_connection_is_unavailable(printer: FakePrinter) -> None:
    printer.refuse()
    started = time.monotonic()
    with pytest.raises(PrinterUnavailable, match="cannot connect") as caught:
        network(printer).send(b"lost?\n")
    assert time.monotonic() - started < 1
    assert caught.value.retryable
    assert caught.value.bytes_sent == 0
    with pytest.raises(PrinterUnavailable):
        network(printer).status()


def test_connect_that_gets_no_answer_times_out(printer: FakePrinter) -> None:
    printer.hang()
    started = time.monotonic()
    with pytest.raises(PrinterUnavailable, match="did not answer") as caught:
        network(printer, connect_timeout=0.4).send(b"x\n")
    elapsed = time.monotonic() - started
    assert 0.3 < elapsed < 2
    assert caught.value.bytes_sent == 0


def test_stalled_printer_times_out(printer: FakePrinter) -> None:
    printer.stall()
    job = b"x" * (16 * 1024 * 1024)  # more than the socket buffers hold
    started = time.monotonic()
    with pytest.raises(PrinterUnavailable, match="stopped taking data") as caught:
        network(printer, write_timeout=0.5).send(job)
    assert time.monotonic() - started < 3
    assert caught.value.retryable
    assert 0 < caught.value.bytes_sent <= len(job)


def test_small_job_to_a_stalled_printer_is_not_reported_printed(printer: FakePrinter) -> None:
    # The printer's TCP stack takes a few KB even when it has stopped reading; a job larger
    # than its buffer is never acknowledged, and send must say so rather than return.
    printer.stall()
    with pytest.raises(PrinterUnavailable):
        network(printer, write_timeout=0.3).send(b"y" * 400_000)


def test_printer_down_then_up_prints_once(printer: FakePrinter) -> None:
    transport = network(printer)
    job = to_escpos(receipt(), PrinterProfile())
    printer.refuse()
    with pytest.raises(PrinterUnavailable) as caught:
        transport.send(job)
    assert caught.value.bytes_sent == 0  # safe to retry: nothing reached the printer
    printer.serve()
    transport.send(job)
    assert printer.wait_for_jobs(1) == [job]
    time.sleep(0.05)
    assert len(printer.jobs) == 1


def test_bad_network_configuration() -> None:
    with pytest.raises(PrinterConfigError):
        NetworkTransport("", 9100)
    with pytest.raises(PrinterConfigError):
        NetworkTransport("127.0.0.1", 70000)
    assert issubclass(PrinterUnavailable, PrinterError)
    assert not PrinterConfigError.retryable


# --- serial (pyserial's socket:// URL reaches the fake printer) ---------------------------------


def test_serial_over_socket_url(printer: FakePrinter) -> None:
    pytest.importorskip("serial")
    transport = SerialTransport(f"socket://{printer.host}:{printer.port}", status_timeout=0.5)
    transport.send(b"serial job\n")
    assert printer.wait_for_jobs(1) == [b"serial job\n"]
    printer.status = dict(PAPER_OUT)
    assert transport.status().paper_out is True


def test_serial_port_missing_is_unavailable(tmp_path: Path) -> None:
    pytest.importorskip("serial")
    with pytest.raises(PrinterUnavailable):
        SerialTransport(str(tmp_path / "ttyNOPE")).send(b"x")


def test_serial_without_pyserial(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "serial", None)
    with pytest.raises(PrinterConfigError, match="pyserial"):
        SerialTransport("/dev/ttyS0").send(b"x")


# --- USB ----------------------------------------------------------------------------------------


def test_usb_without_pyusb(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "usb", None)
    monkeypatch.setitem(sys.modules, "usb.core", None)
    with pytest.raises(PrinterConfigError, match="pyusb"):
        UsbTransport(0x04B8, 0x0202).send(b"x")


def test_usb_printer_not_found(monkeypatch: pytest.MonkeyPatch) -> None:
    usb_core = pytest.importorskip("usb.core")
    monkeypatch.setattr(usb_core, "find", lambda **_: None)
    with pytest.raises(PrinterUnavailable, match="04b8:0202 not found"):
        UsbTransport(0x04B8, 0x0202).send(b"x")


def test_usb_without_libusb(monkeypatch: pytest.MonkeyPatch) -> None:
    usb_core = pytest.importorskip("usb.core")

    def no_backend(**_: object) -> None:
        raise usb_core.NoBackendError("No backend available")

    monkeypatch.setattr(usb_core, "find", no_backend)
    with pytest.raises(PrinterConfigError, match="libusb"):
        UsbTransport(0x04B8, 0x0202).status()


# --- file and none ------------------------------------------------------------------------------


def test_file_transport_appends(tmp_path: Path) -> None:
    path = tmp_path / "printer.bin"
    transport = FileTransport(path)
    transport.send(b"one")
    transport.send(b"two")
    assert path.read_bytes() == b"onetwo"
    assert transport.status() == PrinterStatus()


def test_file_transport_errors(tmp_path: Path) -> None:
    with pytest.raises(PrinterUnavailable):
        FileTransport(tmp_path / "no" / "such" / "dir").send(b"x")
    with pytest.raises(PrinterUnavailable):
        FileTransport(tmp_path / "no" / "file").status()
    with pytest.raises(PrinterUnavailable):
        FileTransport("/dev/usb/no-such-lp9").status()
    with pytest.raises(PrinterConfigError):
        FileTransport(tmp_path).send(b"x")


def test_null_transport() -> None:
    transport = NullTransport()
    transport.send(b"abc")
    transport.send(b"de")
    assert (transport.jobs, transport.bytes) == (2, 5)
    assert transport.status().ready


# --- addresses ----------------------------------------------------------------------------------


def test_transport_from_url(tmp_path: Path) -> None:
    tcp = transport_from_url("tcp://192.0.2.10", connect_timeout=2, write_timeout=5)
    assert isinstance(tcp, NetworkTransport)
    assert (tcp.host, tcp.port, tcp.connect_timeout, tcp.write_timeout) == (
        "192.0.2.10",
        9100,
        2,
        5,
    )
    other = transport_from_url("network://printer.local:9101")
    assert isinstance(other, NetworkTransport)
    assert (other.host, other.port) == ("printer.local", 9101)
    file = transport_from_url(f"file://{tmp_path}/out.bin")
    assert isinstance(file, FileTransport)
    assert file.path == f"{tmp_path}/out.bin"
    serial = transport_from_url("serial:///dev/ttyUSB0?baudrate=19200&rtscts=1")
    assert isinstance(serial, SerialTransport)
    assert serial.port == "/dev/ttyUSB0"
    assert serial.settings["baudrate"] == 19200
    assert serial.settings["rtscts"] is True
    assert serial.settings["xonxoff"] is False
    wrapped = transport_from_url("serial://socket://127.0.0.1:4000")
    assert isinstance(wrapped, SerialTransport)
    assert wrapped.port == "socket://127.0.0.1:4000"
    usb = transport_from_url("usb://04b8:0e15?interface=1")
    assert isinstance(usb, UsbTransport)
    assert (usb.vendor_id, usb.product_id, usb.interface) == (0x04B8, 0x0E15, 1)
    assert isinstance(transport_from_url("none:"), NullTransport)


@pytest.mark.parametrize(
    "url", ["", "lpt://1", "tcp://", "usb://zz:01", "serial:///dev/ttyS0?baudrate=fast"]
)
def test_bad_urls(url: str) -> None:
    with pytest.raises(PrinterConfigError):
        transport_from_url(url)
