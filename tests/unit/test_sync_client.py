"""The store's push loop (minipos.sync.client) against a fake centre (``httpx.MockTransport``)
and a real SQLite store database: each interleaving of docs/design/stores.md §6 that the
store sees, and the ids an acknowledgement writes."""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from minipos.auth.principal import Role
from minipos.auth.service import create_key
from minipos.bootstrap import create_app
from minipos.cli import app as cli_app
from minipos.config import Settings
from minipos.db import Database, open_database
from minipos.domain.sync import content_hash
from minipos.notifier import Notifier
from minipos.sync import client as sync_client
from minipos.sync import status
from minipos.sync.client import RequestFailed, SyncWorker
from minipos.timeutil import now_us
from support import Api, post_invoice, register

CENTRE = "http://127.0.0.1:9"
KEY = "store-key-123"


class FakeCentre:
    """The centre's ingest rules in a few lines: a key (kind, local id) stored once with its
    hash and id; the same hash replays (200), another one conflicts (409); receipts of a
    lane must come in document order (else 425). Faults are scripted per test."""

    def __init__(self) -> None:
        self.stored: dict[tuple[str, str], tuple[str, int]] = {}
        self.next_id = 100
        self.marks: dict[str, int] = {}
        self.requests: list[dict[str, Any]] = []
        #: Per (kind, local_id): statuses to answer before the real rule applies.
        self.script: dict[tuple[str, str], list[int]] = {}
        #: Whole-request answers (an int status, or "drop": stored, then the answer lost).
        self.faults: list[int | str] = []
        self.clock = 0

    def handler(self, request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == f"Token {KEY}"
        assert request.url.path == "/api/sync/push"
        body = json.loads(request.content)
        self.requests.append(body)
        fault = self.faults.pop(0) if self.faults else None
        if isinstance(fault, int):
            return httpx.Response(fault, text="centre unhappy")
        results = []
        stopped: set[str] = set()  # a station's lane stops at its first item not taken
        for item in body["items"]:
            if item["lane"] in stopped:
                results.append({"status": 425, "error": "an earlier item of the lane is missing"})
                continue
            result = self.ingest(item)
            if item["kind"] != "invoice" and item["lane"] != "-" and result["status"] >= 300:
                stopped.add(item["lane"])
            results.append(result)
        if fault == "drop":
            raise httpx.ReadError("connection reset after the centre committed")
        return httpx.Response(200, json={"centre_time": self.clock, "results": results})

    def ingest(self, item: dict[str, Any]) -> dict[str, Any]:
        key = (item["kind"], item["local_id"])
        raw = json.dumps(item["body"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert content_hash(raw.encode()) == item["hash"]  # byte for byte as stored
        scripted = self.script.get(key)
        if scripted:
            return {"status": scripted.pop(0), "error": "scripted"}
        if key in self.stored:
            hash_, common_id = self.stored[key]
            if hash_ == item["hash"]:
                return {"status": 200, "common_id": common_id}
            return {"status": 409, "error": "same key, other content"}
        if item["kind"] == "receipt":
            number = int(item["body"]["receipt"]["document_id"])
            if number != self.marks.get(item["lane"], 0) + 1:
                return {"status": 425, "error": "gap"}
            self.marks[item["lane"]] = number
        self.next_id += 1
        self.stored[key] = (item["hash"], self.next_id)
        return {"status": 201, "common_id": self.next_id}


@pytest.fixture
def store_url(tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    path = tmp_path / "store.sqlite3"
    shutil.copy(sqlite_template, path)
    monkeypatch.setenv("MINIPOS_FISCAL_PROFILE", "generic")
    return f"sqlite:///{path}"


def store_settings(url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=url,
        secret_key="test-pepper",
        secret_file=str(tmp_path / "minipos.secret"),
        auth_cache_seconds=0.0,
        access_log=False,
        mode="store",
        central_url=CENTRE,
        central_key=KEY,
        sync_batch=500,
    )


def sell(url: str, tmp_path: Path, script: Callable[[Api], None]) -> None:
    """Drive the store's API (its own worker finds no centre: nothing is acked)."""
    settings = store_settings(url, tmp_path)
    db = open_database(url)
    try:
        keys = {
            role: db.run(
                lambda conn, role=role: create_key(
                    conn, b"test-pepper", role, station_id=None, now_us=0
                )
            ).key
            for role in (Role.ADMIN, Role.INTEGRATOR)
        }
    finally:
        db.close()
    with TestClient(create_app(settings)) as client:
        script(Api(client, keys))


WALK_IN = {
    "rows": [{"text": "Maisiņš", "price": "0.10", "tax": 3}],
    "payments": [{"method_id": 1}],
}


def a_day(api: Api) -> None:
    """Two stations: an invoice sold at 01, a walk-in at each, 01's Z."""
    pos1 = register(api, "Kase 1", "01")
    pos2 = register(api, "Kase 2", "02")
    assert pos1.open_shift().status_code == 200
    assert pos2.open_shift().status_code == 200
    invoice = post_invoice(api)
    assert pos1.claim(invoice["id"]).status_code == 200
    assert pos1.complete(invoice["id"], payments=[{"method_id": 1}]).status_code == 200
    for pos, request_id in ((pos1, "a"), (pos2, "b"), (pos1, "c")):
        sale = pos.post(f"/api/stations/{pos.id}/receipts", {"request_id": request_id, **WALK_IN})
        assert sale.status_code == 201, sale.text
    assert pos1.close_shift().status_code == 200


@pytest.fixture
def store(store_url: str, tmp_path: Path) -> Iterator[tuple[Database, Settings]]:
    sell(store_url, tmp_path, a_day)
    db = open_database(store_url)
    yield db, store_settings(store_url, tmp_path)
    db.close()


def worker(db: Database, settings: Settings, centre: FakeCentre, **kw: Any) -> SyncWorker:
    settings = msgspec.structs.replace(settings, **kw)
    return SyncWorker(db, settings, None, Notifier(), transport=httpx.MockTransport(centre.handler))


async def push(w: SyncWorker) -> sync_client.PushOutcome:
    await w.db.write(sync_client.repository.ensure_state)
    async with w.client() as http:
        return await w.push_once(http)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def rows(db: Database, sql: str, **params: Any) -> list[dict[str, Any]]:
    return [dict(r) for r in db.run(lambda conn: conn.fetchall(sql, params))]


def outbox(db: Database) -> list[dict[str, Any]]:
    return rows(
        db,
        "SELECT id, kind, local_id, lane, status, common_id, attempts, last_error, body, hash"
        " FROM sync_outbox ORDER BY id",
    )


def statuses(db: Database) -> list[tuple[str, str, str]]:
    return [(r["kind"], r["lane"], r["status"]) for r in outbox(db)]


EXPECTED = [
    ("shift.open", "01"),
    ("shift.open", "02"),
    ("invoice", "-"),
    ("invoice.state", "-"),
    ("invoice.state", "-"),
    ("receipt", "01"),
    ("receipt", "01"),
    ("receipt", "02"),
    ("receipt", "01"),
    ("shift.close", "01"),
]


def test_a_push_acks_everything_and_writes_the_ids(store: tuple[Database, Settings]) -> None:
    db, settings = store
    assert [(k, lane) for k, lane, _ in statuses(db)] == EXPECTED
    centre = FakeCentre()
    before = rows(db, "SELECT id, updated_at FROM invoices")
    outcome = run(push(worker(db, settings, centre)))
    assert (outcome.sent, outcome.settled) == (10, 10)
    assert {s for _, _, s in statuses(db)} == {"acked"}
    [request] = centre.requests
    sent = request["items"]
    stored = outbox(db)
    # Byte for byte what the outbox holds, with its stored hash, in id order.
    assert [i["hash"] for i in sent] == [r["hash"] for r in stored]
    assert [json.loads(r["body"]) for r in stored] == [i["body"] for i in sent]

    [invoice] = rows(db, "SELECT id, common_id, synchronized_at, updated_at FROM invoices")
    item = next(r for r in stored if r["kind"] == "invoice")
    assert invoice["common_id"] == item["common_id"] is not None
    assert invoice["synchronized_at"] is not None
    assert [(invoice["id"], invoice["updated_at"])] == [
        (b["id"], b["updated_at"]) for b in before
    ]  # bookkeeping, not a change of the invoice
    receipts = rows(db, "SELECT id, common_id, synchronized_at FROM receipts ORDER BY id")
    acks = {r["local_id"]: r["common_id"] for r in stored if r["kind"] == "receipt"}
    assert [(str(r["id"]), r["common_id"]) for r in receipts] == list(acks.items())
    assert all(r["synchronized_at"] is not None for r in receipts)
    shifts = rows(db, "SELECT id, common_shift, local_id FROM shifts ORDER BY id")
    opens = {r["local_id"]: r["common_id"] for r in stored if r["kind"] == "shift.open"}
    assert [(str(s["id"]), s["common_shift"]) for s in shifts] == list(opens.items())
    assert all(s["local_id"] == s["id"] for s in shifts)
    # No event for the bookkeeping: nothing beyond what the sales recorded.
    assert rows(db, "SELECT id FROM events WHERE type LIKE 'sync.%'") == []
    [state] = rows(db, "SELECT last_contact_at, last_error, skew_ms FROM sync_state")
    assert state["last_contact_at"] is not None
    assert state["last_error"] is None
    assert run(push(worker(db, settings, centre))).sent == 0  # nothing left


def test_answer_lost_then_the_resend_replays_the_same_ack(
    store: tuple[Database, Settings],
) -> None:
    db, settings = store
    centre = FakeCentre()
    centre.faults = ["drop"]
    w = worker(db, settings, centre)
    with pytest.raises(RequestFailed):
        run(push(w))
    # The centre holds everything; the store acked nothing.
    assert len(centre.stored) == 10
    assert {s for _, _, s in statuses(db)} == {"pending"}
    first_ids = {k: v[1] for k, v in centre.stored.items()}

    outcome = run(push(w))
    assert outcome.settled == 10
    first, second = centre.requests
    assert first["items"] == second["items"]  # the same bodies and hashes
    assert len(centre.stored) == 10  # one copy
    acked = {(r["kind"], r["local_id"]): r["common_id"] for r in outbox(db)}
    assert acked == first_ids  # the stored ack, replayed


def test_a_replayed_answer_writes_the_ack_once(store: tuple[Database, Settings]) -> None:
    db, settings = store
    centre = FakeCentre()
    w = worker(db, settings, centre)
    run(push(w))
    synchronized = rows(db, "SELECT synchronized_at FROM invoices")
    acked = [(r["id"], r["status"], r["common_id"]) for r in outbox(db)]
    # The same answer delivered again (a duplicate request's answer): the ack UPDATE
    # matches no pending row, so nothing changes.
    pending = [{**r, "attempts": 0} for r in outbox(db)]
    results = [sync_client.PushResult(status=200, common_id=999) for _ in pending]

    def again(conn: Any) -> int:
        return sum(
            sync_client.apply_result(conn, row, result, 10**18)
            for row, result in zip(pending, results, strict=True)
        )

    assert db.run(again) == 0
    assert [(r["id"], r["status"], r["common_id"]) for r in outbox(db)] == acked
    assert rows(db, "SELECT synchronized_at FROM invoices") == synchronized


def test_a_conflict_quarantines_and_holds_only_its_lane(
    store: tuple[Database, Settings],
) -> None:
    db, settings = store
    centre = FakeCentre()
    first_receipt = next(r for r in outbox(db) if r["kind"] == "receipt")
    centre.script[("receipt", first_receipt["local_id"])] = [409]
    outcome = run(push(worker(db, settings, centre)))
    after = statuses(db)
    assert after == [
        ("shift.open", "01", "acked"),
        ("shift.open", "02", "acked"),
        ("invoice", "-", "acked"),
        ("invoice.state", "-", "acked"),
        ("invoice.state", "-", "acked"),
        ("receipt", "01", "quarantined"),
        ("receipt", "01", "pending"),  # 425 at the centre: its predecessor never arrived
        ("receipt", "02", "acked"),  # another station's lane goes on
        ("receipt", "01", "pending"),
        ("shift.close", "01", "pending"),
    ]
    assert outcome.settled == 7  # six acked, one quarantined
    [event] = rows(db, "SELECT type, resource_id, data FROM events WHERE type = 'sync.quarantined'")
    assert event["resource_id"] == first_receipt["id"]
    assert json.loads(event["data"])["lane"] == "01"
    # No event of a quarantine becomes an outbox item of its own.
    assert len(outbox(db)) == 10
    # The lane waits behind the held item: the next push sends nothing of lane 01.
    centre.requests.clear()
    assert run(push(worker(db, settings, centre))).sent == 0
    assert centre.requests == []
    status = run(status_of(db, settings))
    lanes = {lane.lane: lane for lane in status.lanes}
    assert (lanes["01"].quarantined, lanes["01"].waiting, lanes["02"].waiting) == (1, 3, 0)
    assert (status.quarantined, status.waiting) == (1, 3)
    assert lanes["02"].last_acked_local_id is not None


async def status_of(db: Database, settings: Settings) -> Any:
    return await db.read(
        lambda conn: status.store_status(conn, settings.central_url, settings.zone(), now_us())
    )


def test_a_gap_keeps_order_and_the_items_go_again(store: tuple[Database, Settings]) -> None:
    db, settings = store
    centre = FakeCentre()
    # The centre answers the first receipt 425 once (its high-water mark lags, say).
    first_receipt = next(r for r in outbox(db) if r["kind"] == "receipt")
    centre.script[("receipt", first_receipt["local_id"])] = [425]
    w = worker(db, settings, centre)
    clock = [1000.0]
    w.monotonic = lambda: clock[0]
    run(push(w))
    lane1 = [r for r in outbox(db) if r["lane"] == "01" and r["kind"] == "receipt"]
    assert [r["status"] for r in lane1] == ["pending", "pending", "pending"]
    assert lane1[0]["attempts"] == 0
    assert "425" in lane1[0]["last_error"]
    # The lane waits a moment (1 s, with jitter), the others went on meanwhile.
    assert run(push(w)).sent == 0
    assert len(centre.requests) == 1
    clock[0] += 1.5
    run(push(w))
    second = centre.requests[1]["items"]
    # Sent again in order: the pending items only, oldest first.
    assert [i["local_id"] for i in second if i["lane"] == "01"] == [
        r["local_id"] for r in outbox(db) if r["lane"] == "01" and r["kind"] != "shift.open"
    ]
    assert {s for _, _, s in statuses(db)} == {"acked"}
    order = [int(i["body"]["receipt"]["document_id"]) for i in second if i["kind"] == "receipt"]
    assert order == sorted(order)


def test_invalid_three_times_then_quarantined(store: tuple[Database, Settings]) -> None:
    db, settings = store
    centre = FakeCentre()
    invoice = next(r for r in outbox(db) if r["kind"] == "invoice")
    centre.script[("invoice", invoice["local_id"])] = [422, 422, 422]
    w = worker(db, settings, centre)
    for tries in (1, 2):
        run(push(w))
        [row] = [r for r in outbox(db) if r["id"] == invoice["id"]]
        assert (row["status"], row["attempts"]) == ("pending", tries)
    run(push(w))
    [row] = [r for r in outbox(db) if r["id"] == invoice["id"]]
    assert (row["status"], row["attempts"]) == ("quarantined", 3)
    assert rows(db, "SELECT type FROM events WHERE type = 'sync.quarantined'") == [
        {"type": "sync.quarantined"}
    ]
    # The store lane is not ordered: everything else went on.
    assert [s for _, _, s in statuses(db)].count("acked") == 9
    [inv] = rows(db, "SELECT common_id FROM invoices")
    assert inv["common_id"] is None


@pytest.mark.parametrize("fault", [503, 401, 413, 500])
def test_a_refused_request_writes_nothing_but_the_error(
    store: tuple[Database, Settings], fault: int
) -> None:
    db, settings = store
    centre = FakeCentre()
    centre.faults = [fault]
    w = worker(db, settings, centre)
    with pytest.raises(RequestFailed, match=str(fault)):
        run(push(w))
    assert {s for _, _, s in statuses(db)} == {"pending"}
    assert all(r["attempts"] == 0 for r in outbox(db))
    assert run(push(w)).settled == 10


def test_the_push_loop_backs_off_and_records_the_error(
    store: tuple[Database, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, settings = store
    centre = FakeCentre()
    centre.faults = [503, 503, 503]
    sleeps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) > 3:
            raise AssertionError("a fourth backoff after three failures")

    w = worker(db, settings, centre)

    class Idle(Notifier):
        async def wait(self, timeout: float) -> None:
            raise asyncio.CancelledError  # the outbox is empty: the test is over

    w.wake = Idle()

    async def loop() -> None:
        await db.write(sync_client.repository.ensure_state)
        monkeypatch.setattr(sync_client.asyncio, "sleep", fake_sleep)
        try:
            async with w.client() as http:
                await w._push_loop(http)
        finally:
            monkeypatch.undo()

    with pytest.raises(asyncio.CancelledError):
        run(loop())
    # 1, 2, 4 s with jitter (±25 %), then a success and no more backoff.
    assert len(sleeps) == 3
    for slept, base in zip(sleeps, (1, 2, 4), strict=True):
        assert 0.75 * base <= slept <= 1.25 * base
    assert {s for _, _, s in statuses(db)} == {"acked"}


def test_backoff_grows_to_thirty_seconds() -> None:
    for failures, low, high in ((1, 0.75, 1.25), (2, 1.5, 2.5), (3, 3, 5), (10, 22.5, 30)):
        assert all(low <= sync_client.backoff(failures) <= high for _ in range(50))


def test_skew_is_the_centre_clock_against_the_middle_of_the_request(
    store: tuple[Database, Settings],
) -> None:
    db, settings = store
    centre = FakeCentre()
    ticks = iter([1_000_000_000, 1_000_200_000])  # sent, received: 200 ms apart
    centre.clock = 1_000_100_000 + 7_200_000_000  # the centre two hours ahead
    w = worker(db, settings, centre)
    w.clock = lambda: next(ticks)
    run(push(w))
    [state] = rows(db, "SELECT skew_ms, last_contact_at FROM sync_state")
    assert (state["skew_ms"], state["last_contact_at"]) == (7_200_000, 1_000_200_000)


def test_batches_follow_the_setting_in_order(store: tuple[Database, Settings]) -> None:
    db, settings = store
    centre = FakeCentre()
    w = worker(db, settings, centre, sync_batch=3)
    while run(push(w)).sent:
        pass
    assert [len(r["items"]) for r in centre.requests] == [3, 3, 3, 1]
    sent = [(i["kind"], i["lane"]) for r in centre.requests for i in r["items"]]
    assert sent == EXPECTED


def test_retention_keeps_pending_and_the_newest_row(store: tuple[Database, Settings]) -> None:
    db, settings = store
    run(push(worker(db, settings, FakeCentre())))
    last = outbox(db)[-1]["id"]
    db.run(lambda conn: conn.execute("UPDATE sync_outbox SET acked_at = 1"))
    db.run(lambda conn: conn.execute("UPDATE sync_outbox SET status = 'pending' WHERE id = 2"))
    run(sync_client.trim_outbox(db, retention_days=7, batch=2))
    assert [r["id"] for r in outbox(db)] == [2, last]


def test_a_requeued_item_goes_again_and_frees_its_lane(
    store: tuple[Database, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, settings = store
    centre = FakeCentre()
    first_receipt = next(r for r in outbox(db) if r["kind"] == "receipt")
    centre.script[("receipt", first_receipt["local_id"])] = [422, 422, 422]
    w = worker(db, settings, centre)
    for _ in range(3):
        w.held.clear()  # the lane's pause after the 425s behind the 422 is over
        run(push(w))
    assert [r["id"] for r in outbox(db) if r["status"] == "quarantined"] == [first_receipt["id"]]
    monkeypatch.setenv("MINIPOS_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("MINIPOS_SECRET_KEY", "test-pepper")
    listed = CliRunner().invoke(cli_app, ["sync", "quarantined"])
    assert listed.exit_code == 0, listed.output
    assert listed.output.startswith(f"{first_receipt['id']}  receipt")
    assert "422: scripted" in listed.output
    requeued = CliRunner().invoke(cli_app, ["sync", "requeue", str(first_receipt["id"])])
    assert requeued.exit_code == 0, requeued.output
    again = CliRunner().invoke(cli_app, ["sync", "requeue", str(first_receipt["id"])])
    assert again.exit_code == 1
    assert "not quarantined" in again.output
    # The centre reads it now: it and the lane behind it arrive, in order (once the lane's
    # pause after its 425s is over).
    w.held.clear()
    while run(push(w)).sent:
        pass
    assert {s for _, _, s in statuses(db)} == {"acked"}


def test_a_lane_held_by_a_gap_does_not_hold_the_others(store: tuple[Database, Settings]) -> None:
    db, settings = store
    centre = FakeCentre()
    # The centre lacks what comes before station 01's items for a while (a centre restored
    # from an older backup, say): every push of them is a 425.
    for row in outbox(db):
        if row["lane"] == "01":
            centre.script[(row["kind"], row["local_id"])] = [425] * 5
    w = worker(db, settings, centre, sync_batch=4)
    clock = [0.0]
    w.monotonic = lambda: clock[0]
    # Batches of 4, station 01's items first in id order: without holding the lane the other
    # items would wait behind them for as long as the gap lasts.
    for _ in range(4):
        run(push(w))
    by_lane = {(k, lane): status for k, lane, status in statuses(db) if lane != "01"}
    assert set(by_lane.values()) == {"acked"}
    assert {s for _, lane, s in statuses(db) if lane == "01"} == {"pending"}
    assert w.held["01"][1] == 1
    clock[0] += 2
    run(push(w))
    assert w.held["01"][1] == 2  # still a gap: held longer


def test_the_running_worker_sends_what_commits_later(store: tuple[Database, Settings]) -> None:
    db, settings = store
    centre = FakeCentre()
    wake = Notifier()
    w = worker(db, settings, centre)
    w.wake = wake

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        # As the root wires it: a commit that wrote outbox rows wakes the worker.
        db.on_commit = lambda: loop.call_soon_threadsafe(wake.notify)
        task = asyncio.create_task(w.run())
        try:
            await until(lambda: all(r["status"] == "acked" for r in outbox(db)))
            item = {
                "kind": "invoice.state",
                "local_id": None,
                "lane": "-",
                "body": '{"status":40}',
                "hash": content_hash(b'{"status":40}'),
                "status": "pending",
                "created_at": now_us(),
            }
            await asyncio.sleep(0.2)  # the worker is waiting now (empty outbox)
            # Queued on the unit of work as the outbox writer does (its commit is announced).
            await db.write(
                lambda conn: conn.batch(sync_client.repository.append_outbox).append(item)
            )
            started = time.monotonic()
            await until(lambda: all(r["status"] == "acked" for r in outbox(db)))
            assert time.monotonic() - started < 1.0  # woken by the commit, not the poll
            assert not task.done()
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            db.on_commit = None

    run(scenario())
    assert len(outbox(db)) == 11
    assert len(centre.stored) == 11


async def until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not await asyncio.to_thread(condition):
        assert time.monotonic() < deadline, "never happened"
        await asyncio.sleep(0.01)
