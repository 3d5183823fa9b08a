"""Apply Alembic migrations programmatically (no alembic.ini for operators to keep)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from minipos.db.database import sqlalchemy_url

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
        with engine.begin() as conn:
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
