"""Helpers of the centre's tests (tests/api/test_stores.py, test_sync_push.py): a real
store-mode app on its own SQLite file makes the facts, its ``sync_outbox`` rows are the items
pushed, byte for byte, so the tests prove the contract (``sync.bodies``) end to end."""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
from starlette.testclient import TestClient

from minipos.auth.principal import Role
from minipos.auth.service import create_key
from minipos.bootstrap import create_app
from minipos.config import Settings
from minipos.db import open_database
from minipos.domain.receipt import chain_hash
from minipos.domain.sync import canonical, content_hash
from minipos.receipts.service import hash_content
from support import Api

#: Nothing listens here: a store's own worker never gets through, so nothing is acked there.
NO_CENTRE = "http://127.0.0.1:9"


def as_centre(settings: Settings) -> Settings:
    return msgspec.structs.replace(settings, mode="central")


@contextlib.contextmanager
def store_app(settings: Settings, template: Path, directory: Path, name: str) -> Iterator[Api]:
    """A store-mode server on its own SQLite file (a copy of the migrated template)."""
    path = directory / f"{name}.sqlite3"
    shutil.copy(template, path)
    store = msgspec.structs.replace(
        settings,
        database_url=f"sqlite:///{path}",
        mode="store",
        central_url=NO_CENTRE,
        central_key="unused",
        secret_file=str(directory / f"{name}.secret"),
    )
    db = open_database(store.database_url)
    try:
        keys = {
            role: db.run(
                lambda conn, role=role: create_key(conn, store.secret_key.encode(), role, now_us=0)
            ).key
            for role in (Role.ADMIN, Role.INTEGRATOR)
        }
    finally:
        db.close()
    with TestClient(create_app(store)) as client:
        shop = Api(client, keys)
        shop.database_url = store.database_url  # type: ignore[attr-defined]
        yield shop


def outbox(url: str, after: int = 0) -> list[dict[str, Any]]:
    """A store's outbox items after ``after`` (its row id), as the store would push them."""
    db = open_database(url)
    try:
        rows = db.run(
            lambda conn: conn.fetchall(
                "SELECT id, kind, local_id, lane, body, hash, status FROM sync_outbox"
                " WHERE id > :after ORDER BY id",
                {"after": after},
            )
        )
    finally:
        db.close()
    return [
        {
            "id": r["id"],
            "kind": r["kind"],
            "local_id": r["local_id"],
            "lane": r["lane"],
            "body": r["body"],
            "hash": r["hash"],
            "status": r["status"],
        }
        for r in rows
    ]


def push_bytes(items: list[dict[str, Any]], sent_at: int = 0) -> bytes:
    """A push request carrying each body's stored bytes exactly (no re-encoding)."""
    parts = [
        f'{{"kind":{json.dumps(i["kind"])},"local_id":{json.dumps(i["local_id"])},'
        f'"lane":{json.dumps(i["lane"])},"hash":{json.dumps(i["hash"])},"body":{i["body"]}}}'
        for i in items
    ]
    return f'{{"sent_at":{sent_at},"items":[{",".join(parts)}]}}'.encode()


def push(client: TestClient, key: str, items: list[dict[str, Any]], sent_at: int = 0) -> Any:
    return client.post(
        "/api/sync/push",
        content=push_bytes(items, sent_at),
        headers={"Authorization": f"Token {key}", "Content-Type": "application/json"},
    )


def statuses(response: Any) -> list[int]:
    assert response.status_code == 200, response.text
    return [r["status"] for r in response.json()["results"]]


def altered(item: dict[str, Any], change: Any, *, rechain: bool = False) -> dict[str, Any]:
    """``item`` with its body changed by ``change(body)`` and its hash recomputed (what a
    store with other content under the same key would send). ``rechain``: a receipt's own
    chain hash recomputed too, so only the change itself is what differs."""
    body = json.loads(item["body"])
    change(body)
    if rechain:
        receipt = {**body["receipt"], **body["chain_ids"]}
        body["receipt"]["hash"] = chain_hash(
            body["receipt"]["prev_hash"], hash_content(receipt, body["rows"], body["payments"])
        )
    raw = canonical(body)
    return {**item, "body": raw.decode(), "hash": content_hash(raw)}


def query(url: str, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    db = open_database(url)
    try:
        rows = db.run(lambda conn: conn.fetchall(sql, params or {}))
    finally:
        db.close()
    return [dict(r) for r in rows]


WALK_IN = {
    "rows": [{"text": "Maisiņš", "price": "0.10", "tax": 3, "quantity": 2}],
    "payments": [{"method_id": 1}],
}
