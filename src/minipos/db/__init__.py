"""Storage: one ``Database`` per process over SQLite or PostgreSQL, and the migrations."""

from minipos.db.database import (
    Connection,
    Database,
    DatabaseFull,
    DatabaseUnavailable,
    Row,
    Table,
    UniqueViolation,
    insert_statement,
    open_database,
    search,
    select_in,
    tuples,
)

__all__ = [
    "Connection",
    "Database",
    "DatabaseFull",
    "DatabaseUnavailable",
    "Row",
    "Table",
    "UniqueViolation",
    "insert_statement",
    "open_database",
    "search",
    "select_in",
    "tuples",
]
