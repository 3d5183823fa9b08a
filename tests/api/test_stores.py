"""The centre's stores registry (docs/stores.md, "Roles"): ``POST/GET /api/stores``, the store
key (role ``store``, shown once, reaching only the sync endpoints), ``minipos store add/list``
and ``minipos key create --store``; a centre registers no stations of its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from chaincentre import as_centre, push, query
from minipos.auth.principal import Role
from minipos.bootstrap import create_app
from minipos.cli import app as cli
from minipos.config import Settings
from support import Api


@pytest.fixture
def centre(settings: Settings, keys: dict[Role, str]) -> Iterator[Api]:
    with TestClient(create_app(as_centre(settings))) as client:
        yield Api(client, keys)


def test_an_admin_registers_a_store_and_sees_its_sync_status(centre: Api) -> None:
    admin = centre.as_(Role.ADMIN)
    created = admin.post("/api/stores", json={"code": "RIGA1", "name": "Rīga 1"})
    assert created.status_code == 201, created.text
    store = created.json()
    assert (store["code"], store["name"]) == ("RIGA1", "Rīga 1")
    assert store["key"].startswith("mpk_")
    assert store["last_contact_at"] is None
    assert store["items_received"] == 0

    # The key is the store's: an empty push is its first contact.
    contact = push(centre.client, store["key"], [], sent_at=0)
    assert contact.status_code == 200, contact.text
    assert contact.json()["results"] == []

    [listed] = centre.as_(Role.ADMIN).get("/api/stores").json()
    assert "key" not in listed  # shown once
    assert listed["id"] == store["id"]
    assert listed["last_contact_at"] is not None
    assert listed["last_skew_ms"] > 0  # the store's clock said 1970
    assert (listed["conflicts_open"], listed["receipts_flagged"]) == (0, 0)
    assert listed["shifts_unreconciled"] == 0
    assert listed["last_error"] is None


def test_a_code_is_unique_and_well_formed(centre: Api) -> None:
    admin = centre.as_(Role.ADMIN)
    assert admin.post("/api/stores", json={"code": "RIGA1", "name": "a"}).status_code == 201
    again = admin.post("/api/stores", json={"code": "RIGA1", "name": "b"})
    assert again.status_code == 409
    assert again.json()["detail"].startswith("code:")
    for code in ("riga1", "", "R" * 33, "RĪGA"):
        bad = admin.post("/api/stores", json={"code": code, "name": "x"})
        assert bad.status_code == 400, code
        assert "code" in bad.json()
    nameless = admin.post("/api/stores", json={"code": "TLN"})
    assert nameless.status_code == 400
    assert "name" in nameless.json()
    assert len(admin.get("/api/stores").json()) == 1


def test_the_registry_is_a_centre_s_only(api: Api) -> None:
    admin = api.as_(Role.ADMIN)
    for response in (
        admin.post("/api/stores", json={"code": "RIGA1", "name": "a"}),
        admin.get("/api/stores"),
    ):
        assert response.status_code == 409
        assert "MINIPOS_MODE=central" in response.json()["detail"]


def test_a_store_key_reaches_only_the_sync_endpoints(centre: Api) -> None:
    key = centre.as_(Role.ADMIN).post("/api/stores", json={"code": "A", "name": "a"}).json()["key"]
    headers = {"Authorization": f"Token {key}"}
    for method, path in (
        ("GET", "/api/stores"),
        ("GET", "/api/receipts"),
        ("GET", "/api/shifts"),
        ("GET", "/api/invoices"),
        ("POST", "/api/invoice/new"),
        ("GET", "/api/events"),
    ):
        assert centre.client.request(method, path, headers=headers).status_code == 403, path
    assert push(centre.client, key, []).status_code == 200


def test_the_centre_has_no_tills(centre: Api) -> None:
    response = centre.as_(Role.ADMIN).post(
        "/api/stations", json={"name": "Kase 1", "pos_id": "01", "chassis_id": "CH1"}
    )
    assert response.status_code == 409
    assert response.json()["detail"] == "The centre has no tills; stations belong to stores."


def test_the_store_commands(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, centre: Api
) -> None:
    monkeypatch.setenv("MINIPOS_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("MINIPOS_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("MINIPOS_MODE", "central")
    runner = CliRunner()
    added = runner.invoke(cli, ["store", "add", "--code", "RIGA1", "--name", "Rīga 1"])
    assert added.exit_code == 0, added.output
    key = added.stdout.strip().splitlines()[-1]
    assert push(centre.client, key, []).status_code == 200  # the printed key works

    listed = runner.invoke(cli, ["store", "list"])
    assert listed.exit_code == 0, listed.output
    assert '"code": "RIGA1"' in listed.stdout
    twice = runner.invoke(cli, ["store", "add", "--code", "RIGA1", "--name", "x"])
    assert twice.exit_code != 0
    assert "code" in twice.output
    malformed = runner.invoke(cli, ["store", "add", "--code", "riga", "--name", "x"])
    assert malformed.exit_code == 2

    bound = runner.invoke(cli, ["key", "create", "--role", "integrator", "--store", "RIGA1"])
    assert bound.exit_code == 0, bound.output
    key_id = bound.stdout.strip().split("_")[1]
    [row] = query(
        settings.database_url, "SELECT store_id FROM api_keys WHERE key_id = :k", {"k": key_id}
    )
    assert row["store_id"] == 1
    unknown = runner.invoke(cli, ["key", "create", "--role", "integrator", "--store", "NOPE"])
    assert unknown.exit_code == 2
    assert "NOPE" in unknown.output
    storeless = runner.invoke(cli, ["key", "create", "--role", "store"])
    assert storeless.exit_code == 2
    station_bound = runner.invoke(cli, ["key", "create", "--role", "admin", "--store", "RIGA1"])
    assert station_bound.exit_code == 2

    monkeypatch.setenv("MINIPOS_MODE", "standalone")
    elsewhere = runner.invoke(cli, ["store", "add", "--code", "TLN", "--name", "x"])
    assert elsewhere.exit_code != 0
    assert "MINIPOS_MODE=central" in elsewhere.output
