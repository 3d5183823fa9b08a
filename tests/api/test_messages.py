"""E-receipts through the real app and database (SQLite and PostgreSQL): queued with the sale,
sent by the message worker to a real SMTP server on 127.0.0.1 (aiosmtpd), the API over them.

The app's own worker is off (``MINIPOS_MESSAGE_WORKER=false``): the tests drive
:class:`MessageWorker` passes themselves, with a clock they move, so every attempt is
deterministic and nothing sleeps.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from mailsink import MailSink, SmtpServer
from minipos.auth.principal import Role
from minipos.bootstrap import create_app
from minipos.config import ConfigError, Settings
from minipos.db import open_database
from minipos.ereceipts.compose import LATVIAN_WORDS
from minipos.ereceipts.mailer import SmtpMailer
from minipos.ereceipts.settings import MessageSettings
from minipos.ereceipts.worker import NO_SMTP, MessageWorker, start_message_worker
from minipos.print_jobs.documents import PrintContext
from minipos.print_jobs.settings import PrintSettings
from minipos.printing.wording import LATVIAN
from minipos.timeutil import now_us
from support import Api, Station, register

SHOP = {"MINIPOS_SHOP_NAME": "SIA Ūdensroze", "MINIPOS_SHOP_ADDRESS": "Ģertrūdes iela 5|Rīga"}
EMAIL = "janis@example.lv"
SALE: dict[str, Any] = {
    "rows": [
        {"text": "Kūka ar ķiršiem un šokolādi", "quantity": 2, "price": "3.20"},
        {"text": "Ūdens gāzēts", "quantity": 1, "price": "0.99", "tax": 1},
    ],
}
TOTAL = "7.39"


@pytest.fixture
def api(
    settings: Settings, keys: dict[Role, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Api]:
    for name, value in SHOP.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("MINIPOS_PRINT_WORKER", "false")
    monkeypatch.setenv("MINIPOS_MESSAGE_WORKER", "false")
    with TestClient(create_app(settings)) as client:
        yield Api(client, keys)


@pytest.fixture
def pos(api: Api) -> Station:
    station = register(api, "Kase 1", "01")
    assert station.open_shift("Anna").status_code == 200
    return station


@pytest.fixture
def smtp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def sink(smtp_port: int) -> Iterator[MailSink]:
    with SmtpServer(smtp_port) as running:
        yield running


def sell(api: Api, pos: Station, customer: dict[str, Any] | None = None, **extra: Any) -> int:
    body = {**SALE, **extra}
    if customer is not None:
        body["info"] = {"customer": customer}
    posted = api.as_(Role.INTEGRATOR).post("/api/invoice/new", json=body)
    assert posted.status_code == 200, posted.text
    invoice_id: int = posted.json()["id"]
    assert pos.claim(invoice_id).status_code == 200
    done = pos.complete(
        invoice_id,
        f"r{invoice_id}",
        payments=[{"method_id": 1, "amount": 10}],
        cashier_name="Anna Bērziņa",
    )
    assert done.status_code == 200, done.text
    return invoice_id


def messages(api: Api, role: Role = Role.ADMIN, **params: Any) -> list[dict[str, Any]]:
    response = api.as_(role).get("/api/messages", params=params)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


class Clock:
    """A clock the test moves forward (microseconds)."""

    def __init__(self) -> None:
        self.now = now_us()

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += int(seconds * 1_000_000)


class Sms:
    def __init__(self, error: Exception | None = None) -> None:
        self.sent: list[tuple[str, str]] = []
        self.error = error

    def send(self, to: str, text: str) -> None:
        if self.error is not None:
            raise self.error
        self.sent.append((to, text))


def message_settings(port: int | None, **changes: Any) -> MessageSettings:
    smtp: dict[str, Any] = (
        {"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "none"} if port else {}
    )
    return MessageSettings(
        mail_from="Ūdensroze <shop@example.lv>", smtp_timeout_seconds=5, **smtp, **changes
    )


def work(
    settings: Settings,
    config: MessageSettings,
    *,
    passes: int = 1,
    clock: Callable[[], int] = now_us,
    sms: Sms | None = None,
) -> list[int]:
    """Drive message worker passes: each recovers, claims due messages and waits for them."""

    async def main() -> list[int]:
        db = open_database(settings.database_url)
        shop = PrintSettings(
            shop_name=SHOP["MINIPOS_SHOP_NAME"], shop_address=SHOP["MINIPOS_SHOP_ADDRESS"]
        ).shop
        worker = MessageWorker(
            db,
            PrintContext(shop, settings.zone(), frozenset({1})),
            config,
            mailer=SmtpMailer(config) if config.email_enabled else None,
            sms=sms or Sms(),
            wording=LATVIAN,
            words=LATVIAN_WORDS,
            clock=clock,
        )
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


def sql(settings: Settings, statement: str, params: dict[str, Any] | None = None) -> None:
    db = open_database(settings.database_url)
    try:
        db.run(lambda conn: conn.execute(statement, params or {}))
    finally:
        db.close()


# --- queued with the sale ---------------------------------------------------------------------


def test_an_email_is_queued_with_the_receipt(api: Api, pos: Station) -> None:
    invoice_id = sell(api, pos, {"email": EMAIL})
    [receipt] = api.as_(Role.ADMIN).get(f"/api/invoice/{invoice_id}").json()["receipts"]
    [message] = messages(api, invoice_id=invoice_id)
    assert message["channel"] == "email"
    assert message["recipient"] == EMAIL
    assert (message["receipt_id"], message["invoice_id"]) == (receipt["id"], invoice_id)
    assert (message["status"], message["attempts"], message["last_error"]) == ("pending", 0, None)
    assert message["next_attempt_at"] is not None
    assert message["created_at"].endswith(("+02:00", "+03:00"))  # shop time, with its offset
    assert message["sent_at"] is None
    # A receipt on paper as well: print_paper_receipt was not turned off.
    jobs = api.as_(Role.ADMIN).get("/api/print-jobs", params={"kind": "receipt"}).json()
    assert [job["receipt_id"] for job in jobs] == [receipt["id"]]


def test_no_customer_no_message(api: Api, pos: Station) -> None:
    sell(api, pos)
    sell(api, pos, {"email": None, "phone": None})
    assert messages(api) == []


def test_a_phone_gets_an_sms_and_both_get_both(api: Api, pos: Station) -> None:
    first = sell(api, pos, {"phone": "+371 2000 0000"})
    [sms] = messages(api, invoice_id=first)
    assert (sms["channel"], sms["recipient"]) == ("sms", "+37120000000")  # spaces go
    second = sell(api, pos, {"phone": "+37199999999", "email": "somename@somedomain.com"})
    assert sorted(m["channel"] for m in messages(api, invoice_id=second)) == ["email", "sms"]
    assert [m["invoice_id"] for m in messages(api, channel="sms")] == [first, second]


def test_no_paper_but_an_email(api: Api, pos: Station) -> None:
    invoice_id = sell(api, pos, {"email": EMAIL}, print_paper_receipt=False)
    assert api.as_(Role.ADMIN).get("/api/print-jobs", params={"kind": "receipt"}).json() == []
    [message] = messages(api, invoice_id=invoice_id)
    assert (message["channel"], message["status"]) == ("email", "pending")


def test_a_slip_has_no_receipt_and_no_message(api: Api, pos: Station) -> None:
    body = {"mode": 3, "info": {"slip": [{"kind": "text", "content": "KUPONS"}],
                                "customer": {"email": EMAIL}}}  # fmt: skip
    posted = api.as_(Role.INTEGRATOR).post("/api/invoice/new", json=body)
    assert posted.status_code == 200, posted.text
    invoice_id = posted.json()["id"]
    assert pos.claim(invoice_id).status_code == 200
    assert pos.complete(invoice_id, "slip").status_code == 200
    assert messages(api) == []


@pytest.mark.parametrize(
    ("customer", "field", "message"),
    [
        ({"email": "not-an-address"}, "email", "Enter a valid email address."),
        ({"phone": "12-34"}, "phone", "Enter a phone number in international form"),
        ({"phone": "+371 2000 0000 0000 0"}, "phone", "6 to 15 digits"),
        ({"email": "a@b.lv", "phone": "call me"}, "phone", "Enter a phone number"),
    ],
)
def test_a_bad_customer_is_a_400_naming_the_field(
    api: Api, customer: dict[str, Any], field: str, message: str
) -> None:
    response = api.as_(Role.INTEGRATOR).post(
        "/api/invoice/new", json={**SALE, "info": {"customer": customer}}
    )
    assert response.status_code == 400, response.text
    [found] = response.json()["info"]["customer"][field]
    assert message in found
    assert api.as_(Role.ADMIN).get("/api/invoices").json() == []


def test_a_good_phone_is_kept_as_sent(api: Api) -> None:
    body = {**SALE, "info": {"customer": {"phone": "+371 2000 0000"}}}
    response = api.as_(Role.INTEGRATOR).post("/api/invoice/new", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["info"]["customer"] == {"phone": "+371 2000 0000"}


# --- sending ----------------------------------------------------------------------------------


def test_the_email_arrives_with_the_receipt(
    api: Api, pos: Station, settings: Settings, sink: MailSink, smtp_port: int
) -> None:
    invoice_id = sell(api, pos, {"email": EMAIL})
    assert work(settings, message_settings(smtp_port)) == [1]
    [mail] = sink.wait_for(1)
    assert (mail.sender, mail.recipients) == ("shop@example.lv", [EMAIL])
    got = mail.message
    [receipt] = api.as_(Role.ADMIN).get(f"/api/invoice/{invoice_id}").json()["receipts"]
    assert got["Subject"] == f"Čeks Nr. {receipt['document_id']} — SIA Ūdensroze"
    assert got["From"] == "Ūdensroze <shop@example.lv>"
    plain = got.get_body(("plain",))
    assert plain is not None
    text = plain.get_content()
    for expected in (
        "Kūka ar ķiršiem un šokolādi",
        "Ūdens gāzēts",
        "Ģertrūdes iela 5",
        "Anna Bērziņa",
    ):
        assert expected in text
    assert any(line.startswith("KOPĀ EUR") and line.endswith(TOTAL) for line in text.splitlines())
    assert [p.get_content_type() for p in got.walk()][-1] == "image/png"

    [message] = messages(api)
    assert (message["status"], message["attempts"], message["last_error"]) == ("sent", 1, None)
    assert message["sent_at"] is not None
    assert message["next_attempt_at"] is None
    # Nothing more to do: a second pass sends nothing.
    assert work(settings, message_settings(smtp_port)) == [0]
    assert len(sink.received) == 1


def test_the_sent_email_is_an_event(
    api: Api, pos: Station, settings: Settings, sink: MailSink, smtp_port: int
) -> None:
    sell(api, pos, {"email": EMAIL})
    work(settings, message_settings(smtp_port))
    events = api.as_(Role.ADMIN).get("/api/events", params={"type": "message.*"}).json()
    [event] = events
    assert event["type"] == "message.sent"
    [message] = messages(api)
    assert event["resource_id"] == message["id"]
    assert event["data"] == message


def test_smtp_down_is_retried_with_backoff_then_sent_once(
    api: Api, pos: Station, settings: Settings, smtp_port: int
) -> None:
    sell(api, pos, {"email": EMAIL})
    clock = Clock()
    config = message_settings(smtp_port, message_retry_seconds=30)
    assert work(settings, config, clock=clock) == [1]  # nothing listens on the port
    [message] = messages(api)
    assert (message["status"], message["attempts"]) == ("pending", 1)
    assert "cannot connect to the SMTP server" in message["last_error"]
    assert work(settings, config, clock=clock) == [0]  # not due yet: 30 s
    clock.advance(30)
    assert work(settings, config, clock=clock) == [1]
    [message] = messages(api)
    assert message["attempts"] == 2
    clock.advance(59)
    assert work(settings, config, clock=clock) == [0]  # the second wait is 60 s
    clock.advance(1)
    with SmtpServer(smtp_port) as sink:
        assert work(settings, config, clock=clock) == [1]
        sink.wait_for(1)
        clock.advance(3600)
        assert work(settings, config, clock=clock) == [0]
    assert len(sink.received) == 1
    [message] = messages(api)
    assert (message["status"], message["attempts"], message["last_error"]) == ("sent", 3, None)


def test_a_refused_recipient_fails_at_once_and_is_visible(
    api: Api, pos: Station, settings: Settings, sink: MailSink, smtp_port: int
) -> None:
    sink.refuse["nobody@example.lv"] = "550 5.1.1 <nobody@example.lv>: Recipient unknown"
    sell(api, pos, {"email": "nobody@example.lv"})
    assert work(settings, message_settings(smtp_port)) == [1]
    [message] = messages(api, status="failed")
    assert message["attempts"] == 1
    assert "550 5.1.1 <nobody@example.lv>: Recipient unknown" in message["last_error"]
    assert sink.received == []
    [event] = api.as_(Role.ADMIN).get("/api/events", params={"type": "message.failed"}).json()
    assert event["data"]["last_error"] == message["last_error"]


def test_a_temporary_refusal_is_retried(
    api: Api, pos: Station, settings: Settings, sink: MailSink, smtp_port: int
) -> None:
    sink.refuse[EMAIL] = "450 4.2.1 Mailbox busy, try later"
    sell(api, pos, {"email": EMAIL})
    clock = Clock()
    work(settings, message_settings(smtp_port), clock=clock)
    [message] = messages(api)
    assert (message["status"], message["attempts"]) == ("pending", 1)
    assert "450 4.2.1" in message["last_error"]
    del sink.refuse[EMAIL]
    clock.advance(30)
    work(settings, message_settings(smtp_port), clock=clock)
    assert messages(api)[0]["status"] == "sent"
    assert len(sink.wait_for(1)) == 1


def test_a_message_gives_up_after_the_give_up_time(
    api: Api, pos: Station, settings: Settings, smtp_port: int
) -> None:
    sell(api, pos, {"email": EMAIL})
    clock = Clock()
    config = message_settings(
        smtp_port, message_retry_seconds=60, message_backoff_cap_seconds=600,
        message_give_up_hours=0.5,
    )  # fmt: skip
    # Waits of 60, 120, 240, 480, 600 s add up to 1500 s; the 6th failure would wait past 1800.
    tries = 0
    while messages(api)[0]["status"] == "pending":
        assert work(settings, config, clock=clock) == [1]
        tries += 1
        clock.advance(600)
    [message] = messages(api)
    assert message["status"] == "failed"
    assert tries == 6  # 60 + 120 + 240 + 480 + 600 = 1500 s ≤ 1800 s < 2100 s
    assert message["last_error"].startswith("gave up after 6 attempts over 0.5 h; last error: ")
    assert "cannot connect" in message["last_error"]


def test_without_smtp_emails_fail_visibly_and_sms_still_go(
    api: Api, pos: Station, settings: Settings
) -> None:
    sell(api, pos, {"email": EMAIL, "phone": "+37120000000"})
    sms = Sms()
    assert work(settings, message_settings(None), sms=sms) == [1]
    email_message = messages(api, channel="email")[0]
    assert (email_message["status"], email_message["last_error"]) == ("failed", NO_SMTP)
    assert messages(api, channel="sms")[0]["status"] == "sent"
    [(to, text)] = sms.sent
    assert to == "+37120000000"
    assert text.startswith("SIA Ūdensroze: čeks Nr. ")
    assert f", {TOTAL} EUR, " in text


def test_an_sms_provider_error_is_retried(api: Api, pos: Station, settings: Settings) -> None:
    sell(api, pos, {"phone": "+37120000000"})
    clock = Clock()
    work(settings, message_settings(None), clock=clock, sms=Sms(RuntimeError("HTTP 503")))
    [message] = messages(api)
    assert (message["status"], message["last_error"]) == ("pending", "RuntimeError: HTTP 503")
    clock.advance(30)
    sms = Sms()
    work(settings, message_settings(None), clock=clock, sms=sms)
    assert messages(api)[0]["status"] == "sent"
    assert len(sms.sent) == 1


def test_a_message_left_sending_is_sent_again(
    api: Api, pos: Station, settings: Settings, sink: MailSink, smtp_port: int
) -> None:
    """A server died mid-send: once the lease has run out the message goes again (at least
    once). The next worker on SQLite takes it at once; on PostgreSQL after the lease."""
    sell(api, pos, {"email": EMAIL})
    clock = Clock()
    sql(
        settings,
        "UPDATE messages SET status = 'sending', claim_token = 'dead', claimed_at = :at,"
        " attempts = 1",
        {"at": clock.now},
    )
    config = message_settings(smtp_port, message_lease_seconds=60)
    if settings.database_url.startswith("postgresql"):
        assert work(settings, config, clock=clock) == [0]  # still leased
        assert messages(api)[0]["status"] == "sending"
        clock.advance(61)
    assert work(settings, config, clock=clock) == [1]
    sink.wait_for(1)
    [message] = messages(api)
    assert (message["status"], message["attempts"]) == ("sent", 2)


def test_two_workers_send_each_message_once(
    api: Api, pos: Station, settings: Settings, sink: MailSink, smtp_port: int
) -> None:
    for _ in range(6):
        sell(api, pos, {"email": EMAIL})
    config = message_settings(smtp_port)

    async def race() -> None:
        await asyncio.gather(
            asyncio.to_thread(work, settings, config, passes=3),
            asyncio.to_thread(work, settings, config, passes=3),
        )

    asyncio.run(race())
    assert len(sink.wait_for(6)) == 6
    assert [m["status"] for m in messages(api)] == ["sent"] * 6
    assert sorted(m.message["Message-ID"] for m in sink.received) == sorted(
        {m.message["Message-ID"] for m in sink.received}
    )


# --- the API ----------------------------------------------------------------------------------


def test_retry_a_failed_message_and_resend_a_sent_one(
    api: Api, pos: Station, settings: Settings, sink: MailSink, smtp_port: int
) -> None:
    sink.refuse[EMAIL] = "550 5.1.1 No such user"
    sell(api, pos, {"email": EMAIL})
    work(settings, message_settings(smtp_port))
    [failed] = messages(api)
    assert failed["status"] == "failed"

    assert api.as_(Role.INTEGRATOR).post(f"/api/messages/{failed['id']}/retry").status_code == 403
    retried = api.as_(Role.ADMIN).post(f"/api/messages/{failed['id']}/retry")
    assert retried.status_code == 200, retried.text
    again = retried.json()
    assert (again["id"], again["status"], again["attempts"]) == (failed["id"], "pending", 0)

    del sink.refuse[EMAIL]  # the customer's mailbox exists now
    work(settings, message_settings(smtp_port))
    assert api.as_(Role.ADMIN).get(f"/api/messages/{failed['id']}").json()["status"] == "sent"

    resent = api.as_(Role.ADMIN).post(f"/api/messages/{failed['id']}/retry").json()
    assert resent["id"] != failed["id"]
    assert (resent["status"], resent["recipient"]) == ("pending", EMAIL)
    work(settings, message_settings(smtp_port))
    assert len(sink.wait_for(2)) == 2


def test_a_message_being_sent_cannot_be_retried(api: Api, pos: Station, settings: Settings) -> None:
    sell(api, pos, {"email": EMAIL})
    sql(settings, "UPDATE messages SET status = 'sending'")
    [message] = messages(api)
    response = api.as_(Role.ADMIN).post(f"/api/messages/{message['id']}/retry")
    assert response.status_code == 409


def test_roles_filters_and_paging(api: Api, pos: Station) -> None:
    first = sell(api, pos, {"email": EMAIL, "phone": "+37120000000"})
    sell(api, pos, {"email": "b@example.lv"})
    assert len(messages(api, Role.INTEGRATOR)) == 3
    assert api.as_(Role.STATION).get("/api/messages").status_code == 403
    assert api.as_(None).get("/api/messages").status_code == 401
    assert [m["invoice_id"] for m in messages(api, invoice_id=first)] == [first, first]
    assert [m["recipient"] for m in messages(api, channel="email")] == [EMAIL, "b@example.lv"]
    assert messages(api, status="sent") == []
    receipt_id = messages(api, invoice_id=first)[0]["receipt_id"]
    assert len(messages(api, receipt_id=receipt_id)) == 2

    page = api.as_(Role.ADMIN).get("/api/messages", params={"limit": 2})
    assert page.headers["X-Total-Count"] == "3"
    assert len(page.json()) == 2
    assert 'rel="next"' in page.headers["Link"]
    rest = api.as_(Role.ADMIN).get(
        "/api/messages", params={"limit": 2, "after_id": page.json()[1]["id"]}
    )
    assert [m["recipient"] for m in rest.json()] == ["b@example.lv"]

    one = messages(api)[0]
    assert api.as_(Role.INTEGRATOR).get(f"/api/messages/{one['id']}").json() == one
    assert api.as_(Role.ADMIN).get("/api/messages/999999").status_code == 404
    bad = api.as_(Role.ADMIN).get("/api/messages", params={"status": "lost"})
    assert bad.status_code == 400


def test_a_bad_sms_sender_stops_the_server_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """Checked before the worker starts (and before the first SMS): a ConfigError naming it."""
    monkeypatch.setenv("MINIPOS_SMS_SENDER", "no_such_provider.sms:sender")
    never: Any = None  # never reached: the settings are read first
    with pytest.raises(ConfigError, match="MINIPOS_SMS_SENDER: cannot import 'no_such_provider"):
        start_message_worker(never, never, never)
    monkeypatch.setenv("MINIPOS_SMS_SENDER", "log")
    monkeypatch.setenv("MINIPOS_SMTP_HOST", "mail.example.lv")
    with pytest.raises(ConfigError, match="MINIPOS_MAIL_FROM"):
        start_message_worker(never, never, never)


def test_the_app_starts_its_message_worker(
    settings: Settings, keys: dict[Role, str], monkeypatch: pytest.MonkeyPatch, smtp_port: int
) -> None:
    """The lifespan's worker sends by itself (the other tests drive passes)."""
    for name, value in {
        **SHOP,
        "MINIPOS_PRINT_WORKER": "false",
        "MINIPOS_SMTP_HOST": "127.0.0.1",
        "MINIPOS_SMTP_PORT": str(smtp_port),
        "MINIPOS_SMTP_SECURITY": "none",
        "MINIPOS_MAIL_FROM": "shop@example.lv",
        "MINIPOS_MESSAGE_POLL_SECONDS": "0.05",
    }.items():
        monkeypatch.setenv(name, value)
    with SmtpServer(smtp_port) as sink, TestClient(create_app(settings)) as client:
        api = Api(client, keys)
        pos = register(api, "Kase 1", "01")
        assert pos.open_shift().status_code == 200
        sell(api, pos, {"email": EMAIL})
        [mail] = sink.wait_for(1)
        assert mail.recipients == [EMAIL]
        deadline = time.monotonic() + 10
        while messages(api)[0]["status"] != "sent":  # recorded just after the send
            assert time.monotonic() < deadline, messages(api)
            time.sleep(0.05)
