"""Events numbered after commit on PostgreSQL (issue 17; docs/events.md).

A writer's event gets a negative staging id (``-nextval`` of the table's sequence), taken
without a lock; readers number committed staged events (``events.repository.settle``) with
the next public ids. The events stored so far keep their ids (they are the numbers clients
hold as cursors). SQLite is unchanged: one writer numbers in commit order at insert.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE events ALTER COLUMN id"
            " SET DEFAULT -nextval(pg_get_serial_sequence('events', 'id')::regclass)"
        )


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        # Staged events get their numbers, then the sequence hands out the next ones again.
        op.execute(
            "UPDATE events SET id = numbered.position FROM ("
            " SELECT id AS staged, (SELECT coalesce(max(id), 0) FROM events WHERE id > 0)"
            " + row_number() OVER (ORDER BY id DESC) AS position FROM events WHERE id < 0)"
            " AS numbered WHERE events.id = numbered.staged"
        )
        op.execute(
            "ALTER TABLE events ALTER COLUMN id"
            " SET DEFAULT nextval(pg_get_serial_sequence('events', 'id')::regclass)"
        )
        op.execute(
            "SELECT setval(pg_get_serial_sequence('events', 'id'),"
            " (SELECT coalesce(max(id), 0) + 1 FROM events), false)"
        )
