"""E-receipts without a database: the email and SMS rendering, the retry schedule, the SMTP
failure kinds (against a real aiosmtpd server on 127.0.0.1), settings and SMS sender loading."""

from __future__ import annotations

import email
import email.policy
import io
import smtplib
import socket
import sys
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from mailsink import SmtpServer
from minipos.config import ConfigError
from minipos.ereceipts.compose import (
    ENGLISH_WORDS,
    LATVIAN_WORDS,
    CustomerReceipt,
    build_email,
    receipt_text,
    sms_text,
)
from minipos.ereceipts.mailer import SendError, SmtpMailer, classify
from minipos.ereceipts.settings import MessageSettings
from minipos.ereceipts.sms import LoggingSmsSender, SmsSender, load_sms_sender
from minipos.ereceipts.worker import backoff_seconds, gives_up, retried_seconds
from minipos.invoices.schemas import Customer
from minipos.printing import PrinterProfile, ReceiptLine, ShopInfo
from minipos.printing.wording import ENGLISH, LATVIAN

sys.path.insert(0, str(Path(__file__).parent / "printing"))
from print_samples import LATVIAN_LETTERS, full_receipt

PROFILE = PrinterProfile(columns=42, dots_per_line=512)
SHOP = ShopInfo("SIA Ūdensroze", ("Ģertrūdes iela 5", "Rīga, LV-1010"))


def latvian_receipt(**changes: Any) -> CustomerReceipt:
    base = full_receipt()
    lines = (
        *base.lines,
        ReceiptLine(LATVIAN_LETTERS, Decimal(1), Decimal(0), Decimal(0), Decimal(21), "A"),
    )
    document = full_receipt(shop=SHOP, lines=lines, open_drawer=True, is_copy=True, **changes)
    return CustomerReceipt(document, PROFILE, LATVIAN, LATVIAN_WORDS)


def round_trip(message: EmailMessage) -> EmailMessage:
    """What the customer's mail client parses: the bytes on the wire, read back."""
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- the email --------------------------------------------------------------------------------


def test_the_email_is_the_receipt_with_latvian_text_intact() -> None:
    receipt = latvian_receipt()
    sent = build_email(
        receipt, sender="Veikals <shop@example.lv>", recipient="anna@example.lv", message_id=7
    )
    got = round_trip(sent)

    assert got["Subject"] == "Čeks Nr. 000123 — SIA Ūdensroze"
    assert (got["From"], got["To"]) == ("Veikals <shop@example.lv>", "anna@example.lv")
    assert got["Message-ID"] == "<receipt.3f2a9c0177de12ab.7@example.lv>"
    assert got["Auto-Submitted"] == "auto-generated"
    # 7-bit on the wire (no 8BITMIME needed), UTF-8 inside.
    assert sent.as_bytes().isascii()
    assert [part.get_content_type() for part in got.walk()] == [
        "multipart/alternative", "text/plain", "multipart/related", "text/html", "image/png",
    ]  # fmt: skip

    plain = got.get_body(("plain",))
    assert plain is not None
    text = plain.get_content()
    assert text.startswith("Labdien! Nosūtām Jūsu čeku Nr. 000123 (SIA Ūdensroze).\n\n")
    assert LATVIAN_LETTERS in text
    assert "Ģertrūdes iela 5" in text
    lines = text.splitlines()
    assert any(line.startswith("KOPĀ EUR") and line.endswith("7.92") for line in lines)
    assert any(line.startswith("Atlikums") and line.endswith("2.08") for line in lines)
    # The customer's copy is the original, without the paper's cut mark.
    assert "KOPIJA" not in text
    assert "8<" not in text
    # The text part is the printer's text preview, line for line.
    assert text.split("\n\n", 1)[1] == receipt_text(receipt)


def test_the_html_part_shows_the_png_preview_inline() -> None:
    got = round_trip(
        build_email(latvian_receipt(), sender="shop@example.lv", recipient="a@b.lv", message_id=1)
    )
    html = got.get_body(("html",))
    assert html is not None
    page = html.get_content()
    assert 'lang="lv"' in page
    assert "Nosūtām Jūsu čeku" in page
    [image] = [part for part in got.walk() if part.get_content_type() == "image/png"]
    cid = image["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in page
    assert image.get_content_disposition() == "inline"
    assert image.get_filename() == "receipt-3-000123.png"
    png = image.get_content()
    assert isinstance(png, bytes)
    picture = Image.open(io.BytesIO(png))
    assert picture.format == "PNG"
    assert picture.width == 512 + 32  # the printer's dots and the preview's margins


def test_the_email_speaks_english_when_the_receipt_does() -> None:
    receipt = CustomerReceipt(full_receipt(), PROFILE, ENGLISH, ENGLISH_WORDS)
    got = round_trip(build_email(receipt, sender="s@x.lv", recipient="a@b.lv", message_id=2))
    assert got["Subject"] == "Receipt No. 000123 — SIA Piemērs"
    plain = got.get_body(("plain",))
    assert plain is not None
    assert "TOTAL EUR" in plain.get_content()


def test_the_sms_is_one_short_line() -> None:
    text = sms_text(latvian_receipt())
    assert text == "SIA Ūdensroze: čeks Nr. 000123, 7.92 EUR, 17.02.2026 16:08. Paldies!"
    assert len(text) <= 70  # one UCS-2 segment (Latvian letters are not in GSM 03.38)
    assert ", atmaksa 7.92 EUR," in sms_text(latvian_receipt(refund_of="000100"))


# --- retries ----------------------------------------------------------------------------------


def test_the_backoff_doubles_up_to_the_cap() -> None:
    assert [backoff_seconds(n, 30, 3600) for n in range(1, 10)] == [
        30, 60, 120, 240, 480, 960, 1920, 3600, 3600,
    ]  # fmt: skip
    assert backoff_seconds(10_000, 30, 3600) == 3600


def test_retried_time_is_the_sum_of_the_schedule() -> None:
    for attempts in range(40):
        expected = sum(backoff_seconds(n, 30, 3600) for n in range(1, attempts + 1))
        assert retried_seconds(attempts, 30, 3600) == expected


def test_a_message_gives_up_after_a_day_of_backoff() -> None:
    settings = MessageSettings()  # 30 s doubling to an hour, 24 h
    last_try = next(n for n in range(1, 200) if gives_up(n, settings))
    assert (
        retried_seconds(last_try - 1, 30, 3600) <= 24 * 3600 < retried_seconds(last_try, 30, 3600)
    )
    assert 25 <= last_try <= 35
    short = MessageSettings(message_give_up_hours=1)
    assert not gives_up(6, short)  # 30 + 60 + … + 960 = 1890 s
    assert gives_up(7, short)  # + 1920 s > 1 h


# --- SMTP failures ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "permanent"),
    [
        (smtplib.SMTPRecipientsRefused({"a@b.lv": (550, b"5.1.1 No such user")}), True),
        (smtplib.SMTPRecipientsRefused({"a@b.lv": (553, b"5.1.3 Bad address")}), True),
        (smtplib.SMTPRecipientsRefused({"a@b.lv": (450, b"4.2.1 Mailbox busy")}), False),
        (smtplib.SMTPDataError(554, b"5.7.1 Rejected as spam"), True),
        (smtplib.SMTPDataError(451, b"4.3.0 Try again"), False),
        (smtplib.SMTPSenderRefused(550, b"5.7.1 Not our domain", "s@x.lv"), False),
        (smtplib.SMTPAuthenticationError(535, b"5.7.8 Bad credentials"), False),
        (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), False),
        (smtplib.SMTPConnectError(421, b"Too busy"), False),
        (ConnectionRefusedError(111, "Connection refused"), False),
        (TimeoutError("timed out"), False),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else str(value),
)
def test_only_a_refusal_of_the_message_is_permanent(error: BaseException, permanent: bool) -> None:
    found = classify(error, "a@b.lv")
    assert found.permanent is permanent
    assert str(found)


def test_a_non_ascii_address_without_smtputf8_is_permanent() -> None:
    error = smtplib.SMTPNotSupportedError("SMTPUTF8 not supported by server")
    assert classify(error, "jānis@example.lv").permanent
    assert not classify(smtplib.SMTPNotSupportedError("STARTTLS"), "a@b.lv").permanent


def mailer(port: int) -> SmtpMailer:
    return SmtpMailer(
        MessageSettings(
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_security="none",
            mail_from="shop@example.lv",
            smtp_timeout_seconds=5,
        )
    )


def sample_email(recipient: str) -> EmailMessage:
    return build_email(
        latvian_receipt(), sender="shop@example.lv", recipient=recipient, message_id=1
    )


def test_smtp_delivers_and_sorts_refusals() -> None:
    port = free_port()
    with SmtpServer(port) as sink:
        sink.refuse["nobody@example.lv"] = "550 5.1.1 No such user here"
        sink.refuse["busy@example.lv"] = "450 4.2.1 Mailbox busy"
        mailer(port).send(sample_email("anna@example.lv"), "shop@example.lv", "anna@example.lv")
        with pytest.raises(SendError, match=r"550 5\.1\.1 No such user here") as refused:
            mailer(port).send(
                sample_email("nobody@example.lv"), "shop@example.lv", "nobody@example.lv"
            )
        assert refused.value.permanent
        with pytest.raises(SendError, match="450") as busy:
            mailer(port).send(sample_email("busy@example.lv"), "shop@example.lv", "busy@example.lv")
        assert not busy.value.permanent
        [arrived] = sink.wait_for(1)
    assert (arrived.sender, arrived.recipients) == ("shop@example.lv", ["anna@example.lv"])
    plain = arrived.message.get_body(("plain",))
    assert plain is not None
    assert LATVIAN_LETTERS in plain.get_content()


def test_no_smtp_server_is_a_temporary_failure() -> None:
    port = free_port()  # nothing listens
    with pytest.raises(SendError, match="cannot connect to the SMTP server") as down:
        mailer(port).send(sample_email("a@b.lv"), "shop@example.lv", "a@b.lv")
    assert not down.value.permanent


def test_starttls_is_required_when_asked_for() -> None:
    port = free_port()
    settings = MessageSettings(
        smtp_host="127.0.0.1", smtp_port=port, mail_from="s@x.lv", smtp_timeout_seconds=5
    )
    with SmtpServer(port) as sink:  # aiosmtpd without a TLS context offers no STARTTLS
        with pytest.raises(SendError, match="does not offer STARTTLS") as plain:
            SmtpMailer(settings).send(sample_email("a@b.lv"), "s@x.lv", "a@b.lv")
        assert not plain.value.permanent
        assert sink.received == []


# --- settings and SMS senders -----------------------------------------------------------------


def test_settings_defaults_and_start_up_checks() -> None:
    assert not MessageSettings.from_env({}).email_enabled
    assert MessageSettings(smtp_host="h", smtp_security="tls").port == 465
    assert MessageSettings(smtp_host="h").port == 587
    assert MessageSettings(smtp_host="h", smtp_security="none").port == 25
    env = {"MINIPOS_SMTP_HOST": "mail.example.lv", "MINIPOS_MAIL_FROM": "Veikals <s@example.lv>"}
    assert MessageSettings.from_env(env).sender_address == "s@example.lv"
    with pytest.raises(ConfigError, match="MINIPOS_MAIL_FROM"):
        MessageSettings.from_env({"MINIPOS_SMTP_HOST": "mail.example.lv"})
    with pytest.raises(ConfigError, match="MINIPOS_MAIL_FROM"):
        MessageSettings.from_env({**env, "MINIPOS_MAIL_FROM": "Veikals"})
    with pytest.raises(ConfigError, match="MINIPOS_SMTP_PASSWORD"):
        MessageSettings.from_env({**env, "MINIPOS_SMTP_USER": "shop"})
    with pytest.raises(ConfigError, match="MINIPOS_SMTP_SECURITY"):
        MessageSettings.from_env({**env, "MINIPOS_SMTP_SECURITY": "ssl"})


class RecordingSms:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, to: str, text: str) -> None:
        self.sent.append((to, text))


def make_sender() -> RecordingSms:
    return RecordingSms()


def not_a_sender() -> object:
    return object()


def test_sms_senders_load_from_a_dotted_path() -> None:
    assert isinstance(load_sms_sender("log"), LoggingSmsSender)
    loaded = load_sms_sender(f"{__name__}:make_sender")
    assert isinstance(loaded, RecordingSms)
    assert isinstance(loaded, SmsSender)
    with pytest.raises(ConfigError, match="MINIPOS_SMS_SENDER: cannot import 'no_such_module'"):
        load_sms_sender("no_such_module:factory")
    with pytest.raises(ConfigError, match="has no callable 'missing'"):
        load_sms_sender(f"{__name__}:missing")
    with pytest.raises(ConfigError, match="no send"):
        load_sms_sender(f"{__name__}:not_a_sender")
    with pytest.raises(ConfigError, match="neither 'log'"):
        load_sms_sender("twilio")


def test_the_logging_sender_writes_the_text_to_the_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="minipos.messages.sms")
    LoggingSmsSender().send("+37120000000", "Veikals: čeks Nr. 1")
    assert "SMS to +37120000000: Veikals: čeks Nr. 1" in caplog.text


# --- the customer's phone ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phone", "ok"),
    [
        ("+37199999999", True), ("+371 2000 0000", True), ("20000000", True), ("123456", True),
        ("+123456789012345", True), ("12345", False), ("+1234567890123456", False),
        ("+371-2000-0000", False), ("tel:+371", False), ("+371  2000", False), (" +37120000000", False),
        ("+37120000000\n", False), ("٣٧١٢٠٠٠٠٠٠٠", False),
    ],
)  # fmt: skip
def test_phone_numbers_are_checked(phone: str, ok: bool) -> None:
    problems = list(Customer(phone=phone).problems())
    assert (problems == []) is ok
    if not ok:
        assert problems[0].path == ("phone",)
