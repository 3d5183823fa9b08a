"""``db.Table``: one list of columns gives the INSERT, its values, the SELECT and the tuples that
read it back, all in one order, on a real SQLite file (what the invoice repository relies on)."""

from __future__ import annotations

import pytest

from minipos.db import Connection, Table, tuples
from minipos.db.database import SQLiteDatabase
from support import BareSQLite


@pytest.fixture
def db(bare_sqlite: BareSQLite) -> SQLiteDatabase:
    # The table's own column order differs from the Table's on purpose.
    return bare_sqlite("CREATE TABLE t (id INTEGER PRIMARY KEY, b, a, c)")


def test_written_values_read_back_in_one_order(db: SQLiteDatabase) -> None:
    table = Table("t", ("a", "b", "c"))
    stored = {"c": 3, "b": "two", "a": 1.5, "unrelated": object()}

    def job(conn: Connection) -> tuple[int, list[tuple[object, ...]]]:
        new_id = conn.insert_values(table.insert, table.values(stored))
        return new_id, tuples(conn, conn.fetchall(table.select))

    new_id, read = db.run(job)
    assert read == [(new_id, 1.5, "two", 3)]
    assert table.as_tuple({**stored, "id": new_id}) == read[0]


def test_one_column_gives_a_one_tuple(db: SQLiteDatabase) -> None:
    table = Table("t", ("b",))
    assert table.values({"b": "x"}) == ("x",)
    new_id = db.run(lambda conn: conn.insert_values(table.insert, table.values({"b": "x"})))
    assert db.run(lambda conn: tuples(conn, conn.fetchall(table.select))) == [(new_id, "x")]
