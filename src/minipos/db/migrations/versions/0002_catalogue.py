"""The back-office catalogue: categories, products, their barcodes and addons, and the
catalogue revision that orders the station sync feed (docs/catalogue.md).

Storage conventions as in 0001: money in integer cents, quantities in integer thousandths,
timestamps in integer microseconds (UTC).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_LIVE = sa.text("deleted_at IS NULL")


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True)


def upgrade() -> None:
    # One row: taking revisions updates it, which serialises catalogue writers (PostgreSQL
    # row lock; SQLite has one writer anyway). ``changed_at`` keeps change times monotonic.
    revision_table = op.create_table(
        "catalogue_revision",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("value", sa.BigInteger, nullable=False),
        sa.Column("changed_at", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(revision_table, [{"id": 1, "value": 0, "changed_at": 0}])

    op.create_table(
        "categories",
        _id(),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("parent", sa.BigInteger, sa.ForeignKey("categories.id"), nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_categories_parent", "categories", ["parent", "id"])

    op.create_table(
        "products",
        _id(),
        sa.Column("code", sa.BigInteger, nullable=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("price", sa.BigInteger, nullable=False),
        sa.Column("is_free_price", sa.Boolean, nullable=False),
        sa.Column("is_weight", sa.Boolean, nullable=False),
        sa.Column("default_quantity", sa.BigInteger, nullable=False),
        sa.Column("payload", sa.Text, nullable=True),
        sa.Column("info", sa.Text, nullable=False),
        sa.Column("no_discount", sa.Boolean, nullable=False),
        # Live products never point at a missing category (the API detaches them first);
        # SET NULL only tidies tombstones when their category goes.
        sa.Column(
            "category",
            sa.BigInteger,
            sa.ForeignKey("categories.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("fiscal_section", sa.Integer, nullable=False),
        sa.Column("tax", sa.Integer, nullable=False),
        sa.Column("status", sa.SmallInteger, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        # The catalogue revision of the product's latest change (creation, edit, deletion).
        sa.Column("revision", sa.BigInteger, nullable=False),
        # Set on deletion: the row stays as a tombstone for the sync feed.
        sa.Column("deleted_at", sa.BigInteger, nullable=True),
    )
    # The sync feed pages by revision; each change has its own, so it is also the cursor.
    op.create_index("uq_products_revision", "products", ["revision"], unique=True)
    # A timestamp cursor finds its first revision here.
    op.create_index("ix_products_updated_at", "products", ["updated_at", "revision"])
    # Codes are unique among live products only: a deleted product's code may be reused.
    op.create_index(
        "uq_products_code",
        "products",
        ["code"],
        unique=True,
        sqlite_where=_LIVE,
        postgresql_where=_LIVE,
    )
    # The plain list pages over live products without stepping over tombstones.
    op.create_index(
        "ix_products_live", "products", ["id"], sqlite_where=_LIVE, postgresql_where=_LIVE
    )
    op.create_index("ix_products_category", "products", ["category", "id"])
    op.create_index("ix_products_status", "products", ["status", "id"])

    op.create_table(
        "product_barcodes",
        _id(),
        sa.Column(
            "product_id",
            sa.BigInteger,
            sa.ForeignKey("products.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("barcode", sa.String(64), nullable=False),
        sa.Column("discount", sa.BigInteger, nullable=False),
        sa.Column("discount_type", sa.String(8), nullable=True),
        sa.Column("default_quantity", sa.BigInteger, nullable=False),
        # Across the whole catalogue: a scan must find one product. A deleted product's
        # barcodes are removed with it, so they can be reused.
        sa.UniqueConstraint("barcode", name="uq_product_barcodes_barcode"),
    )
    op.create_index(
        "ix_product_barcodes_product_id", "product_barcodes", ["product_id", "position"]
    )

    op.create_table(
        "product_addons",
        _id(),
        sa.Column(
            "product_id",
            sa.BigInteger,
            sa.ForeignKey("products.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("addon_id", sa.BigInteger, sa.ForeignKey("products.id"), nullable=False),
        sa.UniqueConstraint("product_id", "addon_id", name="uq_product_addons_product_addon"),
    )
    op.create_index("ix_product_addons_product_id", "product_addons", ["product_id", "position"])
    # Deleting a product finds the products that list it as an addon.
    op.create_index("ix_product_addons_addon_id", "product_addons", ["addon_id"])


def downgrade() -> None:
    op.drop_table("product_addons")
    op.drop_table("product_barcodes")
    op.drop_table("products")
    op.drop_table("categories")
    op.drop_table("catalogue_revision")
