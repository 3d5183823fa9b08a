"""The cash drawer, the Z-report's full contents and training mode (issue 14; docs/fiscal.md).

``cash_movements``: a shift's opening float, cash in and cash out, each with its reason and
who made it, in cents; the drawer's expected cash is worked out from them and the shift's
cash payments. ``shifts.counted_cash``: the cash counted at close. ``shifts.details``: what
the Z-report shows besides the receipt figures that ``report`` holds (the drawer, the counts
by document type, discounts), frozen at close (the Z's printed text is journaled and chained).
``stations.training``/``last_training_number``: a station in training mode and its own
number series. ``training_receipts``: its documents, kept apart from ``receipts`` so no fiscal
reading (Z, grand total, ``/api/receipts``, the sales reports, sync to the centre) can count
them. ``print_jobs.training_receipt_id``: a job printing one of them.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "cash_movements",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("station_id", sa.BigInteger, sa.ForeignKey("stations.id"), nullable=False),
        sa.Column("shift_id", sa.BigInteger, sa.ForeignKey("shifts.id"), nullable=False),
        # float | in | out
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("reason", sa.String(200), nullable=True),
        sa.Column("employee_name", sa.String(100), nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_cash_movements_shift", "cash_movements", ["shift_id", "id"])
    with op.batch_alter_table("shifts") as batch:
        batch.add_column(sa.Column("counted_cash", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("details", sa.Text, nullable=True))
    with op.batch_alter_table("stations") as batch:
        batch.add_column(
            sa.Column("training", sa.Boolean, nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("last_training_number", sa.BigInteger, nullable=False, server_default="0")
        )
    op.create_table(
        "training_receipts",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("station_id", sa.BigInteger, sa.ForeignKey("stations.id"), nullable=False),
        sa.Column("shift_id", sa.BigInteger, sa.ForeignKey("shifts.id"), nullable=True),
        sa.Column("number", sa.BigInteger, nullable=False),
        sa.Column("request_id", sa.String(200), nullable=False),
        sa.Column("mode", sa.Integer, nullable=False),
        sa.Column("total", sa.BigInteger, nullable=False),
        sa.Column("cashier_name", sa.String(100), nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        # The document as printed (marked non-fiscal on every line that could pass for one).
        sa.Column("text", sa.Text, nullable=False),
        sa.UniqueConstraint("station_id", "number", name="uq_training_receipts_number"),
        sa.UniqueConstraint("station_id", "request_id", name="uq_training_receipts_request"),
    )
    op.create_index("ix_training_receipts_shift", "training_receipts", ["shift_id"])
    with op.batch_alter_table("print_jobs") as batch:
        batch.add_column(sa.Column("training_receipt_id", sa.BigInteger, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("print_jobs") as batch:
        batch.drop_column("training_receipt_id")
    op.drop_index("ix_training_receipts_shift", "training_receipts")
    op.drop_table("training_receipts")
    with op.batch_alter_table("stations") as batch:
        batch.drop_column("last_training_number")
        batch.drop_column("training")
    with op.batch_alter_table("shifts") as batch:
        batch.drop_column("details")
        batch.drop_column("counted_cash")
    op.drop_index("ix_cash_movements_shift", "cash_movements")
    op.drop_table("cash_movements")
