"""Cash rounding to 5 cents (docs/money.md, "Cash rounding"): totals ending in 1, 2, 6, 7
cents go down, 3, 4, 8, 9 up; only the cash part of a payment rounds, card never."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from minipos.domain.errors import ValidationFailed
from minipos.domain.money import cash_step_error, round_cash
from minipos.domain.receipt import settle
from minipos.domain.reference import ReferenceData

D = Decimal
STEP = D("0.05")
METHODS = ReferenceData.default().payment_methods
CASH, CARD = 1, 2


@dataclass(frozen=True)
class Pay:
    method_id: int
    amount: Decimal | None


# (amount, rounded to 0.05): every last digit, both sides of a euro, zero and the limits.
ROUND_VECTORS = [
    ("0.00", "0.00"),
    ("0.01", "0.00"),
    ("0.02", "0.00"),
    ("0.03", "0.05"),
    ("0.04", "0.05"),
    ("0.05", "0.05"),
    ("0.06", "0.05"),
    ("0.07", "0.05"),
    ("0.08", "0.10"),
    ("0.09", "0.10"),
    ("0.10", "0.10"),
    ("0.99", "1.00"),
    ("1.00", "1.00"),
    ("1.01", "1.00"),
    ("1.02", "1.00"),
    ("1.03", "1.05"),
    ("1.04", "1.05"),
    ("1.06", "1.05"),
    ("1.07", "1.05"),
    ("1.08", "1.10"),
    ("1.09", "1.10"),
    ("9.97", "9.95"),
    ("9.98", "10.00"),
    ("12.34", "12.35"),
    ("12.36", "12.35"),
    ("16.17", "16.15"),
    ("99.99", "100.00"),
    ("100.01", "100.00"),
    ("9999999999.97", "9999999999.95"),
    ("9999999999.99", "10000000000.00"),
    ("-1.02", "-1.00"),
    ("-1.03", "-1.05"),
    ("-0.07", "-0.05"),
]


@pytest.mark.parametrize(("amount", "rounded"), ROUND_VECTORS)
def test_round_cash_to_five_cents(amount: str, rounded: str) -> None:
    assert round_cash(D(amount), STEP) == D(rounded)


@pytest.mark.parametrize(
    ("amount", "step", "rounded"),
    [("1.04", "0.10", "1.00"), ("1.05", "0.10", "1.10"), ("1.15", "0.10", "1.20"),
     ("1.49", "1.00", "1.00"), ("1.50", "1.00", "2.00"), ("1.23", "0.01", "1.23")],
)  # fmt: skip
def test_other_steps_round_half_up(amount: str, step: str, rounded: str) -> None:
    assert round_cash(D(amount), D(step)) == D(rounded)


def test_the_rule_by_last_digit_holds_for_every_cent_up_to_100() -> None:
    for cents in range(10_001):
        amount = D(cents).scaleb(-2)
        digit = cents % 10
        down = {0: 0, 1: 1, 2: 2, 5: 0, 6: 1, 7: 2}
        up = {3: 2, 4: 1, 8: 2, 9: 1}
        expected = amount - D(down[digit]).scaleb(-2) if digit in down else None
        if digit in up:
            expected = amount + D(up[digit]).scaleb(-2)
        assert round_cash(amount, STEP) == expected, amount


@pytest.mark.parametrize("step", ["0", "-0.05", "0.001", "1.01", "NaN"])
def test_a_bad_step_is_refused(step: str) -> None:
    assert cash_step_error(D(step)) is not None


# (total, payments, expected rounding, change, kept per method). ``None`` amount: the rest.
SETTLE_VECTORS = [
    # cash only, paid exactly what is due after rounding
    ("10.01", [(CASH, None)], "-0.01", "0", [("10.00", CASH)]),
    ("10.02", [(CASH, None)], "-0.02", "0", [("10.00", CASH)]),
    ("10.03", [(CASH, None)], "0.02", "0", [("10.05", CASH)]),
    ("10.04", [(CASH, None)], "0.01", "0", [("10.05", CASH)]),
    ("10.05", [(CASH, None)], "0", "0", [("10.05", CASH)]),
    ("10.06", [(CASH, None)], "-0.01", "0", [("10.05", CASH)]),
    ("10.07", [(CASH, None)], "-0.02", "0", [("10.05", CASH)]),
    ("10.08", [(CASH, None)], "0.02", "0", [("10.10", CASH)]),
    ("10.09", [(CASH, None)], "0.01", "0", [("10.10", CASH)]),
    # cash with change: the change is what exceeds the rounded amount
    ("7.48", [(CASH, "10")], "0.02", "2.50", [("10", CASH)]),
    ("7.46", [(CASH, "10")], "-0.01", "2.55", [("10", CASH)]),
    # a rounded-down total may be paid exactly as rounded
    ("7.47", [(CASH, "7.45")], "-0.02", "0", [("7.45", CASH)]),
    # card never rounds
    ("10.03", [(CARD, None)], "0", "0", [("10.03", CARD)]),
    ("10.03", [(CARD, "10.03")], "0", "0", [("10.03", CARD)]),
    # mixed: the card part stays exact, the cash part (the rest) rounds
    ("10.03", [(CARD, "5"), (CASH, None)], "0.02", "0", [("5", CARD), ("5.05", CASH)]),
    ("10.03", [(CARD, "5"), (CASH, "10")], "0.02", "4.95", [("5", CARD), ("10", CASH)]),
    ("10.03", [(CASH, "5"), (CARD, None)], "0", "0", [("5", CASH), ("5.03", CARD)]),
    ("10.01", [(CARD, "10"), (CASH, None)], "-0.01", "0", [("10", CARD)]),
    # two cash payments: they round together
    ("10.03", [(CASH, "5"), (CASH, None)], "0.02", "0", [("5", CASH), ("5.05", CASH)]),
    # a total under 3 cents in cash rounds to nothing
    ("0.02", [(CASH, None)], "-0.02", "0", []),
]


@pytest.mark.parametrize(("total", "payments", "rounding", "change", "tenders"), SETTLE_VECTORS)
def test_settle_rounds_only_the_cash_part(
    total: str,
    payments: list[tuple[int, str | None]],
    rounding: str,
    change: str,
    tenders: list[tuple[str, int]],
) -> None:
    settled = settle(
        D(total),
        [Pay(m, None if a is None else D(a)) for m, a in payments],
        METHODS,
        cash_step=STEP,
    )
    assert settled.rounding == D(rounding)
    assert settled.change == D(change)
    assert [(t.amount, t.method.id) for t in settled.tenders] == [(D(a), m) for a, m in tenders]
    paid = sum((t.amount for t in settled.tenders), D(0))
    assert paid - settled.change == D(total) + settled.rounding


def test_off_rounds_nothing() -> None:
    settled = settle(D("10.03"), [Pay(CASH, None)], METHODS)
    assert (settled.rounding, settled.tenders[0].amount) == (0, D("10.03"))


def test_cash_below_the_rounded_amount_is_underpaid() -> None:
    with pytest.raises(ValidationFailed) as caught:
        settle(D("10.03"), [Pay(CASH, D("10.03"))], METHODS, cash_step=STEP)
    assert "0.02 of 10.05" in str(caught.value.errors)


def test_a_cash_refund_pays_out_the_rounded_amount() -> None:
    refund = settle(D("10.03"), [Pay(CASH, None)], METHODS, refund=True, cash_step=STEP)
    assert (refund.tenders[0].amount, refund.rounding, refund.change) == (D("10.05"), D("0.02"), 0)
    with pytest.raises(ValidationFailed):
        settle(D("10.03"), [Pay(CASH, D("10.03"))], METHODS, refund=True, cash_step=STEP)
