"""``GET /api/products?search=``: the back office's catalogue search (docs/catalogue.md,
"Search"), on SQLite and PostgreSQL through the real app."""

from __future__ import annotations

from typing import Any

from minipos.auth.principal import Role
from support import Api

PRODUCTS = [
    {"name": "Ūdens DZIRKSTOŠAIS", "price": "0.99", "code": 11, "barcodes": [{"barcode": "4751"}]},
    {"name": "Maize rupjā", "price": "1.20", "code": 4751},
    {"name": "Atlaide 50%", "price": "0.10"},
    {"name": "Piens 2_5", "price": "0.89", "barcodes": [{"barcode": "ABC-1"}]},
]


def seed(api: Api) -> None:
    for product in PRODUCTS:
        response = api.as_(Role.ADMIN).post("/api/products", json=product)
        assert response.status_code == 201, response.text


def found(api: Api, text: str, **params: Any) -> tuple[list[str], int]:
    response = api.as_(Role.ADMIN).get("/api/products", params={"search": text, **params})
    assert response.status_code == 200, response.text
    return [p["name"] for p in response.json()], int(response.headers["X-Total-Count"])


def test_search_by_name_any_case_code_and_barcode(api: Api) -> None:
    seed(api)
    assert found(api, "ūdens") == (["Ūdens DZIRKSTOŠAIS"], 1)  # Latvian letters fold too
    assert found(api, "dzirkstošais") == (["Ūdens DZIRKSTOŠAIS"], 1)
    assert found(api, "  RUPJ ") == (["Maize rupjā"], 1)  # trimmed
    # 4751 is one product's code and another's barcode: both.
    assert found(api, "4751") == (["Ūdens DZIRKSTOŠAIS", "Maize rupjā"], 2)
    assert found(api, "ABC-1") == (["Piens 2_5"], 1)
    # LIKE's wildcards are plain text here.
    assert found(api, "50%") == (["Atlaide 50%"], 1)
    assert found(api, "2_5") == (["Piens 2_5"], 1)
    assert found(api, "%") == (["Atlaide 50%"], 1)
    assert found(api, "e", limit=2) == (["Ūdens DZIRKSTOŠAIS", "Maize rupjā"], 4)
    assert found(api, "e", limit=2, offset=2) == (["Atlaide 50%", "Piens 2_5"], 4)
    assert found(api, "nav tāda") == ([], 0)
    assert found(api, "") == ([p["name"] for p in PRODUCTS], 4)  # empty: no filter


def test_search_combines_with_the_other_filters_and_checks_its_length(api: Api) -> None:
    seed(api)
    assert found(api, "e", code=4751) == (["Maize rupjā"], 1)
    too_long = api.as_(Role.ADMIN).get("/api/products", params={"search": "x" * 101})
    assert too_long.status_code == 400
    assert "search" in too_long.text
    huge_number = "9" * 30  # not a code (past 64 bits): only names are searched
    assert found(api, huge_number) == ([], 0)
