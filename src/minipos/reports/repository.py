"""The sales report's SQL: the hourly aggregates (``sales_hourly``) and, for what they do not
hold, the receipts themselves over ``ix_receipts_print_time``.

Every query answers one row per group with the same integer columns (cents; counts), summed in
SQL: ``sale_count``, ``refund_count``, ``gross``, ``net``, ``vat``, ``refunds``, ``discounts``
and, for rows, ``quantity`` (thousandths). A refund's figures count negative.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from minipos.db import Connection, Row
from minipos.domain.receipt import ReceiptMode

_REFUND = int(ReceiptMode.REFUND)
_SIGN = f"CASE WHEN r.mode = {_REFUND} THEN -1 ELSE 1 END"
_COUNTS = (
    f"SUM(CASE WHEN r.mode = {_REFUND} THEN 0 ELSE 1 END) AS sale_count,"
    f" SUM(CASE WHEN r.mode = {_REFUND} THEN 1 ELSE 0 END) AS refund_count"
)
#: A receipt's figures, refunds negative; its discounts are its rows' (line and document).
_RECEIPT_FIGURES = (
    f"{_COUNTS}, SUM({_SIGN} * r.bruto_amount) AS gross, SUM({_SIGN} * r.neto_amount) AS net,"
    f" SUM({_SIGN} * r.tax_amount) AS vat,"
    f" SUM(CASE WHEN r.mode = {_REFUND} THEN r.bruto_amount ELSE 0 END) AS refunds,"
    f" SUM({_SIGN} * COALESCE((SELECT SUM(x.discount_amount) FROM receipt_rows x"
    " WHERE x.receipt_id = r.id), 0)) AS discounts"
)
_HOURLY_FIGURES = (
    "SUM(h.sale_count) AS sale_count, SUM(h.refund_count) AS refund_count,"
    " SUM(h.gross) AS gross, SUM(h.net) AS net, SUM(h.vat) AS vat, SUM(h.refunds) AS refunds,"
    " SUM(h.discounts) AS discounts"
)


def _vat(gross: str, rate: str) -> str:
    """SQL for ``domain.money.vat``'s tax: gross × rate / (100 % + rate) rounded half away
    from zero to the cent, in integers (rates are hundredths of a percent)."""
    return (
        f"(CASE WHEN {gross} < 0 THEN -1 ELSE 1 END) * ((ABS({gross}) * {rate} * 2"
        f" + 10000 + {rate}) / (2 * (10000 + {rate})))"
    )


def _where(filters: dict[str, Any], time_column: str) -> tuple[str, dict[str, Any]]:
    """The period and the station or store filter of a query over ``r`` (receipts) or ``h``."""
    table = time_column.split(".", maxsplit=1)[0]
    conditions = [f"{time_column} >= :from_us", f"{time_column} < :to_us"]
    params = {"from_us": filters["from_us"], "to_us": filters["to_us"]}
    if filters.get("station_id") is not None:
        conditions.append(f"{table}.station_id = :station_id")
        params["station_id"] = filters["station_id"]
    if filters.get("store_id") is not None:
        conditions.append(
            f"{table}.station_id IN (SELECT id FROM stations WHERE store_id = :store_id)"
        )
        params["store_id"] = filters["store_id"]
    return " AND ".join(conditions), params


def without_jit(conn: Connection) -> None:
    """PostgreSQL: no JIT compilation for this transaction's queries. A month of receipts
    costs the planner enough to compile them, which took ~580 ms of a ~700 ms query here
    (docs/reports.md); run as they are they take ~330 ms. SQLite: nothing to do."""
    if conn.dialect == "postgresql":
        conn.execute("SET LOCAL jit = off")


# --- from the hourly aggregates -----------------------------------------------------------------


def hourly_by_hour(conn: Connection, filters: dict[str, Any]) -> list[Row]:
    where, params = _where(filters, "h.hour")
    return conn.fetchall(
        f"SELECT h.hour AS bucket, {_HOURLY_FIGURES} FROM sales_hourly h"
        f" WHERE {where} GROUP BY h.hour",
        params,
    )


def hourly_by_station(conn: Connection, filters: dict[str, Any]) -> list[Row]:
    where, params = _where(filters, "h.hour")
    return conn.fetchall(
        f"SELECT h.station_id AS grp, {_HOURLY_FIGURES} FROM sales_hourly h"
        f" WHERE {where} GROUP BY h.station_id",
        params,
    )


def hourly_tax_groups(conn: Connection, filters: dict[str, Any]) -> list[Row]:
    where, params = _where(filters, "h.hour")
    return conn.fetchall(
        "SELECT h.tax AS grp, h.tax_rate AS rate, SUM(h.sale_count) AS sale_count,"
        " SUM(h.refund_count) AS refund_count, SUM(h.gross) AS gross,"
        " SUM(h.gross) - SUM(h.vat) AS net, SUM(h.vat) AS vat, SUM(h.refunds) AS refunds,"
        " SUM(h.discounts) AS discounts, SUM(h.quantity) AS quantity"
        f" FROM sales_hourly_tax h WHERE {where} GROUP BY h.tax, h.tax_rate",
        params,
    )


def hourly_payments(conn: Connection, filters: dict[str, Any]) -> list[Row]:
    """Per method: counts, what it kept (refunds negative), the refunds; its latest name."""
    where, params = _where(filters, "h.hour")
    return conn.fetchall(
        "SELECT h.method AS grp, MAX(h.method_name) AS label, SUM(h.sale_count) AS sale_count,"
        " SUM(h.refund_count) AS refund_count, SUM(h.gross) AS gross,"
        " SUM(h.refunds) AS refunds, NULL AS net, NULL AS vat, NULL AS discounts"
        f" FROM sales_hourly_payment h WHERE {where} GROUP BY h.method",
        params,
    )


# --- from the receipts --------------------------------------------------------------------------


def receipts_by_bucket(conn: Connection, filters: dict[str, Any], bucket_us: int) -> list[Row]:
    """Receipt figures per ``bucket_us`` of UTC time (its start)."""
    where, params = _where(filters, "r.print_time")
    return conn.fetchall(
        f"SELECT r.print_time / {bucket_us} * {bucket_us} AS bucket, {_RECEIPT_FIGURES}"
        f" FROM receipts r WHERE {where} GROUP BY r.print_time / {bucket_us} * {bucket_us}",
        params,
    )


def receipts_by_station(conn: Connection, filters: dict[str, Any]) -> list[Row]:
    where, params = _where(filters, "r.print_time")
    return conn.fetchall(
        f"SELECT r.station_id AS grp, {_RECEIPT_FIGURES} FROM receipts r"
        f" WHERE {where} GROUP BY r.station_id",
        params,
    )


def receipts_by_employee(conn: Connection, filters: dict[str, Any]) -> list[Row]:
    """Per cashier id; receipts without one, per the cashier name the station sent."""
    where, params = _where(filters, "r.print_time")
    name = "CASE WHEN r.cashier_id IS NULL THEN r.cashier_name END"
    return conn.fetchall(
        f"SELECT r.cashier_id AS grp, {name} AS grp_name, MAX(r.cashier_name) AS label,"
        f" {_RECEIPT_FIGURES} FROM receipts r WHERE {where} GROUP BY r.cashier_id, {name}",
        params,
    )


def tax_groups(conn: Connection, filters: dict[str, Any]) -> list[Row]:
    """Per tax group and rate: VAT worked out per receipt and rate, as each receipt did."""
    where, params = _where(filters, "r.print_time")
    return conn.fetchall(
        "SELECT t.tax AS grp, t.tax_rate AS rate,"
        f" SUM(CASE WHEN t.mode = {_REFUND} THEN 0 ELSE 1 END) AS sale_count,"
        f" SUM(CASE WHEN t.mode = {_REFUND} THEN 1 ELSE 0 END) AS refund_count,"
        " SUM(t.sign * t.amount) AS gross,"
        f" SUM(t.sign * (t.amount - {_vat('t.amount', 't.tax_rate')})) AS net,"
        f" SUM(t.sign * {_vat('t.amount', 't.tax_rate')}) AS vat,"
        f" SUM(CASE WHEN t.mode = {_REFUND} THEN t.amount ELSE 0 END) AS refunds,"
        " SUM(t.sign * t.discounts) AS discounts, SUM(t.sign * t.quantity) AS quantity"
        f" FROM (SELECT r.id, r.mode, {_SIGN} AS sign, x.tax, x.tax_rate,"
        " CAST(SUM(x.amount) AS BIGINT) AS amount, SUM(x.discount_amount) AS discounts,"
        " SUM(x.quantity) AS quantity"
        f" FROM receipts r JOIN receipt_rows x ON x.receipt_id = r.id WHERE {where}"
        " GROUP BY r.id, r.mode, x.tax, x.tax_rate) t GROUP BY t.tax, t.tax_rate",
        params,
    )


def rows_by(conn: Connection, filters: dict[str, Any], dimension: str) -> list[Row]:
    """Per product (``product``) or category (``category``): each row's own VAT share.

    Rows without a product or category id (free text on an invoice) are grouped by name."""
    where, params = _where(filters, "r.print_time")
    column, name = {
        "product": ("x.product_id", "x.product_name"),
        "category": ("x.category_id", "x.category_name"),
    }[dimension]
    by_name = f"CASE WHEN {column} IS NULL THEN {name} END"
    vat = _vat("x.amount", "x.tax_rate")
    return conn.fetchall(
        f"SELECT {column} AS grp, {by_name} AS grp_name, MAX({name}) AS label,"
        f" COUNT(DISTINCT CASE WHEN r.mode = {_REFUND} THEN NULL ELSE r.id END) AS sale_count,"
        f" COUNT(DISTINCT CASE WHEN r.mode = {_REFUND} THEN r.id END) AS refund_count,"
        f" SUM({_SIGN} * x.amount) AS gross, SUM({_SIGN} * (x.amount - {vat})) AS net,"
        f" SUM({_SIGN} * {vat}) AS vat,"
        f" SUM(CASE WHEN r.mode = {_REFUND} THEN x.amount ELSE 0 END) AS refunds,"
        f" SUM({_SIGN} * x.discount_amount) AS discounts, SUM({_SIGN} * x.quantity) AS quantity"
        f" FROM receipts r JOIN receipt_rows x ON x.receipt_id = r.id WHERE {where}"
        f" GROUP BY {column}, {by_name}",
        params,
    )


def payments(conn: Connection, filters: dict[str, Any]) -> list[Row]:
    """Every payment of the period with its receipt's mode and change, in receipt order (the
    change goes back out of the cash payments, as on the Z-report: worked out by the caller)."""
    where, params = _where(filters, "r.print_time")
    return conn.fetchall(
        "SELECT r.id AS receipt_id, r.mode, r.changed_amount, p.method, p.method_name,"
        " p.amount FROM receipts r JOIN receipt_payments p ON p.receipt_id = r.id"
        f" WHERE {where} ORDER BY r.id, p.position",
        params,
    )


def station_names(conn: Connection, ids: Collection[int]) -> dict[int, tuple[str, int | None]]:
    """Station id → (name, store id)."""
    if not ids:
        return {}
    rows = conn.fetchall("SELECT id, name, store_id FROM stations")
    return {int(r["id"]): (str(r["name"]), r["store_id"]) for r in rows if r["id"] in ids}


def stores(conn: Connection) -> dict[int, tuple[str, str]]:
    """Store id → (code, name) (a chain's centre; empty elsewhere)."""
    return {
        int(r["id"]): (str(r["code"]), str(r["name"]))
        for r in conn.fetchall("SELECT id, code, name FROM stores")
    }


def store_id_by_code(conn: Connection, code: str) -> int | None:
    row = conn.fetchone("SELECT id FROM stores WHERE code = :code", {"code": code})
    return None if row is None else int(row["id"])


def category_names(conn: Connection) -> dict[int, str]:
    """Categories' current names (a row keeps the name it was sold under; a new one wins)."""
    return {int(r["id"]): str(r["name"]) for r in conn.fetchall("SELECT id, name FROM categories")}
