"""A chain of shops (docs/stores.md): the stores a centre serves, the store's outbox, and the
centre's memory of what arrived.

One program serves three roles (``MINIPOS_MODE``), so every database gets every table and the
other roles' tables stay empty:

- ``sync_identity`` (one row): the role the database was created for. A shop's database must
  never start as a centre, nor a centre's as a shop.
- ``stores`` (centre): each shop, its key, its cursor of centre-posted invoices and its last
  contact. ``api_keys.store_id``: a ``store`` key, or an integrator key bound to one store.
- ``stations.store_id``, ``invoices.store_id`` (centre): whose copy a row is. Every shop has a
  POS 1 and its own invoice numbers, so the unique indexes become per store.
- ``invoices.delivered_at``/``down_revision`` (centre): an invoice posted at the centre for a
  store is the store's once a pull served it; ``down_revision`` orders the pulls.
- ``shifts.local_id``, ``reconciled_at``, ``reconcile_note``; ``receipts.common_id``,
  ``synchronized_at``, ``flags``: the two ends' ids, and what the centre found in a copy.
- ``sync_outbox``, ``sync_state`` (store): every fact to send, written with the change, and
  the cursors of what was pulled.
- ``sync_ingest``, ``sync_conflicts`` (centre): one row per (store, kind, local id) ever
  stored, with its content hash and the id it got; offers that clashed with one.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True)


def _partial_unique(name: str, table: str, columns: list[str], where: str) -> None:
    op.create_index(
        name,
        table,
        columns,
        unique=True,
        sqlite_where=sa.text(where),
        postgresql_where=sa.text(where),
    )


def upgrade() -> None:
    op.create_table(
        "sync_identity",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "stores",
        _id(),
        sa.Column("code", sa.String(32), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("api_key_id", sa.BigInteger, nullable=True),
        # Numbers centre-posted invoices for this store in commit order (the pull cursor).
        sa.Column("down_revision", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("last_contact_at", sa.BigInteger, nullable=True),
        sa.Column("last_skew_ms", sa.BigInteger, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.add_column("api_keys", sa.Column("store_id", sa.BigInteger, nullable=True))

    with op.batch_alter_table("stations") as batch:
        batch.add_column(sa.Column("store_id", sa.BigInteger, nullable=True))
        batch.drop_constraint("uq_stations_pos_id", type_="unique")
    _partial_unique("uq_stations_pos_id", "stations", ["pos_id"], "store_id IS NULL")
    _partial_unique(
        "uq_stations_store_pos_id", "stations", ["store_id", "pos_id"], "store_id IS NOT NULL"
    )

    with op.batch_alter_table("invoices") as batch:
        batch.add_column(sa.Column("store_id", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("delivered_at", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("down_revision", sa.BigInteger, nullable=True))
        batch.drop_constraint("uq_invoices_invoice_no", type_="unique")
    _partial_unique("uq_invoices_invoice_no", "invoices", ["invoice_no"], "store_id IS NULL")
    _partial_unique(
        "uq_invoices_store_invoice_no",
        "invoices",
        ["store_id", "invoice_no"],
        "store_id IS NOT NULL",
    )
    _partial_unique("uq_invoices_common_id", "invoices", ["common_id"], "common_id IS NOT NULL")
    op.create_index("ix_invoices_down", "invoices", ["store_id", "down_revision"])

    with op.batch_alter_table("shifts") as batch:
        batch.add_column(sa.Column("local_id", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("reconciled_at", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("reconcile_note", sa.Text, nullable=True))
    with op.batch_alter_table("receipts") as batch:
        batch.add_column(sa.Column("common_id", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("synchronized_at", sa.BigInteger, nullable=True))
        # JSON list of what the centre found in a store's copy (unknown product, chain break).
        batch.add_column(sa.Column("flags", sa.Text, nullable=True))

    op.create_table(
        "sync_outbox",
        # Like ``events``: retention keeps the newest row, so an id is never handed out twice
        # (an ``invoice.state`` item is keyed by it).
        _id(),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("local_id", sa.String(64), nullable=True),
        # Items of one lane (a station's receipts and shifts) must arrive in order.
        sa.Column("lane", sa.String(32), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("acked_at", sa.BigInteger, nullable=True),
        sa.Column("common_id", sa.BigInteger, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.UniqueConstraint("kind", "local_id", name="uq_sync_outbox_kind_local_id"),
    )
    op.create_index("ix_sync_outbox_status", "sync_outbox", ["status", "id"])
    op.create_table(
        "sync_state",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("catalogue_revision", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("categories_hash", sa.String(64), nullable=True),
        sa.Column("reference_hash", sa.String(64), nullable=True),
        # The centre's tax groups, fiscal sections and payment methods (JSON).
        sa.Column("reference", sa.Text, nullable=True),
        sa.Column("invoice_revision", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("first_pull_at", sa.BigInteger, nullable=True),
        sa.Column("last_contact_at", sa.BigInteger, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("skew_ms", sa.BigInteger, nullable=True),
    )
    op.create_table(
        "sync_ingest",
        _id(),
        sa.Column("store_id", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("local_id", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("common_id", sa.BigInteger, nullable=True),
        sa.Column("received_at", sa.BigInteger, nullable=False),
        sa.Column("flags", sa.Text, nullable=True),
        sa.UniqueConstraint("store_id", "kind", "local_id", name="uq_sync_ingest_key"),
    )
    op.create_table(
        "sync_conflicts",
        _id(),
        sa.Column("store_id", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("local_id", sa.String(64), nullable=False),
        sa.Column("stored_hash", sa.String(64), nullable=False),
        sa.Column("offered_hash", sa.String(64), nullable=False),
        sa.Column("offered_body", sa.Text, nullable=False),
        sa.Column("received_at", sa.BigInteger, nullable=False),
        sa.Column("resolved_at", sa.BigInteger, nullable=True),
    )
    op.create_index("ix_sync_conflicts_store", "sync_conflicts", ["store_id", "id"])


def downgrade() -> None:
    for table in ("sync_conflicts", "sync_ingest", "sync_state", "sync_outbox"):
        op.drop_table(table)
    with op.batch_alter_table("receipts") as batch:
        for column in ("flags", "synchronized_at", "common_id"):
            batch.drop_column(column)
    with op.batch_alter_table("shifts") as batch:
        for column in ("reconcile_note", "reconciled_at", "local_id"):
            batch.drop_column(column)
    op.drop_index("ix_invoices_down", "invoices")
    op.drop_index("uq_invoices_common_id", "invoices")
    op.drop_index("uq_invoices_store_invoice_no", "invoices")
    op.drop_index("uq_invoices_invoice_no", "invoices")
    with op.batch_alter_table("invoices") as batch:
        for column in ("down_revision", "delivered_at", "store_id"):
            batch.drop_column(column)
        batch.create_unique_constraint("uq_invoices_invoice_no", ["invoice_no"])
    op.drop_index("uq_stations_store_pos_id", "stations")
    op.drop_index("uq_stations_pos_id", "stations")
    with op.batch_alter_table("stations") as batch:
        batch.drop_column("store_id")
        batch.create_unique_constraint("uq_stations_pos_id", ["pos_id"])
    op.drop_column("api_keys", "store_id")
    op.drop_table("stores")
    op.drop_table("sync_identity")
