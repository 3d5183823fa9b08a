"""The down path of a chain of shops (docs/stores.md, "Down"): a central app and a store app,
each on its own database, the store's ``Puller`` driven by hand against the centre through an
in-process transport. The catalogue, categories and reference data follow the centre; a
store's catalogue is read-only; invoices posted at the centre for the store arrive once, and
the centre may cancel them only until they were delivered.

Each test runs with the centre on PostgreSQL and the store on SQLite, with the store on
PostgreSQL and the centre on SQLite, and with both on SQLite.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from minipos.auth.principal import Role
from minipos.auth.service import create_key
from minipos.bootstrap import create_app
from minipos.cli import app as cli
from minipos.config import Settings
from minipos.db import Connection, open_database
from minipos.sync.pull import Puller

PEPPER = "test-pepper"
CENTRAL_URL = "http://127.0.0.1:1"  # nothing listens: the store's own worker pulls in vain
INVOICE = {"rows": [{"text": "Piens", "quantity": "1", "price": "1.20"}]}
REFERENCE = {
    "taxes": [
        {"id": 0, "rate": 21, "name": "PVN 21%"},
        # A rate history travels with the rest (5.5 in force since 2026-01-01).
        {
            "id": 7,
            "rate": 9,
            "name": "Īpašā",
            "changes": [{"valid_from": "2026-01-01T00:00:00", "rate": "5.5"}],
        },
    ],
    "fiscal_sections": [{"id": 1, "name": "Nodaļa 1"}],
    "payment_methods": [
        {"id": 1, "code": 0, "name": "Skaidrā nauda", "is_cash": True},
        {"id": 9, "code": 9, "name": "Dāvanu karte", "is_cash": False},
    ],
}


class CentreTransport(httpx.AsyncBaseTransport):
    """Sends the store's requests to the central app's test client (its own event loop)."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        answer = await asyncio.to_thread(
            self.client.request,
            request.method,
            request.url.path,
            content=body,
            headers=dict(request.headers),
        )
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)


@dataclass
class Chain:
    centre: TestClient
    store: TestClient
    keys: dict[str, str]
    store_settings: Settings

    def call(self, side: str, key: str, method: str, path: str, body: Any = None) -> Any:
        client = self.centre if side == "centre" else self.store
        headers = {"Authorization": f"Token {self.keys[key]}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        return client.request(
            method, path, headers=headers, content=None if body is None else json.dumps(body)
        )

    def pull(self) -> bool:
        """One pull of the store from the centre, in the store app's own event loop."""
        ctx = self.store.app.state.ctx  # type: ignore[attr-defined]
        puller = Puller(ctx.db, ctx.settings, ctx.invoices, ctx.feed)

        async def once() -> bool:
            async with httpx.AsyncClient(transport=CentreTransport(self.centre)) as http:
                return await puller.pull_once(http)

        assert self.store.portal is not None
        return self.store.portal.call(once)

    def restart_store(self) -> None:
        """Stop the store's server and start it again on its database."""
        self.store.__exit__(None, None, None)
        self.store = TestClient(create_app(self.store_settings)).__enter__()

    def pull_all(self) -> None:
        while self.pull():
            pass

    def store_sql(self, sql: str, params: Any = ()) -> list[Any]:
        db = open_database(self.store_settings.database_url)
        try:
            if not sql.startswith("SELECT"):
                db.run(lambda conn: conn.execute(sql, params))
                return []
            return db.run(lambda conn: conn.fetchall(sql, params))
        finally:
            db.close()


def _sqlite(tmp_path: Path, template: Path, name: str) -> str:
    path = tmp_path / f"{name}.sqlite3"
    shutil.copy(template, path)
    return f"sqlite:///{path}"


@pytest.fixture(params=["centre", "store"])
def urls(
    request: pytest.FixtureRequest, database_url: str, tmp_path: Path, sqlite_template: Path
) -> tuple[str, str]:
    """(centre, store): the parametrised database on one side, a SQLite file on the other."""
    other = _sqlite(tmp_path, sqlite_template, "other")
    if database_url.startswith("sqlite"):
        if request.param == "store":
            pytest.skip("both on SQLite: run once")
        return database_url, other
    return (database_url, other) if request.param == "centre" else (other, database_url)


def _seed_centre(url: str) -> dict[str, str]:
    """A store RIGA1 with its store key; admin, unbound and RIGA1-bound integrator keys."""
    db = open_database(url)

    def seed(conn: Connection) -> dict[str, str]:
        store = conn.insert(
            "INSERT INTO stores (code, name, down_revision, created_at)"
            " VALUES ('RIGA1', 'Rīga 1', 0, 0) RETURNING id",
            {},
        )
        conn.execute(
            "INSERT INTO stores (code, name, down_revision, created_at)"
            " VALUES ('LIEPAJA', 'Liepāja', 0, 0)"
        )

        def key(role: Role, store_id: int | None = None) -> str:
            return create_key(conn, PEPPER.encode(), role, store_id=store_id, now_us=0).key

        return {
            "centre_admin": key(Role.ADMIN),
            "integrator": key(Role.INTEGRATOR),
            "bound": key(Role.INTEGRATOR, store),
            "store": key(Role.STORE, store),
        }

    try:
        return db.run(seed)
    finally:
        db.close()


def _store_admin(url: str) -> str:
    db = open_database(url)
    try:
        return db.run(lambda conn: create_key(conn, PEPPER.encode(), Role.ADMIN, now_us=0).key)
    finally:
        db.close()


def _settings(url: str, tmp_path: Path, name: str, **kw: Any) -> Settings:
    return Settings(
        database_url=url,
        secret_key=PEPPER,
        secret_file=str(tmp_path / f"{name}.secret"),
        auth_cache_seconds=0.0,
        access_log=False,
        **kw,
    )


@pytest.fixture
def chain(urls: tuple[str, str], tmp_path: Path, settings: Settings) -> Iterator[Chain]:
    # ``settings`` (unused) sets the environment every test app starts with.
    centre_url, store_url = urls
    keys = _seed_centre(centre_url)
    keys["store_admin"] = _store_admin(store_url)
    reference = tmp_path / "reference.json"
    reference.write_text(json.dumps(REFERENCE))
    centre_settings = _settings(
        centre_url,
        tmp_path,
        "centre",
        mode="central",
        reference_file=str(reference),
        station_group="HQ",  # not the store's: an invoice naming no group must still reach it
    )
    store_settings = _settings(
        store_url,
        tmp_path,
        "store",
        mode="store",
        central_url=CENTRAL_URL,
        central_key=keys["store"],
    )
    centre = TestClient(create_app(centre_settings)).__enter__()
    chain = Chain(centre, TestClient(create_app(store_settings)).__enter__(), keys, store_settings)
    try:
        yield chain
    finally:
        chain.store.__exit__(None, None, None)
        centre.__exit__(None, None, None)


def test_the_store_is_not_ready_until_its_first_pull(chain: Chain) -> None:
    answer = chain.store.get("/ready")
    assert answer.status_code == 503
    assert "waiting for the first sync from the centre" in answer.json()["reasons"]
    assert chain.centre.get("/ready").status_code == 200
    chain.pull_all()
    assert chain.store.get("/ready").json() == {"status": "ready"}


def test_products_created_repriced_and_deleted_at_the_centre_follow_at_the_store(
    chain: Chain,
) -> None:
    category = chain.call("centre", "centre_admin", "POST", "/api/categories", {"name": "Piens"})
    assert category.status_code == 201, category.text
    milk = chain.call(
        "centre",
        "centre_admin",
        "POST",
        "/api/products",
        {
            "name": "Piens 1l",
            "price": "1.20",
            "code": 4777,
            "category": category.json()["id"],
            "barcodes": [{"barcode": "4750001234567"}],
        },
    ).json()
    bread = chain.call(
        "centre", "centre_admin", "POST", "/api/products", {"name": "Maize", "price": "0.90"}
    ).json()
    chain.call(
        "centre", "centre_admin", "PATCH", f"/api/products/{bread['id']}", {"addons": [milk["id"]]}
    )
    chain.pull_all()

    at_store = chain.call("store", "store_admin", "GET", f"/api/products/{milk['id']}").json()
    assert (
        at_store
        == chain.call("centre", "centre_admin", "GET", f"/api/products/{milk['id']}").json()
    )
    assert (
        chain.call("store", "store_admin", "GET", "/api/products?barcode=4750001234567").json()[0][
            "id"
        ]
        == milk["id"]
    )
    assert (
        chain.call("store", "store_admin", "GET", "/api/categories").json()
        == chain.call("centre", "centre_admin", "GET", "/api/categories").json()
    )
    assert chain.call("store", "store_admin", "GET", f"/api/products/{bread['id']}").json()[
        "addons"
    ] == [milk["id"]]

    # The store's stations follow the store's own feed, on the centre's revisions.
    feed = chain.call("store", "store_admin", "GET", "/api/products?updated_since=0").json()
    cursor = max(item["revision"] for item in feed)

    chain.call("centre", "centre_admin", "PATCH", f"/api/products/{milk['id']}", {"price": "1.35"})
    chain.pull_all()
    assert (
        chain.call("store", "store_admin", "GET", f"/api/products/{milk['id']}").json()["price"]
        == 1.35
    )
    changed = chain.call(
        "store", "store_admin", "GET", f"/api/products?updated_since={cursor}"
    ).json()
    assert [(item["id"], item["price"]) for item in changed] == [(milk["id"], 1.35)]
    cursor = changed[-1]["revision"]

    assert (
        chain.call("centre", "centre_admin", "DELETE", f"/api/products/{milk['id']}").status_code
        == 204
    )
    chain.pull_all()
    assert (
        chain.call("store", "store_admin", "GET", f"/api/products/{milk['id']}").status_code == 404
    )
    assert chain.call("store", "store_admin", "GET", "/api/products?code=4777").json() == []
    gone = chain.call("store", "store_admin", "GET", f"/api/products?updated_since={cursor}").json()
    assert {item["id"]: item["deleted"] for item in gone} == {milk["id"]: True, bread["id"]: False}
    assert (
        chain.call("store", "store_admin", "GET", f"/api/products/{bread['id']}").json()["addons"]
        == []
    )

    # A deleted category goes from the store too; a new code may take a freed one.
    chain.call("centre", "centre_admin", "DELETE", f"/api/categories/{category.json()['id']}")
    chain.call(
        "centre",
        "centre_admin",
        "POST",
        "/api/products",
        {"name": "Kefīrs", "price": 1, "code": 4777},
    )
    chain.pull_all()
    assert chain.call("store", "store_admin", "GET", "/api/categories").json() == []
    assert [
        p["name"]
        for p in chain.call("store", "store_admin", "GET", "/api/products?code=4777").json()
    ] == ["Kefīrs"]


def test_a_big_catalogue_arrives_in_pages(chain: Chain) -> None:
    # A page is MINIPOS_SYNC_BATCH products (at most 1000): two here.
    ctx = chain.store.app.state.ctx  # type: ignore[attr-defined]
    ctx.settings = Settings(**{**_fields(ctx.settings), "sync_batch": 2})
    for n in range(5):
        chain.call("centre", "centre_admin", "POST", "/api/products", {"name": f"P{n}", "price": n})
    pages = 1
    while chain.pull():
        pages += 1
    assert pages == 3
    assert (
        int(
            chain.store.get("/api/products", headers=_auth(chain, "store_admin")).headers[
                "X-Total-Count"
            ]
        )
        == 5
    )


def _fields(settings: Settings) -> dict[str, Any]:
    return {f: getattr(settings, f) for f in settings.__struct_fields__}


def _auth(chain: Chain, key: str) -> dict[str, str]:
    return {"Authorization": f"Token {chain.keys[key]}"}


def test_reference_data_comes_from_the_centre_and_is_used_at_once_and_after_a_restart(
    chain: Chain,
) -> None:
    assert [t["id"] for t in chain.call("store", "store_admin", "GET", "/api/taxes").json()] == [
        0, 1, 2, 3, 4, 5, 6,
    ]  # fmt: skip
    chain.pull_all()
    centre_taxes = chain.call("centre", "centre_admin", "GET", "/api/taxes").json()
    assert chain.call("store", "store_admin", "GET", "/api/taxes").json() == centre_taxes
    assert [
        m["id"] for m in chain.call("store", "store_admin", "GET", "/api/payment-methods").json()
    ] == [1, 9]
    # The running store prices with it: tax group 7 exists only in the centre's data.
    posted = chain.call(
        "store",
        "store_admin",
        "POST",
        "/api/invoice/new",
        {"rows": [{"text": "Īpašs", "quantity": 1, "price": 2, "tax": 7}]},
    )
    assert posted.status_code == 200, posted.text
    assert posted.json()["rows"][0]["tax_rate"] == 5.5
    # Pulled again unchanged: the hash matches and nothing is resent.
    assert chain.store_sql("SELECT reference_hash FROM sync_state")[0]["reference_hash"]

    # A restart (offline: the centre unreachable) sells with what it pulled.
    chain.restart_store()
    assert chain.call("store", "store_admin", "GET", "/api/taxes").json() == centre_taxes
    assert chain.store.get("/ready").json() == {"status": "ready"}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/products", {"name": "X", "price": 1}),
        ("PUT", "/api/products/1", {"name": "X", "price": 1}),
        ("PATCH", "/api/products/1", {"price": 1}),
        ("DELETE", "/api/products/1", None),
        ("POST", "/api/categories", {"name": "X"}),
        ("PUT", "/api/categories/1", {"name": "X"}),
        ("DELETE", "/api/categories/1", None),
        ("POST", "/api/catalogue/import", [{"name": "X", "price": 1}]),
        ("POST", "/api/catalogue/import?dry_run=1", [{"name": "X", "price": 1}]),
    ],
)
def test_the_store_catalogue_is_read_only(chain: Chain, method: str, path: str, body: Any) -> None:
    answer = chain.call("store", "store_admin", method, path, body)
    assert answer.status_code == 403
    assert answer.json() == {
        "detail": f"The catalogue is kept at the centre ({CENTRAL_URL}); change it there."
    }


def test_an_invoice_posted_at_the_centre_is_delivered_to_its_store_once(chain: Chain) -> None:
    bound = chain.call(
        "centre", "bound", "POST", "/api/invoice/new", {**INVOICE, "invoice_no": "A1"}
    )
    assert bound.status_code == 200, bound.text
    # An unbound key names the store; without it, or with an unknown one, a 400 on `store`.
    missing = chain.call("centre", "integrator", "POST", "/api/invoice/new", INVOICE)
    assert missing.status_code == 400
    assert "store" in missing.json()
    unknown = chain.call("centre", "integrator", "POST", "/api/invoice/new?store=NOPE", INVOICE)
    assert unknown.status_code == 400
    assert unknown.json() == {"store": ['Unknown store "NOPE".']}
    other = chain.call("centre", "bound", "POST", "/api/invoice/new?store=LIEPAJA", INVOICE)
    assert other.status_code == 400
    named = chain.call(
        "centre",
        "integrator",
        "POST",
        "/api/invoice/new?store=RIGA1",
        {**INVOICE, "invoice_no": "A2"},
    )
    assert named.status_code == 200, named.text
    # Numbers are unique per store: LIEPAJA may have its own A1.
    elsewhere = chain.call(
        "centre",
        "integrator",
        "POST",
        "/api/invoice/new?store=LIEPAJA",
        {**INVOICE, "invoice_no": "A1"},
    )
    assert elsewhere.status_code == 200, elsewhere.text
    listed = chain.call("centre", "centre_admin", "GET", "/api/invoices?store=RIGA1").json()
    assert [i["id"] for i in listed] == [bound.json()["id"], named.json()["id"]]

    # The first serve's answer is lost: the centre marked them delivered, the store has none.
    lost = chain.centre.post(
        "/api/sync/pull",
        content=b"{}",
        headers={**_auth(chain, "store"), "Content-Type": "application/json"},
    )
    assert [i["common_id"] for i in lost.json()["invoices"]] == [
        bound.json()["id"],
        named.json()["id"],
    ]
    chain.pull_all()
    chain.store_sql("UPDATE sync_state SET invoice_revision = 0")  # and once more, from scratch
    chain.pull_all()

    at_store = chain.call("store", "store_admin", "GET", "/api/invoices").json()
    assert [(i["invoice_no"], i["common_id"], i["status"]) for i in at_store] == [
        ("A1", bound.json()["id"], 10),
        ("A2", named.json()["id"], 10),
    ]
    assert all(i["synchronized_at"] is not None for i in at_store)
    detail = chain.call("store", "store_admin", "GET", f"/api/invoice/{at_store[0]['id']}").json()
    assert detail["station_group"] == chain.store_settings.station_group
    assert [(r["text"], r["price"]) for r in detail["rows"]] == [("Piens", 1.2)]
    # Its creation is not sent back up; a ?store at a store is unknown.
    assert chain.store_sql("SELECT count(*) AS n FROM sync_outbox")[0]["n"] == 0
    assert (
        chain.call(
            "store", "store_admin", "POST", "/api/invoice/new?store=RIGA1", INVOICE
        ).status_code
        == 400
    )


def test_the_centre_cancels_only_what_was_not_delivered(chain: Chain) -> None:
    early = chain.call("centre", "bound", "POST", "/api/invoice/new", INVOICE).json()
    late = chain.call("centre", "bound", "POST", "/api/invoice/new", INVOICE).json()
    cancelled = chain.call("centre", "bound", "POST", f"/api/invoice/{early['id']}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == 40
    chain.pull_all()

    refused = chain.call("centre", "centre_admin", "POST", f"/api/invoice/{late['id']}/cancel")
    assert refused.status_code == 409
    assert refused.json() == {"detail": "Delivered to store RIGA1; cancel it there."}
    at_store = chain.call("store", "store_admin", "GET", "/api/invoices").json()
    assert [i["common_id"] for i in at_store] == [late["id"]]
    # At the store it is the store's: an admin there cancels it.
    mine = chain.call("store", "store_admin", "POST", f"/api/invoice/{at_store[0]['id']}/cancel")
    assert mine.status_code == 200, mine.text


def test_a_store_refuses_a_catalogue_import(
    chain: Chain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    products = tmp_path / "products.csv"
    products.write_text("name,price\nPiens,1.20\n")
    for name, value in {
        "MINIPOS_DATABASE_URL": chain.store_settings.database_url,
        "MINIPOS_SECRET_KEY": PEPPER,
        "MINIPOS_MODE": "store",
        "MINIPOS_CENTRAL_URL": CENTRAL_URL,
        "MINIPOS_CENTRAL_KEY": chain.keys["store"],
    }.items():
        monkeypatch.setenv(name, value)
    refused = CliRunner().invoke(cli, ["catalogue", "import", str(products)])
    assert refused.exit_code == 2
    assert f"The catalogue is kept at the centre ({CENTRAL_URL})" in refused.output
    assert chain.store_sql("SELECT count(*) AS n FROM products")[0]["n"] == 0


def test_one_product_a_page_keeps_addons_barcodes_and_codes_consistent(chain: Chain) -> None:
    """Each page holds products' latest states, so the store may still hold an older state of
    a product a page's product refers to, or that holds its barcode or code."""
    ctx = chain.store.app.state.ctx  # type: ignore[attr-defined]
    ctx.settings = Settings(**{**_fields(ctx.settings), "sync_batch": 1})

    def post(body: dict[str, Any]) -> dict[str, Any]:
        answer = chain.call("centre", "centre_admin", "POST", "/api/products", body)
        assert answer.status_code == 201, answer.text
        return dict(answer.json())

    def patch(product_id: int, body: dict[str, Any]) -> None:
        answer = chain.call("centre", "centre_admin", "PATCH", f"/api/products/{product_id}", body)
        assert answer.status_code == 200, answer.text

    first = post({"name": "A", "price": 1, "code": 11, "barcodes": [{"barcode": "111"}]})
    chain.pull_all()
    second = post({"name": "B", "price": 2})
    # A gives its code and barcode to B and lists B as an addon; A changes again after B, so
    # B's page comes first (taking them from the store's older A), and A's names B before it.
    patch(first["id"], {"code": None, "barcodes": []})
    patch(second["id"], {"code": 11, "barcodes": [{"barcode": "111"}]})
    third = post({"name": "C", "price": 3})
    patch(first["id"], {"addons": [third["id"]], "price": 5})
    patch(third["id"], {"price": 4})

    assert chain.pull() is True  # B
    assert chain.pull() is True  # A, naming C, whose own page comes next
    assert (
        chain.call("store", "store_admin", "GET", f"/api/products/{third['id']}").status_code == 404
    )
    chain.pull_all()
    for product in (first, second, third):
        path = f"/api/products/{product['id']}"
        assert chain.call("store", "store_admin", "GET", path).json() == (
            chain.call("centre", "centre_admin", "GET", path).json()
        )
    assert [
        p["id"]
        for p in chain.call("store", "store_admin", "GET", "/api/products?barcode=111").json()
    ] == [second["id"]]


def test_a_cancel_racing_the_pulls_either_wins_or_loses_whole(chain: Chain) -> None:
    """Cancels at the centre while the store pulls: each invoice ends either cancelled at the
    centre and never at the store, or delivered, at the store and still New at the centre."""
    ctx = chain.store.app.state.ctx  # type: ignore[attr-defined]
    ctx.settings = Settings(**{**_fields(ctx.settings), "sync_batch": 1})  # one a page
    ids = [
        chain.call("centre", "bound", "POST", "/api/invoice/new", INVOICE).json()["id"]
        for _ in range(20)
    ]
    answers: dict[int, int] = {}

    def cancel_all() -> None:
        for invoice_id in reversed(ids):  # from the end, so the two meet in the middle
            path = f"/api/invoice/{invoice_id}/cancel"
            answers[invoice_id] = chain.call("centre", "centre_admin", "POST", path).status_code

    def pull_often() -> None:
        for _ in range(10):
            chain.pull_all()

    threads = [threading.Thread(target=cancel_all), threading.Thread(target=pull_often)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    chain.pull_all()

    at_store = {
        i["common_id"] for i in chain.call("store", "store_admin", "GET", "/api/invoices").json()
    }
    at_centre = {
        i["id"]: i["status"]
        for i in chain.call("centre", "centre_admin", "GET", "/api/invoices?store=RIGA1").json()
    }
    for invoice_id in ids:
        if answers[invoice_id] == 200:
            assert at_centre[invoice_id] == 40
            assert invoice_id not in at_store
        else:
            assert answers[invoice_id] == 409
            assert at_centre[invoice_id] == 10
            assert invoice_id in at_store


def test_a_number_the_store_took_meanwhile_keeps_both_invoices(chain: Chain) -> None:
    number = "N" * 64
    mine = chain.call(
        "store", "store_admin", "POST", "/api/invoice/new", {**INVOICE, "invoice_no": number}
    )
    assert mine.status_code == 200, mine.text
    theirs = chain.call(
        "centre", "bound", "POST", "/api/invoice/new", {**INVOICE, "invoice_no": number}
    )
    assert theirs.status_code == 200, theirs.text
    chain.pull_all()
    mark = f"~C{theirs.json()['id']}"
    at_store = chain.call("store", "store_admin", "GET", "/api/invoices").json()
    assert [(i["invoice_no"], i["common_id"]) for i in at_store] == [
        (number, None),
        (number[: 64 - len(mark)] + mark, theirs.json()["id"]),
    ]


@pytest.mark.parametrize("cursor", ["catalogue_revision", "invoice_revision"])
def test_a_cursor_past_a_column_is_a_400_naming_it(chain: Chain, cursor: str) -> None:
    # 2**63 reached the database and failed there (OverflowError in SQLite): a 500.
    answer = chain.centre.post(
        "/api/sync/pull",
        content=json.dumps({cursor: 2**63}).encode(),
        headers={**_auth(chain, "store"), "Content-Type": "application/json"},
    )
    assert answer.status_code == 400, answer.text
    assert cursor in answer.json()
    largest = chain.centre.post(
        "/api/sync/pull",
        content=json.dumps({cursor: 2**63 - 1}).encode(),
        headers={**_auth(chain, "store"), "Content-Type": "application/json"},
    )
    assert largest.status_code == 200, largest.text
