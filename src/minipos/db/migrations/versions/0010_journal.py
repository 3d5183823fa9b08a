"""The electronic journal (control tape) of the Latvian fiscal profile (docs/fiscal.md).

``journal``: the exact text of every printed fiscal document (receipt, refund, Z-report,
supporting document), written in the transaction that issues it, numbered and hash-chained per
station (``seq``, ``prev_hash``, ``hash``) with the station's chassis number. ``render`` is
what the text was drawn with besides the stored rows (seller, time zone, width, wording,
versions), so ``minipos verify`` can draw it again and compare.
``stations.journal_seq``/``journal_head``: each station's last journal number and hash.
``print_jobs.supporting_number``: a job printing a receipt's n-th supporting document.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "journal",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("station_id", sa.BigInteger, sa.ForeignKey("stations.id"), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        # receipt | refund | z_report | supporting_document
        sa.Column("kind", sa.String(32), nullable=False),
        # No foreign keys: the tape outlives a receipt someone removed, and verify says so.
        sa.Column("receipt_id", sa.BigInteger, nullable=True),
        sa.Column("shift_id", sa.BigInteger, nullable=True),
        sa.Column("supporting_number", sa.Integer, nullable=True),
        # the document's own number: the receipt's number, the Z number
        sa.Column("document_no", sa.String(32), nullable=False),
        sa.Column("chassis_id", sa.String(64), nullable=False),
        sa.Column("issued_at", sa.BigInteger, nullable=False),
        sa.Column("render", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("station_id", "seq", name="uq_journal_station_seq"),
    )
    op.create_index("ix_journal_station_issued", "journal", ["station_id", "issued_at"])
    op.create_index("ix_journal_receipt", "journal", ["receipt_id", "kind"])
    with op.batch_alter_table("stations") as batch:
        batch.add_column(
            sa.Column("journal_seq", sa.BigInteger, nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("journal_head", sa.String(64), nullable=False, server_default="0" * 64)
        )
    with op.batch_alter_table("print_jobs") as batch:
        batch.add_column(sa.Column("supporting_number", sa.Integer, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("print_jobs") as batch:
        batch.drop_column("supporting_number")
    with op.batch_alter_table("stations") as batch:
        batch.drop_column("journal_head")
        batch.drop_column("journal_seq")
    op.drop_index("ix_journal_receipt", "journal")
    op.drop_index("ix_journal_station_issued", "journal")
    op.drop_table("journal")
