"""PostgreSQL numbers events after their commit (docs/events.md, "Commit order"): writers do not
wait on each other, and the numbers follow the commit order, not the insert order."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import psycopg
import pytest

from minipos.db import Connection, open_database
from minipos.events import repository


@pytest.fixture
def pg_url(database_url: str) -> str:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer: ids are numbered at insert")
    return database_url


@pytest.fixture
def writers(pg_url: str) -> Iterator[tuple[psycopg.Connection, psycopg.Connection]]:
    """Two sessions that give up after a second if they have to wait for a lock."""
    with ExitStack() as stack:
        sessions = [
            stack.enter_context(psycopg.connect(pg_url, options="-c lock_timeout=1000"))
            for _ in range(2)
        ]
        yield sessions[0], sessions[1]


def write_event(session: psycopg.Connection, resource_id: int) -> None:
    """One unit of work's event, left uncommitted."""
    repository.append(
        Connection(session, "postgresql"),
        [
            {
                "type": "invoice.created",
                "resource": "invoice",
                "resource_id": resource_id,
                "created_at": 0,
                "data": "{}",
            }
        ],
    )


def read_all(pg_url: str) -> list[int]:
    """The resource ids of the events a reader gets from the start, in the order it gets them."""
    db = open_database(pg_url)
    try:
        return [row["resource_id"] for row in db.run(lambda c: repository.after(c, 0, None, 100))]
    finally:
        db.close()


def test_concurrent_writers_do_not_wait_on_each_other(
    pg_url: str, writers: tuple[psycopg.Connection, psycopg.Connection]
) -> None:
    first, second = writers
    write_event(first, 1)
    # The first writer's transaction is open with its event: the second's insert (and commit)
    # goes through without waiting (lock_timeout would fail it after a second).
    write_event(second, 2)
    second.commit()
    first.commit()
    assert sorted(read_all(pg_url)) == [1, 2]


def test_numbers_follow_commit_order_not_insert_order(
    pg_url: str, writers: tuple[psycopg.Connection, psycopg.Connection]
) -> None:
    first, second = writers
    write_event(first, 1)
    write_event(second, 2)
    assert read_all(pg_url) == []  # nothing committed: nothing to read, nothing numbered
    second.commit()
    assert read_all(pg_url) == [2]
    first.commit()
    # The reader has already passed number 1 (event 2): event 1 gets a later number, so a
    # reader following the cursor still gets it.
    assert read_all(pg_url) == [2, 1]


def test_the_numbers_continue_after_the_newest_and_skip_none(
    pg_url: str, writers: tuple[psycopg.Connection, psycopg.Connection]
) -> None:
    first, second = writers
    for resource_id in (1, 2, 3):
        write_event(first, resource_id)
    first.commit()
    write_event(second, 4)
    second.commit()
    db = open_database(pg_url)
    try:
        assert db.run(repository.last_id) == 4
        rows = db.run(lambda c: repository.after(c, 2, None, 100))
    finally:
        db.close()
    assert [(row["id"], row["resource_id"]) for row in rows] == [(3, 3), (4, 4)]
