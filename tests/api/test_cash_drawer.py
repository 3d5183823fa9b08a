"""The cash drawer and the Z-report's contents (issue 14; docs/fiscal.md, docs/stations.md):
the opening float, cash in and out with a reason, the counted cash against the expected cash,
the counts by document type and the discounts, on X and Z, in the API and on paper."""

from __future__ import annotations

from typing import Any

import pytest

from minipos.auth.principal import Role
from minipos.db import open_database
from minipos.receipts import audit
from minipos.receipts.audit import report_content
from support import Api, Station, post_invoice, register, verify_database


def _sale(
    station: Station, request_id: str, price: str, pay: list[dict[str, Any]], **more: Any
) -> Any:
    response = station.post(
        f"/api/stations/{station.id}/receipts",
        {
            "request_id": request_id,
            "rows": [{"text": "Kafija", "price": price, "tax": 1}],
            "payments": pay,
            "cashier_name": "Anna",
            **more,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_drawer_on_x_and_z(api: Api, settings: Any) -> None:
    pos = register(api, "Kase 1", "01")
    opened = pos.post(
        f"/api/stations/{pos.id}/shift/open", {"cashier_name": "Anna", "opening_float": "100.00"}
    )
    assert opened.status_code == 200, opened.text
    # A cash sale of 7.86 paid with 20 (12.14 change), a card sale, a cash refund of 1.19.
    _sale(pos, "s1", "7.86", [{"method_id": 1, "amount": 20}], discount=0)
    _sale(pos, "s2", "5.00", [{"method_id": 2, "amount": 4}], discount=1, discount_type="amount")
    refund = pos.post(
        f"/api/stations/{pos.id}/receipts",
        {
            "request_id": "r1",
            "mode": 3,
            "rows": [{"text": "Kafija", "price": "1.19", "tax": 1}],
            "payments": [{"method_id": 1}],
        },
    )
    assert refund.status_code == 201, refund.text
    cash_in = pos.post(
        f"/api/stations/{pos.id}/shift/cash-in",
        {"amount": "50", "reason": "Maiņas nauda no seifa", "cashier_name": "Anna"},
    )
    assert cash_in.status_code == 200, cash_in.text
    out = pos.post(
        f"/api/stations/{pos.id}/shift/cash-out", {"amount": 30.5, "reason": "Inkasācija"}
    )
    assert out.status_code == 200, out.text
    drawer = out.json()["report"]["drawer"]
    # 100 + 20 - 12.14 - 1.19 + 50 - 30.50 = 126.17
    assert drawer == {
        "opening_float": 100,
        "cash_sales": 20,
        "change": 12.14,
        "cash_refunds": 1.19,
        "cash_in": 50,
        "cash_out": 30.5,
        "expected": 126.17,
        "counted": None,
        "difference": None,
        "movements": [
            {"kind": "float", "amount": 100, "reason": None, "cashier_name": "Anna", "at": drawer["movements"][0]["at"]},
            {"kind": "in", "amount": 50, "reason": "Maiņas nauda no seifa", "cashier_name": "Anna", "at": drawer["movements"][1]["at"]},
            {"kind": "out", "amount": 30.5, "reason": "Inkasācija", "cashier_name": None, "at": drawer["movements"][2]["at"]},
        ],
    }  # fmt: skip
    x = pos.get(f"/api/stations/{pos.id}/shift/x-report").json()["report"]
    assert x["drawer"] == drawer
    assert x["counts"] == {
        "sales": 2,
        "refunds": 1,
        "supporting_documents": 0,
        "cancelled_invoices": 0,
        "training": 0,
    }
    assert (x["sale_discounts"], x["refund_discounts"]) == (1, 0)

    # Taking out more than the drawer should hold is refused; nothing is written.
    too_much = pos.post(
        f"/api/stations/{pos.id}/shift/cash-out", {"amount": "126.18", "reason": "x"}
    )
    assert too_much.status_code == 409, too_much.text

    # A receipt's supporting document and a cancelled invoice are counted on the Z.
    first = api.as_(Role.ADMIN).get(f"/api/receipts?station_id={pos.id}&document_id=1").json()[0]
    assert api.as_(Role.ADMIN).post(f"/api/receipts/{first['id']}/reprint").status_code in (
        200,
        201,
    )
    invoice = post_invoice(api)
    assert pos.claim(invoice["id"]).status_code == 200
    assert pos.post(f"/api/invoice/{invoice['id']}/cancel").status_code == 200

    closed = pos.post(
        f"/api/stations/{pos.id}/shift/close", {"cashier_name": "Jānis", "counted_cash": "126.00"}
    )
    assert closed.status_code == 200, closed.text
    z = closed.json()["report"]
    assert (z["drawer"]["expected"], z["drawer"]["counted"], z["drawer"]["difference"]) == (
        126.17,
        126,
        -0.17,
    )
    assert z["counts"] == {
        "sales": 2,
        "refunds": 1,
        "supporting_documents": 1,
        "cancelled_invoices": 1,
        "training": 0,
    }
    # The Z as frozen reads back the same, and the journal holds it as printed.
    detail = api.as_(Role.ADMIN).get(f"/api/shifts/{closed.json()['id']}").json()
    assert detail["report"] == z
    journal = api.as_(Role.ADMIN).get(f"/api/journal?station_id={pos.id}").json()
    text = next(e["text"] for e in journal if e["kind"] == "z_report")
    for line in (
        "Sākuma atlikums",
        "100.00",
        "Iemaksa",
        "Maiņas nauda no seifa",
        "Izmaksa",
        "-30.50",
        "Inkasācija",
        "Jābūt kasē",
        "126.17",
        "Saskaitīts",
        "126.00",
        "Starpība",
        "-0.17",
        "Attaisnojuma dokumenti",
        "Atceltie rēķini",
        "Mācību dokumenti",
        "Atlaides pārdošanā",
    ):
        assert line in text, line
    assert verify_database(settings.database_url) == []


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("shift/cash-in", {"amount": "-1", "reason": "x"}, "amount"),
        ("shift/cash-in", {"amount": "0", "reason": "x"}, "amount"),
        ("shift/cash-in", {"amount": "1.001", "reason": "x"}, "amount"),
        ("shift/cash-out", {"amount": "10000000000", "reason": "x"}, "amount"),
        ("shift/cash-in", {"amount": "NaN", "reason": "x"}, "amount"),
        ("shift/cash-in", {"amount": 1, "reason": ""}, "reason"),
        ("shift/cash-in", {"amount": 1}, "reason"),
        ("shift/cash-in", {"amount": "x", "reason": "y"}, "amount"),
        ("shift/close", {"counted_cash": "-0.01"}, "counted_cash"),
        ("shift/close", {"counted_cash": "1e400"}, "counted_cash"),
    ],
)
def test_bad_drawer_input_is_a_400_naming_the_field(
    api: Api, path: str, body: dict[str, Any], field: str
) -> None:
    pos = register(api, "Kase 1", "01")
    assert pos.open_shift().status_code == 200
    response = pos.post(f"/api/stations/{pos.id}/{path}", body)
    assert response.status_code == 400, response.text
    assert field in response.text
    bad_float = register(api, "Kase 2", "02").post(
        "/api/stations/2/shift/open", {"opening_float": "1.234"}
    )
    assert bad_float.status_code == 400
    assert "opening_float" in bad_float.text


def test_cash_moves_need_an_open_shift(api: Api) -> None:
    pos = register(api, "Kase 1", "01")
    response = pos.post(f"/api/stations/{pos.id}/shift/cash-in", {"amount": 1, "reason": "x"})
    assert response.status_code == 409


def test_sql_sums_equal_the_receipts_added_up(api: Api, settings: Any) -> None:
    """The X/Z figures summed in SQL are exactly ``add_up`` over each receipt (which
    ``minipos verify`` and a chain's centre use): VAT per receipt and rate, change out of the
    cash payments in order, refunds subtracted."""
    pos = register(api, "Kase 1", "01")
    assert pos.open_shift().status_code == 200
    shift_id = pos.get(f"/api/stations/{pos.id}").json()["open_shift"]
    empty = _both_totals(settings.database_url, shift_id)
    assert empty[0] == empty[1]
    for n, (prices, pay) in enumerate(
        [
            (["1.01", "2.02", "0.99"], [{"method_id": 1, "amount": 2}, {"method_id": 2, "amount": 1}, {"method_id": 1, "amount": 10}]),
            (["12.34"], [{"method_id": 2}]),
            (["0.07", "0.05", "9.99"], [{"method_id": 1, "amount": 50}]),
            (["3.33"], [{"method_id": 1, "amount": 1}, {"method_id": 1, "amount": 5}]),
        ]
    ):  # fmt: skip
        response = pos.post(
            f"/api/stations/{pos.id}/receipts",
            {
                "request_id": f"s{n}",
                "rows": [{"text": f"P{i}", "price": p, "tax": i % 3} for i, p in enumerate(prices)],
                "discount": 3,
                "discount_type": "percent",
                "payments": pay,
            },
        )
        assert response.status_code == 201, response.text
    refund = pos.post(
        f"/api/stations/{pos.id}/receipts",
        {
            "request_id": "r",
            "mode": 3,
            "rows": [{"text": "P0", "price": "1.01", "tax": 0}, {"text": "P1", "price": "2.02", "tax": 1}],
            "payments": [{"method_id": 1}],
        },
    )  # fmt: skip
    assert refund.status_code == 201, refund.text
    by_sql, by_receipt = _both_totals(settings.database_url, shift_id)
    assert by_sql == by_receipt
    assert report_content(by_sql) == report_content(by_receipt)
    assert str(by_sql.sales) == str(by_receipt.sales)
    closed = pos.post(f"/api/stations/{pos.id}/shift/close", {"counted_cash": 0})
    assert closed.status_code == 200
    assert verify_database(settings.database_url) == []


def _both_totals(url: str, shift_id: int) -> tuple[Any, Any]:
    db = open_database(url)
    try:
        return db.run(
            lambda conn: (
                audit.shift_totals(conn, shift_id, {1}),
                audit.receipt_totals(conn, shift_id, {1}),
            )
        )
    finally:
        db.close()
