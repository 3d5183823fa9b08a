"""The station flow as a Hypothesis state machine, through the real app and database (issue #11).

Shifts open and close; walk-in sales, refunds against them, and invoices completed with row
edits are rung up with amounts and sizes drawn up to and past every money limit. Whatever is
drawn: no answer is a 5xx, an open shift always closes, each Z-report equals the sum of its
receipts, and ``minipos verify`` finds nothing.

Runs 15 examples of 20 steps per database; ``MINIPOS_SOAK=1`` runs 300 of 50
(docs/security.md).
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck
from hypothesis import settings as run_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)

from minipos.auth.principal import Role
from minipos.config import Settings
from minipos.domain.money import MAX_SHIFT_TOTAL
from support import Api, Station, register, verify_database

SOAK = os.environ.get("MINIPOS_SOAK") == "1"
RUN = run_settings(
    max_examples=300 if SOAK else 15,
    stateful_step_count=50 if SOAK else 20,
    suppress_health_check=[HealthCheck.too_slow],
)

# Everyday figures, the largest valid ones, the largest row that fits one document (100 × the
# largest price), and ones past the field limits.
QUANTITIES = st.sampled_from(["1", "0.001", "2.5", "100", "999999.999", "1000000"])
PRICES = st.sampled_from(["0.01", "1.50", "99999999.99", "100000000"])
ROWS = st.lists(st.tuples(QUANTITIES, PRICES), min_size=1, max_size=3) | st.tuples(
    st.just("100"), st.just("99999999.99")
).map(lambda row: [row] * 2)  # two rows that fit alone but not together
EXTRA_CASH = st.sampled_from([None, "0.01", "99999999.99"])
OK = {200, 201}
REFUSED = {400, 409}


@dataclass
class Sold:
    """A sale receipt and what of its rows may still be refunded."""

    document_id: str
    rows: list[tuple[str, str, Decimal]]  # text, price, quantity left


@dataclass
class Model:
    shift_open: bool = False
    #: Totals of the open shift's receipts, as the answers gave them.
    sales: Decimal = Decimal(0)
    refunds: Decimal = Decimal(0)
    sold: list[Sold] = field(default_factory=list)


_pos_numbers = itertools.count(100)
_texts = itertools.count()


def exact(response: Any) -> Any:
    return response.json(parse_float=Decimal)


def text_rows(rows: list[tuple[str, str]]) -> list[dict[str, Any]]:
    return [{"text": f"Prece {next(_texts)}", "quantity": q, "price": p} for q, p in rows]


class StationFlow(RuleBasedStateMachine):
    api: Api
    url: str

    def __init__(self) -> None:
        super().__init__()
        self.station: Station = register(self.api, "POS", str(next(_pos_numbers)))
        self.model = Model()
        self.requests = itertools.count()

    def answer(self, response: Any, allowed: set[int]) -> Any:
        assert response.status_code < 500, response.text
        assert response.status_code in allowed, (response.status_code, response.text)
        return response

    def record(self, receipt: dict[str, Any]) -> None:
        total = receipt["bruto_amount"]
        if receipt["mode"] == 3:
            self.model.refunds += total
        else:
            self.model.sales += total
            self.model.sold.append(
                Sold(
                    receipt["document_id"],
                    [(r["product_name"], str(r["price"]), r["quantity"]) for r in receipt["rows"]],
                )
            )
        assert self.model.sales + self.model.refunds <= MAX_SHIFT_TOTAL

    @initialize()
    def open_first_shift(self) -> None:
        self.open_shift()

    @rule()
    def open_shift(self) -> None:
        opened = self.answer(self.station.open_shift(), {200, 409})
        assert (opened.status_code == 200) is not self.model.shift_open
        if opened.status_code == 200:
            self.model = Model(shift_open=True)

    @rule(rows=ROWS, extra=EXTRA_CASH)
    def sell(self, rows: list[tuple[str, str]], extra: str | None) -> None:
        payments: list[dict[str, Any]] = [{"method_id": 1}]
        if extra is not None:
            payments.append({"method_id": 1, "amount": extra})
        sold = self.answer(
            self.station.post(
                f"/api/stations/{self.station.id}/receipts",
                {
                    "request_id": f"s{next(self.requests)}",
                    "rows": text_rows(rows),
                    "payments": payments,
                },
            ),
            {201, *REFUSED},
        )
        if not self.model.shift_open:
            assert sold.status_code == 409
        elif sold.status_code == 201:
            self.record(exact(sold))

    @precondition(lambda self: self.model.shift_open and self.model.sold)
    @rule(data=st.data())
    def refund(self, data: st.DataObject) -> None:
        original = data.draw(st.sampled_from(self.model.sold))
        index = data.draw(st.integers(0, len(original.rows) - 1))
        text, price, left = original.rows[index]
        quantity = data.draw(st.sampled_from([left, Decimal("0.001"), left + 1]))
        refunded = self.answer(
            self.station.post(
                f"/api/stations/{self.station.id}/receipts",
                {
                    "request_id": f"r{next(self.requests)}",
                    "mode": 3,
                    "parent_document_id": original.document_id,
                    "parent_pos_id": self.station.pos_id,
                    "rows": [{"text": text, "price": price, "quantity": str(quantity)}],
                    "payments": [{"method_id": 1}],
                },
            ),
            {201, *REFUSED},
        )
        if refunded.status_code == 201:
            assert quantity <= left
            original.rows[index] = (text, price, left - quantity)
            self.record(exact(refunded))

    @rule(posted=st.tuples(QUANTITIES, PRICES), edit=st.tuples(QUANTITIES, PRICES))
    def complete_invoice(self, posted: tuple[str, str], edit: tuple[str, str]) -> None:
        """An invoice with a weighed free-price row, completed with that row edited."""
        body = {
            "rows": [
                {"text": "Maize", "quantity": 1, "price": 1},
                {"text": "Siers", "quantity": posted[0], "price": posted[1],
                 "is_weight": True, "is_free_price": True},
            ]
        }  # fmt: skip
        created = self.api.as_(Role.INTEGRATOR).post("/api/invoice/new", json=body)
        self.answer(created, {200, 400})
        if created.status_code != 200:
            return
        invoice = created.json()
        self.answer(self.station.claim(invoice["id"]), {200})
        done = self.answer(
            self.station.complete(
                invoice["id"],
                f"c{next(self.requests)}",
                rows=[{"id": invoice["rows"][1]["id"], "quantity": edit[0], "price": edit[1]}],
                payments=[{"method_id": 1}],
            ),
            {200, *REFUSED},
        )
        if done.status_code == 200:
            [receipt] = exact(done)["receipts"]
            self.record(receipt)
        else:  # give it back, so that the shift may close
            self.answer(self.station.post(f"/api/invoice/{invoice['id']}/release"), {200})

    @rule()
    def close_shift(self) -> None:
        closed = self.answer(self.station.close_shift(), {200, 409})
        assert (closed.status_code == 200) is self.model.shift_open  # an open shift always closes
        if closed.status_code != 200:
            return
        z = exact(closed)
        listed = exact(
            self.api.as_(Role.ADMIN).get(
                f"/api/receipts?station_id={self.station.id}&z_number={z['z_number']}"
            )
        )
        sales = sum((r["bruto_amount"] for r in listed if r["mode"] != 3), Decimal(0))
        refunds = sum((r["bruto_amount"] for r in listed if r["mode"] == 3), Decimal(0))
        report = z["report"]
        assert (report["receipts"], report["sales"], report["refunds"]) == (
            len(listed),
            sales,
            refunds,
        )
        assert (sales, refunds) == (self.model.sales, self.model.refunds)
        self.model = Model()

    def teardown(self) -> None:
        if self.model.shift_open:
            self.close_shift()
        assert verify_database(self.url) == []


def test_station_flow_never_loses_a_z_report(api: Api, settings: Settings) -> None:
    StationFlow.api, StationFlow.url = api, settings.database_url
    run_state_machine_as_test(StationFlow, settings=RUN)
