"""List endpoints and the station feed run a constant number of SQL statements: a page of 100
items costs what a page of 1 costs (no query per item), on both databases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from minipos.auth.principal import Role
from support import Api, StatementLog, post_invoice, register

ITEMS = 100
#: A receiver address the webhook checks accept; nothing listens there (deliveries are not
#: what is measured).
HOOK_URL = "http://127.0.0.1:9/hook"


@pytest.fixture(autouse=True)
def _local_webhooks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINIPOS_WEBHOOK_ALLOW_NETWORKS", "127.0.0.0/8")


class Shop:
    """A station with an open shift: it sells, claims and reads its feed."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.pos = register(api, "Kase 1", "01")
        assert self.pos.open_shift().status_code == 200
        self.made = 0  # every request_id and name unique across calls

    def _each(self, n: int) -> range:
        self.made += n
        return range(self.made - n, self.made)

    def invoices(self, n: int) -> None:
        for _ in self._each(n):
            post_invoice(self.api)

    def walk_ins(self, n: int) -> None:
        for i in self._each(n):
            sold = self.pos.post(
                f"/api/stations/{self.pos.id}/receipts",
                {"request_id": f"s{i}", "rows": [{"text": "Kafija", "price": 2}],
                 "payments": [{"method_id": 1}]},
            )  # fmt: skip
            assert sold.status_code == 201, sold.text

    def sales_with_email(self, n: int) -> None:
        """Invoices completed for a customer with an e-mail: a receipt, a print job, a message."""
        for i in self._each(n):
            invoice = post_invoice(
                self.api,
                {"rows": [{"text": "Kafija", "quantity": 1, "price": 2}],
                 "info": {"customer": {"email": f"c{i}@example.com"}}},
            )  # fmt: skip
            assert self.pos.claim(invoice["id"]).status_code == 200
            done = self.pos.complete(invoice["id"], f"r{i}", payments=[{"method_id": 1}])
            assert done.status_code == 200, done.text

    def shifts(self, n: int) -> None:
        """``n`` more shifts; the station's first one is already open."""
        for _ in self._each(n):
            assert self.pos.close_shift().status_code == 200
            assert self.pos.open_shift().status_code == 200

    def stations(self, n: int) -> None:
        for i in self._each(n):
            register(self.api, f"Kase {i + 2}", f"{i + 2:02}")

    def feed(self, n: int) -> None:
        """Invoices of every kind the feed shows: every other one claimed by this station."""
        for i in self._each(n):
            invoice = post_invoice(
                self.api,
                {"rows": [{"text": "Kafija", "quantity": 2, "price": 1.5},
                          {"text": "Tēja", "quantity": 1, "price": 2}],
                 "payments": [{"method_id": 1, "amount": 5}]},
            )  # fmt: skip
            if i % 2 == 0:
                assert self.pos.claim(invoice["id"]).status_code == 200

    def admin_creates(
        self, path: str, body: Callable[[int], dict[str, Any]]
    ) -> Callable[[int], None]:
        def create(n: int) -> None:
            for i in self._each(n):
                created = self.api.as_(Role.ADMIN).post(path, json=body(i))
                assert created.status_code == 201, created.text

        return create


#: path → (what makes its items, how many the shop has before making any).
LISTS: dict[str, tuple[Callable[[Shop], Callable[[int], None]], int]] = {
    "/api/invoices": (lambda shop: shop.invoices, 0),
    "/api/receipts": (lambda shop: shop.walk_ins, 0),
    "/api/print-jobs": (lambda shop: shop.walk_ins, 0),
    "/api/messages": (lambda shop: shop.sales_with_email, 0),
    "/api/shifts": (lambda shop: shop.shifts, 1),
    "/api/stations": (lambda shop: shop.stations, 1),
    "/api/events?type=invoice.created": (lambda shop: shop.invoices, 0),
    "/api/products": (
        lambda shop: shop.admin_creates("/api/products", lambda i: {"name": f"P{i}", "price": 1}),
        0,
    ),
    "/api/categories": (
        lambda shop: shop.admin_creates("/api/categories", lambda i: {"name": f"C{i}"}),
        0,
    ),
    "/api/webhooks": (
        lambda shop: shop.admin_creates("/api/webhooks", lambda i: {"url": f"{HOOK_URL}{i}"}),
        0,
    ),
}


def measure(statements: StatementLog, get: Callable[[], Any]) -> tuple[int, int]:
    """(statements run, items listed) for one GET."""
    with statements.recording() as sql:
        response = get()
    assert response.status_code == 200, response.text
    return len(sql), len(response.json())


@pytest.mark.parametrize("path", LISTS)
def test_a_list_costs_the_same_statements_for_1_and_100_items(
    api: Api, statements: StatementLog, path: str
) -> None:
    maker, have = LISTS[path]
    make = maker(Shop(api))
    counts = []
    for wanted in (1, ITEMS):
        make(wanted - have)
        have = wanted
        ran, listed = measure(statements, lambda: api.as_(Role.ADMIN).get(path))
        assert listed == wanted
        counts.append(ran)
    assert counts[0] == counts[1], (
        f"{path}: {counts[0]} statements for 1 item, {counts[1]} for {ITEMS}"
    )


def test_the_station_feed_costs_the_same_statements_for_1_and_100_invoices(
    api: Api, statements: StatementLog
) -> None:
    shop = Shop(api)
    counts = []
    for wanted in (1, ITEMS):
        shop.feed(wanted - shop.made)
        ran, listed = measure(
            statements, lambda: shop.pos.get(f"/api/stations/{shop.pos.id}/feed", limit=ITEMS)
        )
        assert listed == wanted
        counts.append(ran)
    assert counts[0] == counts[1], f"feed: {counts[0]} statements for 1, {counts[1]} for {ITEMS}"
