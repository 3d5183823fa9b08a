"""The index behind a store's pull at the centre (migration 0018): partial on ``store_id IS NOT
NULL``, so a shop's or a standalone server's invoices (no store) add nothing to it, and still
the index both engines choose for the pull's query."""

from __future__ import annotations

import sqlite3
from typing import Any, cast

import psycopg

from minipos.db import Connection
from minipos.invoices import repository


class _Capture:
    """Stands in for a connection to catch the SQL ``down_page`` sends."""

    def __init__(self) -> None:
        self.sql, self.params = "", {}

    def fetchall(self, sql: str, params: dict[str, Any]) -> list[Any]:
        self.sql, self.params = sql, params
        return []


def pull_query() -> tuple[str, dict[str, Any]]:
    capture = _Capture()
    repository.down_page(cast(Connection, capture), store_id=3, after=0, limit=100)
    return capture.sql, capture.params


def test_the_pull_uses_a_partial_index(database_url: str) -> None:
    sql, params = pull_query()
    if database_url.startswith("sqlite"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as conn:
            (definition,) = conn.execute(
                "SELECT sql FROM sqlite_master WHERE name = 'ix_invoices_down'"
            ).fetchone()
            plan = str(conn.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall())
    else:
        with psycopg.connect(database_url) as session:
            (definition,) = session.execute(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_invoices_down'"
            ).fetchone() or ("",)
            session.execute("SET enable_seqscan = off")  # an empty table: take what is usable
            plan = str(Connection(session, "postgresql").fetchall("EXPLAIN " + sql, params))
    assert "store_id IS NOT NULL" in definition
    assert "ix_invoices_down" in plan
