"""A real SMTP server on 127.0.0.1 for the e-receipt tests (aiosmtpd), collecting what arrives.

``refuse`` maps a recipient to the reply its ``RCPT TO`` gets (``"550 5.1.1 No such user"``,
``"450 4.2.1 Try later"``); every other recipient is accepted.
"""

from __future__ import annotations

import email
import email.policy
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class MailSink:
    refuse: dict[str, str] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        reply = self.refuse.get(address)
        if reply is not None:
            with self._lock:
                self.refused.append(address)
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        data = envelope.original_content or envelope.content
        with self._lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), data))
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Received]:
        """Poll until ``count`` messages arrived (or fail at the deadline)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.05)
        raise AssertionError(f"{len(self.received)} of {count} emails arrived in {timeout} s")


class SmtpServer:
    """``with SmtpServer(port) as sink:`` an SMTP server on 127.0.0.1:port until the block ends."""

    def __init__(self, port: int, sink: MailSink | None = None) -> None:
        self.port = port
        self.sink = sink or MailSink()
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=port)

    def __enter__(self) -> MailSink:
        self.controller.start()
        return self.sink

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
