"""A store's outbox (docs/stores.md, "The outbox"): every change a store makes leaves exactly
its items, written in the change's own transaction; a refused change leaves none; a
standalone server writes none. Also the database's remembered mode and the sync status."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

import chaincentre
from minipos.auth.principal import Role
from minipos.bootstrap import StartError, check_start, create_app
from minipos.cli import app as cli_app
from minipos.config import Settings
from minipos.db import open_database
from minipos.domain.sync import content_hash
from support import Api, post_invoice, register

#: Nothing listens here: the store's worker keeps failing to connect, so nothing is acked.
NO_CENTRE = "http://127.0.0.1:9"


def as_store(settings: Settings) -> Settings:
    return msgspec.structs.replace(
        settings, mode="store", central_url=NO_CENTRE, central_key="store-key"
    )


@pytest.fixture
def store(settings: Settings, keys: dict[Role, str]) -> Iterator[Api]:
    with TestClient(create_app(as_store(settings))) as client:
        yield Api(client, keys)


def outbox(url: str, after: int = 0) -> list[dict[str, Any]]:
    """The store's items with their bodies decoded (``raw``: the bytes as pushed)."""
    return [
        {**item, "body": json.loads(item["body"]), "raw": item["body"]}
        for item in chaincentre.outbox(url, after)
    ]


def last_id(url: str) -> int:
    rows = outbox(url)
    return rows[-1]["id"] if rows else 0


def kinds(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(r["kind"], r["lane"]) for r in rows]


WALK_IN = {
    "rows": [{"text": "Maisiņš", "price": "0.10", "tax": 3, "quantity": 2}],
    "payments": [{"method_id": 1}],
}


def test_each_flow_leaves_exactly_its_items(store: Api, settings: Settings) -> None:
    url = settings.database_url
    pos = register(store, "Kase 1", "01")
    assert outbox(url) == []  # registering a station is not a fact the centre needs

    invoice = post_invoice(store)
    [item] = outbox(url)
    assert (item["kind"], item["local_id"], item["lane"]) == ("invoice", str(invoice["id"]), "-")
    assert item["body"]["invoice"]["invoice_no"] == invoice["invoice_no"]
    assert item["body"]["rows"][0]["text"] == "Kafija"
    # The hash is of the bytes stored, the bytes every retry sends.
    assert item["hash"] == content_hash(item["raw"].encode())
    assert item["status"] == "pending"
    mark = item["id"]

    assert pos.open_shift().status_code == 200
    [opened] = outbox(url, mark)
    assert (opened["kind"], opened["lane"], opened["body"]["z_number"]) == ("shift.open", "01", 1)
    mark = opened["id"]

    assert pos.claim(invoice["id"]).status_code == 200
    [claimed] = outbox(url, mark)
    assert (claimed["kind"], claimed["lane"]) == ("invoice.state", "-")
    assert claimed["local_id"] == str(claimed["id"])  # keyed by its own row id
    assert (claimed["body"]["status"], claimed["body"]["invoice_local_id"]) == (
        20,
        str(invoice["id"]),
    )
    mark = claimed["id"]

    done = pos.complete(invoice["id"], payments=[{"method_id": 1}])
    assert done.status_code == 200, done.text
    state, receipt = outbox(url, mark)
    assert (state["kind"], state["body"]["status"]) == ("invoice.state", 30)
    assert (receipt["kind"], receipt["lane"]) == ("receipt", "01")
    [sold] = done.json()["receipts"]
    assert receipt["local_id"] == str(sold["id"])
    assert receipt["body"]["receipt"]["document_id"] == "1"
    assert receipt["body"]["invoice_local_id"] == str(invoice["id"])
    assert receipt["body"]["receipt"]["hash"]  # the chain travels
    mark = receipt["id"]

    # A retried complete answers the same receipt and writes nothing new.
    again = pos.complete(invoice["id"], payments=[{"method_id": 1}])
    assert again.status_code == 200
    assert outbox(url, mark) == []

    walk_in = pos.post(f"/api/stations/{pos.id}/receipts", {"request_id": "w1", **WALK_IN})
    assert walk_in.status_code == 201, walk_in.text
    [sale] = outbox(url, mark)
    assert (sale["kind"], sale["lane"], sale["body"]["receipt"]["document_id"]) == (
        "receipt",
        "01",
        "2",
    )
    assert sale["body"]["invoice_local_id"] is None
    mark = sale["id"]

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
    [refunded] = outbox(url, mark)
    assert (refunded["kind"], refunded["body"]["receipt"]["mode"]) == ("receipt", 3)
    assert refunded["body"]["parent_pos_id"] == "01"
    mark = refunded["id"]

    closed = pos.close_shift()
    assert closed.status_code == 200, closed.text
    [z] = outbox(url, mark)
    assert (z["kind"], z["lane"], z["body"]["z_number"]) == ("shift.close", "01", 1)
    assert (z["body"]["receipt_count"], z["body"]["first_document_id"]) == (3, "1")
    assert z["body"]["last_document_id"] == "3"

    # Every item once, in commit order.
    assert kinds(outbox(url)) == [
        ("invoice", "-"),
        ("shift.open", "01"),
        ("invoice.state", "-"),
        ("invoice.state", "-"),
        ("receipt", "01"),
        ("receipt", "01"),
        ("receipt", "01"),
        ("shift.close", "01"),
    ]


def test_release_cancel_and_a_refused_change(store: Api, settings: Settings) -> None:
    url = settings.database_url
    pos = register(store, "Kase 1", "01")
    assert pos.open_shift().status_code == 200
    invoice = post_invoice(store)
    mark = last_id(url)

    # Refused: no payment method 99. Nothing of it is kept, its outbox item neither.
    assert pos.claim(invoice["id"]).status_code == 200
    mark = last_id(url)
    refused = pos.complete(invoice["id"], payments=[{"method_id": 99}])
    assert 400 <= refused.status_code < 500, refused.text
    assert outbox(url, mark) == []

    refused_sale = pos.post(
        f"/api/stations/{pos.id}/receipts",
        {"request_id": "w1", "rows": [{"code": 424242}], "payments": [{"method_id": 1}]},
    )
    assert refused_sale.status_code == 400, refused_sale.text
    assert outbox(url, mark) == []

    assert pos.post(f"/api/invoice/{invoice['id']}/release").status_code == 200
    [released] = outbox(url, mark)
    assert (released["kind"], released["body"]["status"]) == ("invoice.state", 10)
    mark = released["id"]
    cancelled = store.as_(Role.INTEGRATOR).post(f"/api/invoice/{invoice['id']}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    [gone] = outbox(url, mark)
    assert (gone["kind"], gone["body"]["status"]) == ("invoice.state", 40)


def test_standalone_writes_no_outbox(api: Api, settings: Settings) -> None:
    pos = register(api, "Kase 1", "01")
    assert pos.open_shift().status_code == 200
    invoice = post_invoice(api)
    assert pos.claim(invoice["id"]).status_code == 200
    assert pos.complete(invoice["id"], payments=[{"method_id": 1}]).status_code == 200
    assert pos.close_shift().status_code == 200
    assert outbox(settings.database_url) == []
    assert api.as_(Role.ADMIN).get("/api/sync/status").json() == {"mode": "standalone"}


# --- the database remembers its mode --------------------------------------------------------


def start(settings: Settings) -> None:
    with TestClient(create_app(settings)):
        pass


def test_a_store_database_cannot_start_as_another_mode(settings: Settings) -> None:
    start(as_store(settings))
    with pytest.raises(StartError, match="belongs to a store; it cannot start as central"):
        start(msgspec.structs.replace(settings, mode="central"))
    with pytest.raises(StartError, match="belongs to a store; it cannot start as standalone"):
        start(settings)
    start(as_store(settings))  # its own mode starts as ever


def test_a_centre_database_cannot_start_as_a_store(settings: Settings) -> None:
    start(msgspec.structs.replace(settings, mode="central"))
    with pytest.raises(StartError, match="belongs to a centre; it cannot start as store"):
        start(as_store(settings))


def test_a_standalone_database_becomes_a_store_only_before_it_sold(
    settings: Settings, keys: dict[Role, str]
) -> None:
    start(settings)  # written as standalone
    start(as_store(settings))  # nothing sold yet: it may become a store
    with pytest.raises(StartError, match="belongs to a store"):
        start(settings)


def test_a_standalone_database_that_sold_stays_standalone(
    settings: Settings, keys: dict[Role, str]
) -> None:
    with TestClient(create_app(settings)) as client:
        post_invoice(Api(client, keys))
    with pytest.raises(StartError, match="a standalone shop that has sold; it cannot start as"):
        start(as_store(settings))


# --- /api/sync/status -----------------------------------------------------------------------


def test_store_status_counts_what_waits(
    store: Api, settings: Settings, keys: dict[Role, str]
) -> None:
    pos = register(store, "Kase 1", "01")
    assert pos.open_shift().status_code == 200
    post_invoice(store)
    status = store.as_(Role.ADMIN).get("/api/sync/status")
    assert status.status_code == 200, status.text
    body = status.json()
    assert body["mode"] == "store"
    assert body["centre"] == NO_CENTRE
    assert body["offline"] is True  # never reached the centre
    assert (body["waiting"], body["quarantined"]) == (2, 0)
    assert body["oldest_waiting_at"] is not None
    lanes = {lane["lane"]: lane for lane in body["lanes"]}
    assert set(lanes) == {"-", "01"}
    assert (lanes["-"]["waiting"], lanes["01"]["waiting"]) == (1, 1)
    assert lanes["01"]["last_acked_local_id"] is None
    # The cashier screen's key sees the same.
    as_station = pos.get("/api/sync/status")
    assert as_station.status_code == 200
    assert as_station.json()["waiting"] == 2
    assert store.as_(Role.INTEGRATOR).get("/api/sync/status").status_code == 403


def test_central_status_lists_the_stores(settings: Settings, keys: dict[Role, str]) -> None:
    central = msgspec.structs.replace(settings, mode="central")
    db = open_database(settings.database_url)
    try:
        db.run(
            lambda conn: conn.execute(
                "INSERT INTO stores (code, name, last_contact_at, last_skew_ms, created_at)"
                " VALUES ('RIGA1', 'Rīga 1', 1700000000000000, 1500, 0)"
            )
        )
        store_id = db.run(lambda conn: conn.fetchone("SELECT id FROM stores")["id"])  # type: ignore[index]
        db.run(
            lambda conn: conn.execute(
                "INSERT INTO sync_ingest (store_id, kind, local_id, hash, received_at)"
                " VALUES (:s, 'receipt', '1', 'h', 0), (:s, 'receipt', '2', 'h', 0)",
                {"s": store_id},
            )
        )
    finally:
        db.close()
    with TestClient(create_app(central)) as client:
        api = Api(client, keys)
        body = api.as_(Role.ADMIN).get("/api/sync/status").json()
        assert body["mode"] == "central"
        [riga] = body["stores"]
        assert (riga["code"], riga["received"], riga["conflicts"], riga["skew_seconds"]) == (
            "RIGA1",
            2,
            0,
            1.5,
        )
        assert api.as_(Role.STATION).get("/api/sync/status").status_code == 403


def test_sync_status_cli_reads_the_database(
    store: Api, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    pos = register(store, "Kase 1", "01")
    assert pos.open_shift().status_code == 200
    post_invoice(store)
    monkeypatch.setenv("MINIPOS_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("MINIPOS_SECRET_KEY", settings.secret_key)
    # The shell's environment says standalone; the database knows it is a store.
    shown = CliRunner().invoke(cli_app, ["sync", "status"])
    assert shown.exit_code == 0, shown.output
    assert "mode: store" in shown.output
    assert "OFFLINE" in shown.output
    assert "waiting: 2 " in shown.output
    as_json = CliRunner().invoke(cli_app, ["sync", "status", "--json"])
    assert as_json.exit_code == 0, as_json.output
    body = json.loads(as_json.output)
    api_body = store.as_(Role.ADMIN).get("/api/sync/status").json()
    assert {k: v for k, v in body.items() if k != "centre"} == {
        k: v for k, v in api_body.items() if k != "centre"
    }


def test_metrics_show_the_outbox(store: Api) -> None:
    pos = register(store, "Kase 1", "01")
    assert pos.open_shift().status_code == 200
    post_invoice(store)
    text = store.as_(Role.ADMIN).get("/metrics").text
    assert 'minipos_queue_depth{queue="sync_outbox"} 2.0' in text
    assert 'minipos_queue_depth{queue="sync_quarantined"} 0.0' in text
    assert 'minipos_queue_oldest_age_seconds{queue="sync_outbox"}' in text
    assert "minipos_sync_last_contact_age_seconds +Inf" in text  # never reached the centre
    assert "minipos_sync_clock_skew_seconds NaN" in text


def test_a_standalone_server_has_no_link_gauges(api: Api) -> None:
    text = api.as_(Role.ADMIN).get("/metrics").text
    assert "minipos_sync_last_contact_age_seconds" not in text
    assert 'minipos_queue_depth{queue="sync_outbox"} 0.0' in text


def test_the_store_runs_its_sync_worker_as_a_named_chore(store: Api) -> None:
    workers = store.client.app.state.workers  # type: ignore[attr-defined]
    assert {"sync worker", "outbox retention"} <= set(workers)
    assert not workers["sync worker"].done()
    # The worker made sync_state's row at start and noted why it cannot reach the centre.
    status = store.as_(Role.ADMIN).get("/api/sync/status").json()
    assert status["offline"] is True


def test_serve_refuses_another_mode_before_uvicorn_starts(settings: Settings) -> None:
    start(as_store(settings))
    with pytest.raises(StartError, match="belongs to a store; it cannot start as central"):
        check_start(msgspec.structs.replace(settings, mode="central"))
    check_start(as_store(settings))
