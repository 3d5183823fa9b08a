"""``POST /api/sync/push`` at a centre (docs/stores.md, "The wire protocol"): the items a real
store-mode server wrote to its outbox, pushed byte for byte, are stored once; a replay gets
the same ids; other content under a stored key is a conflict that leaves the original; a
station's receipts are taken only in number order; a bad hash is refused; business-rule
anomalies and a broken chain are stored and flagged; a Z close reconciles its shift."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from chaincentre import (
    WALK_IN,
    altered,
    as_centre,
    outbox,
    push,
    query,
    statuses,
    store_app,
)
from minipos.auth.principal import Role
from minipos.auth.service import create_key
from minipos.bootstrap import create_app
from minipos.cli import app as cli
from minipos.config import Settings
from minipos.db import open_database
from minipos.sync.wire import MAX_PUSH_BYTES
from support import Api, post_invoice, register, verify_database


@pytest.fixture
def centre(settings: Settings, keys: dict[Role, str]) -> Iterator[Api]:
    with TestClient(create_app(as_centre(settings))) as client:
        yield Api(client, keys)


def add_store(centre: Api, code: str = "RIGA1") -> str:
    created = centre.as_(Role.ADMIN).post("/api/stores", json={"code": code, "name": code})
    assert created.status_code == 201, created.text
    key: str = created.json()["key"]
    return key


@pytest.fixture
def shop_items(settings: Settings, sqlite_template: Path, tmp_path: Path) -> list[dict[str, Any]]:
    """A store's day: an invoice posted, claimed and completed, a walk-in sale, a refund, the
    Z close; its outbox items in order."""
    with store_app(settings, sqlite_template, tmp_path, "shop") as shop:
        pos = register(shop, "Kase 1", "01")
        assert pos.open_shift().status_code == 200
        invoice = post_invoice(shop)
        assert pos.claim(invoice["id"]).status_code == 200
        done = pos.complete(invoice["id"], payments=[{"method_id": 1}])
        assert done.status_code == 200, done.text
        sale = pos.post(f"/api/stations/{pos.id}/receipts", {"request_id": "w1", **WALK_IN})
        assert sale.status_code == 201, sale.text
        refund = pos.post(
            f"/api/stations/{pos.id}/receipts",
            {
                "request_id": "w2",
                "mode": 3,
                "parent_document_id": "2",
                "parent_pos_id": "01",
                "rows": [{"text": "Maisiņš", "price": "0.10", "tax": 3, "quantity": 1}],
                "payments": [{"method_id": 1}],
            },
        )
        assert refund.status_code == 201, refund.text
        assert pos.close_shift().status_code == 200
        return outbox(shop.database_url)  # type: ignore[attr-defined]


def kinds(items: list[dict[str, Any]]) -> list[str]:
    return [i["kind"] for i in items]


def test_a_store_day_is_stored_once_and_reconciles(
    centre: Api, shop_items: list[dict[str, Any]], settings: Settings
) -> None:
    assert kinds(shop_items) == [
        "shift.open",
        "invoice",
        "invoice.state",
        "invoice.state",
        "receipt",
        "receipt",
        "receipt",
        "shift.close",
    ]
    key = add_store(centre)
    answer = push(centre.client, key, shop_items, sent_at=1)
    assert statuses(answer) == [201] * len(shop_items)
    results = answer.json()["results"]
    assert all(isinstance(r["common_id"], int) for r in results)
    url = settings.database_url

    [station] = query(url, "SELECT id, pos_id, store_id, last_document_id FROM stations")
    assert (station["pos_id"], station["store_id"], station["last_document_id"]) == ("01", 1, 3)
    [shift] = query(url, "SELECT * FROM shifts")
    assert shift["id"] == results[0]["common_id"] == results[-1]["common_id"]
    assert shift["local_id"] == int(shop_items[0]["local_id"])
    assert shift["reconciled_at"] is not None, shift["reconcile_note"]
    assert shift["reconcile_note"] is None
    [invoice] = query(url, "SELECT id, status, store_id, common_id, check_num FROM invoices")
    assert invoice["id"] == invoice["common_id"] == results[1]["common_id"]
    assert (invoice["status"], invoice["store_id"]) == (30, 1)
    assert invoice["check_num"] is not None
    # Its rows and payments are the store's, each once (the wire carries thousandths and cents).
    sent = json.loads(shop_items[1]["body"])
    kept = centre.as_(Role.ADMIN).get(f"/api/invoice/{invoice['id']}").json()
    assert [
        (r["text"], Decimal(str(r["quantity"])), Decimal(str(r["price"]))) for r in kept["rows"]
    ] == [
        (r["text"], Decimal(r["quantity"]) / 1000, Decimal(r["price"]) / 100) for r in sent["rows"]
    ]
    assert [Decimal(str(p["amount"])) for p in kept["payments"]] == [
        Decimal(p["amount"]) / 100 for p in sent["payments"]
    ]
    receipts = query(url, "SELECT id, invoice_id, flags, common_id FROM receipts ORDER BY id")
    assert [r["id"] for r in receipts] == [r["common_id"] for r in results[4:7]]
    assert receipts[0]["invoice_id"] == invoice["id"]
    assert all(r["flags"] is None for r in receipts), receipts
    assert all(r["common_id"] == r["id"] for r in receipts)

    # The centre's lists show it, and its audit recomputes the store's chain and Z.
    [listed_shift] = centre.as_(Role.ADMIN).get("/api/shifts", params={"store": "RIGA1"}).json()
    assert listed_shift["local_id"] == int(shop_items[0]["local_id"])
    assert listed_shift["common_shift"] == listed_shift["id"] == shift["id"]
    assert listed_shift["store"] == "RIGA1"
    assert listed_shift["reconciled_at"] is not None
    assert "reconcile_note" not in listed_shift
    listed = centre.as_(Role.ADMIN).get("/api/receipts", params={"store": "RIGA1"}).json()
    assert [r["document_id"] for r in listed] == ["1", "2", "3"]
    # Its reports read the hourly sums the ingest added to, and they equal the receipts read.
    summed = report(centre, group_by="store")
    assert summed["source"] == "aggregates"
    assert [g["key"] for g in summed["groups"]] == ["RIGA1"]
    read = report(centre, group_by="employee")
    assert read["source"] == "receipts"
    assert summed["total"] == read["total"]
    assert summed["total"]["count"] + summed["total"]["refund_count"] == len(listed)
    assert verify_database(url) == []
    [status] = centre.as_(Role.ADMIN).get("/api/stores").json()
    assert (status["items_received"], status["conflicts_open"]) == (len(shop_items), 0)
    assert status["shifts_unreconciled"] == 0
    assert status["last_contact_at"] is not None
    assert status["last_skew_ms"] > 0

    # The centre's event log (and so its webhooks) tells of the store's facts, in order.
    told = centre.as_(Role.ADMIN).get("/api/events").json()
    assert [e["type"] for e in told] == [
        "shift.opened",
        "invoice.created",
        "invoice.opened",
        "invoice.done",
        "receipt.created",
        "receipt.created",
        "refund.created",
        "shift.closed",
    ]
    assert told[3]["data"]["receipts"][0]["document_id"] == "1"
    assert told[-1]["data"]["report"]["receipts"] == 3

    # The same push again (its answer was lost): every item replays its stored id.
    again = push(centre.client, key, shop_items)
    assert statuses(again) == [200] * len(shop_items)
    assert [r["common_id"] for r in again.json()["results"]] == [r["common_id"] for r in results]
    assert len(query(url, "SELECT id FROM receipts")) == 3
    assert len(query(url, "SELECT id FROM invoices")) == 1


def test_other_content_under_a_stored_key_is_a_conflict_and_the_original_stays(
    centre: Api,
    shop_items: list[dict[str, Any]],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = add_store(centre)
    assert statuses(push(centre.client, key, shop_items[:5])) == [201] * 5
    url = settings.database_url
    before = query(url, "SELECT * FROM receipts")

    receipt = shop_items[4]
    other = altered(receipt, lambda b: b["receipt"].update(cashier_name="Mallory"))
    answer = push(centre.client, key, [other, *shop_items[5:]])
    assert statuses(answer) == [409, 201, 201, 201]
    first = answer.json()["results"][0]
    assert "other content" in first["error"]
    assert query(url, "SELECT * FROM receipts WHERE id <= :n", {"n": before[-1]["id"]}) == before

    [conflict] = query(url, "SELECT * FROM sync_conflicts")
    assert (conflict["kind"], conflict["local_id"]) == ("receipt", receipt["local_id"])
    assert (conflict["stored_hash"], conflict["offered_hash"]) == (receipt["hash"], other["hash"])
    assert conflict["offered_body"] == other["body"]
    [event] = centre.as_(Role.ADMIN).get("/api/events", params={"type": "sync.conflict"}).json()
    assert event["data"]["local_id"] == receipt["local_id"]
    assert event["data"]["store"] == "RIGA1"
    [status] = centre.as_(Role.ADMIN).get("/api/stores").json()
    assert status["conflicts_open"] == 1
    assert "409" in status["last_error"]

    # The same offer again (a resent request): the same answer, recorded and told once.
    assert statuses(push(centre.client, key, [other])) == [409]
    assert len(query(url, "SELECT id FROM sync_conflicts")) == 1

    # An operator reads it and, once settled, marks it resolved.
    monkeypatch.setenv("MINIPOS_DATABASE_URL", url)
    monkeypatch.setenv("MINIPOS_SECRET_KEY", settings.secret_key)
    runner = CliRunner()
    listed = runner.invoke(cli, ["store", "conflicts", "--code", "RIGA1"])
    assert listed.exit_code == 0, listed.output
    [shown] = json.loads(listed.stdout)
    assert (shown["local_id"], shown["resolved_at"]) == (receipt["local_id"], None)
    resolved = runner.invoke(
        cli, ["store", "conflicts", "--code", "RIGA1", "--resolve", str(shown["id"])]
    )
    assert resolved.exit_code == 0, resolved.output
    again = runner.invoke(
        cli, ["store", "conflicts", "--code", "RIGA1", "--resolve", str(shown["id"])]
    )
    assert again.exit_code == 1
    [status] = centre.as_(Role.ADMIN).get("/api/stores").json()
    assert status["conflicts_open"] == 0


def test_a_gap_holds_its_lane_only_and_stores_nothing(
    centre: Api, shop_items: list[dict[str, Any]], settings: Settings
) -> None:
    key = add_store(centre)
    shift_open, invoice, claimed, done, first, second, refund, close = shop_items
    # Receipt 1 missing: 2, 3 and the Z wait (425); the invoice lane goes on.
    answer = push(centre.client, key, [shift_open, second, invoice, refund, close, claimed])
    assert statuses(answer) == [201, 425, 201, 425, 425, 201]
    gap = answer.json()["results"][1]["error"]
    assert "document_id 2" in gap
    assert "1 must come first" in gap
    url = settings.database_url
    assert query(url, "SELECT id FROM receipts") == []
    assert query(url, "SELECT last_document_id FROM stations") == [{"last_document_id": 0}]

    # Sent again in order, everything arrives and the shift reconciles.
    answer = push(centre.client, key, [done, first, second, refund, close])
    assert statuses(answer) == [201] * 5
    [shift] = query(url, "SELECT reconciled_at, reconcile_note FROM shifts")
    assert shift["reconciled_at"] is not None, shift["reconcile_note"]
    assert verify_database(url) == []


def test_a_body_that_does_not_match_its_hash_is_refused(
    centre: Api, shop_items: list[dict[str, Any]], settings: Settings
) -> None:
    key = add_store(centre)
    shift_open, invoice, *_ = shop_items
    corrupt = {**invoice, "body": invoice["body"].replace("Kafija", "Kafijs")}
    bad_open = {**shift_open, "hash": "0" * 64}
    answer = push(centre.client, key, [bad_open, corrupt, shop_items[4]])
    assert statuses(answer) == [422, 422, 425]  # the receipt waits behind its lane's refusal
    assert "hash" in answer.json()["results"][0]["error"]
    url = settings.database_url
    assert query(url, "SELECT id FROM invoices") == []
    assert query(url, "SELECT id FROM sync_ingest") == []
    # Then sent intact: stored.
    assert statuses(push(centre.client, key, [shift_open, invoice])) == [201, 201]


def test_malformed_items_are_422_naming_what_is_wrong(
    centre: Api, shop_items: list[dict[str, Any]]
) -> None:
    key = add_store(centre)
    invoice = shop_items[1]
    unknown_kind = {**invoice, "kind": "coupon"}
    missing = altered(invoice, lambda b: b["invoice"].pop("invoice_no"))
    too_long = altered(invoice, lambda b: b["invoice"].update(invoice_no="x" * 65))
    answer = push(centre.client, key, [unknown_kind, missing, too_long])
    assert statuses(answer) == [422, 422, 422]
    errors = [r["error"] for r in answer.json()["results"]]
    assert "kind" in errors[0]
    assert "invoice_no" in errors[1]
    assert "invoice_no" in errors[2]
    # Money past the limits no store issues (docs/security.md) is malformed, not a fact.
    shift_open, _, _, _, first, *_ = shop_items
    huge = altered(first, lambda b: b["receipt"].update(bruto_amount=10**18))
    answer = push(centre.client, key, [shift_open, huge])
    assert statuses(answer) == [201, 422]
    assert "bruto_amount" in answer.json()["results"][1]["error"]
    # The envelope itself is checked as any request body: a 400 naming the field.
    bad = centre.client.post(
        "/api/sync/push",
        json={"sent_at": "yesterday", "items": []},
        headers={"Authorization": f"Token {key}"},
    )
    assert bad.status_code == 400
    assert "sent_at" in bad.json()


def test_an_unknown_product_and_a_broken_chain_are_stored_and_flagged(
    centre: Api, shop_items: list[dict[str, Any]], settings: Settings
) -> None:
    key = add_store(centre)
    shift_open, invoice, claimed, done, first, second, refund, close = shop_items
    # A product the centre never had (its copy of the catalogue changed since): kept.
    unknown = altered(first, lambda b: b["rows"][0].update(product_id=987654), rechain=True)
    # Receipt 2 altered after it was hashed: the chain breaks; evidence, kept.
    broken = altered(second, lambda b: b["receipt"].update(cashier_name="Mallory"))
    answer = push(centre.client, key, [shift_open, invoice, claimed, done, unknown, broken])
    assert statuses(answer) == [201] * 6
    url = settings.database_url
    flags = [r["flags"] for r in query(url, "SELECT flags FROM receipts ORDER BY id")]
    assert json.loads(flags[0]) == ["unknown_product"]
    assert json.loads(flags[1]) == ["chain_broken"]
    # The mark moved on; receipt 3 follows receipt 2 as the store hashed it, so it is clean.
    assert statuses(push(centre.client, key, [refund, close])) == [201, 201]
    flags = [r["flags"] for r in query(url, "SELECT flags FROM receipts ORDER BY id")]
    assert flags[2] is None
    # The shift does not reconcile while a receipt's chain is broken, and says why.
    [shift] = query(url, "SELECT reconciled_at, reconcile_note FROM shifts")
    assert shift["reconciled_at"] is None
    assert "broken chain" in shift["reconcile_note"]
    # Receipt 1 was re-hashed with its other product, so receipt 2 does not follow it either.
    assert verify_database(url) == [
        "station 1 (RIGA1 Kase 1) receipt 2: does not follow the previous receipt (chain broken)",
        "station 1 (RIGA1 Kase 1) receipt 2: content does not match its hash (altered)",
    ]
    [status] = centre.as_(Role.ADMIN).get("/api/stores").json()
    assert (status["receipts_flagged"], status["shifts_unreconciled"]) == (2, 1)


def test_a_z_that_does_not_match_what_arrived_is_closed_with_a_note(
    centre: Api, shop_items: list[dict[str, Any]], settings: Settings
) -> None:
    key = add_store(centre)
    *before, close = shop_items

    def inflate(body: dict[str, Any]) -> None:
        body["receipt_count"] = 4
        report = json.loads(body["report"])
        report["sales"] = "999.00"
        body["report"] = json.dumps(report, sort_keys=True)

    answer = push(centre.client, key, [*before, altered(close, inflate)])
    assert statuses(answer) == [201] * len(shop_items)
    [shift] = query(settings.database_url, "SELECT * FROM shifts")
    assert shift["close_date"] is not None
    assert shift["reconciled_at"] is None
    note = shift["reconcile_note"]
    assert "receipt count: Z 4, centre 3" in note
    [listed] = centre.as_(Role.ADMIN).get("/api/shifts", params={"store": "RIGA1"}).json()
    assert (listed["reconcile_note"], "reconciled_at" in listed) == (note, False)
    assert "sales" in note
    assert "Z hash" in note


def test_a_receipt_number_taken_under_another_key_is_a_conflict(
    centre: Api, shop_items: list[dict[str, Any]], settings: Settings
) -> None:
    # A store restored from a backup issues receipt 1 again under a new local id.
    key = add_store(centre)
    shift_open, invoice, claimed, done, first, *_ = shop_items
    assert (
        statuses(push(centre.client, key, [shift_open, invoice, claimed, done, first])) == [201] * 5
    )
    reissued = {**first, "local_id": "9999"}
    answer = push(centre.client, key, [reissued])
    assert statuses(answer) == [409]
    assert "already has this number" in answer.json()["results"][0]["error"]
    assert len(query(settings.database_url, "SELECT id FROM sync_conflicts")) == 1


def test_two_stores_keep_their_own_pos_1_and_the_lists_filter_by_store(
    centre: Api, shop_items: list[dict[str, Any]], settings: Settings
) -> None:
    riga, tallinn = add_store(centre, "RIGA1"), add_store(centre, "TLN-2")
    assert statuses(push(centre.client, riga, shop_items)) == [201] * len(shop_items)
    assert statuses(push(centre.client, tallinn, shop_items)) == [201] * len(shop_items)
    admin = centre.as_(Role.ADMIN)
    for path in ("/api/receipts", "/api/shifts"):
        every = admin.get(path)
        riga_only = admin.get(path, params={"store": "RIGA1"})
        assert int(riga_only.headers["X-Total-Count"]) * 2 == int(every.headers["X-Total-Count"])
        assert len(riga_only.json()) * 2 == len(every.json())
        unknown = admin.get(path, params={"store": "NOPE"})
        assert unknown.status_code == 400
        assert "store" in unknown.json()
    stations = query(settings.database_url, "SELECT store_id, pos_id FROM stations ORDER BY id")
    assert stations == [{"store_id": 1, "pos_id": "01"}, {"store_id": 2, "pos_id": "01"}]
    assert verify_database(settings.database_url) == []


def test_who_may_push(centre: Api, keys: dict[Role, str], shop_items: list[dict[str, Any]]) -> None:
    add_store(centre)
    for role in (Role.ADMIN, Role.INTEGRATOR, Role.STATION):
        assert push(centre.client, keys[role], shop_items[:1]).status_code == 403
    # A store-role key bound to no store (made outside the registry) is refused too.
    assert push(centre.client, keys[Role.STORE], shop_items[:1]).status_code == 403
    assert push(centre.client, "mpk_nope_nope", shop_items[:1]).status_code == 401


def test_a_push_has_its_own_body_limit(
    settings: Settings, keys: dict[Role, str], shop_items: list[dict[str, Any]]
) -> None:
    small = msgspec.structs.replace(as_centre(settings), max_body_bytes=2048)
    with TestClient(create_app(small)) as client:
        centre = Api(client, keys)
        key = add_store(centre)
        # Larger than MINIPOS_MAX_BODY_BYTES, well under the push limit: taken.
        answer = push(client, key, shop_items)
        assert len(answer.request.content) > 2048
        assert statuses(answer) == [201] * len(shop_items)
        # Other routes keep theirs.
        big = centre.as_(Role.ADMIN).post("/api/stores", json={"code": "X", "name": "n" * 4096})
        assert big.status_code == 413
        huge = client.post(
            "/api/sync/push",
            content=b" " * (MAX_PUSH_BYTES + 1),
            headers={"Authorization": f"Token {key}", "Content-Type": "application/json"},
        )
        assert huge.status_code == 413


def test_push_is_for_a_centre_only(
    settings: Settings, keys: dict[Role, str], shop_items: list[dict[str, Any]]
) -> None:
    with TestClient(create_app(settings)) as client:  # standalone
        db = open_database(settings.database_url)
        try:
            key = db.run(
                lambda conn: create_key(
                    conn, settings.secret_key.encode(), Role.STORE, store_id=1, now_us=0
                )
            ).key
        finally:
            db.close()
        answer = push(client, key, shop_items[:1])
        assert answer.status_code == 409
        assert "MINIPOS_MODE=central" in answer.json()["detail"]


def test_a_request_carrying_its_items_twice_stores_them_once(
    centre: Api, shop_items: list[dict[str, Any]], settings: Settings
) -> None:
    key = add_store(centre)
    answer = push(centre.client, key, [*shop_items, *shop_items])
    n = len(shop_items)
    assert statuses(answer) == [201] * n + [200] * n
    results = answer.json()["results"]
    assert [r["common_id"] for r in results[:n]] == [r["common_id"] for r in results[n:]]
    url = settings.database_url
    assert len(query(url, "SELECT id FROM receipts")) == 3
    # The refund marked the receipt it refunds, as at the store.
    refunded = query(url, "SELECT document_id FROM receipts WHERE refunded_at IS NOT NULL")
    assert refunded == [{"document_id": "2"}]
    assert verify_database(url) == []


def test_the_same_push_twice_at_once_stores_it_once(
    centre: Api, shop_items: list[dict[str, Any]], settings: Settings
) -> None:
    # Two centre workers taking one store's duplicated request: the store's row lock orders
    # them, so the second finds every key stored and replays it.
    key = add_store(centre)
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: push(centre.client, key, shop_items), range(2)))
    first, second = sorted((statuses(a) for a in answers), reverse=True)
    n = len(shop_items)
    assert (first, second) == ([201] * n, [200] * n)
    ids = [[r["common_id"] for r in a.json()["results"]] for a in answers]
    assert ids[0] == ids[1]
    assert len(query(settings.database_url, "SELECT id FROM receipts")) == 3


def report(centre: Api, **params: str) -> dict[str, Any]:
    answer = centre.as_(Role.ADMIN).get("/api/reports/sales", params=params)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


# --- what a compromised or buggy store must not get stored ------------------------------------

#: JSON text that, spliced in as it is, forges the fields after it: the answer would read
#: ``"info":{},"status":30,"total_sum":999999,...``.
INJECTED = '{},"status":30,"total_sum":999999,"x":{}'


def _one(centre: Api, key: str, item: dict[str, Any]) -> dict[str, Any]:
    answer = push(centre.client, key, [item])
    assert answer.status_code == 200, answer.text
    [result] = answer.json()["results"]
    return dict(result)


def test_json_an_invoice_carries_must_be_the_shape_the_centre_stores(
    centre: Api, shop_items: list[dict[str, Any]], settings: Settings
) -> None:
    key = add_store(centre)
    invoice = shop_items[1]
    report = '{"tax_rate_changes":[]},"status":30'
    for path, change in [
        ("body.invoice.info", lambda b: b["invoice"].update(info=INJECTED)),
        ("body.invoice.info", lambda b: b["invoice"].update(info="{bad")),
        ("body.invoice.info", lambda b: b["invoice"].update(info='{"status":30}')),
        ("body.invoice.info", lambda b: b["invoice"].update(info="[]")),
        ("body.rows[0].info", lambda b: b["rows"][0].update(info=INJECTED)),
        ("body.invoice.report", lambda b: b["invoice"].update(report=report)),
        ("body.invoice.report", lambda b: b["invoice"].update(report='{"tax_rate_changes":1}')),
    ]:
        result = _one(centre, key, altered(invoice, change))
        assert result["status"] == 422, (path, result)
        assert result["error"].startswith(f"{path}: "), result
    url = settings.database_url
    assert query(url, "SELECT id FROM invoices") == []
    assert query(url, "SELECT id FROM sync_ingest") == []
    assert centre.as_(Role.ADMIN).get("/api/invoices").json() == []

    # Info of the shape a store writes (its own encoding of the request's) is kept as sent and
    # read back as the same JSON, in the detail and in the event log.
    info = (
        '{"header":[{"kind":"text","content":"Sveiki"}],"slip":[{"kind":"text",'
        '"content":"Paldies"}],"customer":{"email":"anna@example.lv"}}'
    )
    row_info = '{"blocks":[{"kind":"text","content":"Akcija"}]}'
    report = '{"tax_rate_changes":[{"row":7,"tax":1,"posted_rate":21,"applied_rate":12.5}]}'

    def valid(body: dict[str, Any]) -> None:
        body["invoice"].update(info=info, report=report)
        body["rows"][0].update(info=row_info)

    result = _one(centre, key, altered(invoice, valid))
    assert result["status"] == 201, result
    [kept] = query(url, "SELECT info, report FROM invoices")
    assert (kept["info"], kept["report"]) == (info, report)
    assert [r["info"] for r in query(url, "SELECT info FROM invoice_rows")] == [row_info]
    detail = centre.as_(Role.ADMIN).get(f"/api/invoice/{result['common_id']}")
    assert detail.status_code == 200
    assert f'"info":{info}' in detail.text
    assert detail.json()["info"] == json.loads(info)
    assert detail.json()["rows"][0]["info"] == json.loads(row_info)
    assert detail.json()["report"] == json.loads(report)
    [told] = centre.as_(Role.ADMIN).get("/api/events").json()
    assert told["data"]["info"] == json.loads(info)


def test_values_outside_the_centres_enumerations_are_422(
    centre: Api, shop_items: list[dict[str, Any]], settings: Settings
) -> None:
    key = add_store(centre)
    shift_open, invoice, state, *_ = shop_items
    assert statuses(push(centre.client, key, [shift_open, invoice])) == [201, 201]
    for field, change in [
        ("status", lambda b: b.update(status=99)),
        ("status", lambda b: b.update(status="30")),
    ]:
        result = _one(centre, key, altered(state, change))
        assert result["status"] == 422, result
        assert f"$.{field}" in result["error"], result
    for field, change in [
        ("invoice.mode", lambda b: b["invoice"].update(mode=9)),
        ("invoice.discount_type", lambda b: b["invoice"].update(discount_type="bogus")),
        ("rows[0].discount_type", lambda b: b["rows"][0].update(discount_type="bogus")),
    ]:
        other = altered({**invoice, "local_id": "999"}, change)
        result = _one(centre, key, other)
        assert result["status"] == 422, result
        assert f"$.{field}" in result["error"], result
    # Every read of the centre's invoices decodes the status: it still answers.
    listed = centre.as_(Role.ADMIN).get("/api/invoices")
    assert listed.status_code == 200, listed.text
    assert [i["status"] for i in listed.json()] == [10]

    first = shop_items[4]
    for field, change in [
        ("receipt.mode", lambda b: b["receipt"].update(mode=99)),
        ("receipt.state", lambda b: b["receipt"].update(state=77)),
        ("receipt.discount_type", lambda b: b["receipt"].update(discount_type="bogus")),
        ("rows[0].discount_type", lambda b: b["rows"][0].update(discount_type="bogus")),
    ]:
        result = _one(centre, key, altered(first, change, rechain=True))
        assert result["status"] == 422, result
        assert f"$.{field}" in result["error"], result
    assert query(settings.database_url, "SELECT id FROM receipts") == []
    assert _one(centre, key, first)["status"] == 201


def test_a_local_id_of_other_digits_is_422(
    centre: Api, shop_items: list[dict[str, Any]], settings: Settings
) -> None:
    key = add_store(centre)
    shift_open = shop_items[0]
    for local_id in ("²", "١", "1" * 19):
        result = _one(centre, key, {**shift_open, "local_id": local_id})
        assert result["status"] == 422, result
        assert "local_id" in result["error"]
    assert query(settings.database_url, "SELECT id FROM shifts") == []
    assert _one(centre, key, shift_open)["status"] == 201


def test_a_tax_group_or_method_the_centre_does_not_have_is_stored_and_flagged(
    centre: Api, shop_items: list[dict[str, Any]], settings: Settings
) -> None:
    key = add_store(centre)
    shift_open, _, _, _, first, *_ = shop_items

    def unknown(body: dict[str, Any]) -> None:
        body["rows"][0]["tax"] = 999
        body["payments"][0]["method"] = 999

    answer = push(centre.client, key, [shift_open, altered(first, unknown, rechain=True)])
    assert statuses(answer) == [201, 201]
    [receipt] = query(settings.database_url, "SELECT flags FROM receipts")
    # (Its invoice was not pushed here: unknown too.)
    flags = ["unknown_invoice", "unknown_tax", "unknown_payment_method"]
    assert json.loads(receipt["flags"]) == flags
