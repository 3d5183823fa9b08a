"""Storage: one ``Database`` per process over SQLite or PostgreSQL, and the migrations."""

from minipos.db.database import (
    Connection,
    Database,
    DatabaseFull,
    DatabaseUnavailable,
    Row,
    UniqueViolation,
    insert_statement,
    open_database,
    search,
    select_in,
)

__all__ = [
    "Connection",
    "Database",
    "DatabaseFull",
    "DatabaseUnavailable",
    "Row",
    "UniqueViolation",
    "insert_statement",
    "open_database",
    "search",
    "select_in",
]
