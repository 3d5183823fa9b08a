"""The index of centre-posted invoices covers only invoices that belong to a store (issue 17).

``ix_invoices_down`` (``store_id, down_revision``) serves one query, a store's pull at the
centre: ``WHERE store_id = :store AND down_revision > :after``. Outside a centre every invoice
has no store, yet each POST still added an entry to that index. Partial on ``store_id IS NOT
NULL``, it is the same index for the pull (both engines prove ``store_id = :store`` implies
it) and costs a shop's or a standalone server's invoice nothing.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_WHERE = "store_id IS NOT NULL"


def upgrade() -> None:
    op.drop_index("ix_invoices_down", "invoices")
    op.create_index(
        "ix_invoices_down",
        "invoices",
        ["store_id", "down_revision"],
        sqlite_where=sa.text(_WHERE),
        postgresql_where=sa.text(_WHERE),
    )


def downgrade() -> None:
    op.drop_index("ix_invoices_down", "invoices")
    op.create_index("ix_invoices_down", "invoices", ["store_id", "down_revision"])
