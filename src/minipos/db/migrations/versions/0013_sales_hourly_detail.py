"""The sales report's hourly sums per tax group and per payment method (docs/reports.md).

``sales_hourly_tax``: per UTC hour, station, tax group and rate, the rows' gross, VAT (worked
out per receipt and rate, as each receipt did), discounts and quantity, refunds subtracted.
``sales_hourly_payment``: per UTC hour, station and payment method, what the method took, the
change given back out of the cash subtracted (as on the Z-report). Both are written by
``receipts.service.issue`` in the receipt's own transaction, like ``sales_hourly``; existing
receipts are added up here, cash being the payment methods the configured reference data
marks so (``MINIPOS_REFERENCE_FILE``; by default method 1).

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from minipos.config import Settings
from minipos.domain.reference import ReferenceData

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_HOUR = "r.print_time / 3600000000 * 3600000000"
_SIGN = "CASE WHEN t.mode = 3 THEN -1 ELSE 1 END"
#: domain.money.vat's tax in integers: gross × rate / (100 % + rate), half away from zero.
_VAT = (
    "(CASE WHEN t.amount < 0 THEN -1 ELSE 1 END) * ((ABS(t.amount) * t.tax_rate * 2"
    " + 10000 + t.tax_rate) / (2 * (10000 + t.tax_rate)))"
)


def _cash_methods() -> list[int]:
    """The configured cash methods; the defaults when the settings cannot be read here."""
    try:
        methods = Settings.from_env().reference().payment_methods.values()
    except Exception:  # a migration must not fail on an unrelated setting
        methods = ReferenceData.default().payment_methods.values()
    return sorted(m.id for m in methods if m.is_cash) or [-1]


def upgrade() -> None:
    op.create_table(
        "sales_hourly_tax",
        sa.Column("hour", sa.BigInteger, nullable=False),
        sa.Column("station_id", sa.BigInteger, sa.ForeignKey("stations.id"), nullable=False),
        sa.Column("tax", sa.Integer, nullable=False),
        sa.Column("tax_rate", sa.BigInteger, nullable=False),
        sa.Column("sale_count", sa.BigInteger, nullable=False),
        sa.Column("refund_count", sa.BigInteger, nullable=False),
        sa.Column("gross", sa.BigInteger, nullable=False),
        sa.Column("vat", sa.BigInteger, nullable=False),
        sa.Column("refunds", sa.BigInteger, nullable=False),
        sa.Column("discounts", sa.BigInteger, nullable=False),
        sa.Column("quantity", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint(
            "hour", "station_id", "tax", "tax_rate", name="pk_sales_hourly_tax"
        ),
    )
    op.create_table(
        "sales_hourly_payment",
        sa.Column("hour", sa.BigInteger, nullable=False),
        sa.Column("station_id", sa.BigInteger, sa.ForeignKey("stations.id"), nullable=False),
        sa.Column("method", sa.Integer, nullable=False),
        # The name it was last paid under (a report shows it).
        sa.Column("method_name", sa.String(100), nullable=False),
        sa.Column("sale_count", sa.BigInteger, nullable=False),
        sa.Column("refund_count", sa.BigInteger, nullable=False),
        sa.Column("gross", sa.BigInteger, nullable=False),
        sa.Column("refunds", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("hour", "station_id", "method", name="pk_sales_hourly_payment"),
    )
    # SQL from constants and the configured cash method ids (integers) only.
    op.execute(
        "INSERT INTO sales_hourly_tax (hour, station_id, tax, tax_rate, sale_count,"  # noqa: S608
        " refund_count,"
        " gross, vat, refunds, discounts, quantity)"
        " SELECT t.hour, t.station_id, t.tax, t.tax_rate,"
        " SUM(CASE WHEN t.mode = 3 THEN 0 ELSE 1 END), SUM(CASE WHEN t.mode = 3 THEN 1 ELSE 0 END),"
        f" SUM({_SIGN} * t.amount), SUM({_SIGN} * {_VAT}),"
        " SUM(CASE WHEN t.mode = 3 THEN t.amount ELSE 0 END), SUM({_SIGN} * t.discounts),"
        f" SUM({_SIGN} * t.quantity)"
        f" FROM (SELECT {_HOUR} AS hour, r.station_id, r.mode, x.tax, x.tax_rate,"
        " CAST(SUM(x.amount) AS BIGINT) AS amount, SUM(x.discount_amount) AS discounts,"
        " SUM(x.quantity) AS quantity FROM receipts r JOIN receipt_rows x ON x.receipt_id = r.id"
        " GROUP BY r.id, r.print_time, r.station_id, r.mode, x.tax, x.tax_rate) t"
        " GROUP BY t.hour, t.station_id, t.tax, t.tax_rate".replace("{_SIGN}", _SIGN)
    )
    cash = ", ".join(str(int(m)) for m in _cash_methods())
    op.execute(
        "INSERT INTO sales_hourly_payment (hour, station_id, method, method_name,"  # noqa: S608
        " sale_count,"
        " refund_count, gross, refunds)"
        " SELECT t.hour, t.station_id, t.method, MAX(t.method_name),"
        " COUNT(DISTINCT CASE WHEN t.mode = 3 THEN NULL ELSE t.receipt_id END),"
        " COUNT(DISTINCT CASE WHEN t.mode = 3 THEN t.receipt_id END),"
        f" SUM({_SIGN} * t.kept), SUM(CASE WHEN t.mode = 3 THEN t.kept ELSE 0 END)"
        f" FROM ({kept_payments(cash)}) t GROUP BY t.hour, t.station_id, t.method"
    )


def kept_payments(cash: str) -> str:
    """Each payment with what its method kept: a cash payment gives back the change still
    owed after the cash paid before it (as ``domain.shift.add_up``)."""
    owed = (
        f"r.changed_amount - COALESCE(SUM(CASE WHEN p.method IN ({cash}) THEN p.amount END)"
        " OVER (PARTITION BY p.receipt_id ORDER BY p.position"
        " ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)"
    )
    return (
        f"SELECT {_HOUR} AS hour, r.station_id, r.mode, p.receipt_id, p.method,"  # noqa: S608
        " p.method_name,"
        f" p.amount - CASE WHEN p.method NOT IN ({cash}) OR {owed} <= 0 THEN 0"
        f" WHEN {owed} >= p.amount THEN p.amount ELSE {owed} END AS kept"
        " FROM receipts r JOIN receipt_payments p ON p.receipt_id = r.id"
    )


def downgrade() -> None:
    op.drop_table("sales_hourly_payment")
    op.drop_table("sales_hourly_tax")
