"""An ``Idempotency-Key`` replay compares the request, not its bytes (issue #11): the same JSON
with other spacing or key order replays the first answer; other content is still a 422."""

from __future__ import annotations

import json
from typing import Any

import pytest

from minipos.auth.principal import Role
from support import Api

INVOICE = {
    "invoice_no": "ERP-7",
    "rows": [{"text": "Kafija", "quantity": 2, "price": "1.50", "tax": 0}],
    "comment": "galds 4",
}
PRODUCT = {"name": "Kafija", "price": "1.50", "code": 101}


def spellings(document: dict[str, Any]) -> list[bytes]:
    """One document written two ways: compact, and indented with keys reversed. (An unknown
    field is a 400 by default; with MINIPOS_UNKNOWN_FIELDS=ignore it does not count either:
    tests/api/test_input_errors.py.)"""
    reordered = dict(reversed(list(document.items())))
    return [
        json.dumps(document, separators=(",", ":")).encode(),
        json.dumps(reordered, indent=4).encode() + b"\n",
    ]


@pytest.mark.parametrize(
    ("path", "document", "role", "changed"),
    [
        ("/api/invoice/new", INVOICE, Role.INTEGRATOR, {**INVOICE, "comment": "galds 5"}),
        ("/api/products", PRODUCT, Role.ADMIN, {**PRODUCT, "price": "1.60"}),
    ],
)
def test_the_same_document_spelled_otherwise_replays(
    api: Api, path: str, document: dict[str, Any], role: Role, changed: dict[str, Any]
) -> None:
    client = api.as_(role)
    headers = {"Content-Type": "application/json", "Idempotency-Key": "order-7"}
    first, *others = spellings(document)
    created = client.post(path, content=first, headers=headers)
    assert created.status_code in (200, 201), created.text
    assert "idempotent-replayed" not in created.headers
    for body in others:
        again = client.post(path, content=body, headers=headers)
        assert again.status_code == created.status_code, again.text
        assert again.headers["idempotent-replayed"] == "true"
        assert again.content == created.content
    other = client.post(path, json=changed, headers=headers)
    assert other.status_code == 422, other.text
