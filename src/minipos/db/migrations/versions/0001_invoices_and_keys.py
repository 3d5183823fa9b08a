"""Invoices, their rows and payments; API keys; idempotency records.

Storage conventions (docs/architecture.md): money is integer cents, quantities integer
thousandths, timestamps integer microseconds since the epoch (UTC). Exact on both engines and
identical in SQL arithmetic, where SQLite would otherwise turn decimals into floats.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True)


def upgrade() -> None:
    op.create_table(
        "api_keys",
        _id(),
        sa.Column("key_id", sa.String(32), nullable=False, unique=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("station_id", sa.BigInteger, nullable=True),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("revoked_at", sa.BigInteger, nullable=True),
    )
    op.create_table(
        "idempotency_keys",
        _id(),
        sa.Column("api_key_id", sa.BigInteger, nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer, nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("api_key_id", "key", name="uq_idempotency_keys_api_key_key"),
    )
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])
    op.create_table(
        "invoices",
        _id(),
        sa.Column("invoice_no", sa.String(64), nullable=False),
        sa.Column("mode", sa.SmallInteger, nullable=False),
        sa.Column("status", sa.SmallInteger, nullable=False),
        sa.Column("pos_id", sa.BigInteger, nullable=True),
        sa.Column("station_group", sa.String(64), nullable=False),
        sa.Column("station", sa.BigInteger, nullable=True),
        sa.Column("discount", sa.BigInteger, nullable=False),
        sa.Column("discount_type", sa.String(8), nullable=True),
        sa.Column("comment", sa.Text, nullable=True),
        sa.Column("print_paper_receipt", sa.Boolean, nullable=True),
        sa.Column("keep_drawer_closed", sa.Boolean, nullable=False),
        sa.Column("is_auto_open", sa.Boolean, nullable=False),
        sa.Column("info", sa.Text, nullable=False),
        sa.Column("total_sum", sa.BigInteger, nullable=False),
        sa.Column("changed_sum", sa.BigInteger, nullable=False),
        sa.Column("printed_at", sa.BigInteger, nullable=True),
        sa.Column("print_station", sa.BigInteger, nullable=True),
        sa.Column("print_pos_id", sa.String(32), nullable=True),
        sa.Column("print_chassis_id", sa.String(64), nullable=True),
        sa.Column("check_num", sa.String(32), nullable=True),
        sa.Column("report", sa.Text, nullable=True),
        sa.Column("common_id", sa.BigInteger, nullable=True),
        sa.Column("synchronized_at", sa.BigInteger, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        # Hash of the canonical request: tells a replay of the same invoice_no from a clash.
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("invoice_no", name="uq_invoices_invoice_no"),
    )
    op.create_index("ix_invoices_status_id", "invoices", ["status", "id"])
    op.create_index("ix_invoices_created_at", "invoices", ["created_at"])
    op.create_index("ix_invoices_updated_at", "invoices", ["updated_at", "id"])
    op.create_table(
        "invoice_rows",
        _id(),
        sa.Column(
            "invoice_id",
            sa.BigInteger,
            sa.ForeignKey("invoices.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("text", sa.String(255), nullable=False),
        sa.Column("quantity", sa.BigInteger, nullable=False),
        sa.Column("maxquantity", sa.BigInteger, nullable=False),
        sa.Column("init_quantity", sa.BigInteger, nullable=False),
        sa.Column("price", sa.BigInteger, nullable=False),
        sa.Column("is_free_price", sa.Boolean, nullable=False),
        sa.Column("is_weight", sa.Boolean, nullable=False),
        sa.Column("tax", sa.Integer, nullable=False),
        # The rate in force when the invoice was posted: configuration may change later.
        sa.Column("tax_rate", sa.BigInteger, nullable=False),
        sa.Column("fiscal_section", sa.Integer, nullable=False),
        sa.Column("discount", sa.BigInteger, nullable=False),
        sa.Column("discount_type", sa.String(8), nullable=True),
        sa.Column("payload", sa.Text, nullable=True),
        sa.Column("info", sa.Text, nullable=False),
    )
    op.create_index("ix_invoice_rows_invoice_id", "invoice_rows", ["invoice_id", "position"])
    op.create_table(
        "invoice_payments",
        _id(),
        sa.Column(
            "invoice_id",
            sa.BigInteger,
            sa.ForeignKey("invoices.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("method_id", sa.Integer, nullable=False),
        sa.Column("method_name", sa.String(100), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=True),
    )
    op.create_index(
        "ix_invoice_payments_invoice_id", "invoice_payments", ["invoice_id", "position"]
    )


def downgrade() -> None:
    op.drop_table("invoice_payments")
    op.drop_table("invoice_rows")
    op.drop_table("invoices")
    op.drop_table("idempotency_keys")
    op.drop_table("api_keys")
