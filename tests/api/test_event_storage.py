"""How PostgreSQL keeps the answers that the event log and ``Idempotency-Key`` store (migration
0017): an invoice's answer stays in its row as it is, so a POST does not pay for compressing it;
an answer larger than a page is still compressed, as PostgreSQL does by default (over 2 KB)."""

from __future__ import annotations

import json

import psycopg
import pytest

from minipos.auth.principal import Role
from minipos.db import Connection
from minipos.events import repository
from support import Api

PG = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def rows(count: int) -> list[dict[str, object]]:
    return [{"text": f"Kafija {i}", "quantity": 2, "price": "1.80"} for i in range(count)]


@PG
def test_an_invoice_answer_is_stored_as_it_is(api: Api, database_url: str) -> None:
    posted = api.as_(Role.INTEGRATOR).post(
        "/api/invoice/new", json={"rows": rows(12)}, headers={"Idempotency-Key": "order-1"}
    )
    assert posted.status_code == 200, posted.text
    with psycopg.connect(database_url) as session:
        stored = session.execute(
            "SELECT pg_column_compression(data), octet_length(data) FROM events"
            " UNION ALL SELECT pg_column_compression(body), octet_length(body)"
            " FROM idempotency_keys"
        ).fetchall()
    # Both over the 2 KB at which PostgreSQL would compress them by default, and not compressed.
    assert [(method, size > 2_000) for method, size in stored] == [(None, True), (None, True)]


@PG
def test_an_answer_larger_than_a_page_is_still_compressed(database_url: str) -> None:
    huge = json.dumps({"rows": rows(400)})
    assert len(huge) > 8_000
    with psycopg.connect(database_url) as session:
        repository.append(
            Connection(session, "postgresql"),
            [{"type": "invoice.created", "resource": "invoice", "resource_id": 1,
              "created_at": 0, "data": huge}],
        )  # fmt: skip
        method, data = session.execute(
            "SELECT pg_column_compression(data), data FROM events"
        ).fetchone() or (None, None)
    assert method is not None
    assert data == huge
