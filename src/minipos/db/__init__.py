"""Storage: one ``Database`` per process over SQLite or PostgreSQL, and the migrations."""

from minipos.db.database import (
    Connection,
    Database,
    DatabaseFull,
    DatabaseUnavailable,
    Row,
    Table,
    UniqueViolation,
    WriteGuard,
    insert_statement,
    open_database,
    search,
    select_in,
    tuples,
    write_guard,
)

__all__ = [
    "Connection",
    "Database",
    "DatabaseFull",
    "DatabaseUnavailable",
    "Row",
    "Table",
    "UniqueViolation",
    "WriteGuard",
    "insert_statement",
    "open_database",
    "search",
    "select_in",
    "tuples",
    "write_guard",
]
