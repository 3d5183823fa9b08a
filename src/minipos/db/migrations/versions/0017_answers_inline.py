"""Event and idempotency rows kept inline and uncompressed on PostgreSQL up to a page (issue 17).

An event carries the resource's answer (an invoice's is about 4.5 KB), and so does a stored
``Idempotency-Key`` answer. By default PostgreSQL compresses a row over 2 KB (TOAST), which
costs each POST the compression, for tables that are written once, read a few times and
trimmed. ``toast_tuple_target`` lets a row of up to a page stay as it is; a larger one is still
compressed and moved out of line as before.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_TABLES = ("events", "idempotency_keys")


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    for table in _TABLES:
        op.execute(f"ALTER TABLE {table} SET (toast_tuple_target = 8160)")


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    for table in _TABLES:
        op.execute(f"ALTER TABLE {table} RESET (toast_tuple_target)")
