"""Printers per station, and what the print worker needs on print jobs.

``printers``: at most one per station (its kind, address and profile). ``print_jobs`` gains the
worker's claim (``claimed_at`` as a lease the sender renews, ``claim_token`` naming the
attempt) and ``may_have_printed``: set when an attempt may have reached the paper, so a retry
prints a copy, never a second original (docs/printing.md, "The print queue").

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "printers",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("station_id", sa.BigInteger, sa.ForeignKey("stations.id"), nullable=False),
        # network | file | usb | serial | none
        sa.Column("kind", sa.String(16), nullable=False),
        # host[:port], /path, vendor:product[?interface=n], /dev/ttyS0[?baudrate=…]; NULL for none
        sa.Column("address", sa.String(255), nullable=True),
        sa.Column("columns", sa.SmallInteger, nullable=False),
        # cp1257 | cp775 | raster
        sa.Column("code_page", sa.String(16), nullable=False),
        sa.Column("code_page_number", sa.SmallInteger, nullable=True),
        sa.Column("model", sa.String(64), nullable=False),
        sa.Column("dots_per_line", sa.Integer, nullable=False),
        sa.Column("cut", sa.Boolean, nullable=False),
        sa.Column("partial_cut", sa.Boolean, nullable=False),
        sa.Column("drawer_pin", sa.SmallInteger, nullable=False),
        sa.Column("drawer_on_ms", sa.SmallInteger, nullable=False),
        sa.Column("drawer_off_ms", sa.SmallInteger, nullable=False),
        # Timeouts in milliseconds.
        sa.Column("connect_timeout_ms", sa.Integer, nullable=False),
        sa.Column("write_timeout_ms", sa.Integer, nullable=False),
        sa.Column("status_timeout_ms", sa.Integer, nullable=False),
        # Ask the printer's status (DLE EOT) before each job; not ready → retry later.
        sa.Column("check_status", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("station_id", name="uq_printers_station"),
    )
    with op.batch_alter_table("print_jobs") as batch:
        batch.add_column(sa.Column("claimed_at", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("claim_token", sa.String(32), nullable=True))
        batch.add_column(
            sa.Column("may_have_printed", sa.Boolean, nullable=False, server_default=sa.false())
        )
    # The worker takes each station's oldest unfinished job: two index probes per candidate.
    op.create_index("ix_print_jobs_station_status", "print_jobs", ["station_id", "status", "id"])


def downgrade() -> None:
    op.drop_index("ix_print_jobs_station_status", "print_jobs")
    with op.batch_alter_table("print_jobs") as batch:
        for column in ("may_have_printed", "claim_token", "claimed_at"):
            batch.drop_column(column)
    op.drop_table("printers")
