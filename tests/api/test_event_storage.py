"""How PostgreSQL keeps an event's data, the answer it carries (migration 0017): an invoice's
answer stays in the row as it is, so a POST does not pay for compressing it; an answer larger
than a page is still compressed, as PostgreSQL does by default."""

from __future__ import annotations

import json

import psycopg
import pytest

from minipos.db import Connection
from minipos.events import repository


def answer(rows: int) -> str:
    """An invoice-like answer of ``rows`` rows (about 60 bytes each), as compressible as one."""
    return json.dumps(
        {
            "rows": [
                {"text": f"Kafija {i}", "quantity": "2.000", "price": "1.80"} for i in range(rows)
            ]
        }
    )


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_an_invoice_answer_is_kept_uncompressed_and_a_huge_one_compressed(
    database_url: str,
) -> None:
    invoice, huge = answer(75), answer(400)
    assert 4_000 < len(invoice) < 8_000 < len(huge)
    with psycopg.connect(database_url) as session:
        repository.append(
            Connection(session, "postgresql"),
            [
                {"type": "invoice.created", "resource": "invoice", "resource_id": n,
                 "created_at": 0, "data": data}
                for n, data in ((1, invoice), (2, huge))
            ],
        )  # fmt: skip
        stored = session.execute(
            "SELECT resource_id, pg_column_compression(data), data FROM events ORDER BY resource_id"
        ).fetchall()
    assert [(n, method is None, data) for n, method, data in stored] == [
        (1, True, invoice),
        (2, False, huge),
    ]
