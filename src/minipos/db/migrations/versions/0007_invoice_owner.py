"""``invoices.created_by``: the API key that posted the invoice.

An integrator key may cancel only the invoices it posted (docs/api-conventions.md, "Who may
cancel"). Invoices posted before this revision have none and stay cancellable by any
integrator, as they were.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("invoices", sa.Column("created_by", sa.BigInteger, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("invoices") as batch:
        batch.drop_column("created_by")
