"""The event log through the real app and database: what is recorded, in what order, and when not."""

from __future__ import annotations

import threading
from typing import Any

import msgspec
import pytest
from starlette.testclient import TestClient

from minipos.auth.principal import Role
from minipos.bootstrap import create_app
from minipos.config import Settings
from minipos.db import open_database
from minipos.events import repository
from minipos.events import routes as event_routes
from minipos.timeutil import now_us
from support import Api, Station, post_invoice, register

EVENT_KEYS = ["id", "type", "created_at", "resource", "resource_id", "data"]


def events(api: Api, query: str = "") -> list[dict[str, Any]]:
    response = api.as_(Role.INTEGRATOR).get(f"/api/events{query}")
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


def types(found: list[dict[str, Any]]) -> list[str]:
    return [event["type"] for event in found]


@pytest.fixture
def pos1(api: Api) -> Station:
    station = register(api, "POS1", "01")
    assert station.open_shift().status_code == 200
    return station


def test_post_claim_complete_tells_each_step_with_the_state_after_it(
    api: Api, pos1: Station
) -> None:
    invoice = post_invoice(api)
    created = api.as_(Role.INTEGRATOR).get(f"/api/invoice/{invoice['id']}").json()
    opened = pos1.claim(invoice["id"]).json()
    done = pos1.complete(invoice["id"], payments=[{"method_id": 1, "amount": 5}]).json()
    [receipt] = done["receipts"]

    found = events(api, "?after=0")
    assert types(found) == [
        "shift.opened",
        "invoice.created",
        "invoice.opened",
        "invoice.done",
        "receipt.created",
    ]
    assert all(list(event) == EVENT_KEYS for event in found)
    assert [e["id"] for e in found] == sorted(e["id"] for e in found)
    _, created_event, opened_event, done_event, receipt_event = found
    # Each carries the resource exactly as its own GET showed it at that moment.
    assert created_event["data"] == created
    assert opened_event["data"] == opened
    assert done_event["data"] == done
    assert (done_event["resource"], done_event["resource_id"]) == ("invoice", invoice["id"])
    [listed] = api.as_(Role.INTEGRATOR).get("/api/receipts").json()
    assert receipt_event["data"] == listed
    assert (receipt_event["resource"], receipt_event["resource_id"]) == ("receipt", receipt["id"])
    assert receipt_event["created_at"].endswith(("+02:00", "+03:00"))


def test_a_retried_complete_or_replayed_post_tells_nothing_new(api: Api, pos1: Station) -> None:
    body = {"invoice_no": "WEB-1", "rows": [{"text": "Tēja", "quantity": 1, "price": 2}]}
    invoice = post_invoice(api, body)
    assert post_invoice(api, body)["id"] == invoice["id"]  # same invoice_no, same body: replay
    pos1.claim(invoice["id"])
    cash = [{"method_id": 1, "amount": 2}]
    assert pos1.complete(invoice["id"], request_id="once", payments=cash).status_code == 200
    before = events(api)
    assert pos1.complete(invoice["id"], request_id="once", payments=cash).status_code == 200
    assert events(api) == before
    assert types(before).count("invoice.created") == 1


def test_a_refused_change_leaves_no_event(api: Api) -> None:
    station = register(api, "POS2", "02")  # no shift open
    invoice = post_invoice(api)
    assert station.claim(invoice["id"]).status_code == 200
    before = events(api)
    # The complete fails after claiming its numbers: the whole unit of work rolls back.
    assert station.complete(invoice["id"]).status_code == 409
    bad = api.as_(Role.INTEGRATOR).post(
        "/api/invoice/new", json={"rows": [{"text": "x", "quantity": 1, "price": "1.001"}]}
    )
    assert bad.status_code == 400
    assert events(api) == before


def test_release_cancel_refund_and_shift_close(api: Api, pos1: Station) -> None:
    first, second = post_invoice(api), post_invoice(api)
    pos1.claim(first["id"])
    assert pos1.post(f"/api/invoice/{first['id']}/release").status_code == 200
    pos1.claim(second["id"])
    assert pos1.post(f"/api/invoice/{second['id']}/cancel").status_code == 200
    pos1.claim(first["id"])
    cash = [{"method_id": 1, "amount": 3}]
    sale = pos1.complete(first["id"], payments=cash).json()["receipts"][0]
    refund = post_invoice(
        api,
        {
            "mode": 2,
            "parent_document_id": sale["document_id"],
            "parent_pos_id": pos1.pos_id,
            "rows": [{"text": "Kafija", "quantity": 1, "price": 1.5}],
        },
    )
    pos1.claim(refund["id"])
    refunded = pos1.complete(
        refund["id"], request_id="r2", payments=[{"method_id": 1, "amount": 1.5}]
    )
    assert refunded.status_code == 200, refunded.text
    closed = pos1.close_shift()
    assert closed.status_code == 200

    found = events(api)
    assert types(found)[-3:] == ["invoice.done", "refund.created", "shift.closed"]
    released = [e for e in found if e["type"] == "invoice.released"]
    assert [e["data"]["status_name"] for e in released] == ["New"]
    cancelled = [e for e in found if e["type"] == "invoice.cancelled"]
    assert [e["resource_id"] for e in cancelled] == [second["id"]]
    assert found[-1]["data"] == closed.json()


def test_products_changed_and_deleted(api: Api) -> None:
    admin = api.as_(Role.ADMIN)
    addon = admin.post("/api/products", json={"name": "Sīrups", "price": "0.50"}).json()
    coffee = admin.post(
        "/api/products", json={"name": "Kafija", "price": "1.50", "addons": [addon["id"]]}
    ).json()
    patched = admin.patch(f"/api/products/{coffee['id']}", json={"price": "1.60"}).json()
    assert admin.delete(f"/api/products/{addon['id']}").status_code == 204
    after_delete = admin.get(f"/api/products/{coffee['id']}").json()

    found = events(api, "?type=product.*")
    assert types(found) == [
        "product.changed",
        "product.changed",
        "product.changed",
        "product.deleted",
        "product.changed",  # coffee lost its addon
    ]
    assert found[2]["data"] == patched
    assert found[3]["data"]["id"] == addon["id"]
    assert found[4]["data"] == after_delete
    assert after_delete["addons"] == []


def test_type_filter_paging_and_cursor(api: Api, pos1: Station) -> None:
    for _ in range(5):
        post_invoice(api)
    response = api.as_(Role.INTEGRATOR).get("/api/events?type=invoice.created&limit=2")
    page = response.json()
    assert types(page) == ["invoice.created"] * 2
    assert "X-Total-Count" not in response.headers
    link = response.headers["Link"]
    assert f"after={page[-1]['id']}" in link
    assert 'rel="next"' in link
    rest = events(api, f"?type=invoice.created&after={page[-1]['id']}")
    assert len(rest) == 3
    assert rest[0]["id"] > page[-1]["id"]
    both = events(api, "?type=shift.opened,invoice.created")
    assert types(both) == ["shift.opened"] + ["invoice.created"] * 5


@pytest.mark.parametrize(
    ("query", "field"),
    [("?type=invoice.paid", "type"), ("?after=-1", "after"), ("?limit=0", "limit")],
)
def test_bad_queries_name_the_field(api: Api, query: str, field: str) -> None:
    response = api.as_(Role.INTEGRATOR).get(f"/api/events{query}")
    assert response.status_code == 400
    assert field in response.json()


def test_stations_may_not_read_the_log(api: Api) -> None:
    assert api.as_(Role.STATION).get("/api/events").status_code == 403
    assert api.as_(None).get("/api/events").status_code == 401


def test_events_off_records_nothing(settings: Settings, keys: dict[Role, str]) -> None:
    quiet = msgspec.structs.replace(settings, events=False)
    with TestClient(create_app(quiet)) as client:
        api = Api(client, keys)
        post_invoice(api)
        assert events(api) == []


def test_retention_trims_the_oldest_only(api: Api, settings: Settings) -> None:
    for _ in range(3):
        post_invoice(api)
    db = open_database(settings.database_url)
    try:
        cutoff = now_us()
        assert db.run(lambda conn: repository.purge(conn, cutoff - 3_600_000_000, 100)) == 0
        post_invoice(api)
        assert db.run(lambda conn: repository.purge(conn, cutoff, 2)) == 2
        assert db.run(lambda conn: repository.purge(conn, cutoff, 100)) == 1
        [left] = events(api)
        assert left["resource_id"] == 4
        # Even when every event is past retention the newest stays, so ids never go back.
        later = now_us() + 3_600_000_000
        assert db.run(lambda conn: repository.purge(conn, later, 100)) == 0
        post_invoice(api)
        assert [e["id"] for e in events(api)] == [left["id"], left["id"] + 1]
    finally:
        db.close()


def test_a_reader_following_the_cursor_misses_nothing_under_concurrent_writes(
    api: Api, settings: Settings
) -> None:
    """Ids are the commit order: a reader that only ever asks for "after my last id" while
    writers commit concurrently still sees every event (on PostgreSQL: numbered after commit)."""
    writers, per_writer = 6, 25
    seen: list[int] = []
    stop = threading.Event()
    db = open_database(settings.database_url)

    def read() -> None:
        cursor = 0
        while True:
            finished = stop.is_set()  # decide before reading: the last read sees everything
            rows = db.run(lambda conn, after=cursor: repository.after(conn, after, None, 1000))
            for row in rows:
                seen.append(row["id"])
                cursor = row["id"]
            if finished and not rows:
                return

    def write() -> None:
        for _ in range(per_writer):
            post_invoice(api)

    reader = threading.Thread(target=read)
    reader.start()
    threads = [threading.Thread(target=write) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stop.set()
    reader.join()
    try:
        every = [row["id"] for row in db.run(lambda conn: repository.after(conn, 0, None, 10_000))]
    finally:
        db.close()
    assert len(every) == writers * per_writer
    assert seen == every


def test_the_stream_ends_after_what_has_committed_when_the_server_shuts_down(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shutdown ends an open stream once it has sent what is committed (docs/events.md); the
    client reconnects with Last-Event-ID. The process is tested in tests/e2e."""
    invoice = post_invoice(api)
    draining = threading.Event()
    draining.set()
    monkeypatch.setattr(event_routes, "DRAINING", draining)
    read: list[bytes] = []
    with api.as_(Role.ADMIN).stream("GET", "/api/events/stream?after=0") as stream:
        assert stream.status_code == 200
        reader = threading.Thread(target=lambda: read.append(stream.read()))
        reader.start()
        reader.join(timeout=10)
    # Leaving the block closes a stream that did not end by itself, so this fails, not hangs.
    assert read, "the stream did not end"
    frames = [f for f in read[0].decode().split("\n\n") if f]
    assert frames[0].startswith("retry: ")
    assert [f.split("\n")[1] for f in frames[1:]] == ["event: invoice.created"]
    assert f'"resource_id":{invoice["id"]},' in frames[1]
