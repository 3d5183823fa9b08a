"""A centre's copy of a store's receipt keeps the store's own row ids that its chain hash
covers (station, shift, invoice, parent station), so ``minipos verify`` at the centre
recomputes every store's chain: the copy's own ids are the centre's, not the ones hashed.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("receipts") as batch:
        # JSON object; null for a receipt issued on this server.
        batch.add_column(sa.Column("chain_ids", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("receipts") as batch:
        batch.drop_column("chain_ids")
