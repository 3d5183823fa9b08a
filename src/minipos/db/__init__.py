"""Storage: one ``Database`` per process over SQLite or PostgreSQL, and the migrations."""

from minipos.db.database import (
    Connection,
    Database,
    DatabaseUnavailable,
    Row,
    UniqueViolation,
    open_database,
)

__all__ = [
    "Connection",
    "Database",
    "DatabaseUnavailable",
    "Row",
    "UniqueViolation",
    "open_database",
]
