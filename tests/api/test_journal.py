"""The electronic journal (issue 14): every printed fiscal document's text, kept when it is
issued, chained per station; ``GET /api/journal``, ``minipos journal export``, ``verify``; and
the lv profile's supporting documents in place of copies (docs/fiscal.md)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from minipos.auth.principal import Role
from minipos.bootstrap import create_app
from minipos.cli import app as cli_app
from minipos.config import Settings
from minipos.db import Connection, open_database
from minipos.domain.fiscal import FISCAL_CORE_VERSION
from minipos.print_jobs import repository
from minipos.print_jobs.documents import PrintContext, job_document
from minipos.print_jobs.settings import PrintSettings
from minipos.printing import PrinterProfile, to_text
from support import Api, Station, register, run_sql, verify_database

SALE: dict[str, Any] = {
    "request_id": "s1",
    "cashier_name": "Anna",
    "rows": [
        {"text": "Maize", "quantity": 2, "price": "1.50"},
        {"text": "Piens", "quantity": 1, "price": "1.19", "tax": 1},
    ],
    "payments": [{"method_id": 1, "amount": "10"}],
}


def _sell(station: Station, request_id: str = "s1") -> dict[str, Any]:
    response = station.post(
        f"/api/stations/{station.id}/receipts", SALE | {"request_id": request_id}
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def _journal(api: Api, **params: Any) -> list[dict[str, Any]]:
    response = api.as_(Role.ADMIN).get("/api/journal", params=params)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


@pytest.fixture
def station(api: Api) -> Station:
    found = register(api, "Kase 1", "01")
    assert found.open_shift().status_code == 200
    return found


def test_every_fiscal_document_is_journaled_as_printed(
    api: Api, station: Station, settings: Settings
) -> None:
    sale = _sell(station)
    refund = station.post(
        f"/api/stations/{station.id}/receipts",
        {
            "request_id": "r1",
            "mode": 3,
            "parent_document_id": sale["document_id"],
            "parent_pos_id": "01",
            "rows": [{"text": "Piens", "quantity": 1, "price": "1.19", "tax": 1}],
            "payments": [{"method_id": 1}],
        },
    )
    assert refund.status_code == 201, refund.text
    copy = api.as_(Role.ADMIN).post(f"/api/receipts/{sale['id']}/reprint")
    assert copy.status_code == 201, copy.text
    assert station.close_shift().status_code == 200

    entries = _journal(api, station_id=station.id)
    assert [(e["seq"], e["kind"], e["document_no"]) for e in entries] == [
        (1, "receipt", "1"),
        (2, "refund", "2"),
        (3, "supporting_document", "1"),
        (4, "z_report", "1"),
    ]
    assert {e["chassis_id"] for e in entries} == {"CH01"}
    assert entries[0]["prev_hash"] == "0" * 64
    assert [e["prev_hash"] for e in entries[1:]] == [e["hash"] for e in entries[:-1]]
    # The receipt's journal text is its printout (the preview draws what the printer gets).
    preview = api.as_(Role.ADMIN).get(f"/api/receipts/{sale['id']}/preview")
    assert entries[0]["text"] == preview.text
    assert "ATGRIEŠANA" in entries[1]["text"]
    assert "ATTAISNOJUMA DOKUMENTS" in entries[2]["text"]
    assert re.search(rf"^Fiskālais kodols +{FISCAL_CORE_VERSION}$", entries[3]["text"], re.M)
    assert re.search(r"^Šasijas Nr\. +CH01$", entries[3]["text"], re.M)
    assert verify_database(settings.database_url) == []


def test_verify_names_a_tampered_journal_line(
    api: Api, station: Station, settings: Settings
) -> None:
    _sell(station)
    _sell(station, "s2")
    assert verify_database(settings.database_url) == []
    run_sql(
        settings.database_url,
        "UPDATE journal SET text = replace(text, 'Piens', 'Kefīrs') WHERE seq = 2",
    )
    problems = verify_database(settings.database_url)
    assert any("journal 2 (receipt 2): content does not match its hash" in p for p in problems)
    differs = [p for p in problems if "line" in p]
    assert len(differs) == 1, problems
    assert re.search(
        r"station \d+ \(Kase 1\) journal 2 \(receipt 2\): line \d+ differs: journal "
        r"'Kefīrs', stored data prints 'Piens'",
        differs[0],
    ), differs


def test_journal_list_filters_pages_and_refuses_bad_input(api: Api, station: Station) -> None:
    for number in range(3):
        _sell(station, f"s{number}")
    other = register(api, "Kase 2", "02")
    assert other.open_shift().status_code == 200
    _sell(other, "o1")
    admin = api.as_(Role.ADMIN)
    assert len(_journal(api)) == 4
    first = admin.get("/api/journal", params={"station_id": station.id, "limit": 2})
    assert first.headers["x-total-count"] == "3"
    assert [e["seq"] for e in first.json()] == [1, 2]
    assert 'rel="next"' in first.headers["link"]
    today = first.json()[0]["issued_at"][:10]
    assert len(_journal(api, station_id=station.id, **{"from": today, "to": today})) == 3
    assert _journal(api, station_id=station.id, to="2000-01-01") == []
    bad = admin.get("/api/journal", params={"from": "yesterday"})
    assert bad.status_code == 400
    assert "from" in bad.json()
    assert api.as_(Role.STATION).get("/api/journal").status_code == 403


def test_lv_copies_are_counted_supporting_documents(
    api: Api, station: Station, settings: Settings
) -> None:
    sale = _sell(station)
    jobs = []
    for _ in range(3):  # the default limit
        response = station.post(f"/api/receipts/{sale['id']}/reprint")
        assert response.status_code == 201, response.text
        jobs.append(response.json())
    assert [(j["is_copy"], j["supporting_number"]) for j in jobs] == [(True, n) for n in (1, 2, 3)]
    refused = station.post(f"/api/receipts/{sale['id']}/reprint")
    assert refused.status_code == 409
    assert "MINIPOS_SUPPORTING_DOCUMENT_LIMIT" in refused.json()["detail"]
    kinds = [e["kind"] for e in _journal(api, station_id=station.id)]
    assert kinds == ["receipt", *["supporting_document"] * 3]  # the refusal left nothing
    # What the printer gets for such a job: the supporting document, never a receipt or copy.
    context = PrintContext(PrintSettings.from_env().shop, settings.zone(), frozenset({1}))
    db = open_database(settings.database_url)
    try:
        text = db.run(lambda conn: _printed(conn, jobs[-1]["id"], context))
    finally:
        db.close()
    assert "ATTAISNOJUMA DOKUMENTS" in text
    assert "Nr. 3 čekam Nr. 1" in text
    assert "čeks" not in text.lower()
    assert "KOPIJA" not in text
    assert verify_database(settings.database_url) == []


def _printed(conn: Connection, job_id: int, context: PrintContext) -> str:
    job = repository.get(conn, job_id)
    assert job is not None
    document = job_document(conn, job, context)
    assert document is not None
    return to_text(document, PrinterProfile())


@pytest.fixture
def generic_api(
    settings: Settings, keys: dict[Role, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Api]:
    monkeypatch.setenv("MINIPOS_FISCAL_PROFILE", "generic")
    with TestClient(create_app(settings)) as client:
        yield Api(client, keys)


def test_generic_keeps_kopija_copies(generic_api: Api) -> None:
    station = register(generic_api, "Kase 1", "01")
    assert station.open_shift().status_code == 200
    sale = _sell(station)
    for _ in range(5):  # no limit
        job = station.post(f"/api/receipts/{sale['id']}/reprint").json()
        assert (job["is_copy"], job["supporting_number"]) == (True, None)
    kinds = [e["kind"] for e in _journal(generic_api)]
    assert kinds == ["receipt"]  # a copy is not a fiscal document


def test_journal_export_writes_plain_text(
    api: Api, station: Station, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sell(station)
    _sell(station, "s2")
    entries = _journal(api, station_id=station.id)
    monkeypatch.setenv("MINIPOS_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("MINIPOS_SECRET_KEY", settings.secret_key)
    today = entries[0]["issued_at"][:10]
    result = CliRunner().invoke(
        cli_app,
        ["journal", "export", "--station", str(station.id), "--from", today, "--to", today],
    )
    assert result.exit_code == 0, result.output
    assert result.output == "".join(
        f"=== {station.id}/{e['seq']} receipt {e['document_no']} chassis CH01 hash {e['hash']} ===\n"
        + e["text"]
        for e in entries
    )
    bad = CliRunner().invoke(cli_app, ["journal", "export", "--station", "1", "--to", "x"])
    assert bad.exit_code == 2
    assert "--to" in bad.output


def test_lv_retry_of_a_printed_receipt_is_a_supporting_document(
    api: Api, station: Station, settings: Settings
) -> None:
    sale = _sell(station)
    [job] = api.as_(Role.ADMIN).get("/api/print-jobs", params={"station_id": station.id}).json()
    run_sql(
        settings.database_url, f"UPDATE print_jobs SET status = 'printed' WHERE id = {job['id']}"
    )
    again = station.post(f"/api/print-jobs/{job['id']}/retry")
    assert again.status_code == 200, again.text
    assert (again.json()["receipt_id"], again.json()["supporting_number"]) == (sale["id"], 1)
    # Retrying that supporting document's job prints the same supporting document again.
    run_sql(
        settings.database_url,
        f"UPDATE print_jobs SET status = 'printed' WHERE id = {again.json()['id']}",
    )
    same = station.post(f"/api/print-jobs/{again.json()['id']}/retry").json()
    assert same["supporting_number"] == 1
    kinds = [e["kind"] for e in _journal(api, station_id=station.id)]
    assert kinds == ["receipt", "supporting_document"]


def test_entries_are_drawn_at_the_station_printers_width(
    api: Api, station: Station, settings: Settings
) -> None:
    """The width comes with the journal's number (one statement): a 32-column printer's
    receipt and supporting document are journaled at 32 columns, as its previews print them."""
    printer = {"kind": "none", "columns": 32}
    put = api.as_(Role.ADMIN).put(f"/api/stations/{station.id}/printer", json=printer)
    assert put.status_code == 200, put.text
    sale = _sell(station)
    copy = api.as_(Role.ADMIN).post(f"/api/receipts/{sale['id']}/reprint")
    assert copy.status_code == 201, copy.text

    entries = _journal(api, station_id=station.id)
    assert [e["kind"] for e in entries] == ["receipt", "supporting_document"]
    preview = api.as_(Role.ADMIN).get(f"/api/receipts/{sale['id']}/preview")
    assert entries[0]["text"] == preview.text
    for entry in entries:
        assert max(len(line) for line in entry["text"].splitlines()) == 32
    assert verify_database(settings.database_url) == []
