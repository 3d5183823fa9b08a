"""Issue #11, hole 2: one money limit on every path that creates money, through the real app.

Documents (invoice post, row edits at completion, walk-in sales, refunds, payments) stop at
``MAX_TOTAL``, shifts at ``MAX_SHIFT_TOTAL`` and grand totals at ``MAX_GRAND_TOTAL``
(docs/security.md, "Money"). Whatever was refused, the shift still closes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from minipos.auth.principal import Role
from minipos.config import Settings
from minipos.domain.money import MAX_GRAND_TOTAL, MAX_SHIFT_TOTAL, MAX_TOTAL, to_minor
from support import Api, Station, post_invoice, register, run_sql, verify_database

HUGE_QUANTITY, HUGE_PRICE = "999999.999", "99999999.99"
HUGE_ROW = {"text": "Zelts", "quantity": HUGE_QUANTITY, "price": HUGE_PRICE}
ROW_OVER = "Quantity × price (99999999890000) may not exceed 9999999999.99 on one row."
#: 100 × 99,999,999.99 + 0.99: a document of exactly MAX_TOTAL.
FULL_ROWS = [
    {"text": "Zelts", "quantity": 100, "price": "99999999.99"},
    {"text": "Maisiņš", "quantity": 1, "price": "0.99"},
]


@pytest.fixture
def pos1(api: Api) -> Station:
    station = register(api, "POS1", "01")
    assert station.open_shift().status_code == 200
    return station


def sell(station: Station, request_id: str, rows: list[dict[str, Any]], **body: Any) -> Any:
    return station.post(
        f"/api/stations/{station.id}/receipts",
        {"request_id": request_id, "rows": rows, "payments": [{"method_id": 1}], **body},
    )


def receipts(api: Api) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = api.as_(Role.ADMIN).get("/api/receipts").json()
    return listed


def exact(response: Any) -> Any:
    """The answer with its numbers as ``Decimal``: floats cannot hold 99,999,999,999.99."""
    return response.json(parse_float=Decimal)


def test_a_huge_walk_in_row_is_refused_naming_the_field(api: Api, pos1: Station) -> None:
    refused = sell(pos1, "huge", [HUGE_ROW])
    assert refused.status_code == 400, refused.text
    assert refused.json() == {"rows": [{"quantity": [ROW_OVER]}]}
    assert receipts(api) == []


def test_a_thousand_large_rows_are_refused_not_a_500(api: Api, pos1: Station) -> None:
    each_fits = [{"text": f"Zelts {n}", "quantity": 100, "price": HUGE_PRICE} for n in range(1000)]
    refused = sell(pos1, "many", each_fits)
    assert refused.status_code == 400, refused.text
    assert refused.json() == {
        "rows": [
            "The rows add up to 9999999999000 before discounts; one document may not exceed"
            " 9999999999.99."
        ]
    }
    huge = sell(pos1, "many-huge", [HUGE_ROW] * 1000)
    assert huge.status_code == 400
    assert huge.json() == {"rows": [{"quantity": [ROW_OVER]}] * 1000}
    assert receipts(api) == []


def test_large_sales_refused_and_the_shift_still_closes(
    api: Api, pos1: Station, settings: Settings
) -> None:
    """The issue's report: two large sales used to leave a shift that could never close."""
    assert sell(pos1, "big-1", [HUGE_ROW]).status_code == 400
    assert sell(pos1, "big-2", [HUGE_ROW]).status_code == 400
    assert sell(pos1, "fits", FULL_ROWS).status_code == 201
    closed = pos1.close_shift()
    assert closed.status_code == 200, closed.text
    assert (exact(closed)["report"]["sales"], exact(closed)["grand_total"]) == (
        MAX_TOTAL,
        MAX_TOTAL,
    )
    assert pos1.open_shift().status_code == 200
    assert verify_database(settings.database_url) == []


def test_a_full_shift_refuses_the_next_receipt_and_closes(
    api: Api, pos1: Station, settings: Settings
) -> None:
    for n in range(10):  # ten documents of MAX_TOTAL: MAX_SHIFT_TOTAL less 9 cents
        assert sell(pos1, f"full-{n}", FULL_ROWS).status_code == 201
    refund = sell(pos1, "refund", [{"text": "Maisiņš", "price": "0.10"}], mode=3)
    assert refund.status_code == 409  # refunds move money too: they count against the shift
    assert refund.json() == {
        "detail": "This receipt would take the shift's receipts to 100000000000,"
        " past the shift limit of 99999999999.99. Close the shift (Z-report) and open a new one."
    }
    assert sell(pos1, "last", [{"text": "Maisiņš", "price": "0.09"}]).status_code == 201
    assert sell(pos1, "over", [{"text": "Maisiņš", "price": "0.01"}]).status_code == 409
    numbers = sorted(int(r["document_id"]) for r in receipts(api))
    assert numbers == list(range(1, 12))  # the refusals took no number
    closed = pos1.close_shift()
    assert closed.status_code == 200, closed.text
    assert exact(closed)["report"]["receipts"] == 11
    assert exact(closed)["report"]["sales"] == exact(closed)["grand_total"] == MAX_SHIFT_TOTAL
    assert pos1.open_shift().status_code == 200
    assert sell(pos1, "next-shift", [{"text": "Maisiņš", "price": "0.01"}]).status_code == 201
    assert verify_database(settings.database_url) == []


def test_a_huge_weighed_free_price_edit_is_refused_naming_the_field(
    api: Api, pos1: Station
) -> None:
    invoice = post_invoice(
        api,
        {
            "rows": [
                {"text": "Maize", "quantity": 1, "price": 1},
                {"text": "Siers", "quantity": 1, "price": 1, "is_weight": True,
                 "is_free_price": True},
            ]
        },
    )  # fmt: skip
    row = invoice["rows"][1]["id"]
    assert pos1.claim(invoice["id"]).status_code == 200
    refused = pos1.complete(
        invoice["id"],
        rows=[{"id": row, "quantity": HUGE_QUANTITY, "price": HUGE_PRICE}],
        payments=[{"method_id": 1}],
    )
    assert refused.status_code == 400, refused.text
    assert refused.json() == {"rows": [{"quantity": [ROW_OVER]}]}
    fetched = api.as_(Role.INTEGRATOR).get(f"/api/invoice/{invoice['id']}").json()
    assert (fetched["status"], fetched["receipts"]) == (20, [])
    done = pos1.complete(
        invoice["id"],
        rows=[{"id": row, "quantity": 100, "price": "99999999.98"}],
        payments=[{"method_id": 1}],
    )
    assert done.status_code == 200, done.text
    assert exact(done)["total_sum"] == Decimal("9999999999")  # 1 + 9,999,999,998
    assert pos1.close_shift().status_code == 200


def test_refunds_are_held_to_the_same_limit(api: Api, pos1: Station) -> None:
    walk_in = sell(pos1, "refund-huge", [HUGE_ROW], mode=3)
    assert walk_in.status_code == 400
    assert walk_in.json() == {"rows": [{"quantity": [ROW_OVER]}]}
    posted = api.as_(Role.INTEGRATOR).post("/api/invoice/new", json={"mode": 2, "rows": [HUGE_ROW]})
    assert posted.status_code == 400
    assert posted.json() == {"rows": [{"quantity": [ROW_OVER]}]}
    assert sell(pos1, "sale", FULL_ROWS).status_code == 201
    against = sell(
        pos1,
        "refund-all",
        FULL_ROWS,
        mode=3,
        parent_document_id="1",
        parent_pos_id="1",
    )
    assert against.status_code == 201, against.text
    closed = exact(pos1.close_shift())["report"]
    assert (closed["sales"], closed["refunds"], closed["turnover"]) == (MAX_TOTAL, MAX_TOTAL, 0)


def test_an_invoice_post_is_held_to_the_limit(api: Api) -> None:
    integrator = api.as_(Role.INTEGRATOR)
    over = integrator.post(
        "/api/invoice/new",
        json={
            "rows": [*FULL_ROWS, {"text": "Vēl", "quantity": 1, "price": "0.01"}],
            "discount": 100,
            "discount_type": "percent",
        },
    )
    assert over.status_code == 400  # discounts do not make room: every figure stays bounded
    assert over.json() == {
        "rows": [
            "The rows add up to 10000000000 before discounts; one document may not exceed"
            " 9999999999.99."
        ]
    }
    assert integrator.post("/api/invoice/new", json={"rows": FULL_ROWS}).status_code == 200


def test_a_station_near_its_grand_total_limit_may_not_open_a_shift(
    api: Api, settings: Settings
) -> None:
    station = register(api, "POS1", "01")
    room = to_minor(MAX_GRAND_TOTAL - MAX_SHIFT_TOTAL, 2)
    run_sql(settings.database_url, f"UPDATE stations SET grand_total = {room + 1}")
    refused = station.open_shift()
    assert refused.status_code == 409
    assert "9999999999999999.99" in refused.json()["detail"]
    run_sql(settings.database_url, f"UPDATE stations SET grand_total = {room}")
    assert station.open_shift().status_code == 200  # a full shift still fits: it can close


@pytest.mark.parametrize(
    ("tamper", "finding"),
    [
        (
            "UPDATE receipts SET bruto_amount = 1000000000000 WHERE document_id = '1'",
            "receipt 1: bruto_amount 10000000000, past the limit 9999999999.99 of one document",
        ),
        (
            "UPDATE receipts SET changed_amount = -1 WHERE document_id = '1'",
            "receipt 1: changed_amount -0.01, past the limit 9999999999.99 of one document",
        ),
        (
            "UPDATE shifts SET volume = 1",
            "Z 1: volume 1 is not the sum of its receipts (1000)",
        ),
        (
            "UPDATE stations SET grand_total = 9000000000000000000",
            "grand total 90000000000000000, past the limit 9999999999999999.99 of a station",
        ),
    ],
)
def test_verify_reports_figures_past_the_limits(
    api: Api, pos1: Station, settings: Settings, tamper: str, finding: str
) -> None:
    assert sell(pos1, "s", [{"text": "Maize", "price": 10}]).status_code == 201
    assert verify_database(settings.database_url) == []
    run_sql(settings.database_url, tamper)
    problems = verify_database(settings.database_url)
    assert any(finding in p for p in problems), problems


def test_verify_reports_a_shift_past_its_limit(api: Api, pos1: Station, settings: Settings) -> None:
    """Receipts each within the document limit, together past the shift's: as if stored by
    SQL or by a server without the shift limit. The hashes still agree; the sum does not."""
    for n in range(10):
        assert sell(pos1, f"full-{n}", FULL_ROWS).status_code == 201
    run_sql(settings.database_url, "UPDATE shifts SET volume = 0")
    for n in range(10, 12):
        assert sell(pos1, f"full-{n}", FULL_ROWS).status_code == 201
    problems = verify_database(settings.database_url)
    assert any(
        "Z 1: receipts add up to 119999999999.88, past the limit 99999999999.99 of one shift" in p
        for p in problems
    ), problems
