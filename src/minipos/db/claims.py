"""Claims: the SQL that lets one worker process own a queued row for a while.

A queue table (``print_jobs``, ``messages``) has ``status``, ``attempts``, ``claim_token`` and
``claimed_at``. A worker claims a waiting row with a conditional UPDATE (``→ sending``, a
random token, ``attempts + 1``): of several server processes exactly one wins it. While it
sends, it renews ``claimed_at`` (its lease); a row still ``sending`` whose lease ran out was
left by a process that died. What then happens to such a row, and how an outcome is written,
differs per queue and stays in its repository.

``table`` and the column lists are names from the code, never input.
"""

from __future__ import annotations

from minipos.db.database import Connection, Row


def claim(
    conn: Connection,
    table: str,
    row_id: int,
    *,
    token: str,
    now_us: int,
    waiting: str,
    returning: str,
    touch: tuple[str, ...] = (),
) -> Row | None:
    """``waiting`` → ``sending`` under ``token``, or ``None`` if another worker was first.

    ``touch`` names more columns set to now (``updated_at``); ``returning`` the columns read back.
    """
    also = "".join(f", {column} = :now" for column in touch)
    return conn.fetchone(
        f"UPDATE {table} SET status = 'sending', claim_token = :token, claimed_at = :now,"  # noqa: S608
        f" attempts = attempts + 1{also} WHERE id = :id AND status = :waiting"
        f" RETURNING {returning}",
        {"id": row_id, "token": token, "now": now_us, "waiting": waiting},
    )


def renew(conn: Connection, table: str, row_id: int, token: str, now_us: int) -> bool:
    """Renew the lease of a row this worker is sending (``False``: it is no longer ours)."""
    cursor = conn.execute(
        f"UPDATE {table} SET claimed_at = :now"  # noqa: S608 - names from the code
        " WHERE id = :id AND claim_token = :token AND status = 'sending'",
        {"id": row_id, "token": token, "now": now_us},
    )
    return int(cursor.rowcount) == 1


def stale(conn: Connection, table: str, cutoff_us: int) -> list[Row]:
    """The ids of rows left ``sending`` whose lease ran out before ``cutoff_us``."""
    return conn.fetchall(
        f"SELECT id FROM {table} WHERE status = 'sending' AND claimed_at < :cutoff",  # noqa: S608
        {"cutoff": cutoff_us},
    )
