"""Events numbered after commit on PostgreSQL (issue 17; docs/events.md).

PostgreSQL only (SQLite is unchanged: one writer numbers in commit order at insert):

- ``events.id`` defaults to ``-nextval``: a writer's event gets a negative staging id, taken
  without a lock; a reader numbers committed staged events with the next public ids
  (``events.repository.settle``).
- ``events.xact``: the writing transaction (``pg_current_xact_id()``) while staged; once
  numbered, the horizon of the step that numbered it. The events stored so far keep their ids
  (the numbers clients hold as cursors) and no ``xact``.
- ``ix_events_staged``: the staged events by transaction, and only those.

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

_SEQUENCE = "pg_get_serial_sequence('events', 'id')::regclass"


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    # Added empty, then defaulted: the existing rows are not rewritten.
    op.execute("ALTER TABLE events ADD COLUMN xact xid8")
    op.execute("ALTER TABLE events ALTER COLUMN xact SET DEFAULT pg_current_xact_id()")
    op.execute(f"ALTER TABLE events ALTER COLUMN id SET DEFAULT -nextval({_SEQUENCE})")
    op.execute("CREATE INDEX ix_events_staged ON events (xact) WHERE id < 0")


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    # Staged events get their numbers, then the sequence hands out the next ones again.
    op.execute(
        "UPDATE events SET id = numbered.position FROM ("
        " SELECT id AS staged, (SELECT coalesce(max(id), 0) FROM events WHERE id > 0)"
        " + row_number() OVER (ORDER BY id DESC) AS position FROM events WHERE id < 0)"
        " AS numbered WHERE events.id = numbered.staged"
    )
    op.execute("DROP INDEX ix_events_staged")
    op.execute("ALTER TABLE events DROP COLUMN xact")
    op.execute(f"ALTER TABLE events ALTER COLUMN id SET DEFAULT nextval({_SEQUENCE})")
    op.execute(
        "SELECT setval(pg_get_serial_sequence('events', 'id'),"
        " (SELECT coalesce(max(id), 0) + 1 FROM events), false)"
    )
