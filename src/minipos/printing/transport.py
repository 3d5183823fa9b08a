"""Getting bytes to a printer: network (raw TCP 9100), file/device, serial, USB, or nowhere.

Every transport has ``send(data)`` and ``status()``, opens its connection for the call and
closes it after (a printer often takes one connection at a time, and a long-lived one would go
stale). Failures are one hierarchy, so a print queue can tell "try again later" from "fix the
configuration":

- :class:`PrinterUnavailable` (``retryable``): refused, unreachable, timed out, stalled, device
  missing or busy. ``bytes_sent`` says how far a send got: 0 means nothing reached the printer,
  so a retry cannot print twice; more means the job may be partly printed.
- :class:`PrinterConfigError` (not retryable): a bad address or an optional library
  (pyserial, pyusb) that is not installed.

Status is read with the ESC/POS real-time command ``DLE EOT n`` (n = 1 printer, 2 offline
cause, 3 error cause, 4 roll-paper sensor) where the transport can read replies; what cannot be
read is ``None`` ("unknown").
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol
from urllib.parse import parse_qs, urlsplit

__all__ = [
    "DEFAULT_PORT",
    "FileTransport",
    "NetworkTransport",
    "NullTransport",
    "PrinterConfigError",
    "PrinterError",
    "PrinterStatus",
    "PrinterUnavailable",
    "SerialTransport",
    "Transport",
    "UsbTransport",
    "parse_status",
    "transport_from_url",
]

DEFAULT_PORT = 9100
DLE_EOT = b"\x10\x04"
STATUS_QUERIES = (1, 2, 3, 4)


# --- errors and status --------------------------------------------------------------------------


class PrinterError(Exception):
    """Something kept the bytes from the printer."""

    #: Whether trying again later may succeed.
    retryable: ClassVar[bool] = False

    def __init__(self, message: str, *, bytes_sent: int = 0) -> None:
        super().__init__(message)
        #: How many bytes were handed over before the failure (0: nothing was printed).
        self.bytes_sent = bytes_sent


class PrinterUnavailable(PrinterError):
    """Refused, unreachable, timed out, stalled, missing or busy: try again later."""

    retryable = True


class PrinterConfigError(PrinterError):
    """The printer cannot be used as configured (address, options, missing library)."""


@dataclass(frozen=True, slots=True)
class PrinterStatus:
    """What the printer reported; ``None`` where it could not be read."""

    online: bool | None = None
    paper_out: bool | None = None
    paper_low: bool | None = None
    cover_open: bool | None = None
    error: bool | None = None

    @property
    def ready(self) -> bool:
        """Nothing known stops printing (an unknown status counts as ready: try it)."""
        return self.online is not False and not (self.paper_out or self.cover_open or self.error)

    @property
    def known(self) -> bool:
        """At least one field could be read."""
        return any(
            value is not None
            for value in (self.online, self.paper_out, self.paper_low, self.cover_open, self.error)
        )


def _is_status_byte(value: int) -> bool:
    """A ``DLE EOT`` reply has the fixed bits 0xx1xx10."""
    return value & 0x93 == 0x12


def parse_status(replies: dict[int, int]) -> PrinterStatus:
    """A :class:`PrinterStatus` from ``DLE EOT n`` replies (``{n: byte}``); missing n = unknown.

    n=1 bit 3: offline. n=2 bit 2: cover open, bit 5: stopped for paper end, bit 6: error.
    n=3 bits 3, 5, 6: autocutter, unrecoverable, auto-recoverable error. n=4 bits 2-3: paper
    near end, bits 5-6: paper end.
    """
    printer, offline, errors, paper = (replies.get(n) for n in STATUS_QUERIES)
    paper_out = None if paper is None else paper & 0x60 == 0x60
    if offline is not None and offline & 0x20:
        paper_out = True
    error = None if errors is None else bool(errors & 0x68)
    if offline is not None and offline & 0x40:
        error = True
    return PrinterStatus(
        online=None if printer is None else not printer & 0x08,
        paper_out=paper_out,
        paper_low=None if paper is None else paper & 0x0C == 0x0C,
        cover_open=None if offline is None else bool(offline & 0x04),
        error=error,
    )


def _query_status(
    write: Callable[[bytes], None], read: Callable[[float], bytes], timeout: float
) -> PrinterStatus:
    """Ask ``DLE EOT 1..4`` in turn; stop at the first query left unanswered in ``timeout``.

    Bytes that are not status replies (automatic status back, stray data) are skipped.
    """
    replies: dict[int, int] = {}
    for n in STATUS_QUERIES:
        write(DLE_EOT + bytes([n]))
        deadline = time.monotonic() + timeout
        answer = None
        while answer is None:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            chunk = read(left)
            if not chunk:
                break
            answer = next((b for b in chunk if _is_status_byte(b)), None)
        if answer is None:
            break
        replies[n] = answer
    return parse_status(replies)


class Transport(Protocol):
    """What the print queue needs from a printer connection."""

    def send(self, data: bytes) -> None:
        """Hand ``data`` to the printer; raises :class:`PrinterError`."""

    def status(self) -> PrinterStatus:
        """Read the printer's status; raises :class:`PrinterError` if it cannot be reached."""


# --- network ------------------------------------------------------------------------------------


class NetworkTransport:
    """Raw TCP ("port 9100", "JetDirect"): connect, write, wait until acknowledged, close.

    ``connect_timeout`` bounds the connection; ``write_timeout`` is the longest the printer may
    go without taking any bytes (a printer out of paper stops reading, its buffer fills and the
    TCP window closes). ``send`` returns only once the printer's TCP stack has acknowledged
    every byte (Linux ``SIOCOUTQ``), so a stalled printer is an error, not a silent loss.
    """

    def __init__(
        self,
        host: str,
        port: int = DEFAULT_PORT,
        *,
        connect_timeout: float = 3.0,
        write_timeout: float = 10.0,
        status_timeout: float = 1.0,
    ) -> None:
        if not host:
            raise PrinterConfigError("a network printer needs a host")
        if not 0 < port < 65536:
            raise PrinterConfigError(f"bad TCP port {port}")
        self.host, self.port = host, port
        self.connect_timeout = connect_timeout
        self.write_timeout = write_timeout
        self.status_timeout = status_timeout

    def __repr__(self) -> str:
        return f"NetworkTransport({self.host!r}, {self.port})"

    def _connect(self) -> socket.socket:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        except TimeoutError as exc:
            raise PrinterUnavailable(
                f"printer {self.host}:{self.port} did not answer in {self.connect_timeout} s"
            ) from exc
        except OSError as exc:
            raise PrinterUnavailable(
                f"cannot connect to printer {self.host}:{self.port}: {exc}"
            ) from exc
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def send(self, data: bytes) -> None:
        sock = self._connect()
        sent = 0
        try:
            sock.settimeout(self.write_timeout)
            view = memoryview(data)
            while sent < len(data):
                sent += sock.send(view[sent:])
            sock.shutdown(socket.SHUT_WR)
            self._wait_acknowledged(sock, len(data))
            _drain(sock)
        except TimeoutError as exc:
            raise PrinterUnavailable(
                f"printer {self.host}:{self.port} stopped taking data "
                f"({sent} of {len(data)} bytes sent)",
                bytes_sent=sent,
            ) from exc
        except OSError as exc:
            raise PrinterUnavailable(
                f"printer {self.host}:{self.port} failed after {sent} of {len(data)} bytes: {exc}",
                bytes_sent=sent,
            ) from exc
        finally:
            sock.close()

    def _wait_acknowledged(self, sock: socket.socket, total: int) -> None:
        """Wait until the kernel has no unacknowledged bytes left, while the printer progresses."""
        pending = _unacknowledged(sock)
        deadline = time.monotonic() + self.write_timeout
        while pending:
            if time.monotonic() >= deadline:
                raise PrinterUnavailable(
                    f"printer {self.host}:{self.port} stopped taking data "
                    f"({total - pending} of {total} bytes acknowledged)",
                    bytes_sent=total,
                )
            time.sleep(0.005)
            now_pending = _unacknowledged(sock)
            if now_pending < pending:
                deadline = time.monotonic() + self.write_timeout
            pending = now_pending

    def status(self) -> PrinterStatus:
        sock = self._connect()
        try:

            def read(timeout: float) -> bytes:
                sock.settimeout(timeout)
                try:
                    return sock.recv(16)
                except TimeoutError:
                    return b""

            sock.settimeout(self.write_timeout)
            return _query_status(sock.sendall, read, self.status_timeout)
        except OSError as exc:
            raise PrinterUnavailable(f"printer {self.host}:{self.port}: {exc}") from exc
        finally:
            sock.close()


def _unacknowledged(sock: socket.socket) -> int:
    """Bytes in the socket's send queue not yet acknowledged by the peer (0 if unknowable)."""
    try:
        import fcntl  # noqa: PLC0415 - POSIX only
        import termios  # noqa: PLC0415

        raw = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")
    except (ImportError, OSError, AttributeError):
        return 0
    return int(struct.unpack("i", raw)[0])


def _drain(sock: socket.socket) -> None:
    """Read what the printer sent (automatic status back), so closing sends FIN, not RST."""
    sock.setblocking(False)
    with contextlib.suppress(OSError):
        while sock.recv(4096):
            pass


# --- file / device ------------------------------------------------------------------------------


class FileTransport:
    """Append to a file or a character device (``/dev/usb/lp0``); status is unknown."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        if not self.path:
            raise PrinterConfigError("a file printer needs a path")

    def __repr__(self) -> str:
        return f"FileTransport({self.path!r})"

    def send(self, data: bytes) -> None:
        try:
            with open(self.path, "ab") as out:
                out.write(data)
                out.flush()
        except (PermissionError, IsADirectoryError) as exc:
            raise PrinterConfigError(f"cannot write to {self.path}: {exc}") from exc
        except OSError as exc:
            # Missing, unplugged (ENODEV, ENXIO), busy or failing (EIO): may come back.
            raise PrinterUnavailable(f"cannot write to {self.path}: {exc}") from exc

    def status(self) -> PrinterStatus:
        """Unknown, unless the device node or the file's folder is missing (unavailable)."""
        folder = os.path.dirname(self.path) or "."
        missing = not os.path.exists(self.path) if self.path.startswith("/dev/") else False
        if missing or not os.path.isdir(folder):
            raise PrinterUnavailable(f"{self.path}: {os.strerror(errno.ENOENT)}")
        return PrinterStatus()


# --- serial -------------------------------------------------------------------------------------


class SerialTransport:
    """A serial port through pyserial (optional: ``pip install minipos[printers]``).

    ``port`` is a device (``/dev/ttyS0``, ``COM3``) or any pyserial URL (``socket://host:port``,
    ``rfc2217://…``, ``loop://``). ``write_timeout`` bounds a write that flow control holds up.
    """

    def __init__(
        self,
        port: str,
        baudrate: int = 9600,
        *,
        bytesize: int = 8,
        parity: str = "N",
        stopbits: float = 1,
        rtscts: bool = False,
        xonxoff: bool = False,
        write_timeout: float = 10.0,
        status_timeout: float = 1.0,
    ) -> None:
        if not port:
            raise PrinterConfigError("a serial printer needs a port")
        self.port = port
        self.settings: dict[str, Any] = {
            "baudrate": baudrate,
            "bytesize": bytesize,
            "parity": parity,
            "stopbits": stopbits,
            "rtscts": rtscts,
            "xonxoff": xonxoff,
        }
        self.write_timeout = write_timeout
        self.status_timeout = status_timeout

    def __repr__(self) -> str:
        return f"SerialTransport({self.port!r}, {self.settings['baudrate']})"

    def _open(self) -> Any:
        serial = _serial()
        try:
            return serial.serial_for_url(
                self.port,
                timeout=self.status_timeout,
                write_timeout=self.write_timeout,
                **self.settings,
            )
        except ValueError as exc:
            raise PrinterConfigError(f"serial port {self.port}: {exc}") from exc
        except (serial.SerialException, OSError) as exc:
            raise PrinterUnavailable(f"cannot open serial port {self.port}: {exc}") from exc

    def send(self, data: bytes) -> None:
        serial = _serial()
        port = self._open()
        written = 0
        try:
            written = port.write(data) or 0
            port.flush()
        except (serial.SerialException, OSError) as exc:
            raise PrinterUnavailable(
                f"serial port {self.port} failed: {exc}", bytes_sent=written
            ) from exc
        finally:
            port.close()

    def status(self) -> PrinterStatus:
        serial = _serial()
        port = self._open()
        try:

            def read(timeout: float) -> bytes:
                port.timeout = timeout
                return bytes(port.read(1))

            return _query_status(port.write, read, self.status_timeout)
        except (serial.SerialException, OSError) as exc:
            raise PrinterUnavailable(f"serial port {self.port} failed: {exc}") from exc
        finally:
            port.close()


def _serial() -> Any:
    """The pyserial module, or a configuration error saying how to install it."""
    try:
        import serial  # noqa: PLC0415 - optional dependency
    except ImportError as exc:
        raise PrinterConfigError(
            "serial printers need pyserial: pip install 'minipos[printers]'"
        ) from exc
    return serial


# --- USB ----------------------------------------------------------------------------------------


class UsbTransport:
    """A USB printer-class device through pyusb and libusb (optional, like serial).

    Found by vendor and product id; the first bulk OUT (and IN, for status) endpoint of
    ``interface`` is used unless given. On Linux the kernel's ``usblp`` driver is detached.
    """

    def __init__(
        self,
        vendor_id: int,
        product_id: int,
        *,
        interface: int = 0,
        out_endpoint: int | None = None,
        in_endpoint: int | None = None,
        timeout: float = 10.0,
        status_timeout: float = 1.0,
    ) -> None:
        self.vendor_id, self.product_id = vendor_id, product_id
        self.interface = interface
        self.out_endpoint, self.in_endpoint = out_endpoint, in_endpoint
        self.timeout_ms = int(timeout * 1000)
        self.status_timeout = status_timeout

    def __repr__(self) -> str:
        return f"UsbTransport({self.vendor_id:04x}:{self.product_id:04x})"

    def _open(self) -> tuple[Any, Any, Any]:
        """The device and its OUT and IN endpoints (IN may be ``None``)."""
        usb = _usb()
        name = f"{self.vendor_id:04x}:{self.product_id:04x}"
        try:
            device = usb.core.find(idVendor=self.vendor_id, idProduct=self.product_id)
        except usb.core.NoBackendError as exc:
            raise PrinterConfigError(f"USB printer {name}: libusb is not installed") from exc
        if device is None:
            raise PrinterUnavailable(f"USB printer {name} not found")
        try:
            with contextlib.suppress(NotImplementedError, usb.core.USBError):
                if device.is_kernel_driver_active(self.interface):
                    device.detach_kernel_driver(self.interface)
            with contextlib.suppress(usb.core.USBError):  # already configured
                device.set_configuration()
            setting = device.get_active_configuration()[(self.interface, 0)]
            out_ep = self._endpoint(setting, self.out_endpoint, usb.util.ENDPOINT_OUT)
            in_ep = self._endpoint(setting, self.in_endpoint, usb.util.ENDPOINT_IN)
        except usb.core.USBError as exc:
            usb.util.dispose_resources(device)
            raise PrinterUnavailable(f"USB printer {name}: {exc}") from exc
        if out_ep is None:
            usb.util.dispose_resources(device)
            raise PrinterConfigError(f"USB printer {name} has no OUT endpoint")
        return device, out_ep, in_ep

    @staticmethod
    def _endpoint(setting: Any, address: int | None, direction: int) -> Any:
        usb = _usb()

        def match(endpoint: Any) -> bool:
            if address is not None:
                return bool(endpoint.bEndpointAddress == address)
            return bool(usb.util.endpoint_direction(endpoint.bEndpointAddress) == direction)

        return usb.util.find_descriptor(setting, custom_match=match)

    def send(self, data: bytes) -> None:
        usb = _usb()
        device, out_ep, _ = self._open()
        written = 0
        try:
            written = int(out_ep.write(data, self.timeout_ms))
        except usb.core.USBError as exc:
            raise PrinterUnavailable(f"USB printer failed: {exc}", bytes_sent=written) from exc
        finally:
            usb.util.dispose_resources(device)
        if written != len(data):
            raise PrinterUnavailable(
                f"USB printer took {written} of {len(data)} bytes", bytes_sent=written
            )

    def status(self) -> PrinterStatus:
        usb = _usb()
        device, out_ep, in_ep = self._open()
        try:
            if in_ep is None:
                return PrinterStatus()

            def read(timeout: float) -> bytes:
                try:
                    return bytes(in_ep.read(in_ep.wMaxPacketSize, int(timeout * 1000)))
                except usb.core.USBTimeoutError:
                    return b""

            return _query_status(
                lambda data: out_ep.write(data, self.timeout_ms), read, self.status_timeout
            )
        except usb.core.USBError as exc:
            raise PrinterUnavailable(f"USB printer failed: {exc}") from exc
        finally:
            usb.util.dispose_resources(device)


def _usb() -> Any:
    """The pyusb package (with ``core`` and ``util`` loaded), or a configuration error."""
    try:
        import usb.core  # noqa: PLC0415 - optional dependency
        import usb.util  # noqa: PLC0415
    except ImportError as exc:
        raise PrinterConfigError(
            "USB printers need pyusb: pip install 'minipos[printers]'"
        ) from exc
    return usb


# --- none ---------------------------------------------------------------------------------------


class NullTransport:
    """``none``: accepts and discards (a station without a printer); always ready."""

    def __init__(self) -> None:
        self.jobs = 0
        self.bytes = 0

    def __repr__(self) -> str:
        return "NullTransport()"

    def send(self, data: bytes) -> None:
        self.jobs += 1
        self.bytes += len(data)

    def status(self) -> PrinterStatus:
        return PrinterStatus(online=True, paper_out=False, paper_low=False, cover_open=False,
                             error=False)  # fmt: skip


# --- configuration ------------------------------------------------------------------------------


def transport_from_url(
    url: str,
    *,
    connect_timeout: float = 3.0,
    write_timeout: float = 10.0,
    status_timeout: float = 1.0,
) -> NetworkTransport | FileTransport | SerialTransport | UsbTransport | NullTransport:
    """A transport from a printer address, as a station's configuration stores it.

    - ``tcp://host[:port]`` (also ``network://``): raw TCP, port 9100 by default;
    - ``file:///path`` (a file or a device such as ``/dev/usb/lp0``);
    - ``serial:///dev/ttyS0?baudrate=19200&rtscts=1`` (the part after ``serial://`` may also be
      a pyserial URL, e.g. ``serial://socket://host:4000``);
    - ``usb://04b8:0202[?interface=0]`` (vendor:product in hex);
    - ``none:`` (discard).

    Raises :class:`PrinterConfigError` for anything else.
    """
    scheme, _, rest = url.partition(":")
    scheme = scheme.lower()
    try:
        if scheme in ("tcp", "network"):
            parts = urlsplit(url)
            return NetworkTransport(
                parts.hostname or "",
                parts.port or DEFAULT_PORT,
                connect_timeout=connect_timeout,
                write_timeout=write_timeout,
                status_timeout=status_timeout,
            )
        if scheme == "file":
            return FileTransport(urlsplit(url).path)
        if scheme == "serial":
            target, _, query = rest.removeprefix("//").partition("?")
            options = {k: v[-1] for k, v in parse_qs(query).items()}
            flags = {k: options.pop(k, "0") in ("1", "true", "yes") for k in ("rtscts", "xonxoff")}
            return SerialTransport(
                target,
                int(options.pop("baudrate", "9600")),
                bytesize=int(options.pop("bytesize", "8")),
                parity=options.pop("parity", "N"),
                stopbits=float(options.pop("stopbits", "1")),
                write_timeout=write_timeout,
                status_timeout=status_timeout,
                **flags,
            )
        if scheme == "usb":
            parts = urlsplit(url)
            vendor, _, product = parts.netloc.partition(":")
            options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            return UsbTransport(
                int(vendor, 16),
                int(product, 16),
                interface=int(options.get("interface", "0")),
                timeout=write_timeout,
                status_timeout=status_timeout,
            )
        if scheme == "none":
            return NullTransport()
    except ValueError as exc:
        raise PrinterConfigError(f"bad printer address {url!r}: {exc}") from exc
    raise PrinterConfigError(f"unknown printer address {url!r} (tcp, file, serial, usb, none)")
