"""``shifts.volume``: the running sum of a shift's receipt totals (sales and refunds), in cents.

A sale adds its total with one ``UPDATE … RETURNING`` and is refused past ``MAX_SHIFT_TOTAL``
(docs/security.md, "Money"), so the check costs one row, not a sum over the shift's receipts.
Existing shifts get the sum of the receipts they hold.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("shifts", sa.Column("volume", sa.BigInteger, nullable=False, server_default="0"))
    op.execute(
        "UPDATE shifts SET volume = (SELECT COALESCE(SUM(r.bruto_amount), 0) FROM receipts r"
        " WHERE r.shift_id = shifts.id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("shifts") as batch:
        batch.drop_column("volume")
