"""Back-office people (docs/office.md): users who sign in with a password, their server-side
sessions, and the failed sign-ins that slow down guessing.

``office_users``: a name, a role (``manager`` or ``admin``) and a scrypt password hash.
``office_sessions``: only the SHA-256 digest of the cookie's token is kept, with the
session's CSRF token, its expiry and its client address.
``office_login_failures``: one row per failed sign-in, by user name and by client address.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "office_users",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("language", sa.String(8), nullable=True),
        sa.Column("disabled_at", sa.BigInteger, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "office_sessions",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("digest", sa.String(64), nullable=False, unique=True),
        sa.Column(
            "user_id",
            sa.BigInteger,
            sa.ForeignKey("office_users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("client", sa.String(64), nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_office_sessions_user", "office_sessions", ["user_id"])
    op.create_table(
        "office_login_failures",
        sa.Column("id", _ID, primary_key=True),
        # "user:<name>" or "addr:<client address>"
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_office_login_failures", "office_login_failures", ["subject", "at"])


def downgrade() -> None:
    op.drop_table("office_login_failures")
    op.drop_table("office_sessions")
    op.drop_table("office_users")
