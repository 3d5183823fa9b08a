"""SQLITE_FULL in the middle of a group commit (issue #11, the disk-full run).

SQLite answers a full disk during a statement by rolling back the whole transaction, not just
the statement. The writer must then refuse every job of the group (nothing of it is kept) with
``DatabaseFull``, and go on serving. ``PRAGMA max_page_count`` makes the file "full" at once;
tests/e2e/test_disk_full.py fills a real file system.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import pytest

from minipos.db import Connection, DatabaseFull
from support import BareSQLite


def insert(value: bytes) -> Callable[[Connection], None]:
    def job(conn: Connection) -> None:
        conn.execute("INSERT INTO t (x) VALUES (:x)", {"x": value})

    return job


def test_a_full_file_mid_group_refuses_the_whole_group_and_the_writer_goes_on(
    bare_sqlite: BareSQLite,
) -> None:
    db = bare_sqlite("CREATE TABLE t (x BLOB)")
    release = threading.Event()

    def hold_the_writer(conn: Connection) -> None:
        # Keeps the writer busy while the next group queues up, and caps the file's size.
        pages = conn.fetchone("PRAGMA page_count")
        assert pages is not None
        conn.raw.execute(f"PRAGMA max_page_count = {pages[0] + 8}")
        release.wait(5)

    async def scenario() -> list[object]:
        first = asyncio.ensure_future(db.write(hold_the_writer))
        await asyncio.sleep(0.1)
        # One group: a job that fits, one that fills the file, one that would fit again.
        group = [
            asyncio.ensure_future(db.write(insert(value)))
            for value in (b"before", b"x" * 200_000, b"after")
        ]
        await asyncio.sleep(0.1)
        release.set()
        await first
        return list(await asyncio.gather(*group, return_exceptions=True))

    outcomes = asyncio.run(scenario())
    assert [type(o) for o in outcomes] == [DatabaseFull] * 3
    assert "database or disk is full" in str(outcomes[1])
    stored = db.run(lambda conn: [bytes(r["x"]) for r in conn.fetchall("SELECT x FROM t")])
    assert stored == []  # nothing of the group, in particular not the job after the failure

    async def later() -> None:
        await db.write(insert(b"small"))

    asyncio.run(later())  # the writer survived
    stored = db.run(lambda conn: [bytes(r["x"]) for r in conn.fetchall("SELECT x FROM t")])
    assert stored == [b"small"]


def test_a_single_job_too_big_for_the_file_is_refused_as_full(bare_sqlite: BareSQLite) -> None:
    db = bare_sqlite("CREATE TABLE t (x BLOB)")

    def too_big(conn: Connection) -> None:
        conn.raw.execute("PRAGMA max_page_count = 16")
        conn.execute("INSERT INTO t (x) VALUES (:x)", {"x": b"x" * 200_000})

    with pytest.raises(DatabaseFull, match="database or disk is full"):
        asyncio.run(db.write(too_big))
