"""Webhooks through the real app, database and sender, to a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from minipos.auth.principal import Role
from minipos.bootstrap import create_app
from minipos.config import Settings
from minipos.db import open_database
from minipos.timeutil import now_us
from minipos.webhooks import repository
from minipos.webhooks.signing import verify
from support import Api, Receiver, Station, post_invoice, register

FAST = {
    "MINIPOS_WEBHOOK_ALLOW_NETWORKS": "127.0.0.0/8",
    "MINIPOS_WEBHOOK_BACKOFF_SECONDS": "0.05",
    "MINIPOS_WEBHOOK_BACKOFF_CAP_SECONDS": "0.2",
    "MINIPOS_WEBHOOK_TIMEOUT_SECONDS": "0.5",
}


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries in tenths of seconds, and the local receiver allowed (the app reads these)."""
    for name, value in FAST.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.close()


def add(api: Api, url: str, events: list[str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"url": url, "description": "ERP"}
    if events is not None:
        body["events"] = events
    response = api.as_(Role.ADMIN).post("/api/webhooks", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def deliveries(api: Api, webhook_id: int) -> list[dict[str, Any]]:
    response = api.as_(Role.ADMIN).get(f"/api/webhooks/{webhook_id}/deliveries")
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


def settled(api: Api, webhook_id: int, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
    """The delivery log once ``count`` deliveries are no longer pending."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = deliveries(api, webhook_id)
        if len(found) >= count and all(d["status"] != "pending" for d in found):
            return found
        time.sleep(0.05)
    raise AssertionError(f"deliveries did not settle: {deliveries(api, webhook_id)}")


def sale(api: Api, station: Station) -> dict[str, Any]:
    invoice = post_invoice(api)
    assert station.claim(invoice["id"]).status_code == 200
    done = station.complete(invoice["id"], payments=[{"method_id": 1, "amount": 3}])
    assert done.status_code == 200, done.text
    result: dict[str, Any] = done.json()
    return result


def test_acceptance_post_claim_complete_arrives_signed_and_in_order(
    api: Api, receiver: Receiver
) -> None:
    station = register(api, "POS1", "01")
    assert station.open_shift().status_code == 200
    webhook = add(api, receiver.url, ["invoice.*", "receipt.created"])
    assert webhook["secret"].startswith("whsec_")
    done = sale(api, station)

    requests = receiver.wait_for(4)
    assert [json.loads(body)["type"] for _, body in requests] == [
        "invoice.created",
        "invoice.opened",
        "invoice.done",
        "receipt.created",
    ]
    for headers, body in requests:
        assert verify(webhook["secret"], headers["MiniPOS-Signature"], body, int(time.time()))
        assert not verify("whsec_other", headers["MiniPOS-Signature"], body, int(time.time()))
        assert headers["Content-Type"] == "application/json"
        assert headers["Host"] == f"127.0.0.1:{receiver.port}"
    assert json.loads(requests[2][1])["data"] == done
    # The same events, in the same order, as the log shows them.
    log = api.as_(Role.INTEGRATOR).get("/api/events?type=invoice.*,receipt.created").json()
    assert [json.loads(body) for _, body in requests] == log
    found = settled(api, webhook["id"], 4)
    assert [d["status"] for d in found] == ["delivered"] * 4
    assert [d["id"] for d in found] == [int(h["MiniPOS-Delivery"]) for h, _ in requests]
    assert [d["event_id"] for d in found] == [int(h["MiniPOS-Event-Id"]) for h, _ in requests]
    assert all(d["log"][0]["status_code"] == 200 for d in found)


def test_failures_are_retried_with_backoff_and_later_events_wait(api: Api) -> None:
    receiver = Receiver(answers=[500, 503, "hang"], hang_seconds=1.0)
    try:
        webhook = add(api, receiver.url)
        first, second = post_invoice(api), post_invoice(api)
        requests = receiver.wait_for(5)
    finally:
        receiver.close()
    ids = [json.loads(body)["resource_id"] for _, body in requests]
    # The first event is tried until taken, and only then does the second go.
    assert ids == [first["id"]] * 4 + [second["id"]]
    delivery_ids = {h["MiniPOS-Delivery"] for h, _ in requests[:4]}
    assert len(delivery_ids) == 1
    found = settled(api, webhook["id"], 2)
    head = found[0]
    assert head["status"] == "delivered"
    assert head["attempts"] == 4
    assert [a["status_code"] for a in head["log"]] == [500, 503, None, 200]
    assert head["log"][0]["error"] == "HTTP 500: receiver is unhappy"
    assert head["log"][2]["error"] == "no answer within 0.5 s"
    gaps = [a["attempted_at"] for a in head["log"]]
    assert gaps == sorted(gaps)


def started(settings: Settings, keys: dict[Role, str], **env: str) -> Iterator[Api]:
    """The app started with these ``MINIPOS_*`` settings on top of the fast ones."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            if value:
                patch.setenv(f"MINIPOS_{name.upper()}", value)
            else:
                patch.delenv(f"MINIPOS_{name.upper()}")
        with TestClient(create_app(settings)) as client:
            yield Api(client, keys)


def test_a_delivery_past_the_give_up_age_fails_and_the_rest_go_on(
    settings: Settings, keys: dict[Role, str]
) -> None:
    receiver = Receiver(answers=[500] * 1000)
    with (
        contextlib.closing(receiver),
        contextlib.contextmanager(started)(
            settings,
            keys,
            webhook_give_up_hours="0.0001",  # 0.36 s
        ) as api,
    ):
        webhook = add(api, receiver.url, ["invoice.created"])
        post_invoice(api)
        post_invoice(api)
        found = settled(api, webhook["id"], 2)
        assert [d["status"] for d in found] == ["failed", "failed"]
        assert found[0]["attempts"] > 1
        assert found[0]["last_status_code"] == 500
        assert found[0]["next_attempt_at"] is None
        # An admin sends one again by hand once the receiver is fixed.
        receiver.answers.clear()
        retried = api.as_(Role.ADMIN).post(
            f"/api/webhooks/{webhook['id']}/deliveries/{found[0]['id']}/retry"
        )
        assert retried.status_code == 200, retried.text
        again = settled(api, webhook["id"], 2)
        assert again[0]["status"] == "delivered"
        assert again[0]["attempts"] == found[0]["attempts"] + 1
        conflict = api.as_(Role.ADMIN).post(
            f"/api/webhooks/{webhook['id']}/deliveries/{found[0]['id']}/retry"
        )
        assert conflict.status_code == 409


def test_only_subscribed_types_and_only_events_after_creation(api: Api, receiver: Receiver) -> None:
    post_invoice(api)  # before the endpoint existed: not sent
    webhook = add(api, receiver.url, ["product.changed", "invoice.created"])
    after = post_invoice(api)
    product = api.as_(Role.ADMIN).post("/api/products", json={"name": "Sula", "price": 1}).json()
    api.as_(Role.ADMIN).delete(f"/api/products/{product['id']}")  # product.deleted: not sent
    assert len(settled(api, webhook["id"], 2)) == 2
    sent = [(e["type"], e["resource_id"]) for e in receiver.events()]
    assert sent == [("invoice.created", after["id"]), ("product.changed", product["id"])]


def test_management_secret_shown_once_and_delete(api: Api, receiver: Receiver) -> None:
    webhook = add(api, receiver.url)
    admin = api.as_(Role.ADMIN)
    listed = admin.get("/api/webhooks").json()
    assert listed == [{k: v for k, v in webhook.items() if k != "secret"}]
    assert listed[0]["events"] == ["*"]
    assert admin.get(f"/api/webhooks/{webhook['id']}").json() == listed[0]
    assert api.as_(Role.INTEGRATOR).get("/api/webhooks").status_code == 403
    admin = api.as_(Role.ADMIN)
    assert admin.delete(f"/api/webhooks/{webhook['id']}").status_code == 204
    assert admin.get(f"/api/webhooks/{webhook['id']}").status_code == 404
    assert admin.delete(f"/api/webhooks/{webhook['id']}").status_code == 404
    assert admin.get(f"/api/webhooks/{webhook['id']}/deliveries").status_code == 404


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"url": "ftp://127.0.0.1/x"}, "url", "http"),
        ({"url": "http://"}, "url", "no host"),
        ({"url": "http://user:pw@127.0.0.1/"}, "url", "credentials"),
        ({"url": "http://10.1.2.3/hook"}, "url", "non-public"),
        ({"url": "http://169.254.169.254/latest/meta-data"}, "url", "non-public"),
        ({"url": "http://[::1]:8080/"}, "url", "non-public"),
        ({"url": "http://no-such-host.invalid/"}, "url", "resolve"),
        ({"url": "http://127.0.0.1/", "events": ["invoice.paid"]}, "events", "Unknown"),
        ({"url": "http://127.0.0.1/", "events": []}, "events", "at least one"),
    ],
)
def test_bad_endpoints_are_refused_naming_the_field(
    api: Api, body: dict[str, Any], field: str, words: str
) -> None:
    response = api.as_(Role.ADMIN).post("/api/webhooks", json=body)
    assert response.status_code == 400, response.text
    errors = response.json()
    assert field in errors
    assert words in json.dumps(errors)
    assert api.as_(Role.ADMIN).get("/api/webhooks").json() == []


def test_loopback_is_refused_unless_allowed(settings: Settings, keys: dict[Role, str]) -> None:
    """Without an allow list even 127.0.0.1 is off limits."""
    with contextlib.contextmanager(started)(settings, keys, webhook_allow_networks="") as api:
        response = api.as_(Role.ADMIN).post("/api/webhooks", json={"url": "http://127.0.0.1/"})
    assert response.status_code == 400
    assert "MINIPOS_WEBHOOK_ALLOW_NETWORKS" in response.json()["url"][0]


def test_a_paused_endpoint_gets_what_it_missed_in_order_once_resumed(
    api: Api, receiver: Receiver
) -> None:
    webhook = add(api, receiver.url, ["invoice.created"])
    admin = api.as_(Role.ADMIN)
    paused = admin.patch(f"/api/webhooks/{webhook['id']}", json={"active": False})
    assert paused.status_code == 200, paused.text
    assert paused.json()["active"] is False
    first, second = post_invoice(api), post_invoice(api)
    time.sleep(0.5)  # a running sender would have sent both by now
    assert receiver.requests == []
    assert deliveries(api, webhook["id"]) == []
    resumed = api.as_(Role.ADMIN).patch(
        f"/api/webhooks/{webhook['id']}", json={"active": True, "description": "ERP v2"}
    )
    assert resumed.json()["description"] == "ERP v2"
    receiver.wait_for(2)
    assert [e["resource_id"] for e in receiver.events()] == [first["id"], second["id"]]


def test_patch_checks_what_it_changes(api: Api) -> None:
    webhook = add(api, "http://127.0.0.1:9/hook")
    admin = api.as_(Role.ADMIN)
    bad_url = admin.patch(f"/api/webhooks/{webhook['id']}", json={"url": "http://10.0.0.1/"})
    assert bad_url.status_code == 400
    assert "url" in bad_url.json()
    bad_type = admin.patch(f"/api/webhooks/{webhook['id']}", json={"events": ["nope"]})
    assert bad_type.status_code == 400
    assert "events" in bad_type.json()
    assert admin.patch("/api/webhooks/999", json={"active": False}).status_code == 404
    assert admin.get(f"/api/webhooks/{webhook['id']}").json()["url"] == "http://127.0.0.1:9/hook"


def test_retention_trims_finished_deliveries_only(
    api: Api, receiver: Receiver, settings: Settings
) -> None:
    taken = add(api, receiver.url, ["invoice.created"])
    gone = Receiver()
    gone.close()  # its port now refuses connections
    refused = add(api, f"http://127.0.0.1:{gone.port}/down", ["invoice.created"])
    post_invoice(api)
    settled(api, taken["id"], 1)
    until_retrying = time.monotonic() + 10
    while not (pending := deliveries(api, refused["id"])) or pending[0]["attempts"] < 1:
        assert time.monotonic() < until_retrying, pending
        time.sleep(0.05)
    db = open_database(settings.database_url)
    try:
        later = now_us() + 3_600_000_000
        assert db.run(lambda conn: repository.purge_deliveries(conn, later, 100)) == 1
        left = db.run(
            lambda conn: conn.fetchone(
                "SELECT count(*) AS n FROM webhook_attempts a"
                " JOIN webhook_deliveries d ON d.id = a.delivery_id WHERE d.webhook_id = :w",
                {"w": taken["id"]},
            )
        )
    finally:
        db.close()
    assert left is not None
    assert left["n"] == 0
    assert deliveries(api, taken["id"]) == []
    assert [d["status"] for d in deliveries(api, refused["id"])] == ["pending"]
