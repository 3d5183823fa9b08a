"""The event log (transactional outbox), webhooks with their delivery log, and e-receipt messages.

``events``: one row per change worth telling, written in the transaction of the change. Its id
is the public cursor, so it must never be handed out twice: retention always keeps the newest
event, so SQLite's max(rowid) + 1 never goes back (without AUTOINCREMENT's extra write of
``sqlite_sequence`` at every commit).

``webhooks`` keep a ``cursor``: the last event id already turned into ``webhook_deliveries``
rows. A delivery is one event for one endpoint, retried under the same id; each try is a
``webhook_attempts`` row (the delivery log). ``lease_owner``/``lease_until`` keep a second server
process (PostgreSQL deployments) from sending the same endpoint's events beside the first.

``messages``: electronic receipts to a customer (email, SMS), queued with the receipt.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True)


def upgrade() -> None:
    op.create_table(
        "events",
        _id(),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("resource", sa.String(24), nullable=False),
        sa.Column("resource_id", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        # The resource's state after the change, as its own GET shows it (JSON).
        sa.Column("data", sa.Text, nullable=False),
    )
    op.create_index("ix_events_type", "events", ["type", "id"])

    op.create_table(
        "webhooks",
        _id(),
        sa.Column("url", sa.String(2048), nullable=False),
        # JSON array of event types; ["*"] for all.
        sa.Column("events", sa.Text, nullable=False),
        sa.Column("secret", sa.String(80), nullable=False),
        sa.Column("description", sa.String(255), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("cursor", sa.BigInteger, nullable=False),
        sa.Column("lease_owner", sa.String(40), nullable=True),
        sa.Column("lease_until", sa.BigInteger, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "webhook_deliveries",
        _id(),
        sa.Column(
            "webhook_id",
            sa.BigInteger,
            sa.ForeignKey("webhooks.id", ondelete="CASCADE"),
            nullable=False,
        ),
        # No foreign key: retention may remove old events; their deliveries stay in the log.
        sa.Column("event_id", sa.BigInteger, nullable=False),
        sa.Column("event_type", sa.String(40), nullable=False),
        # pending | delivered | failed
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.BigInteger, nullable=False),
        sa.Column("last_status_code", sa.Integer, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.Column("delivered_at", sa.BigInteger, nullable=True),
        sa.UniqueConstraint("webhook_id", "event_id", name="uq_webhook_deliveries_event"),
    )
    op.create_index(
        "ix_webhook_deliveries_due", "webhook_deliveries", ["webhook_id", "status", "event_id"]
    )
    op.create_table(
        "webhook_attempts",
        _id(),
        sa.Column(
            "delivery_id",
            sa.BigInteger,
            sa.ForeignKey("webhook_deliveries.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("attempted_at", sa.BigInteger, nullable=False),
        sa.Column("status_code", sa.Integer, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("duration_ms", sa.Integer, nullable=False),
    )
    op.create_index("ix_webhook_attempts_delivery", "webhook_attempts", ["delivery_id", "id"])

    op.create_table(
        "messages",
        _id(),
        # email | sms
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("recipient", sa.String(254), nullable=False),
        sa.Column("receipt_id", sa.BigInteger, sa.ForeignKey("receipts.id"), nullable=False),
        sa.Column("invoice_id", sa.BigInteger, sa.ForeignKey("invoices.id"), nullable=True),
        # pending | sending | sent | failed
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.BigInteger, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("claim_token", sa.String(32), nullable=True),
        sa.Column("claimed_at", sa.BigInteger, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.Column("sent_at", sa.BigInteger, nullable=True),
    )
    op.create_index("ix_messages_due", "messages", ["status", "next_attempt_at"])
    op.create_index("ix_messages_receipt", "messages", ["receipt_id"])


def downgrade() -> None:
    op.drop_table("messages")
    op.drop_table("webhook_attempts")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhooks")
    op.drop_table("events")
