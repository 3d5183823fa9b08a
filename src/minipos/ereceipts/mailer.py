"""Sending email through the configured SMTP server (``smtplib``, run in a worker thread).

Failures are sorted into two kinds, because they call for different things:

- **permanent** (:class:`SendError` with ``permanent=True``): the server refused *this
  message* with a 5xx reply to ``RCPT TO`` (no such mailbox) or to ``DATA`` (content
  refused), or the address cannot be sent at all (non-ASCII, the server lacks SMTPUTF8).
  Sending it again gives the same answer: the message fails at once.
- **temporary**: everything else. A 4xx reply (greylisting, mailbox busy), no connection,
  a timeout, a dropped connection, TLS or authentication trouble, a refused sender. Either it
  passes by itself or it is this installation's configuration, and fixing that should deliver
  the backlog: the message is retried with backoff until its give-up time.

Once ``send_message`` has returned the server has taken responsibility for the mail: an error
while saying ``QUIT`` afterwards is ignored, so it cannot cause a second copy.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from typing import Protocol

from minipos.ereceipts.settings import MessageSettings

log = logging.getLogger("minipos.messages")


class SendError(Exception):
    """Sending failed; ``permanent``: do not try again."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class Mailer(Protocol):
    def send(self, message: EmailMessage, sender: str, recipient: str) -> None:
        """Hand the message to the mail system; raise :class:`SendError` when that failed."""
        ...


class SmtpMailer:
    """One SMTP connection per message: receipts are few, and a fresh connection never
    inherits a half-broken session."""

    def __init__(self, settings: MessageSettings) -> None:
        self.settings = settings

    def send(self, message: EmailMessage, sender: str, recipient: str) -> None:
        try:
            smtp = self._connect()
        except (smtplib.SMTPException, OSError) as exc:
            raise classify(exc, recipient, stage="connect") from exc
        try:
            if self.settings.smtp_user:
                smtp.login(self.settings.smtp_user, self.settings.smtp_password)
            smtp.send_message(message, from_addr=sender, to_addrs=[recipient])
        except (smtplib.SMTPException, OSError) as exc:
            raise classify(exc, recipient) from exc
        finally:
            _close(smtp)

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        where = f"{s.smtp_host}:{s.port}"
        if s.smtp_security == "tls":
            context = ssl.create_default_context()
            return smtplib.SMTP_SSL(
                s.smtp_host, s.port, timeout=s.smtp_timeout_seconds, context=context
            )
        smtp = smtplib.SMTP(s.smtp_host, s.port, timeout=s.smtp_timeout_seconds)
        if s.smtp_security == "starttls":
            try:
                smtp.starttls(context=ssl.create_default_context())
            except smtplib.SMTPNotSupportedError as exc:
                _close(smtp)
                # A server that offers no STARTTLS is a configuration problem, not this
                # message's: never fall back to plain text with a password on the wire.
                raise smtplib.SMTPException(
                    f"{where} does not offer STARTTLS (MINIPOS_SMTP_SECURITY=starttls)"
                ) from exc
            except BaseException:
                _close(smtp)
                raise
        return smtp


def classify(exc: BaseException, recipient: str, *, stage: str = "send") -> SendError:
    """A :class:`SendError` saying what went wrong and whether trying again can help."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(exc.recipients.values()), (0, b""))
        return SendError(
            f"recipient {recipient} refused: {code} {_text(reply)}", permanent=code >= 500
        )
    if isinstance(exc, smtplib.SMTPSenderRefused):
        # Our MAIL FROM (configuration): retried, so a fixed configuration sends the backlog.
        return SendError(
            f"sender {exc.sender} refused: {exc.smtp_code} {_text(exc.smtp_error)} "
            "(check MINIPOS_MAIL_FROM)",
            permanent=False,
        )
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return SendError(
            f"SMTP authentication failed: {exc.smtp_code} {_text(exc.smtp_error)} "
            "(check MINIPOS_SMTP_USER and MINIPOS_SMTP_PASSWORD)",
            permanent=False,
        )
    if isinstance(exc, smtplib.SMTPDataError):
        return SendError(
            f"message refused: {exc.smtp_code} {_text(exc.smtp_error)}",
            permanent=exc.smtp_code >= 500,
        )
    if isinstance(exc, smtplib.SMTPNotSupportedError) and not recipient.isascii():
        return SendError(
            f"the SMTP server cannot take the non-ASCII address {recipient} (no SMTPUTF8)",
            permanent=True,
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        return SendError(
            f"SMTP server answered {exc.smtp_code} {_text(exc.smtp_error)}", permanent=False
        )
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return SendError(f"SMTP server closed the connection: {exc}", permanent=False)
    if stage == "connect" and isinstance(exc, OSError):
        return SendError(f"cannot connect to the SMTP server: {exc}", permanent=False)
    return SendError(f"SMTP error: {exc}", permanent=False)


def _text(reply: bytes | str) -> str:
    if isinstance(reply, bytes):
        return reply.decode("utf-8", "replace")
    return reply


def _close(smtp: smtplib.SMTP) -> None:
    """``QUIT`` and close; a failure here changes nothing (the mail was sent or it was not)."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()
