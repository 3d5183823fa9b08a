"""Apply Alembic migrations programmatically (no alembic.ini for operators to keep)."""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from minipos.db.database import sqlalchemy_url, sqlite_path

MIGRATIONS = Path(__file__).with_name("migrations")

#: Any constant shared by every MiniPOS process: serialises concurrent upgrades on PostgreSQL.
_PG_ADVISORY_LOCK = 0x4D504F53


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(url))
    return config


def upgrade(url: str, revision: str = "heads") -> None:
    engine = sa.create_engine(sqlalchemy_url(url), poolclass=sa.pool.NullPool)
    try:
        with _sqlite_upgrade_lock(url), engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_ADVISORY_LOCK})
            else:
                # WAL before the first table exists, so the file is never in rollback mode.
                conn.exec_driver_sql("PRAGMA journal_mode=WAL")
            config = alembic_config(url)
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
    finally:
        engine.dispose()


@contextlib.contextmanager
def _sqlite_upgrade_lock(url: str) -> Iterator[None]:
    """One upgrade of an SQLite file at a time: a server starting while ``minipos store add``
    or ``key create`` migrates the same new file would otherwise both create its tables (the
    second fails with "table already exists"). PostgreSQL takes an advisory lock instead."""
    if not url.startswith("sqlite:"):
        yield
        return
    path = sqlite_path(url)
    with open(path.with_name(path.name + ".migrate-lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def head() -> str | None:
    """The revision this version of the code needs (the migrations are one line)."""
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def current(url: str) -> str | None:
    engine = sa.create_engine(sqlalchemy_url(url), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()
