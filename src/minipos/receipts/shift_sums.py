"""A shift's totals summed in SQL (the X- and Z-report on a busy shift): the same figures as
``domain.shift.add_up`` over every receipt (which ``minipos verify`` and a chain's centre
still use, independently), without reading each receipt, row and payment into Python.

VAT is each receipt's per rate, rounded as ``domain.money.vat`` rounds it (half-up to the
cent: in integers, ``tax = (2·g·r + 10000 + r) div (2·(10000 + r))`` for ``g`` cents at ``r``
hundredths of a percent), then summed. The change goes back out of a receipt's cash payments
in order, as ``add_up`` takes it: a cash payment returns ``min(amount, max(change − the cash
paid before it, 0))``.
"""

from __future__ import annotations

from collections.abc import Iterable

from minipos.db import Connection
from minipos.domain.money import from_cents
from minipos.domain.receipt import ReceiptMode
from minipos.domain.shift import ZERO, ShiftTotals

_REFUND = int(ReceiptMode.REFUND)


def shift_totals(conn: Connection, shift_id: int, cash: Iterable[int]) -> ShiftTotals:
    cash_list = ", ".join(str(int(m)) for m in sorted(cash)) or "NULL"
    params = {"shift": shift_id, "refund": _REFUND}
    totals = ShiftTotals()
    by_mode = conn.fetchall(
        "SELECT CASE WHEN mode = :refund THEN 1 ELSE 0 END AS refund, COUNT(*) AS n,"
        " SUM(bruto_amount) AS gross, SUM(tax_amount) AS tax FROM receipts"
        " WHERE shift_id = :shift GROUP BY CASE WHEN mode = :refund THEN 1 ELSE 0 END",
        params,
    )
    tax = 0
    for row in by_mode:
        count, gross = int(row["n"]), int(row["gross"])
        totals.receipts += count
        if row["refund"]:
            totals.refund_count, totals.refunds = count, from_cents(gross)
            tax -= int(row["tax"])
        else:
            totals.sale_count, totals.sales = count, from_cents(gross)
            tax += int(row["tax"])
    if totals.receipts:
        totals.tax = from_cents(tax)  # add_up's Decimal(0) stays "0" only without receipts
    vat_rows = conn.fetchall(
        "SELECT g.tax_rate AS rate,"
        " SUM(CASE WHEN g.refund = 1 THEN -g.gross ELSE g.gross END) AS gross,"
        " SUM(CASE WHEN g.refund = 1 THEN -g.tax ELSE g.tax END) AS tax,"
        " SUM(CASE WHEN g.refund = 1 THEN 0 ELSE g.discounts END) AS sale_discounts,"
        " SUM(CASE WHEN g.refund = 1 THEN g.discounts ELSE 0 END) AS refund_discounts"
        " FROM (SELECT x.tax_rate, CASE WHEN r.mode = :refund THEN 1 ELSE 0 END AS refund,"
        " SUM(x.amount) AS gross,"
        # PostgreSQL's SUM of bigints is numeric: back to integers for an integer division.
        " (2 * CAST(SUM(x.amount) AS BIGINT) * x.tax_rate + 10000 + x.tax_rate)"
        " / (2 * (10000 + x.tax_rate))"
        " AS tax, SUM(COALESCE(x.discount_amount, 0)) AS discounts"
        " FROM receipts r JOIN receipt_rows x ON x.receipt_id = r.id WHERE r.shift_id = :shift"
        " GROUP BY r.id, r.mode, x.tax_rate) g GROUP BY g.tax_rate",
        params,
    )
    sale_discounts = refund_discounts = 0
    for row in vat_rows:
        gross, vat_tax = int(row["gross"]), int(row["tax"])
        totals.vat[from_cents(int(row["rate"]))] = [
            from_cents(gross),
            from_cents(gross - vat_tax),
            from_cents(vat_tax),
        ]
        sale_discounts += int(row["sale_discounts"])
        refund_discounts += int(row["refund_discounts"])
    totals.sale_discounts = from_cents(sale_discounts) if totals.sale_count else ZERO
    totals.refund_discounts = from_cents(refund_discounts) if totals.refund_count else ZERO
    payments = conn.fetchall(
        "SELECT k.method_name, k.refund, k.is_cash, SUM(k.amount) AS amount,"  # noqa: S608 - ids are ints
        " SUM(CASE WHEN k.is_cash = 0 OR k.change_left <= 0 THEN 0"
        " WHEN k.change_left < k.amount THEN k.change_left ELSE k.amount END) AS returned"
        " FROM (SELECT p.method_name, p.amount,"
        " CASE WHEN r.mode = :refund THEN 1 ELSE 0 END AS refund,"
        f" CASE WHEN p.method IN ({cash_list}) THEN 1 ELSE 0 END AS is_cash,"
        # The change not yet given back by the cash payments before this one.
        " r.changed_amount - COALESCE((SELECT SUM(q.amount) FROM receipt_payments q"
        " WHERE q.receipt_id = p.receipt_id AND q.position < p.position"
        f" AND q.method IN ({cash_list})), 0) AS change_left"
        " FROM receipts r JOIN receipt_payments p ON p.receipt_id = r.id"
        " WHERE r.shift_id = :shift) k GROUP BY k.method_name, k.refund, k.is_cash",
        params,
    )
    kept: dict[str, int] = {}
    for row in payments:
        amount, returned = int(row["amount"]), int(row["returned"])
        sign = -1 if row["refund"] else 1
        kept[row["method_name"]] = kept.get(row["method_name"], 0) + sign * (amount - returned)
        if row["is_cash"]:
            if row["refund"]:
                totals.cash_refunds += from_cents(amount - returned)
            else:
                totals.cash_sales += from_cents(amount)
                totals.change_given += from_cents(returned)
    totals.payments = {name: from_cents(cents) for name, cents in kept.items()}
    return totals
