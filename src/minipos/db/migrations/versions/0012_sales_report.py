"""The sales report's hourly aggregates, disabled stations, receipts by time (issue 15).

``sales_hourly``: per UTC hour and station, the figures of its receipts (counts, gross, net,
VAT, refunds, discounts, in cents, refunds subtracted), written by ``receipts.service.issue``
in the receipt's own transaction, so ``GET /api/reports/sales`` adds up a few hundred rows for a
month instead of every receipt (docs/reports.md). Existing receipts are added up here.
``stations.disabled_at``: a disabled station's key is refused and it cannot claim or sell.
``ix_receipts_print_time``: receipts and reports by period.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stations") as batch:
        batch.add_column(sa.Column("disabled_at", sa.BigInteger, nullable=True))
    op.create_index("ix_receipts_print_time", "receipts", ["print_time"])
    op.create_table(
        "sales_hourly",
        # The hour's start, µs since the epoch (UTC): whole hours of any shop zone whose UTC
        # offset is whole hours, so local days are unions of them.
        sa.Column("hour", sa.BigInteger, nullable=False),
        sa.Column("station_id", sa.BigInteger, sa.ForeignKey("stations.id"), nullable=False),
        sa.Column("sale_count", sa.BigInteger, nullable=False),
        sa.Column("refund_count", sa.BigInteger, nullable=False),
        # Signed: a refund's figures count negative; ``refunds`` is the refunds' gross.
        sa.Column("gross", sa.BigInteger, nullable=False),
        sa.Column("net", sa.BigInteger, nullable=False),
        sa.Column("vat", sa.BigInteger, nullable=False),
        sa.Column("refunds", sa.BigInteger, nullable=False),
        sa.Column("discounts", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("hour", "station_id", name="pk_sales_hourly"),
    )
    # Hours of µs (3,600,000,000 a piece), each receipt's discounts its rows'.
    op.execute(
        "INSERT INTO sales_hourly (hour, station_id, sale_count, refund_count, gross, net, vat,"
        " refunds, discounts)"
        " SELECT r.print_time / 3600000000 * 3600000000, r.station_id,"
        " SUM(CASE WHEN r.mode = 3 THEN 0 ELSE 1 END), SUM(CASE WHEN r.mode = 3 THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN r.mode = 3 THEN -r.bruto_amount ELSE r.bruto_amount END),"
        " SUM(CASE WHEN r.mode = 3 THEN -r.neto_amount ELSE r.neto_amount END),"
        " SUM(CASE WHEN r.mode = 3 THEN -r.tax_amount ELSE r.tax_amount END),"
        " SUM(CASE WHEN r.mode = 3 THEN r.bruto_amount ELSE 0 END),"
        " SUM(CASE WHEN r.mode = 3 THEN -1 ELSE 1 END * COALESCE((SELECT SUM(x.discount_amount)"
        " FROM receipt_rows x WHERE x.receipt_id = r.id), 0))"
        " FROM receipts r GROUP BY r.print_time / 3600000000 * 3600000000, r.station_id"
    )


def downgrade() -> None:
    op.drop_table("sales_hourly")
    op.drop_index("ix_receipts_print_time", "receipts")
    with op.batch_alter_table("stations") as batch:
        batch.drop_column("disabled_at")
