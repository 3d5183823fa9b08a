"""What an operator watches (docs/operations.md): /metrics, the request id, /health, /ready."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re

import msgspec
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient
from starlette.types import Message

from minipos.api.protocol import BODY_TIMED_OUT
from minipos.auth.principal import Role
from minipos.bootstrap import create_app
from minipos.config import Settings
from minipos.db import migrate, open_database
from support import Api, post_invoice

QUEUES = {"print_jobs", "webhook_deliveries", "ereceipts", "sync_outbox", "sync_quarantined"}


def scrape(api: Api) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """Every sample of /metrics, parsed by prometheus_client's own parser: name → labels → value."""
    response = api.as_(Role.ADMIN).get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def requests_of(samples: dict, method: str, route: str, status: str) -> float:
    key = (("method", method), ("route", route), ("status", status))
    return samples.get("minipos_http_requests_total", {}).get(key, 0.0)


def test_metrics_count_requests_per_route_template_and_show_the_queues(api: Api) -> None:
    before = scrape(api)
    first, second = post_invoice(api), post_invoice(api)
    for invoice in (first, second):
        assert api.as_(Role.INTEGRATOR).get(f"/api/invoice/{invoice['id']}").status_code == 200
    assert api.as_(None).get("/api/invoices").status_code == 401
    after = scrape(api)

    route = "/api/invoice/{id}"
    assert requests_of(after, "GET", route, "200") - requests_of(before, "GET", route, "200") == 2
    assert not any(
        dict(labels)["route"].startswith(f"/api/invoice/{first['id']}")
        for labels in after["minipos_http_requests_total"]
    ), "raw paths must not become labels"
    assert requests_of(after, "POST", "/api/invoice/new", "200") == 2
    latency = after["minipos_http_request_duration_seconds_count"]
    assert latency[(("method", "GET"), ("route", route), ("status", "200"))] == 2
    failed = after["minipos_auth_failures_total"][()]
    assert failed - before["minipos_auth_failures_total"][()] == 1
    assert {dict(labels)["queue"] for labels in after["minipos_queue_depth"]} == QUEUES
    assert {dict(labels)["queue"] for labels in after["minipos_queue_oldest_age_seconds"]} == QUEUES
    assert "minipos_invoice_lease_expiries_total" in after
    if api.client.app.state.ctx.db.dialect == "sqlite":  # PostgreSQL has no group commit
        # Two invoices took at least one group commit.
        assert after["minipos_db_commit_batch_size_count"][()] >= 1


def test_metrics_take_an_admin_key_unless_public(settings: Settings, keys: dict[Role, str]) -> None:
    def token(role: Role) -> dict[str, str]:
        return {"Authorization": f"Token {keys[role]}"}

    with TestClient(create_app(settings)) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers=token(Role.INTEGRATOR)).status_code == 403
        assert client.get("/metrics", headers=token(Role.ADMIN)).status_code == 200
    with TestClient(create_app(msgspec.structs.replace(settings, metrics_public=True))) as client:
        response = client.get("/metrics")
    assert response.status_code == 200
    assert "minipos_queue_depth" in response.text


def test_request_id_is_kept_when_sane_and_made_otherwise(api: Api) -> None:
    client = api.as_(None)
    assert client.get("/health", headers={"X-Request-ID": "test-123"}).headers["x-request-id"] == (
        "test-123"
    )
    for unsafe in ("a" * 65, "two words", "line\tbreak"):
        made = client.get("/health", headers={"X-Request-ID": unsafe}).headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", made)
    assert re.fullmatch(r"[0-9a-f]{32}", client.get("/health").headers["x-request-id"])


def test_health_and_ready(api: Api) -> None:
    assert api.as_(None).get("/health").json()["status"] == "ok"
    ready = api.as_(None).get("/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready"}


def test_not_ready_when_a_worker_stopped(api: Api) -> None:
    worker: asyncio.Task[None] = api.client.app.state.workers["print worker"]

    async def stop() -> None:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker

    api.client.portal.call(stop)
    ready = api.as_(None).get("/ready")
    assert ready.status_code == 503
    assert ready.json() == {"status": "not ready", "reasons": ["print worker stopped"]}


def test_not_ready_when_the_schema_is_behind(api: Api, settings: Settings) -> None:
    db = open_database(settings.database_url)
    try:
        db.run(lambda conn: conn.execute("UPDATE alembic_version SET version_num = '0006'"))
        ready = api.as_(None).get("/ready")
        assert ready.status_code == 503
        [reason] = ready.json()["reasons"]
        assert "schema at 0006" in reason
        assert "minipos db upgrade" in reason
    finally:  # the PostgreSQL test database is shared by the session
        db.run(
            lambda conn: conn.execute(
                "UPDATE alembic_version SET version_num = :head", {"head": migrate.head()}
            )
        )
        db.close()


def post_cut_off(api: Api, **scope: object) -> tuple[list[Message], int]:
    """``POST /api/products`` whose client goes after 7 of its 100 bytes: what the app sends,
    and how many records it logs above info."""
    headers = [
        (b"authorization", f"Token {api.keys[Role.ADMIN]}".encode()),
        (b"content-type", b"application/json"),
        (b"content-length", b"100"),
    ]
    messages: list[Message] = [
        {"type": "http.request", "body": b'{"name"', "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return messages.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    request = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/products",
        "raw_path": b"/api/products",
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "server": ("shop", 80),
        "client": ("127.0.0.1", 50000),
        "state": api.client.app_state.copy(),
        **scope,
    }
    handler = CountAboveInfo()
    logging.getLogger().addHandler(handler)
    try:
        assert api.client.portal is not None
        api.client.portal.call(api.client.app, request, receive, send)
    finally:
        logging.getLogger().removeHandler(handler)
    return sent, handler.count


class CountAboveInfo(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


def test_a_client_gone_mid_body_is_a_499_not_a_logged_500(api: Api) -> None:
    before = scrape(api)
    sent, warnings = post_cut_off(api)
    assert sent[0]["status"] == 499  # for the log and metrics: the server drops it unsent
    assert warnings == 0
    after = scrape(api)
    assert requests_of(after, "POST", "/api/products", "499") == 1
    assert requests_of(after, "POST", "/api/products", "500") == 0
    assert requests_of(before, "POST", "/api/products", "499") == 0


def test_a_body_past_its_deadline_is_counted_408(api: Api) -> None:
    sent, warnings = post_cut_off(api, **{BODY_TIMED_OUT: True})
    assert sent[0]["status"] == 408
    assert warnings == 0
    assert requests_of(scrape(api), "POST", "/api/products", "408") == 1
