"""The SQLite group-commit writer (docs/durability.md): jobs that wait together commit together,
each in its own SAVEPOINT, so a failing job rolls back alone, the others commit, and every
caller gets its own job's result. (A COMMIT that fails for the whole group, disk full, is in
test_group_commit_full.py.)

A group is forced by holding the writer: a first job blocks it until the next jobs are queued,
so the writer then takes them all at once (it drains the queue before each BEGIN).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from minipos.db import Connection, UniqueViolation
from minipos.db.database import SQLiteDatabase
from support import BareSQLite

Job = Callable[[Connection], Any]


@pytest.fixture
def db(bare_sqlite: BareSQLite) -> SQLiteDatabase:
    return bare_sqlite("CREATE TABLE t (x TEXT UNIQUE)")


def insert(value: str) -> Job:
    def job(conn: Connection) -> str:
        conn.execute("INSERT INTO t (x) VALUES (:x)", {"x": value})
        return value

    return job


def stored(db: SQLiteDatabase) -> list[str]:
    return db.run(lambda conn: [r["x"] for r in conn.fetchall("SELECT x FROM t ORDER BY x")])


def in_one_group(db: SQLiteDatabase, jobs: list[Job]) -> list[Any]:
    """Each job's outcome (its result or its exception), all run as one group; the last job
    checks that the group really is one transaction: another connection sees none of it yet."""
    held, release = threading.Event(), threading.Event()

    def hold(conn: Connection) -> None:
        held.set()
        release.wait(10)

    def nothing_committed_yet(conn: Connection) -> int:
        with sqlite3.connect(db.path) as other:
            count: int = other.execute("SELECT count(*) FROM t").fetchone()[0]
        return count

    async def scenario() -> list[Any]:
        holder = asyncio.ensure_future(db.write(hold))
        await asyncio.to_thread(held.wait, 10)
        group: list[Awaitable[Any]] = [
            asyncio.ensure_future(db.write(job)) for job in [*jobs, nothing_committed_yet]
        ]
        await asyncio.sleep(0)  # each write ran up to its await: every job is in the queue
        release.set()
        await holder
        return list(await asyncio.gather(*group, return_exceptions=True))

    *outcomes, seen_by_others = asyncio.run(scenario())
    assert seen_by_others == 0, "the jobs did not run in one group"
    return outcomes


def fails_after_writing(conn: Connection) -> None:
    conn.execute("INSERT INTO t (x) VALUES ('lost-1')")
    conn.execute("INSERT INTO t (x) VALUES ('lost-2')")
    raise ValueError("bad input")


def duplicate_after_writing(conn: Connection) -> None:
    conn.execute("INSERT INTO t (x) VALUES ('lost-1')")
    conn.execute("INSERT INTO t (x) VALUES ('a')")  # 'a' is the group's first job's


def batch_flush_fails(conn: Connection) -> None:
    """The job returns, but writing its batch rows (as events are, just before COMMIT) fails."""

    def flush(conn: Connection, rows: list[Any]) -> None:
        conn.execute("INSERT INTO t (x) VALUES ('lost-2')")
        raise RuntimeError("flush failed")

    conn.execute("INSERT INTO t (x) VALUES ('lost-1')")
    conn.batch(flush).append("row")


@pytest.mark.parametrize(
    ("failing", "error"),
    [
        (fails_after_writing, ValueError),
        (duplicate_after_writing, UniqueViolation),
        (batch_flush_fails, RuntimeError),
    ],
    ids=["raises", "unique-violation", "batch-flush"],
)
def test_a_failing_job_rolls_back_alone_and_the_group_commits(
    db: SQLiteDatabase, failing: Job, error: type[Exception]
) -> None:
    outcomes = in_one_group(db, [insert("a"), failing, insert("b")])
    assert outcomes[0] == "a"
    assert isinstance(outcomes[1], error)
    assert outcomes[2] == "b"
    assert stored(db) == ["a", "b"]  # nothing of the failing job, all of the others


def test_a_job_alone_that_raises_leaves_nothing_written(db: SQLiteDatabase) -> None:
    with pytest.raises(ValueError, match="bad input"):
        asyncio.run(db.write(fails_after_writing))
    assert stored(db) == []
    asyncio.run(db.write(insert("after")))  # the writer goes on
    assert stored(db) == ["after"]


def test_every_caller_gets_its_own_result(db: SQLiteDatabase) -> None:
    values = [f"v{i:03}" for i in range(200)]
    jobs = [insert(v) if i % 7 else fails_after_writing for i, v in enumerate(values)]
    outcomes = in_one_group(db, jobs)
    for i, (value, outcome) in enumerate(zip(values, outcomes, strict=True)):
        if i % 7:
            assert outcome == value
        else:
            assert isinstance(outcome, ValueError)
    assert stored(db) == [v for i, v in enumerate(values) if i % 7]


def test_a_large_job_rolls_back_alone_without_a_temporary_file(db: SQLiteDatabase) -> None:
    """A job's SAVEPOINT keeps a copy of each stored page it changes (its statement journal).
    Past 64 KiB SQLite moves that journal to a temporary file, unless ``temp_store`` is MEMORY:
    an open, some fifteen page writes and a close more in a station's completion. The writer
    keeps it in memory."""
    filler = "x" * 1000
    db.run(lambda conn: conn.execute("CREATE TABLE big (y TEXT)"))
    db.run(lambda conn: conn.execute_many("INSERT INTO big VALUES (:y)", [{"y": filler}] * 200))
    files: list[str] = []

    def large_then_fails(conn: Connection) -> None:
        conn.execute("UPDATE big SET y = 'changed'")  # some 50 stored pages, 200 KiB
        fds = Path("/proc/self/fd")
        files.extend(str(fd.readlink()) for fd in fds.iterdir() if fd.is_symlink())
        raise ValueError("bad input")

    outcomes = in_one_group(db, [insert("a"), large_then_fails, insert("b")])
    assert isinstance(outcomes[1], ValueError)
    assert stored(db) == ["a", "b"]
    ys = db.run(lambda conn: conn.fetchall("SELECT DISTINCT y FROM big"))
    assert [row["y"] for row in ys] == [filler]  # rolled back from the journal in memory
    assert [f for f in files if "etilqs_" in f] == []  # the prefix of SQLite's temporary files
