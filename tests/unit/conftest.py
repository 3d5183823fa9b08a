"""Fixtures of the unit tests that need a real SQLite file but not minipos's schema."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from minipos.db.database import SQLiteDatabase
from support import BareSQLite


@pytest.fixture
def bare_sqlite(tmp_path: Path) -> Iterator[BareSQLite]:
    """Opens minipos's SQLite database (its writer thread, group commit, pragmas) on a fresh
    file holding only the table that ``ddl`` creates; closed after the test."""
    opened: list[SQLiteDatabase] = []

    def open_with(ddl: str) -> SQLiteDatabase:
        db = SQLiteDatabase(tmp_path / f"bare-{len(opened)}.sqlite3")
        opened.append(db)
        db.run(lambda conn: conn.execute(ddl))
        return db

    yield open_with
    for db in opened:
        db.close()
