"""Issue 15, keys and stations: list, create and revoke API keys (never showing a secret), a
station's key rotated, a station renamed, moved or disabled (its key refused with a 403, no
claim or sale), and the same from the shell."""

from __future__ import annotations

import time
from collections.abc import Iterator

import msgspec
import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from minipos.auth.principal import Role
from minipos.bootstrap import create_app
from minipos.cli import app as cli_app
from minipos.config import Settings
from minipos.db import open_database
from minipos.timeutil import now_us
from support import Api, Station, open_station, post_invoice, register


def test_keys_are_listed_without_secrets_and_revoked(api: Api, keys: dict[Role, str]) -> None:
    admin = api.as_(Role.ADMIN)
    created = admin.post("/api/keys", json={"role": "integrator", "name": "web shop"})
    assert created.status_code == 201, created.text
    new = created.json()
    assert new["key"].startswith(f"mpk_{new['key_id']}_")
    listed = admin.get("/api/keys")
    assert listed.status_code == 200
    assert listed.headers["X-Total-Count"] == str(len(keys) + 1)
    for secret in (*keys.values(), new["key"]):
        assert secret.split("_", 2)[2] not in listed.text  # mpk_<key_id>_<secret>
    assert "digest" not in listed.text
    [shown] = [k for k in listed.json() if k["id"] == new["id"]]
    assert shown == {k: v for k, v in new.items() if k != "key"}
    assert admin.get(f"/api/keys/{new['id']}").json() == shown
    assert [k["role"] for k in admin.get("/api/keys?role=station").json()] == ["station"]

    web_shop = {"Authorization": f"Token {new['key']}"}
    assert api.client.get("/api/invoices", headers=web_shop).status_code == 200
    assert admin.delete(f"/api/keys/{new['id']}").status_code == 204
    # This server forgets it at once (another within MINIPOS_AUTH_CACHE_SECONDS).
    assert api.client.get("/api/invoices", headers=web_shop).status_code == 401
    admin = api.as_(Role.ADMIN)
    revoked = admin.get(f"/api/keys/{new['id']}").json()["revoked_at"]
    assert revoked is not None
    assert admin.delete(f"/api/keys/{new['id']}").status_code == 204  # again: no change
    assert admin.get(f"/api/keys/{new['id']}").json()["revoked_at"] == revoked
    assert [k["id"] for k in admin.get("/api/keys?revoked=true").json()] == [new["id"]]
    assert admin.delete("/api/keys/424242").status_code == 404

    for body, name in (
        ({"role": "station"}, "station_id"),
        ({"role": "admin", "station_id": 1}, "station_id"),
        ({"role": "store"}, "role"),
        ({"role": "integrator", "secret": "x"}, "secret"),
    ):
        refused = admin.post("/api/keys", json=body)
        assert refused.status_code == 400, refused.text
        assert name in refused.json()
    for query in ("revoked=perhaps", "station_id=x", "colour=red", "role=nope"):
        assert admin.get(f"/api/keys?{query}").status_code == 400


@pytest.fixture
def cached_api(settings: Settings, keys: dict[Role, str]) -> Iterator[Api]:
    """The app with a one-second cache of checked keys (the tests' default is none)."""
    with TestClient(
        create_app(msgspec.structs.replace(settings, auth_cache_seconds=1.0))
    ) as client:
        yield Api(client, keys)


def test_a_key_revoked_elsewhere_stops_working_within_the_cache_window(
    cached_api: Api, settings: Settings
) -> None:
    """Revoked by another server process (or ``minipos key revoke``): this one still takes the
    key it checked until its cache forgets it, MINIPOS_AUTH_CACHE_SECONDS at most."""
    integrator = cached_api.as_(Role.INTEGRATOR)
    assert integrator.get("/api/invoices").status_code == 200  # checked: cached for 1 s
    revoked_at = time.monotonic()
    db = open_database(settings.database_url)
    try:
        db.run(
            lambda conn: conn.execute(
                "UPDATE api_keys SET revoked_at = :now WHERE role = 'integrator'", {"now": now_us()}
            )
        )
    finally:
        db.close()
    while integrator.get("/api/invoices").status_code == 200:
        # The window, plus a margin for one slow request on a busy machine.
        assert time.monotonic() - revoked_at < 1.0 + 1.5, "still accepted past the window"
        time.sleep(0.05)
    assert integrator.get("/api/invoices").status_code == 401


def test_a_station_is_renamed_moved_disabled_and_enabled(api: Api) -> None:
    station = open_station(api)
    invoice = post_invoice(api)
    admin = api.as_(Role.ADMIN)
    changed = admin.patch(
        f"/api/stations/{station.id}", json={"name": "Kase A", "station_group": "2"}
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["name"], changed.json()["station_group"]) == ("Kase A", "2")
    assert changed.json()["disabled"] is False
    admin.patch(f"/api/stations/{station.id}", json={"station_group": "1"})

    disabled = admin.patch(f"/api/stations/{station.id}", json={"disabled": True})
    assert disabled.json()["disabled"] is True
    assert disabled.json()["disabled_at"] is not None
    refused = station.claim(invoice["id"])
    assert refused.status_code == 403
    assert refused.json() == {
        "detail": f"Station {station.id} is disabled; an admin can enable it again"
        f" (PATCH /api/stations/{station.id})."
    }
    assert station.get("/api/stations/me").status_code == 403
    # Nor does an admin's cashier screen sell for it; its shift may still be closed.
    admin = api.as_(Role.ADMIN)
    acting = admin.post(f"/api/invoice/{invoice['id']}/claim?station_id={station.id}")
    assert acting.status_code == 403, acting.text
    sold = admin.post(
        f"/api/stations/{station.id}/receipts",
        json={"request_id": "x", "rows": [{"text": "a", "price": 1}]},
    )
    assert sold.status_code == 403, sold.text
    assert admin.post(f"/api/stations/{station.id}/shift/close", json={}).status_code == 200
    assert admin.post(f"/api/stations/{station.id}/shift/open", json={}).status_code == 403
    listed = {s["id"]: s["disabled"] for s in admin.get("/api/stations").json()}
    assert listed == {station.id: True}

    admin.patch(f"/api/stations/{station.id}", json={"disabled": False})
    assert station.open_shift().status_code == 200
    assert station.claim(invoice["id"]).status_code == 200

    for body, name in (
        ({"name": ""}, "name"),
        ({"disabled": "yes"}, "disabled"),
        ({"pos_id": "9"}, "pos_id"),
    ):
        bad = api.as_(Role.ADMIN).patch(f"/api/stations/{station.id}", json=body)
        assert bad.status_code == 400, bad.text
        assert name in bad.json()
    assert api.as_(Role.ADMIN).patch("/api/stations/999", json={}).status_code == 404


def test_a_station_key_is_rotated(api: Api) -> None:
    station = open_station(api)
    admin = api.as_(Role.ADMIN)
    rotated = admin.post(f"/api/stations/{station.id}/key")
    assert rotated.status_code == 201, rotated.text
    body = rotated.json()
    assert body["station"] == station.id
    assert len(body["revoked"]) == 2  # its key from registration, and the fixtures' one
    assert station.get("/api/stations/me").status_code == 401  # the old key
    renewed = Station(api.client, {"id": station.id, "pos_id": "01", "key": body["key"]})
    assert renewed.get("/api/stations/me").json()["id"] == station.id
    [key] = api.as_(Role.ADMIN).get(f"/api/keys?station_id={station.id}&revoked=false").json()
    assert key["id"] == body["id"]
    assert api.as_(Role.ADMIN).post("/api/stations/999/key").status_code == 404


def test_keys_and_stations_from_the_shell(
    api: Api, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    station = register(api, "Kase 1", "01")
    monkeypatch.setenv("MINIPOS_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("MINIPOS_SECRET_KEY", settings.secret_key)
    runner = CliRunner()
    listed = runner.invoke(cli_app, ["key", "list"])
    assert listed.exit_code == 0, listed.output
    assert "integrator" in listed.output
    station_key = next(k for k in api.as_(Role.ADMIN).get("/api/keys").json() if k["name"])
    revoked = runner.invoke(cli_app, ["key", "revoke", str(station_key["id"])])
    assert revoked.exit_code == 0, revoked.output
    assert station.get("/api/stations/me").status_code == 401
    assert runner.invoke(cli_app, ["key", "revoke", "4242"]).exit_code == 1
    assert "revoked" in runner.invoke(cli_app, ["key", "list", "--all"]).output

    stations = runner.invoke(cli_app, ["station", "list"])
    assert stations.exit_code == 0, stations.output
    assert "Kase 1" in stations.output
    assert "active" in stations.output
    assert runner.invoke(cli_app, ["station", "disable", str(station.id)]).exit_code == 0
    assert "disabled" in runner.invoke(cli_app, ["station", "list"]).output
    assert api.as_(Role.ADMIN).get(f"/api/stations/{station.id}").json()["disabled"] is True
    assert runner.invoke(cli_app, ["station", "enable", str(station.id)]).exit_code == 0
    assert runner.invoke(cli_app, ["station", "disable", "999"]).exit_code == 1
