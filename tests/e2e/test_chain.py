"""A chain of shops end to end (issue #13, docs/stores.md): a centre on PostgreSQL and two
stores on SQLite, real ``minipos serve`` processes, each store talking to the centre through
its own fault proxy (tests/faultproxy.py), stations driven through the stores' APIs.

The seven tests of the issue, in its numbering. The randomized ones print their seed:
replay with ``MINIPOS_CHAIN_SEED=<seed>``. Soak with ``MINIPOS_CHAIN_ROUNDS=<n>`` (kill -9
rounds of test 5, default 4) and ``MINIPOS_CHAIN_FAULT_SECONDS=<s>`` (test 6's faulty load,
default 12); ``MINIPOS_SOAK=1`` sets 20 rounds and 60 s.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
import pytest
from chain import (
    PG_ADMIN_URL,
    Chain,
    Load,
    Store,
    assert_converged,
    fresh_postgres,
    skewed_clock,
    wait_synced,
)
from serverproc import wait_until

from faultproxy import Fault
from minipos.domain.sync import canonical, content_hash

pytestmark = pytest.mark.e2e

SOAK = bool(os.environ.get("MINIPOS_SOAK"))
ROUNDS = int(os.environ.get("MINIPOS_CHAIN_ROUNDS") or (20 if SOAK else 4))
FAULT_SECONDS = float(os.environ.get("MINIPOS_CHAIN_FAULT_SECONDS") or (60 if SOAK else 12))
#: "Within seconds": the most a change at the centre may take to be sellable at a store.
DOWN_SECONDS = 15.0
#: The most a drained outbox may take after the last fault.
DRAIN_SECONDS = 90.0
#: Test 4's store runs its clock two hours ahead of the centre's.
SKEW_SECONDS = 7200.0


def chain_seed() -> int:
    return int(os.environ.get("MINIPOS_CHAIN_SEED") or random.SystemRandom().randrange(2**32))


@pytest.fixture
def postgres_database() -> Iterator[str]:
    try:
        psycopg.connect(PG_ADMIN_URL, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required under CI: {exc}")
        pytest.skip(f"PostgreSQL not available: {exc}")
    with fresh_postgres() as url:
        yield url


@pytest.fixture
def chain(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path, postgres_database: str
) -> Iterator[Chain]:
    """The centre and stores RIGA1 and RIGA2, started; an indirect parameter gives stores
    extra environment (``{"RIGA1": {...}}``)."""
    seed = chain_seed()
    print(f"chain: MINIPOS_CHAIN_SEED={seed}")
    store_env = getattr(request, "param", None)
    built = Chain(tmp_path, postgres_database, sqlite_template, ("RIGA1", "RIGA2"), seed, store_env)
    try:
        yield built
    finally:
        print(built.logs())  # shown only when the test failed
        built.close()


def price(value: Any) -> Decimal:
    return Decimal(str(value))


def sync_status(store_or_centre: Any, query: str = "") -> dict[str, Any]:
    return dict(store_or_centre.call("GET", f"/api/sync/status{query}"))


# --- 1. the catalogue flows down ---


def test_1_a_product_created_repriced_deleted_at_the_centre_follows_at_both_stores(
    chain: Chain,
) -> None:
    centre = chain.centre
    stores = list(chain.stores.values())
    for store in stores:
        store.open_station("1")
    started = time.monotonic()
    product = centre.call("POST", "/api/products", {"name": "Ābols", "code": 4711, "price": "1.20"})
    pid = product["id"]

    def shown(store: Store, expected: Decimal | None) -> Callable[[], bool]:
        def check() -> bool:
            status, data = store.try_call("GET", f"/api/products/{pid}")
            if expected is None:
                return status == 404
            return status == 200 and price(data["price"]) == expected

        return check

    for store in stores:
        wait_until(shown(store, Decimal("1.20")), f"product at {store.code}", 30)
    took = time.monotonic() - started
    print(f"product sellable at both stores after {took:.1f} s")
    assert took < DOWN_SECONDS
    for store in stores:
        # Stored under the centre's id, and sold by its code at the store's price.
        receipt = store.walk_in("1", [{"code": 4711, "quantity": 2}])
        assert [(r["product_id"], price(r["price"])) for r in receipt["rows"]] == [
            (pid, Decimal("1.20"))
        ]
        # The catalogue is read-only at a store, and says where to change it.
        status, refused = store.try_call(
            "POST", "/api/products", {"name": "Vietējs", "price": "1.00"}
        )
        assert status == 403, refused
        assert "centre" in json.dumps(refused).lower()

    started = time.monotonic()
    centre.call("PATCH", f"/api/products/{pid}", {"price": "1.35"})
    for store in stores:
        wait_until(shown(store, Decimal("1.35")), f"new price at {store.code}", 30)
    assert time.monotonic() - started < DOWN_SECONDS
    for store in stores:
        receipt = store.walk_in("1", [{"code": 4711}])
        assert price(receipt["rows"][0]["price"]) == Decimal("1.35")

    started = time.monotonic()
    status, _ = centre.try_call("DELETE", f"/api/products/{pid}")
    assert status in (200, 204)
    for store in stores:
        wait_until(shown(store, None), f"product gone at {store.code}", 30)
    assert time.monotonic() - started < DOWN_SECONDS
    for store in stores:
        station = store.stations["1"]
        status, refused = store.try_call(
            "POST",
            f"/api/stations/{station['id']}/receipts",
            store.walk_in_body([{"code": 4711}]),
            key=station["key"],
        )
        assert status == 400, refused
    wait_synced(chain)
    assert_converged(chain)


# --- 2. an invoice posted at the centre for a store ---


def test_2_an_invoice_posted_at_the_centre_with_a_store_bound_key_is_completed_at_that_store(
    chain: Chain,
) -> None:
    centre = chain.centre
    riga1, riga2 = chain.stores["RIGA1"], chain.stores["RIGA2"]
    riga1.open_station("1")
    riga2.open_station("1")
    integrator = centre.integrator_key("RIGA1")
    body = {
        "comment": "pasūtījums 17",
        "rows": [{"text": "Kafija", "quantity": 2, "price": "2.10"}],
    }
    posted = centre.call("POST", "/api/invoice/new", body, key=integrator)
    common_id = posted["id"]

    def delivered() -> dict[str, Any] | None:
        return next((i for i in riga1.feed("1") if i.get("common_id") == common_id), None)

    local = wait_until(delivered, "the centre's invoice in RIGA1's station feed", 30)
    assert local["comment"] == "pasūtījums 17"
    done = riga1.complete("1", local["id"])
    assert done["status"] == 30

    def done_at_centre() -> dict[str, Any] | None:
        invoice = centre.call("GET", f"/api/invoice/{common_id}", key=integrator)
        return invoice if invoice["status"] == 30 and invoice["receipts"] else None

    shown = wait_until(done_at_centre, "the invoice Done at the centre, with its receipt", 30)
    receipt = done["receipts"][0]
    assert [r["document_id"] for r in shown["receipts"]] == [receipt["document_id"]]
    wait_synced(chain)
    copy = riga1.call("GET", f"/api/invoice/{local['id']}")
    assert copy["common_id"] == common_id
    assert copy["synchronized_at"] is not None
    assert copy["synchronized_at"] >= copy["printed_at"]
    # The other store never got it.
    assert not riga2.query("SELECT id FROM invoices WHERE common_id = ?", (common_id,))
    # Delivered: the centre can no longer cancel it.
    status, refused = centre.try_call("POST", f"/api/invoice/{common_id}/cancel", key=integrator)
    assert status == 409, refused
    assert "RIGA1" in json.dumps(refused)
    assert_converged(chain)


# --- 3. a dropped acknowledgement ---


def test_3_a_dropped_acknowledgement_and_its_retry_leave_one_record_with_one_common_id(
    chain: Chain,
) -> None:
    centre = chain.centre
    store = chain.stores["RIGA1"]
    store.open_station("1")
    wait_synced(chain)
    for fault in (Fault.DROP_ANSWER, Fault.DUPLICATE, Fault.REORDER):
        pushes = store.proxy.forwarded["/api/sync/push"]
        store.proxy.inject(fault, path_prefix="/api/sync/push")
        invoice = store.post_invoice(f"{fault}")
        done = store.complete("1", invoice["id"])
        document_id = done["receipts"][0]["document_id"]

        def acked(doc: str = document_id) -> list[tuple[Any, ...]]:
            return store.query(
                "SELECT r.id, r.common_id FROM receipts r WHERE r.document_id = ?"
                " AND r.common_id IS NOT NULL",
                (doc,),
            )

        [(local_id, common_id)] = wait_until(acked, f"the receipt acknowledged after {fault}", 30)
        assert store.proxy.count(fault) >= 1
        if fault is not Fault.REORDER:
            # The request reached the centre more than once.
            assert store.proxy.forwarded["/api/sync/push"] - pushes >= 2
        at_centre = centre.query(
            "SELECT r.id FROM receipts r JOIN stations st ON st.id = r.station_id"
            " JOIN stores so ON so.id = st.store_id"
            " WHERE so.code = 'RIGA1' AND st.pos_id = '1' AND r.document_id = %s",
            (document_id,),
        )
        assert at_centre == [(common_id,)]
        ingested = centre.query(
            "SELECT i.common_id FROM sync_ingest i JOIN stores so ON so.id = i.store_id"
            " WHERE so.code = 'RIGA1' AND i.kind = 'receipt' AND i.local_id = %s",
            (str(local_id),),
        )
        assert ingested == [(common_id,)]
        sql = "SELECT common_id FROM invoices WHERE id = ? AND common_id IS NOT NULL"
        [(invoice_common_id,)] = wait_until(
            partial(store.query, sql, (invoice["id"],)), "the invoice acknowledged", 30
        )
        assert centre.query("SELECT id FROM invoices WHERE comment = %s", (f"{fault}",)) == [
            (invoice_common_id,)
        ]
    wait_synced(chain)
    assert_converged(chain)


# --- 4. the centre down across two Z closes ---


@pytest.mark.parametrize("chain", [{"RIGA1": skewed_clock(SKEW_SECONDS)}], indirect=True)
def test_4_the_centre_down_across_two_z_closes_then_everything_arrives_in_order_and_reconciles(
    chain: Chain,
) -> None:
    centre = chain.centre
    store = chain.stores["RIGA1"]
    other = chain.stores["RIGA2"]
    store.open_station("1")
    store.open_station("2")
    other.open_station("1")
    store.walk_in("1")
    wait_synced(chain)
    centre.server.stop()
    other.walk_in("1")
    other.close_shift("1")
    for _ in range(2):  # two shifts, each closed with a Z while the centre is away
        for pos_id in ("1", "2"):
            for _ in range(3):
                store.walk_in(pos_id)
            store.complete(pos_id, store.post_invoice("offline")["id"])
            store.close_shift(pos_id)
            store.open_shift(pos_id)
    store.walk_in("1")

    def offline() -> dict[str, Any] | None:
        status = sync_status(store)
        return status if status.get("offline") else None

    status = wait_until(offline, "the store to say it is offline", 30)
    assert status["waiting"] >= 20, status
    assert sum(lane["waiting"] for lane in status["lanes"]) == status["waiting"], status
    assert store.outbox()["pending"] >= 20

    centre.server.start()
    wait_synced(chain, DRAIN_SECONDS)
    status = sync_status(store)
    assert not status["offline"], status
    # The skew is seen and reported (centre minus store: two hours behind), nothing more.
    assert status["skew_seconds"] == pytest.approx(-SKEW_SECONDS, abs=60), status
    assert_converged(chain)
    # In order: per station, the centre took the receipts and shifts in their numbers' order.
    for pos_id in ("1", "2"):
        arrived = centre.query(
            "SELECT r.document_id FROM receipts r JOIN stations st ON st.id = r.station_id"
            " JOIN stores so ON so.id = st.store_id WHERE so.code = 'RIGA1' AND st.pos_id = %s"
            " ORDER BY r.id",
            (pos_id,),
        )
        numbers = [int(d) for (d,) in arrived]
        assert numbers == list(range(1, len(numbers) + 1)), numbers
    shifts = centre.shifts("RIGA1")
    closed = [(p, z, reconciled, note) for p, z, c, reconciled, note in shifts if c]
    assert len(closed) == 4, shifts  # two Z closes at each of two stations
    assert all(reconciled for _, _, reconciled, _ in closed), closed
    # The centre's lists, by store: its own ids, the store's ids beside them.
    listed = centre.call("GET", "/api/shifts?store=RIGA1")
    ids = centre.query(
        "SELECT sh.id, sh.local_id FROM shifts sh JOIN stations st ON st.id = sh.station_id"
        " JOIN stores so ON so.id = st.store_id WHERE so.code = 'RIGA1'"
    )
    assert sorted((s["id"], s["local_id"]) for s in listed) == sorted(ids), listed
    [riga1] = [s for s in centre.call("GET", "/api/stores") if s["code"] == "RIGA1"]
    assert riga1["shifts_unreconciled"] == 0, riga1
    assert riga1["conflicts_open"] == 0, riga1


# --- 5. kill -9 of a store and of the centre during a sync under load ---


def test_5_kill_9_of_stores_and_centre_during_sync_under_load_loses_and_doubles_nothing(
    chain: Chain,
) -> None:
    seed = chain.seed
    print(f"kill -9 rounds: MINIPOS_CHAIN_SEED={seed} rounds={ROUNDS}")
    rng = random.Random(seed)
    for store in chain.stores.values():
        store.open_station("1")
        store.open_station("2")
    loads = [Load(store) for store in chain.stores.values()]
    for load in loads:
        load.__enter__()
    try:
        for round_no in range(ROUNDS):
            time.sleep(rng.uniform(0.5, 2.5))
            victims = rng.choice([["centre"], ["RIGA1"], ["RIGA2"], ["centre", "RIGA1"]])
            print(f"round {round_no}: kill -9 {victims}")
            servers = [
                chain.centre.server if v == "centre" else chain.stores[v].server for v in victims
            ]
            for server in servers:
                server.kill()
            time.sleep(rng.uniform(0, 1.0))
            for server in servers:
                server.start()
        time.sleep(1.0)
    finally:
        for load in loads:
            load.__exit__(None, None, None)
    print({load.store.code: dict(load.done) for load in loads})
    assert all(load.done["walk-in"] > 0 and load.done["complete"] > 0 for load in loads)
    wait_synced(chain, DRAIN_SECONDS)
    assert_converged(chain)


# --- 6. seeded random proxy faults ---

EVERY_FAULT = (Fault.DROP_ANSWER, Fault.DUPLICATE, Fault.REORDER, Fault.RESET, Fault.DELAY)


def test_6_random_proxy_faults_with_a_printed_seed_reach_the_same_end_state(chain: Chain) -> None:
    seed = chain.seed
    print(f"random faults: MINIPOS_CHAIN_SEED={seed} seconds={FAULT_SECONDS}")
    for n, store in enumerate(chain.stores.values()):
        store.open_station("1")
        store.open_station("2")
        store.proxy.reseed(seed + n)
        # Every fault at least once on a push (injections come first), then a random mix.
        for fault in EVERY_FAULT:
            store.proxy.inject(fault, path_prefix="/api/sync/push")
        store.proxy.set_mode("random")
        print(store.proxy.describe())
    loads = [Load(store) for store in chain.stores.values()]
    for load in loads:
        load.__enter__()
    try:
        time.sleep(FAULT_SECONDS / 2)
        for store in chain.stores.values():  # a partition of a few seconds in the middle
            store.proxy.cut(3.0)
        time.sleep(FAULT_SECONDS / 2)
    finally:
        for load in loads:
            load.__exit__(None, None, None)
    for store in chain.stores.values():
        print(store.code, dict(store.proxy.applied))
        store.proxy.heal()
    for store in chain.stores.values():
        assert store.proxy.pending_injections() == 0, f"{store.code}: too few pushes to fault"
        assert sum(store.proxy.applied.values()) > 2 * len(EVERY_FAULT), store.proxy.applied
    wait_synced(chain, DRAIN_SECONDS)
    assert_converged(chain)


# --- 7. same key, altered body ---


def test_7_the_same_key_with_an_altered_body_is_a_conflict_quarantined_at_the_store(
    chain: Chain,
) -> None:
    centre = chain.centre
    store = chain.stores["RIGA1"]
    store.open_station("1")
    store.open_station("2")
    wait_synced(chain)
    # The centre stores the receipt, its answer is lost, and the link stays down for pushes.
    store.proxy.inject(Fault.DROP_ANSWER, path_prefix="/api/sync/push")
    store.proxy.inject(Fault.RESET, times=1_000_000, path_prefix="/api/sync/push")
    receipt = store.walk_in("1")
    document_id = receipt["document_id"]
    [(local_id,)] = store.query("SELECT id FROM receipts WHERE document_id = ?", (document_id,))
    wait_until(lambda: store.proxy.count(Fault.DROP_ANSWER), "the dropped answer", 30)

    def at_centre() -> list[tuple[Any, ...]]:
        return centre.query(
            "SELECT r.id, r.cashier_name, r.bruto_amount FROM receipts r"
            " JOIN stations st ON st.id = r.station_id JOIN stores so ON so.id = st.store_id"
            " WHERE so.code = 'RIGA1' AND st.pos_id = '1' AND r.document_id = %s",
            (document_id,),
        )

    original = wait_until(at_centre, "the receipt at the centre", 30)
    [(outbox_id, body, old_hash, status)] = store.query(
        "SELECT id, body, hash, status FROM sync_outbox WHERE kind = 'receipt' AND local_id = ?",
        (str(local_id),),
    )
    assert status == "pending"

    # A store restored from a backup would send other bytes under the same key.
    store.server.stop()
    altered = json.loads(body)
    altered["receipt"]["cashier_name"] = "Pārrakstīts"
    altered_bytes = canonical(altered)
    new_hash = content_hash(altered_bytes)
    with sqlite3.connect(store.db_path) as conn:
        conn.execute(
            "UPDATE sync_outbox SET body = ?, hash = ? WHERE id = ?",
            (altered_bytes.decode(), new_hash, outbox_id),
        )
    conn.close()
    store.proxy.heal()
    store.start()

    def quarantined() -> bool:
        [(state,)] = store.query("SELECT status FROM sync_outbox WHERE id = ?", (outbox_id,))
        return bool(state == "quarantined")

    wait_until(quarantined, "the altered item quarantined at the store", 30)
    # The centre's original is unchanged; the offered body is kept as a conflict.
    assert at_centre() == original
    assert centre.query(
        "SELECT i.hash FROM sync_ingest i JOIN stores so ON so.id = i.store_id"
        " WHERE so.code = 'RIGA1' AND i.kind = 'receipt' AND i.local_id = %s",
        (str(local_id),),
    ) == [(old_hash,)]
    conflicts = centre.query(
        "SELECT c.stored_hash, c.offered_hash FROM sync_conflicts c"
        " JOIN stores so ON so.id = c.store_id WHERE c.kind = 'receipt' AND c.local_id = %s",
        (str(local_id),),
    )
    assert conflicts == [(old_hash, new_hash)]
    # An event and a visible alarm at the store.
    events = store.call("GET", "/api/events?limit=1000")
    assert any(e["type"] == "sync.quarantined" for e in events), [e["type"] for e in events]
    status = sync_status(store)
    assert status["quarantined"] == 1, status
    assert [lane["lane"] for lane in status["lanes"] if lane["quarantined"]] == ["1"], status
    at_centre_status = sync_status(centre)
    [riga1] = [s for s in at_centre_status["stores"] if s["code"] == "RIGA1"]
    assert riga1["conflicts"] == 1, at_centre_status
    # Only that station's lane waits: station 2 goes on, station 1's next receipt waits.
    later_1 = store.walk_in("1")["document_id"]
    later_2 = store.walk_in("2")["document_id"]

    def acked_2() -> list[tuple[Any, ...]]:
        return store.query(
            "SELECT r.common_id FROM receipts r JOIN stations st ON st.id = r.station_id"
            " WHERE st.pos_id = '2' AND r.document_id = ? AND r.common_id IS NOT NULL",
            (later_2,),
        )

    wait_until(acked_2, "station 2's receipt acknowledged past the quarantine", 30)
    waiting = store.query(
        "SELECT r.common_id FROM receipts r JOIN stations st ON st.id = r.station_id"
        " WHERE st.pos_id = '1' AND r.document_id = ?",
        (later_1,),
    )
    assert waiting == [(None,)]
