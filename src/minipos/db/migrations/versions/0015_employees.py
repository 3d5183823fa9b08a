"""Employees who sign in at a station with a PIN (issue 14; docs/employees.md).

``employees``: a name, a role (cashier or manager), an optional sign-in code and the PIN's
scrypt hash. ``stations.employee_id``: the employee signed in at the station now (none: the
station works as before, the request names its cashier). Wrong PINs are counted in
``office_login_failures`` under the subject ``station:<id>`` (the same throttle as the
back office's sign-in).

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "employees",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        # cashier | manager
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("code", sa.String(16), nullable=True, unique=True),
        sa.Column("pin_hash", sa.String(200), nullable=False),
        sa.Column("disabled_at", sa.BigInteger, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    with op.batch_alter_table("stations") as batch:
        # No foreign key: an employee is disabled, never deleted, so the id always resolves.
        batch.add_column(sa.Column("employee_id", sa.BigInteger, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("stations") as batch:
        batch.drop_column("employee_id")
    op.drop_table("employees")
