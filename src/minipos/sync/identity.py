"""The role a database was made for (``sync_identity``, one row), so that a shop's database
never starts as a centre, nor a centre's as a shop (docs/stores.md, "Roles").

The first start writes the row. Later starts must name the same mode, with one exception: a
standalone database that has sold nothing yet (no invoices, receipts or shifts) may become a
store or a centre, which is how one sets up a new shop from a fresh install. One that has
sold may not: a store sends the centre only what it recorded as a store, so the older sales
would never arrive, and its station numbers would clash with what the centre holds. A store
or centre database never goes back to standalone: a store would stop sending its receipts.
A database migrated from before the chain (no row) counts as standalone.
"""

from __future__ import annotations

from minipos.db import Connection
from minipos.domain.sync import Mode

_ROLE = {Mode.STANDALONE: "a standalone shop", Mode.STORE: "a store", Mode.CENTRAL: "a centre"}


class ModeRefused(Exception):
    """This database belongs to another mode; the message names both."""


def claim(conn: Connection, mode: str, now_us: int) -> None:
    """Check ``mode`` against the database's and write it on a first start (or when a
    standalone database that sold nothing becomes a store or a centre)."""
    wanted = Mode(mode)
    row = conn.fetchone("SELECT mode FROM sync_identity WHERE id = 1")
    held = Mode.STANDALONE if row is None else Mode(row["mode"])
    if row is not None and held is wanted:
        return
    if held is not wanted:
        if held is not Mode.STANDALONE:
            raise ModeRefused(
                f"this database belongs to {_ROLE[held]}; it cannot start as {wanted.value} "
                f"(MINIPOS_MODE={held.value} starts it; a {wanted.value} needs its own database)"
            )
        if _has_sold(conn):
            raise ModeRefused(
                f"this database belongs to {_ROLE[held]} that has sold; it cannot start as "
                f"{wanted.value}: its sales would never reach a centre (start it with "
                f"MINIPOS_MODE=standalone, or give the {wanted.value} a new database)"
            )
    # An upsert: several PostgreSQL processes may make their first start together.
    conn.execute(
        "INSERT INTO sync_identity (id, mode, created_at) VALUES (1, :mode, :now)"
        " ON CONFLICT (id) DO UPDATE SET mode = excluded.mode, created_at = excluded.created_at",
        {"mode": wanted.value, "now": now_us},
    )


def _has_sold(conn: Connection) -> bool:
    return any(
        conn.fetchone(f"SELECT 1 AS x FROM {table} LIMIT 1") is not None  # noqa: S608 - constants
        for table in ("invoices", "receipts", "shifts")
    )


def held(conn: Connection) -> str | None:
    """The mode the database remembers (None before its first start)."""
    row = conn.fetchone("SELECT mode FROM sync_identity WHERE id = 1")
    return None if row is None else str(row["mode"])
