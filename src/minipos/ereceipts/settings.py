"""E-receipt settings: the SMTP server, the SMS sender, and the message worker's knobs.

Read from ``MINIPOS_*`` environment variables like :class:`minipos.config.Settings` (each
settings struct takes its own variables and ignores the rest). docs/e-receipts.md lists them.
"""

from __future__ import annotations

import email.utils
from collections.abc import Mapping
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from minipos.config import ConfigError, load_env

#: The port each security mode uses when ``MINIPOS_SMTP_PORT`` is not set.
DEFAULT_PORTS = {"none": 25, "starttls": 587, "tls": 465}


class MessageSettings(msgspec.Struct, frozen=True, kw_only=True):
    #: The SMTP server. Empty: email is off, and email messages fail at once with a visible
    #: ``last_error`` (an admin retries them once a server is configured).
    smtp_host: str = ""
    #: 0: the usual port of ``smtp_security`` (25, 587 or 465).
    smtp_port: Annotated[int, Meta(ge=0, le=65535)] = 0
    #: ``starttls`` (upgrade a plain connection; refuses a server that cannot), ``tls``
    #: (TLS from the first byte, "SMTPS"), or ``none`` (plain text: a relay on this host only).
    smtp_security: Literal["none", "starttls", "tls"] = "starttls"
    smtp_user: str = ""
    smtp_password: str = ""
    #: ``From`` of the emails: ``shop@example.lv`` or ``Veikals <shop@example.lv>``.
    mail_from: str = ""
    #: Each SMTP socket operation (connect, every command) may take this long.
    smtp_timeout_seconds: Annotated[float, Meta(gt=0, le=600)] = 30.0
    #: ``log`` (write the text to the server log) or ``package.module:factory``.
    sms_sender: str = "log"
    #: Run the message worker in this process.
    message_worker: bool = True
    #: How often the worker looks for due messages.
    message_poll_seconds: Annotated[float, Meta(gt=0, le=60)] = 1.0
    #: The first retry waits this long; each further one twice as long, up to the cap.
    message_retry_seconds: Annotated[float, Meta(gt=0, le=3600)] = 30.0
    message_backoff_cap_seconds: Annotated[float, Meta(ge=1, le=86400)] = 3600.0
    #: A message is retried (temporary failures) for this much backoff, then it fails.
    message_give_up_hours: Annotated[float, Meta(gt=0, le=24 * 30)] = 24.0
    #: A message being sent is leased for this long (renewed every third of it). One whose
    #: sender died goes back to pending when the lease runs out: it is sent again.
    message_lease_seconds: Annotated[float, Meta(ge=1, le=3600)] = 60.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> MessageSettings:
        settings = load_env(cls, environ)
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse settings that cannot work, at start-up rather than at the first email."""
        if not self.email_enabled:
            return
        if not self.mail_from.strip():
            raise ConfigError("MINIPOS_MAIL_FROM: required when MINIPOS_SMTP_HOST is set")
        if "@" not in self.sender_address:
            raise ConfigError(
                f"MINIPOS_MAIL_FROM: {self.mail_from!r} is not an email address "
                "(shop@example.lv or Name <shop@example.lv>)"
            )
        if bool(self.smtp_user) != bool(self.smtp_password):
            raise ConfigError("MINIPOS_SMTP_USER and MINIPOS_SMTP_PASSWORD: set both or neither")

    @property
    def email_enabled(self) -> bool:
        return bool(self.smtp_host.strip())

    @property
    def port(self) -> int:
        return self.smtp_port or DEFAULT_PORTS[self.smtp_security]

    @property
    def sender_address(self) -> str:
        """The bare address of ``mail_from``: the SMTP envelope sender."""
        return email.utils.parseaddr(self.mail_from)[1]

    @property
    def lease_us(self) -> int:
        return int(self.message_lease_seconds * 1_000_000)

    @property
    def give_up_seconds(self) -> float:
        return self.message_give_up_hours * 3600
