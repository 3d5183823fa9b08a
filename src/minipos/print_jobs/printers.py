"""A station's printer: configuration rows ↔ API shapes, profiles and transports."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from minipos.db import Connection, Row
from minipos.domain.errors import NotFound, ValidationFailed
from minipos.print_jobs import repository
from minipos.print_jobs.schemas import PrinterIn, PrinterOut, PrinterStatusOut
from minipos.printing import (
    PrinterConfigError,
    PrinterError,
    PrinterProfile,
    PrinterStatus,
    Transport,
    transport_from_url,
)
from minipos.printing.escpos import code_page_number
from minipos.stations import repository as stations
from minipos.timeutil import local_aware

#: Printable width in dots by line width, when the configuration gives none.
DEFAULT_DOTS = {32: 384, 42: 512, 48: 576}
#: The profile of a station without a printer (what its previews use).
DEFAULT_PROFILE = PrinterProfile(columns=42, dots_per_line=DEFAULT_DOTS[42])


@dataclass(frozen=True, slots=True)
class Printer:
    """A station's printer as the worker and the previews use it."""

    station_id: int
    kind: str
    address: str | None
    profile: PrinterProfile
    connect_timeout: float
    write_timeout: float
    status_timeout: float
    check_status: bool

    @property
    def prints(self) -> bool:
        """Whether anything is sent at all (``none`` discards)."""
        return self.kind != "none"

    @property
    def url(self) -> str:
        return printer_url(self.kind, self.address)

    def transport(self) -> Transport:
        """Raises :class:`PrinterConfigError` for an address the transport cannot use."""
        return transport_from_url(
            self.url,
            connect_timeout=self.connect_timeout,
            write_timeout=self.write_timeout,
            status_timeout=self.status_timeout,
        )


def printer_url(kind: str, address: str | None) -> str:
    """The :func:`~minipos.printing.transport_from_url` address of a configuration."""
    if kind == "none":
        return "none:"
    scheme = "tcp" if kind == "network" else kind
    return f"{scheme}://{address or ''}"


def load(conn: Connection, station_id: int) -> Printer | None:
    row = repository.get_printer(conn, station_id)
    return None if row is None else from_row(row)


def with_queue(conn: Connection, station_id: int) -> tuple[Printer, dict[str, int]]:
    """The station's printer and its jobs counted by status; 404 when it has none."""
    printer = load(conn, station_id)
    if printer is None:
        raise NotFound("This station has no printer configured.")
    return printer, repository.count_by_status(conn, station_id)


def from_row(row: Row) -> Printer:
    return Printer(
        station_id=row["station_id"],
        kind=row["kind"],
        address=row["address"],
        profile=PrinterProfile(
            columns=row["columns"],
            code_page=row["code_page"],
            code_page_number=row["code_page_number"],
            model=row["model"],
            dots_per_line=row["dots_per_line"],
            cut=bool(row["cut"]),
            partial_cut=bool(row["partial_cut"]),
            drawer_pin=row["drawer_pin"],
            drawer_on_ms=row["drawer_on_ms"],
            drawer_off_ms=row["drawer_off_ms"],
        ),
        connect_timeout=row["connect_timeout_ms"] / 1000,
        write_timeout=row["write_timeout_ms"] / 1000,
        status_timeout=row["status_timeout_ms"] / 1000,
        check_status=bool(row["check_status"]),
    )


def profile_of(conn: Connection, station_id: int | None) -> PrinterProfile:
    """The station's printer profile, or the default one (no printer, or no station)."""
    printer = load(conn, station_id) if station_id is not None else None
    return printer.profile if printer is not None else DEFAULT_PROFILE


def to_row(station_id: int, data: PrinterIn, now_us: int) -> dict[str, Any]:
    """A validated configuration row; raises ``ValidationFailed`` naming the field at fault."""
    address = (data.address or "").strip() or None
    if data.kind == "none":
        address = None
    elif address is None:
        raise ValidationFailed.single(("address",), "A printer of this kind needs an address.")
    else:
        _check_address(data.kind, address)
    dots = data.dots_per_line or DEFAULT_DOTS[data.columns]
    row: dict[str, Any] = {
        "station_id": station_id,
        "kind": data.kind,
        "address": address,
        "columns": data.columns,
        "code_page": data.code_page,
        "code_page_number": data.code_page_number,
        "model": data.model,
        "dots_per_line": dots,
        "cut": data.cut,
        "partial_cut": data.partial_cut,
        "drawer_pin": data.drawer_pin,
        "drawer_on_ms": data.drawer_on_ms,
        "drawer_off_ms": data.drawer_off_ms,
        "connect_timeout_ms": round(data.connect_timeout * 1000),
        "write_timeout_ms": round(data.write_timeout * 1000),
        "status_timeout_ms": round(data.status_timeout * 1000),
        "check_status": data.check_status,
        "updated_at": now_us,
    }
    try:
        profile = from_row(row).profile  # the profile's own checks (dots at least the columns)
    except ValueError as exc:
        raise ValidationFailed.single(("dots_per_line",), str(exc)) from exc
    if profile.code_page != "raster":
        try:
            code_page_number(profile)
        except ValueError as exc:
            field = "model" if profile.code_page_number is None else "code_page_number"
            raise ValidationFailed.single((field,), str(exc)) from exc
    return row


def _check_address(kind: str, address: str) -> None:
    message = None
    if any(c.isspace() or not c.isprintable() for c in address):
        message = "An address has no spaces or control characters."
    elif kind == "network" and not _network_address(address):
        message = (
            "Give host[:port]: an IPv4 address, [IPv6] or a host name, e.g. 192.168.1.50:9100."
        )
    elif kind == "file" and not address.startswith("/"):
        message = "Give an absolute path, e.g. /dev/usb/lp0."
    elif kind == "usb" and ":" not in address.partition("?")[0]:
        message = "Give vendor:product in hex, e.g. 04b8:0202."
    if message is None:
        try:
            transport_from_url(printer_url(kind, address))
        except PrinterConfigError as exc:
            message = str(exc)
    if message is not None:
        raise ValidationFailed.single(("address",), message)


_HOST_NAME = re.compile(
    r"^(?=.*[A-Za-z])[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


def _network_address(address: str) -> bool:
    """``host[:port]``: a dotted-quad IPv4 address, ``[IPv6]`` or a host name with a letter.

    Stricter than the socket library, which takes ``1.1`` for 1.0.0.1: an address that is not
    plainly one of these is a typo, not a printer.
    """
    host, port = address, ""
    if address.startswith("["):
        host, _, rest = address[1:].partition("]")
        if rest and not rest.startswith(":"):
            return False
        port = rest[1:]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return False
    else:
        if address.count(":") == 1:
            host, port = address.split(":")
        if not (_is_ipv4(host) or _HOST_NAME.match(host)):
            return False
    return not port or (port.isdigit() and 0 < int(port) < 65536 and len(port) <= 5)


def _is_ipv4(host: str) -> bool:
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        return False
    return True


def describe(conn: Connection, station_id: int, zone: ZoneInfo) -> PrinterOut:
    row = repository.get_printer(conn, station_id)
    if row is None:
        raise NotFound("This station has no printer configured.")
    return printer_out(row, zone)


def printer_out(row: Row, zone: ZoneInfo) -> PrinterOut:
    printer = from_row(row)
    profile = printer.profile
    return PrinterOut(
        station_id=printer.station_id,
        kind=printer.kind,
        address=printer.address,
        columns=profile.columns,
        code_page=profile.code_page,
        code_page_number=profile.code_page_number,
        model=profile.model,
        dots_per_line=profile.dots_per_line,
        cut=profile.cut,
        partial_cut=profile.partial_cut,
        drawer_pin=profile.drawer_pin,
        drawer_on_ms=profile.drawer_on_ms,
        drawer_off_ms=profile.drawer_off_ms,
        connect_timeout=printer.connect_timeout,
        write_timeout=printer.write_timeout,
        status_timeout=printer.status_timeout,
        check_status=printer.check_status,
        updated_at=local_aware(row["updated_at"], zone) or "",
    )


def configure(
    conn: Connection, station_id: int, data: PrinterIn, zone: ZoneInfo, now_us: int
) -> PrinterOut:
    """Set (replace) the station's printer; its waiting jobs become due now."""
    if stations.get_station(conn, station_id) is None:
        raise NotFound()
    repository.put_printer(conn, to_row(station_id, data, now_us))
    repository.hurry_station(conn, station_id, now_us)
    return describe(conn, station_id, zone)


def read_status(printer: Printer) -> tuple[bool, PrinterStatus, str | None]:
    """``(reachable, status, detail)`` read from the printer now (blocking: run in a thread)."""
    try:
        return True, printer.transport().status(), None
    except PrinterError as exc:
        return False, PrinterStatus(online=False), str(exc)


def status_out(
    printer: Printer,
    reading: tuple[bool, PrinterStatus, str | None],
    counts: dict[str, int],
    zone: ZoneInfo,
    now_us: int,
) -> PrinterStatusOut:
    reachable, status, detail = reading
    return PrinterStatusOut(
        station_id=printer.station_id,
        kind=printer.kind,
        address=printer.address,
        reachable=reachable,
        ready=reachable and status.ready,
        online=status.online,
        paper_out=status.paper_out,
        paper_low=status.paper_low,
        cover_open=status.cover_open,
        error=status.error,
        detail=detail,
        checked_at=local_aware(now_us, zone) or "",
        queued_jobs=counts.get("queued", 0) + counts.get("sending", 0),
        failed_jobs=counts.get("failed", 0),
    )
