"""Training mode (issue 14; docs/fiscal.md, "Training mode"): a station an admin puts in
training issues non-fiscal training documents, marked on paper and on screen, numbered in
their own series, and never in the Z totals, the grand total, /api/receipts, the receipt
chain, the sales reports or the event log as fiscal facts."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from minipos.auth.principal import Role
from minipos.db import open_database
from minipos.print_jobs.documents import PrintContext, job_document
from minipos.printing import PrinterProfile, ShopInfo, to_text
from support import Api, Station, post_invoice, register, verify_database


def _sell(station: Station, request_id: str, price: str = "2.50", **more: Any) -> Any:
    return station.post(
        f"/api/stations/{station.id}/receipts",
        {
            "request_id": request_id,
            "rows": [{"text": "Kafija", "price": price, "tax": 1}],
            "payments": [{"method_id": 1, "amount": 10}],
            "cashier_name": "Anna",
            **more,
        },
    )


def _printed(url: str, job_id: int) -> str:
    """What the print worker sends for a job, as text."""
    db = open_database(url)
    try:
        context = PrintContext(ShopInfo("DEMO SIA (test)"), ZoneInfo("Europe/Riga"), frozenset({1}))

        def draw(conn: Any) -> str:
            job = conn.fetchone("SELECT * FROM print_jobs WHERE id = :id", {"id": job_id})
            document = job_document(conn, job, context)
            assert document is not None
            return to_text(document, PrinterProfile(columns=42))

        return str(db.run(draw))
    finally:
        db.close()


def _training(api: Api, station: Station, on: bool) -> Any:
    response = api.as_(Role.ADMIN).patch(f"/api/stations/{station.id}", json={"training": on})
    assert response.status_code == 200, response.text
    assert response.json()["training"] is on
    return response.json()


def test_training_documents_are_never_fiscal(api: Api, settings: Any) -> None:
    pos = register(api, "Kase 1", "01")
    opened = pos.post(
        f"/api/stations/{pos.id}/shift/open", {"cashier_name": "Anna", "opening_float": 20}
    )
    assert opened.status_code == 200
    real = _sell(pos, "real-1", "7.86")
    assert real.status_code == 201
    assert real.json()["document_id"] == "1"
    events_before = api.as_(Role.INTEGRATOR).get("/api/events?limit=1000").json()

    _training(api, pos, True)
    first = _sell(pos, "t-1")
    assert first.status_code == 201, first.text
    doc = first.json()
    # On screen: marked training and not fiscal, numbered in its own series.
    assert (doc["training"], doc["fiscal"], doc["training_number"]) == (True, False, 1)
    assert "document_id" not in doc
    # On paper: the same text the printer gets, marked non-fiscal, never titled a receipt.
    text = doc["text"]
    assert "MĀCĪBU REŽĪMS" in text
    assert "NEFISKĀLS DOKUMENTS" in text
    assert "ČEKS" not in text
    assert "Čeks Nr." not in text
    assert "Kontrolkods" not in text
    assert "Mācību dok. Nr." in text
    assert _sell(pos, "t-1").json() == doc  # a retry: the same document, nothing new
    second = _sell(pos, "t-2", "3.00").json()
    assert second["training_number"] == 2
    refund = pos.post(
        f"/api/stations/{pos.id}/receipts",
        {
            "request_id": "t-3",
            "mode": 3,
            "rows": [{"text": "Kafija", "price": "1.00", "tax": 1}],
            "payments": [{"method_id": 1}],
        },
    )
    assert refund.status_code == 201
    assert refund.json()["training_number"] == 3
    # An invoice is a real order: a training station cannot complete it (nothing written).
    invoice = post_invoice(api)
    assert pos.claim(invoice["id"]).status_code == 200
    refused = pos.complete(invoice["id"], "inv-1", payments=[{"method_id": 1}])
    assert refused.status_code == 409
    assert "training" in refused.text
    assert pos.post(f"/api/invoice/{invoice['id']}/release").status_code == 200

    # The print queue has the training documents, printed marked non-fiscal.
    jobs = api.as_(Role.ADMIN).get(f"/api/print-jobs?station_id={pos.id}").json()
    training_jobs = [j for j in jobs if j["kind"] == "training"]
    assert len(training_jobs) == 3
    printed = _printed(settings.database_url, training_jobs[0]["id"])
    assert "MĀCĪBU REŽĪMS" in printed
    assert "NEFISKĀLS DOKUMENTS" in printed
    assert "ČEKS" not in printed

    # Not in /api/receipts, not in the event log as a receipt (no event at all).
    receipts = api.as_(Role.ADMIN).get(f"/api/receipts?station_id={pos.id}").json()
    assert [r["document_id"] for r in receipts] == ["1"]
    events_after = api.as_(Role.INTEGRATOR).get("/api/events?limit=1000").json()
    new = [e for e in events_after if e not in events_before]
    assert not [e for e in new if e["type"].startswith(("receipt", "refund"))], new
    # Not in the X or Z totals, nor the grand total: counted as training, nothing more.
    x = pos.get(f"/api/stations/{pos.id}/shift/x-report").json()["report"]
    assert (x["receipts"], x["sales"], x["counts"]["training"]) == (1, 7.86, 3)
    assert x["drawer"]["expected"] == 27.86  # 20 float + 7.86 cash; training cash is not cash

    _training(api, pos, False)
    after = _sell(pos, "real-2", "1.00").json()
    assert after["document_id"] == "2"  # the fiscal series went on without a gap
    closed = pos.post(f"/api/stations/{pos.id}/shift/close", {"counted_cash": "28.86"})
    assert closed.status_code == 200, closed.text
    z = closed.json()
    assert (z["report"]["receipts"], z["report"]["sales"], z["grand_total"]) == (2, 8.86, 8.86)
    assert z["report"]["counts"]["training"] == 3
    assert z["report"]["drawer"]["difference"] == 0
    journal = api.as_(Role.ADMIN).get(f"/api/journal?station_id={pos.id}").json()
    assert [e["kind"] for e in journal] == ["receipt", "receipt", "z_report"]
    z_text = journal[-1]["text"]
    assert "Mācību dokumenti" in z_text
    for group_by in ("station", "product"):  # hourly sums and the receipts themselves
        sales = api.as_(Role.ADMIN).get(f"/api/reports/sales?group_by={group_by}")
        assert sales.status_code == 200, sales.text
        total = sales.json()["total"]
        assert (total["count"], total["refund_count"], total["gross"]) == (2, 0, 8.86)
    assert verify_database(settings.database_url) == []


def test_training_without_a_shift_and_its_switch(api: Api) -> None:
    pos = register(api, "Kase 1", "01")
    assert api.as_(Role.ADMIN).get(f"/api/stations/{pos.id}").json()["training"] is False
    _training(api, pos, True)
    # Training needs no open shift; it never opens one nor takes a Z number.
    doc = _sell(pos, "t-1")
    assert doc.status_code == 201
    assert doc.json()["training_number"] == 1
    assert pos.get(f"/api/stations/{pos.id}").json()["z_number"] is None
    bad = api.as_(Role.ADMIN).patch(f"/api/stations/{pos.id}", json={"training": "yes"})
    assert bad.status_code == 400
    assert "training" in bad.text
    # A station key cannot switch it.
    by_station = pos.client.patch(
        f"/api/stations/{pos.id}", json={"training": False}, headers=pos.headers
    )
    assert by_station.status_code == 403


def test_a_training_refund_is_held_to_a_real_ones_reference_rules(api: Api) -> None:
    """A training sale naming a parent, and a training refund naming a receipt that does not
    exist, were issued: the walk-in's rules are now one piece for both."""
    pos = register(api, "Kase 1", "01")
    _training(api, pos, True)
    sale_with_parent = _sell(pos, "t-1", parent_document_id="1", parent_pos_id="01")
    assert sale_with_parent.json() == {
        "parent_document_id": ["Only a refund (mode 3) has a parent."]
    }
    half = _sell(pos, "t-2", mode=3, parent_document_id="1")
    assert half.json() == {"parent_pos_id": ["Give both parent_document_id and parent_pos_id."]}
    missing = _sell(pos, "t-3", mode=3, parent_document_id="999", parent_pos_id="01")
    assert missing.json() == {
        "parent_document_id": ["No sale receipt with this number at that POS."]
    }
    # A refund without an original, as at a real station.
    unnamed = _sell(pos, "t-4", mode=3, payments=[{"method_id": 1}])
    assert unnamed.status_code == 201, unnamed.text
    assert unnamed.json()["training_number"] == 1
