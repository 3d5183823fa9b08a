"""Every table a test may write is emptied between PostgreSQL tests (conftest.TABLES): a new
table missing from the list would let one test's rows leak into the next."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from conftest import TABLES

#: Kept on purpose: the schema version, and the catalogue revision's one row.
KEPT = {"alembic_version", "catalogue_revision"}


def test_every_table_is_emptied_between_tests(sqlite_template: Path) -> None:
    with sqlite3.connect(sqlite_template) as conn:
        names = {
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        }
    assert names - KEPT == set(TABLES)
