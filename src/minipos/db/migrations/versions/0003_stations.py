"""Stations, shifts, fiscal receipts and print jobs; invoice leases.

Gapless numbering: each station row holds its last receipt number and Z number and the head
of its receipt hash chain. A completing transaction bumps them with UPDATE … RETURNING, which
locks the station row until commit, so numbers are handed out in commit order and a rolled-
back sale gives its number back.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True)


def _fk(name: str, target: str, *, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger, sa.ForeignKey(f"{target}.id"), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "stations",
        _id(),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("pos_id", sa.String(32), nullable=False),
        # pos_id as a number: invoices address a POS with an integer pos_id.
        sa.Column("pos_number", sa.BigInteger, nullable=False),
        sa.Column("chassis_id", sa.String(64), nullable=False),
        sa.Column("station_group", sa.String(64), nullable=False),
        sa.Column("last_document_id", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("last_z_number", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("grand_total", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("chain_head", sa.String(64), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("pos_id", name="uq_stations_pos_id"),
    )
    op.create_index("ix_stations_group_pos", "stations", ["station_group", "pos_number"])
    op.create_table(
        "shifts",
        _id(),
        _fk("station_id", "stations"),
        sa.Column("z_number", sa.BigInteger, nullable=False),
        sa.Column("start_date", sa.BigInteger, nullable=False),
        sa.Column("close_date", sa.BigInteger, nullable=True),
        # Cumulative turnover of the station at close (the fiscal "grand total").
        sa.Column("grand_total", sa.BigInteger, nullable=True),
        sa.Column("start_employee", sa.BigInteger, nullable=True),
        sa.Column("start_employee_name", sa.String(100), nullable=True),
        sa.Column("close_employee", sa.BigInteger, nullable=True),
        sa.Column("close_employee_name", sa.String(100), nullable=True),
        sa.Column("common_shift", sa.BigInteger, nullable=True),
        # The Z-report totals frozen at close, and their hash chained to the last receipt.
        sa.Column("report", sa.Text, nullable=True),
        sa.Column("hash", sa.String(64), nullable=True),
        sa.UniqueConstraint("station_id", "z_number", name="uq_shifts_station_z"),
    )
    # One open shift per station: NULL close_date rows are the open ones.
    op.create_index(
        "uq_shifts_one_open",
        "shifts",
        ["station_id"],
        unique=True,
        sqlite_where=sa.text("close_date IS NULL"),
        postgresql_where=sa.text("close_date IS NULL"),
    )
    op.create_table(
        "receipts",
        _id(),
        _fk("station_id", "stations"),
        _fk("shift_id", "shifts"),
        _fk("invoice_id", "invoices", nullable=True),
        sa.Column("document_id", sa.String(32), nullable=False),
        sa.Column("mode", sa.SmallInteger, nullable=False),
        sa.Column("state", sa.SmallInteger, nullable=False),
        sa.Column("customer_id", sa.BigInteger, nullable=True),
        sa.Column("cashier_id", sa.BigInteger, nullable=True),
        sa.Column("cashier_name", sa.String(100), nullable=True),
        sa.Column("start_time", sa.BigInteger, nullable=True),
        sa.Column("print_time", sa.BigInteger, nullable=False),
        sa.Column("neto_amount", sa.BigInteger, nullable=False),
        sa.Column("bruto_amount", sa.BigInteger, nullable=False),
        sa.Column("changed_amount", sa.BigInteger, nullable=False),
        sa.Column("tax_amount", sa.BigInteger, nullable=False),
        sa.Column("discount", sa.BigInteger, nullable=False),
        sa.Column("discount_type", sa.String(8), nullable=True),
        sa.Column("discount_amount", sa.BigInteger, nullable=False),
        sa.Column("parent_station", sa.BigInteger, nullable=True),
        sa.Column("parent_document_id", sa.String(32), nullable=True),
        sa.Column("refunded_at", sa.BigInteger, nullable=True),
        sa.Column("request_id", sa.String(100), nullable=True),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("station_id", "document_id", name="uq_receipts_station_document"),
        sa.UniqueConstraint("station_id", "request_id", name="uq_receipts_station_request"),
    )
    op.create_index("ix_receipts_shift", "receipts", ["shift_id", "id"])
    op.create_index("ix_receipts_invoice", "receipts", ["invoice_id"])
    op.create_table(
        "receipt_rows",
        _id(),
        _fk("receipt_id", "receipts"),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("product_id", sa.BigInteger, nullable=True),
        sa.Column("product_name", sa.String(255), nullable=False),
        sa.Column("product_code", sa.String(64), nullable=True),
        sa.Column("barcode", sa.String(64), nullable=True),
        sa.Column("category_id", sa.BigInteger, nullable=True),
        sa.Column("category_name", sa.String(255), nullable=True),
        sa.Column("price", sa.BigInteger, nullable=False),
        sa.Column("tax", sa.Integer, nullable=False),
        sa.Column("tax_rate", sa.BigInteger, nullable=False),
        sa.Column("discount", sa.BigInteger, nullable=False),
        sa.Column("discount_type", sa.String(8), nullable=True),
        sa.Column("discount_amount", sa.BigInteger, nullable=False),
        sa.Column("quantity", sa.BigInteger, nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        # What may still be refunded; a refund lowers these on the original row.
        sa.Column("max_quantity", sa.BigInteger, nullable=False),
        sa.Column("max_amount", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_receipt_rows_receipt", "receipt_rows", ["receipt_id", "position"])
    op.create_table(
        "receipt_payments",
        _id(),
        _fk("receipt_id", "receipts"),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("method", sa.Integer, nullable=False),
        sa.Column("method_name", sa.String(100), nullable=False),
        sa.Column("method_code", sa.Integer, nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("request_id", sa.String(100), nullable=True),
        sa.Column("transaction_id", sa.String(100), nullable=True),
        sa.Column("psp_reference", sa.String(100), nullable=True),
        sa.Column("poiid", sa.String(100), nullable=True),
        sa.Column("sale_id", sa.String(100), nullable=True),
        sa.Column("card_no", sa.String(32), nullable=True),
    )
    op.create_index("ix_receipt_payments_receipt", "receipt_payments", ["receipt_id", "position"])
    op.create_table(
        "print_jobs",
        _id(),
        _fk("station_id", "stations"),
        sa.Column("kind", sa.String(16), nullable=False),
        _fk("receipt_id", "receipts", nullable=True),
        _fk("invoice_id", "invoices", nullable=True),
        _fk("shift_id", "shifts", nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("is_copy", sa.Boolean, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.BigInteger, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("printed_at", sa.BigInteger, nullable=True),
    )
    op.create_index("ix_print_jobs_due", "print_jobs", ["status", "next_attempt_at"])
    op.create_index("ix_print_jobs_station", "print_jobs", ["station_id", "id"])
    with op.batch_alter_table("invoices") as batch:
        # The claim: which station holds the invoice (``station``) and until when.
        batch.add_column(sa.Column("lease_expires_at", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("complete_request_id", sa.String(100), nullable=True))
        batch.add_column(sa.Column("parent_document_id", sa.String(32), nullable=True))
        batch.add_column(sa.Column("parent_pos_id", sa.String(32), nullable=True))
    op.create_index("ix_invoices_feed", "invoices", ["status", "station_group", "pos_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_invoices_feed", "invoices")
    with op.batch_alter_table("invoices") as batch:
        for column in (
            "parent_pos_id",
            "parent_document_id",
            "complete_request_id",
            "lease_expires_at",
        ):
            batch.drop_column(column)
    for table in (
        "print_jobs",
        "receipt_payments",
        "receipt_rows",
        "receipts",
        "shifts",
        "stations",
    ):
        op.drop_table(table)
