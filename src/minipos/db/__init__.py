"""Storage: one ``Database`` per process over SQLite or PostgreSQL, and the migrations."""

from minipos.db.database import (
    Connection,
    Database,
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
    "DatabaseUnavailable",
    "Row",
    "UniqueViolation",
    "insert_statement",
    "open_database",
    "search",
    "select_in",
]
