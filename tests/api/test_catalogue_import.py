"""``POST /api/catalogue/import`` through the real app (docs/catalogue.md, "Import and
export"): dry run, apply, update by code, decimal comma, errors per row, its own body limit,
and a manager's session may import."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.testclient import TestClient

from minipos.auth import people
from minipos.auth.principal import Role
from minipos.catalogue.routes import MAX_IMPORT_BYTES
from minipos.config import Settings
from minipos.db import Connection, open_database
from support import Api

PATH = "/api/catalogue/import"
CSV = {"Content-Type": "text/csv"}

FIRST = """\
name,price,code,barcodes,tax
Maize,1.20,1,4750001|4750002,0
Piens,0.89,2,4750003,0
"""
#: A Latvian spreadsheet's save: semicolons, decimal commas, a BOM.
SECOND = "\ufeffname;price;code;barcodes\nMaize;1,50;1;4750001|4750002\nPiens;0,89;2;4750003\n"
SECOND += "Kafija;4,99;3;4750010\n"


def post(api: Api, body: str | bytes, query: str = "", **headers: str) -> Any:
    content = body.encode() if isinstance(body, str) else body
    return api.as_(Role.ADMIN).post(PATH + query, content=content, headers=headers or CSV)


def feed(api: Api) -> list[dict[str, Any]]:
    response = api.as_(Role.STATION).get("/api/products?updated_since=0")
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


def test_dry_run_then_apply(api: Api) -> None:
    created = post(api, FIRST)
    assert created.status_code == 200, created.text
    assert created.json() | {"changes": []} == {
        "dry_run": False,
        "unit": "line",
        "rows": 2,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "changes": [],
        "errors": [],
    }
    before = feed(api)

    dry = post(api, SECOND, "?dry_run=1")
    assert dry.status_code == 200, dry.text
    answer = dry.json()
    assert (answer["dry_run"], answer["created"], answer["updated"], answer["unchanged"]) == (
        True,
        1,
        1,
        1,
    )
    assert answer["changes"] == [
        {
            "line": 2,
            "action": "update",
            "id": 1,
            "code": 1,
            "name": "Maize",
            "changes": [{"field": "price", "before": "1.20", "after": "1.50"}],
        },
        {"line": 4, "action": "create", "id": None, "code": 3, "name": "Kafija", "changes": []},
    ]
    assert feed(api) == before  # nothing written

    applied = post(api, SECOND)
    assert applied.status_code == 200, applied.text
    assert (applied.json()["created"], applied.json()["updated"]) == (1, 1)
    after = {p["id"]: p for p in feed(api)}
    assert after[1]["price"] == 1.5
    assert after[2]["revision"] == before[1]["revision"]  # unchanged: same revision
    assert after[3]["name"] == "Kafija"

    again = post(api, SECOND)  # the same file twice: nothing to do
    assert (again.json()["updated"], again.json()["unchanged"]) == (0, 3)


def test_reimporting_the_export_through_the_api_is_a_no_op(api: Api) -> None:
    post(api, FIRST)
    before = feed(api)
    products = api.as_(Role.ADMIN).get("/api/products").json()
    body = [
        {k: v for k, v in p.items() if k not in ("id", "created_at", "updated_at")}
        for p in products
    ]
    response = post(api, json.dumps(body), **{"Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    assert (response.json()["unit"], response.json()["unchanged"]) == ("index", 2)
    assert feed(api) == before


def test_bad_rows_are_listed_and_nothing_is_written(api: Api) -> None:
    bad = "name;price;code;tax\nA;1,505;5;0\nB;2;6;99\nC;x;7;0\n"
    dry = post(api, bad, "?dry_run=true")
    assert dry.status_code == 400, dry.text
    assert dry.json()["dry_run"] is True
    assert [(e["line"], e["field"]) for e in dry.json()["errors"]] == [
        (2, "price"),
        (3, "tax"),
        (4, "price"),
    ]
    refused = post(api, bad)
    assert refused.status_code == 400
    assert refused.json()["errors"] == dry.json()["errors"]
    assert feed(api) == []


@pytest.mark.parametrize(
    ("body", "headers", "status", "detail"),
    [
        ("", CSV, 400, "the file is empty"),
        # A cell past the csv module's field limit was a 500 (_csv.Error).
        ("name,price\n" + "X" * 200_000 + ",1\n", CSV, 400, "line 2: field larger than"),
        ("X" * 200_000 + "\n", CSV, 400, "line 1: field larger than"),
        ("name,prcie\n", CSV, 400, "unknown column(s) prcie"),
        (b"\xff\xfe", CSV, 400, "not valid UTF-8"),
        ("{}", {"Content-Type": "application/json"}, 400, "expected a JSON array"),
        ("[", {"Content-Type": "application/json"}, 400, "JSON parse error"),
        ("name,price\n", {"Content-Type": "application/xml"}, 415, "application/xml"),
    ],
)
def test_unreadable_files_are_a_4xx_naming_why(
    api: Api, body: str | bytes, headers: dict[str, str], status: int, detail: str
) -> None:
    response = post(api, body, **headers)
    assert response.status_code == status, response.text
    assert detail in response.json()["detail"]


def test_the_import_has_its_own_body_limit(api: Api, settings: Settings) -> None:
    # Larger than MINIPOS_MAX_BODY_BYTES is fine up to the import's own limit.
    rows = "".join(f"P{i},1.00,{i},{4750000000 + i}\n" for i in range(1, 40_001))
    body = "name,price,code,barcodes\n" + rows
    assert settings.max_body_bytes < len(body) < MAX_IMPORT_BYTES
    response = post(api, body, "?dry_run=1&show=5")
    assert response.status_code == 200, response.text
    assert (response.json()["created"], len(response.json()["changes"])) == (40_000, 5)
    too_big = api.as_(Role.ADMIN).post(
        PATH, content=b"x", headers={**CSV, "Content-Length": str(MAX_IMPORT_BYTES + 1)}
    )
    assert too_big.status_code == 413


def test_a_manager_session_imports(api: Api, settings: Settings) -> None:
    password = "correct horse battery"

    def add_manager(conn: Connection) -> None:
        for table in ("office_login_failures", "office_sessions", "office_users"):
            conn.execute(f"DELETE FROM {table}")  # PostgreSQL keeps rows between tests
        people.add_user(conn, "maris", people.OfficeRole.MANAGER, password, 0)

    db = open_database(settings.database_url)
    try:
        db.run(add_manager)
    finally:
        db.close()
    office: TestClient = api.as_(None)
    signed_in = office.post("/office/login", json={"name": "maris", "password": password})
    assert signed_in.status_code == 200, signed_in.text
    token = {"X-CSRF-Token": signed_in.json()["csrf_token"]}
    response = office.post(PATH, content=FIRST.encode(), headers={**CSV, **token})
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 2
    assert office.post(PATH, content=FIRST.encode(), headers=CSV).status_code == 403  # no CSRF
    station = api.as_(Role.STATION).post(PATH, content=FIRST.encode(), headers=CSV)
    assert station.status_code == 403
