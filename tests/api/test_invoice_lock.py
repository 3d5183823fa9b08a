"""The invoice row lock that a completion and a cancel take first (``invoices.repository.lock``):
on PostgreSQL, where writers run side by side, it holds off every other writer of that invoice
until the transaction ends, and it writes nothing. (SQLite's one writer runs each job alone.)"""

from __future__ import annotations

import psycopg
import pytest

from minipos.db import Connection
from minipos.invoices import repository
from support import Api, post_invoice


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_lock_holds_off_another_writer_until_commit(api: Api, database_url: str) -> None:
    invoice_id = post_invoice(api)["id"]
    update = "UPDATE invoices SET comment = 'other' WHERE id = %s"
    with psycopg.connect(database_url) as holder, psycopg.connect(database_url) as other:
        other.execute("SET lock_timeout = '200ms'")
        other.commit()
        before = holder.execute("SELECT xmin FROM invoices WHERE id = %s", (invoice_id,))
        version = before.fetchone()
        repository.lock(Connection(holder, "postgresql"), invoice_id)

        with pytest.raises(psycopg.errors.LockNotAvailable):
            other.execute(update, (invoice_id,))
        other.rollback()

        # Locked, not rewritten: the row is still the version it was.
        assert (
            holder.execute("SELECT xmin FROM invoices WHERE id = %s", (invoice_id,)).fetchone()
            == version
        )
        holder.commit()
        other.execute(update, (invoice_id,))
        other.commit()
