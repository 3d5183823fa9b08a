"""E-receipts with the real server process and a real SMTP server (aiosmtpd on 127.0.0.1):
the email arrives with its totals and Latvian text; an SMTP server that is down at first gets
the message once it is up, also across a ``kill -9`` of our server; a refused recipient fails
visibly."""

from __future__ import annotations

from typing import Any

import pytest
from serverproc import Server, free_port, wait_until
from shop import Shop

from mailsink import MailSink, SmtpServer

pytestmark = pytest.mark.e2e

EMAIL = "anna.berzina@example.lv"
SALE = {
    "rows": [
        {"text": "Kūka ar ķiršiem un šokolādi", "quantity": 2, "price": "3.20"},
        {"text": "Ūdens gāzēts", "quantity": 1, "price": "0.99", "tax": 1},
    ],
}
LATVIAN = "āčēģīķļņšūž ĀČĒĢĪĶĻŅŠŪŽ"


class MailShop(Shop):
    """The shop selling to customers who want their receipt by email or SMS."""

    def sell_to(self, customer: dict[str, Any], **extra: Any) -> dict[str, Any]:
        """A sale paid in cash whose invoice names ``customer``; the completed invoice."""
        return self.sell(
            {**SALE, **extra, "info": {"customer": customer}},
            payments=[{"method_id": 1, "amount": 20}],
            cashier_name="Līga Ķēniņa",
        )

    def messages(self, **params: str) -> list[dict[str, Any]]:
        query = "&".join(f"{name}={value}" for name, value in params.items())
        found: list[dict[str, Any]] = self.call("GET", f"/api/messages?{query}")
        return found


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def shop(server: Server, smtp_port: int) -> MailShop:
    server.env |= {
        "MINIPOS_SMTP_HOST": "127.0.0.1",
        "MINIPOS_SMTP_PORT": str(smtp_port),
        "MINIPOS_SMTP_SECURITY": "none",
        "MINIPOS_MAIL_FROM": "SIA Ūdensroze <kases@udensroze.example.lv>",
        "MINIPOS_SMTP_TIMEOUT_SECONDS": "5",
        "MINIPOS_MESSAGE_POLL_SECONDS": "0.1",
        "MINIPOS_MESSAGE_RETRY_SECONDS": "0.3",
        "MINIPOS_MESSAGE_BACKOFF_CAP_SECONDS": "1",
        "MINIPOS_SHOP_NAME": "SIA Ūdensroze",
        "MINIPOS_SHOP_ADDRESS": f"Ģertrūdes iela 5|{LATVIAN}",
    }
    shop = MailShop(server)
    server.start()
    shop.register()
    return shop


def test_the_customer_gets_the_receipt_by_email(shop: MailShop, smtp_port: int) -> None:
    with SmtpServer(smtp_port) as sink:
        done = shop.sell_to({"email": EMAIL, "phone": "+371 2000 0000"}, print_paper_receipt=False)
        [mail] = sink.wait_for(1)
        wait_until(lambda: {m["status"] for m in shop.messages()} == {"sent"}, "the email sent", 20)
    [receipt] = done["receipts"]
    assert (mail.sender, mail.recipients) == ("kases@udensroze.example.lv", [EMAIL])
    got = mail.message
    assert got["Subject"] == f"Čeks Nr. {receipt['document_id']} — SIA Ūdensroze"
    assert got["From"] == "SIA Ūdensroze <kases@udensroze.example.lv>"
    plain = got.get_body(("plain",))
    assert plain is not None
    text = plain.get_content()
    for expected in (LATVIAN, "Kūka ar ķiršiem un šokolādi", "Ūdens gāzēts", "Līga Ķēniņa"):
        assert expected in text
    lines = [line.strip() for line in text.splitlines()]
    assert any(line.startswith("KOPĀ EUR") and line.endswith("7.39") for line in lines)
    assert any(line.startswith("Atlikums") and line.endswith("12.61") for line in lines)
    html = got.get_body(("html",))
    assert html is not None
    assert "cid:" in html.get_content()
    [png] = [part for part in got.walk() if part.get_content_type() == "image/png"]
    assert png.get_content().startswith(b"\x89PNG")

    messages = shop.messages()
    assert sorted((m["channel"], m["recipient"], m["status"]) for m in messages) == [
        ("email", EMAIL, "sent"), ("sms", "+37120000000", "sent"),
    ]  # fmt: skip
    # print_paper_receipt: false: the email is the customer's only receipt.
    assert shop.call("GET", "/api/print-jobs?kind=receipt") == []


def test_smtp_down_then_up_the_email_arrives_once_even_across_kill_9(
    shop: MailShop, server: Server, smtp_port: int
) -> None:
    shop.sell_to({"email": EMAIL})  # nothing listens on the SMTP port yet
    [message] = wait_until(
        lambda: [m for m in shop.messages() if m["status"] == "pending" and m["attempts"] >= 2],
        "a second attempt",
        20,
    )
    assert "cannot connect to the SMTP server" in message["last_error"]
    assert message["next_attempt_at"] is not None

    server.kill()  # mid-retry: the pending message is in the database, nothing else
    sink: MailSink
    with SmtpServer(smtp_port) as sink:
        server.start()
        [mail] = sink.wait_for(1)
        [message] = wait_until(lambda: shop.messages(status="sent"), "the email sent", 20)
        # Later worker passes send the next sale's email, and nothing more of the first.
        shop.sell_to({"email": "second@example.lv"})
        received = sink.wait_for(2)
        wait_until(lambda: len(shop.messages(status="sent")) == 2, "both emails sent", 20)
        assert len(sink.received) == 2
    assert [m.recipients for m in received] == [[EMAIL], ["second@example.lv"]]
    assert mail.recipients == [EMAIL]
    assert message["attempts"] >= 3
    assert message["last_error"] is None


def test_a_refused_recipient_fails_with_the_reason_visible(shop: MailShop, smtp_port: int) -> None:
    with SmtpServer(smtp_port) as sink:
        sink.refuse["nobody@example.lv"] = (
            "550 5.1.1 <nobody@example.lv>: Recipient address rejected"
        )
        done = shop.sell_to({"email": "nobody@example.lv"})
        [message] = wait_until(lambda: shop.messages(status="failed"), "the email failed", 20)
        assert sink.refused == ["nobody@example.lv"]
        assert sink.received == []
    assert message["invoice_id"] == done["id"]
    assert message["attempts"] == 1
    assert "550 5.1.1 <nobody@example.lv>: Recipient address rejected" in message["last_error"]
    assert shop.call("GET", f"/api/messages/{message['id']}") == message
