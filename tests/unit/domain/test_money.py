"""The rounding contract (docs/decisions.md §3) as a table of hand-checked vectors, plus properties.

Every expected number in the tables below was worked out by hand from the rules (the
arithmetic is in the comments where it is not obvious), not copied from the implementation.

Table notation, to keep each vector on a line or two:

- a line is ``"QTY x PRICE @RATE"``, optionally followed by ``-D%`` (percent discount), ``-D``
  (amount discount; ``-0`` is an explicit amount of 0) and ``nd`` (a ``no_discount`` product);
- a document discount is ``""``, ``"-D"`` (amount) or ``"-D%"`` (percent);
- a VAT group is ``"RATE:GROSS=NET+TAX"``; groups are listed highest rate first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minipos.domain.errors import FieldError, ValidationFailed
from minipos.domain.money import (
    CENT,
    MAX_PRICE,
    MAX_QUANTITY,
    MAX_TOTAL,
    PRICE_PLACES,
    QUANTITY_PLACES,
    DiscountType,
    DocumentPrice,
    Line,
    LineUnits,
    PricedLine,
    VatGroup,
    amount_units,
    check_decimal,
    document_total_cents,
    from_cents,
    from_minor,
    from_thousandths,
    json_number,
    line_discount,
    line_discount_error,
    line_gross_error,
    minor_units,
    price_document,
    quantity_units,
    round_money,
    shown_cents,
    shown_thousandths,
    spread,
    to_cents,
    to_minor,
    to_thousandths,
    vat,
)

D = Decimal
AMOUNT = DiscountType.AMOUNT
PERCENT = DiscountType.PERCENT


# --- table notation -----------------------------------------------------------------------------


def parse_discount(text: str) -> tuple[Decimal, DiscountType | None]:
    """``""`` -> no discount; ``"-1.00"`` -> amount; ``"-10%"`` -> percent."""
    if not text:
        return D(0), None
    assert text.startswith("-"), text
    if text.endswith("%"):
        return D(text[1:-1]), PERCENT
    return D(text[1:]), AMOUNT


def parse_line(text: str) -> Line:
    quantity, x, price, rate, *rest = text.split()
    assert x == "x", text
    assert rate.startswith("@"), text
    discountable = True
    if rest and rest[-1] == "nd":
        discountable = False
        rest = rest[:-1]
    discount, discount_type = parse_discount(" ".join(rest))
    return Line(D(quantity), D(price), D(rate[1:]), discount, discount_type, discountable)


def parse_vat(text: str) -> tuple[VatGroup, ...]:
    groups = []
    for item in text.split():
        rate, rest = item.split(":")
        gross, rest = rest.split("=")
        net, tax = rest.split("+")
        groups.append(VatGroup(D(rate), D(gross), D(net), D(tax)))
    return tuple(groups)


def decimals(text: str) -> list[Decimal]:
    return [D(part) for part in text.split()]


def posted(lines: Sequence[Line], discount: Decimal) -> tuple[list[LineUnits], int] | None:
    """The lines and document discount in storage units, as a posted invoice's validator gives
    them to ``document_total_cents``; None if no posted invoice could carry them (a
    ``no_discount`` line, a number out of its field's range or with too many places)."""
    units = []
    for line in lines:
        quantity = quantity_units(line.quantity)
        price = amount_units(line.price)
        off = amount_units(line.discount)
        if not (
            line.discountable
            and isinstance(quantity, int)
            and isinstance(price, int)
            and isinstance(off, int)
        ):
            return None
        units.append((quantity, price, off, line.discount_type))
    cents = amount_units(discount)
    return None if isinstance(cents, str) else (units, cents)


def assert_posted_total(
    lines: Sequence[Line], discount: Decimal, discount_type: DiscountType | None
) -> None:
    """A posted invoice's integer total is ``price_document``'s total, or fails the same way."""
    units = posted(lines, discount)
    if units is None:
        return
    expected: int | ValidationFailed
    try:
        expected = to_cents(price_document(lines, discount, discount_type).total)
    except ValidationFailed as failed:
        expected = failed
    if isinstance(expected, ValidationFailed):
        with pytest.raises(ValidationFailed) as caught:
            document_total_cents(*units, discount_type)
        assert caught.value.errors == expected.errors
    else:
        assert document_total_cents(*units, discount_type) == expected


@dataclass(frozen=True)
class Vector:
    id: str
    lines: Sequence[str]
    discount: str
    amounts: str
    shares: str
    total: str
    vat: str
    line_discounts: str | None = None


V = Vector

# fmt: off
VECTORS = [
    # --- half-up at .005 boundaries (half-even would differ where marked "he") -----------------
    V("halfup-0.5x0.01", ["0.5 x 0.01 @21"], "", "0.01", "0", "0.01",
      "21:0.01=0.01+0.00"),                                   # 0.005 -> 0.01 (he 0.00)
    V("halfup-1.5x0.03", ["1.5 x 0.03 @21"], "", "0.05", "0", "0.05",
      "21:0.05=0.04+0.01"),                                   # 0.045 -> 0.05 (he 0.04)
    V("halfup-0.125x1.00", ["0.125 x 1.00 @21"], "", "0.13", "0", "0.13",
      "21:0.13=0.11+0.02"),                                   # 0.125 -> 0.13 (he 0.12)
    V("halfup-0.345x1.00", ["0.345 x 1.00 @0"], "", "0.35", "0", "0.35",
      "0:0.35=0.35+0"),                                       # he 0.34
    V("halfup-2.5x0.09", ["2.5 x 0.09 @12"], "", "0.23", "0", "0.23",
      "12:0.23=0.21+0.02"),                                   # 0.225 -> 0.23 (he 0.22)
    V("halfup-0.005x1.00", ["0.005 x 1.00 @5"], "", "0.01", "0", "0.01",
      "5:0.01=0.01+0.00"),                                    # he 0.00
    V("halfup-1.005x1.00", ["1.005 x 1.00 @21"], "", "1.01", "0", "1.01",
      "21:1.01=0.83+0.18"),                                   # he 1.00; tax 21.21/121=0.1753
    V("halfup-0.333x0.15", ["0.333 x 0.15 @21"], "", "0.05", "0", "0.05",
      "21:0.05=0.04+0.01"),                                   # 0.04995 -> 0.05
    V("below-half-0.015x0.01", ["0.015 x 0.01 @21"], "", "0.00", "0", "0.00",
      "21:0.00=0.00+0.00"),                                   # 0.00015 -> 0.00
    V("below-half-0.049x0.10", ["0.049 x 0.10 @21"], "", "0.00", "0", "0.00",
      "21:0.00=0.00+0.00"),                                   # 0.0049 -> 0.00

    # --- percent line discounts (on the exact gross, rounded half-up) --------------------------
    V("pct10-of-0.25", ["1 x 0.25 @21 -10%"], "", "0.22", "0", "0.22",
      "21:0.22=0.18+0.04", line_discounts="0.03"),            # 0.025 -> 0.03 (he 0.02)
    V("pct5-documented-row", ["3 x 2.34 @21 -5%"], "", "6.67", "0", "6.67",
      "21:6.67=5.51+1.16", line_discounts="0.35"),            # 0.351; 140.07/121=1.1576
    V("pct-on-exact-gross", ["2.345 x 1.00 @21 -10%"], "", "2.12", "0", "2.12",
      "21:2.12=1.75+0.37", line_discounts="0.23"),            # 0.2345->0.23; 2.115->2.12
    V("pct100", ["2 x 3.50 @21 -100%"], "", "0.00", "0", "0.00",
      "21:0.00=0.00+0.00", line_discounts="7.00"),
    V("pct0", ["2 x 3.50 @21 -0%"], "", "7.00", "0", "7.00",
      "21:7.00=5.79+1.21", line_discounts="0.00"),            # 147/121=1.2149
    V("pct12.5", ["1 x 9.99 @0 -12.5%"], "", "8.74", "0", "8.74",
      "0:8.74=8.74+0", line_discounts="1.25"),                # 1.24875 -> 1.25
    V("pct33.33-weighed", ["1.234 x 5.67 @5 -33.33%"], "", "4.67", "0", "4.67",
      "5:4.67=4.45+0.22", line_discounts="2.33"),             # 6.99678*.3333=2.33203
    V("pct25-of-0.10", ["1 x 0.10 @21 -25%"], "", "0.07", "0", "0.07",
      "21:0.07=0.06+0.01", line_discounts="0.03"),            # 0.025 -> 0.03

    # --- amount line discounts -------------------------------------------------------------------
    V("amt-0.50", ["2 x 1.99 @21 -0.50"], "", "3.48", "0", "3.48",
      "21:3.48=2.88+0.60", line_discounts="0.50"),            # 73.08/121=0.6040
    V("amt-equals-gross", ["1 x 5.00 @21 -5.00"], "", "0.00", "0", "0.00",
      "21:0.00=0.00+0.00", line_discounts="5.00"),
    V("amt-on-weighed", ["0.755 x 3.99 @12 -0.01"], "", "3.00", "0", "3.00",
      "12:3.00=2.68+0.32", line_discounts="0.01"),            # 3.01245-0.01=3.00245
    V("amt-weighed-halfup", ["0.5 x 0.97 @0 -0.20"], "", "0.29", "0", "0.29",
      "0:0.29=0.29+0", line_discounts="0.20"),                # 0.285 -> 0.29 (he 0.28)
    V("amt-explicit-zero", ["5 x 2.10 @5 -0"], "", "10.50", "0", "10.50",
      "5:10.50=10.00+0.50", line_discounts="0"),

    # --- document discount: amount ---------------------------------------------------------------
    V("documented-invoice-example", ["3 x 2.34 @21 -5%", "5 x 2.1 @5 -0"], "-1.00",
      "6.67 10.50", "0.39 0.61", "16.17",
      "21:6.28=5.19+1.09 5:9.89=9.42+0.47", line_discounts="0.35 0"),
    V("doc-amt-tie-lower-index", ["1 x 1.00 @21", "1 x 1.00 @21"], "-0.01",
      "1.00 1.00", "0.01 0.00", "1.99", "21:1.99=1.64+0.35"),  # 41.79/121=0.3454
    V("doc-amt-three-way-tie", ["1 x 1.00 @21", "1 x 1.00 @21", "1 x 1.00 @21"], "-0.02",
      "1.00 1.00 1.00", "0.01 0.01 0.00", "2.98", "21:2.98=2.46+0.52"),
    V("doc-amt-whole-base", ["2 x 2.50 @21"], "-5.00", "5.00", "5.00", "0.00",
      "21:0.00=0.00+0.00"),
    V("doc-amt-mixed-rates", ["1 x 10.00 @21", "1 x 20.00 @12", "1 x 30.00 @0"], "-1.00",
      "10.00 20.00 30.00", "0.17 0.33 0.50", "59.00",         # 16.67 33.33 50 cents
      "21:9.83=8.12+1.71 12:19.67=17.56+2.11 0:29.50=29.50+0"),
    V("doc-amt-nd-excluded", ["1 x 10.00 @21", "1 x 5.00 @21 nd"], "-1.00",
      "10.00 5.00", "1.00 0.00", "14.00", "21:14.00=11.57+2.43"),
    V("doc-amt-nd-keeps-own-discount", ["2 x 5.00 @21 -10% nd", "1 x 3.00 @21"], "-0.30",
      "9.00 3.00", "0.00 0.30", "11.70", "21:11.70=9.67+2.03", line_discounts="1.00 0"),
    V("doc-amt-largest-remainder", ["1 x 0.01 @21", "1 x 0.02 @21", "1 x 0.97 @21"], "-0.10",
      "0.01 0.02 0.97", "0.00 0.00 0.10", "0.90",             # 0.1 0.2 9.7 cents
      "21:0.90=0.74+0.16"),
    V("doc-amt-remainder-to-smaller-line", ["1 x 1.50 @0", "1 x 0.50 @0"], "-0.03",
      "1.50 0.50", "0.02 0.01", "1.97", "0:1.97=1.97+0"),     # 2.25 and 0.75 cents
    V("doc-amt-zero-price-line", ["1 x 0.00 @21", "1 x 4.00 @21"], "-0.40",
      "0.00 4.00", "0.00 0.40", "3.60", "21:3.60=2.98+0.62"),

    # --- document discount: percent (of the discountable amounts) -------------------------------
    V("doc-pct10", ["1 x 9.99 @21"], "-10%", "9.99", "1.00", "8.99",
      "21:8.99=7.43+1.56"),                                   # 0.999 -> 1.00
    V("doc-pct-halfup", ["1 x 0.25 @0"], "-10%", "0.25", "0.03", "0.22",
      "0:0.22=0.22+0"),                                       # 0.025 -> 0.03 (he 0.02)
    V("doc-pct-of-line-amounts", ["3 x 2.34 @21 -5%", "5 x 2.10 @5"], "-10%",
      "6.67 10.50", "0.67 1.05", "15.45",                     # 1.717->1.72; 66.82 105.18
      "21:6.00=4.96+1.04 5:9.45=9.00+0.45"),
    V("doc-pct100-nd-pays", ["2 x 1.25 @21", "1 x 3.00 @5 nd"], "-100%",
      "2.50 3.00", "2.50 0.00", "3.00", "21:0.00=0.00+0.00 5:3.00=2.86+0.14"),
    V("doc-pct0", ["1 x 1.00 @21"], "-0%", "1.00", "0.00", "1.00", "21:1.00=0.83+0.17"),
    V("doc-pct-all-nd", ["1 x 5.00 @21 nd"], "-50%", "5.00", "0.00", "5.00",
      "21:5.00=4.13+0.87"),
    V("doc-pct-weighed", ["0.455 x 12.99 @21", "1.5 x 0.99 @12"], "-15%",
      "5.91 1.49", "0.89 0.22", "6.29",                       # 88.65 and 22.35 cents
      "21:5.02=4.15+0.87 12:1.27=1.13+0.14"),
    V("doc-pct-after-line-amount", ["1 x 100.00 @21 -10.00"], "-10%", "90.00", "9.00",
      "81.00", "21:81.00=66.94+14.06"),                       # 1701/121=14.0579

    # --- VAT per rate on the group's gross --------------------------------------------------------
    V("documented-receipt-34.59", ["1 x 2.34 @21", "15 x 2.15 @21"], "", "2.34 32.25",
      "0 0", "34.59", "21:34.59=28.59+6.00"),                 # 726.39/121=6.0032
    V("five-at-1.00", ["5 x 1.00 @21"], "", "5.00", "0", "5.00", "21:5.00=4.13+0.87"),
    V("vat12-exact", ["1 x 11.20 @12"], "", "11.20", "0", "11.20", "12:11.20=10.00+1.20"),
    V("vat5-exact", ["1 x 10.50 @5"], "", "10.50", "0", "10.50", "5:10.50=10.00+0.50"),
    V("vat0", ["3 x 4.44 @0"], "", "13.32", "0", "13.32", "0:13.32=13.32+0"),
    V("vat-four-groups-order", ["1 x 1.00 @0", "1 x 1.00 @5", "1 x 1.00 @21", "1 x 1.00 @12"],
      "", "1.00 1.00 1.00 1.00", "0 0 0 0", "4.00",
      "21:1.00=0.83+0.17 12:1.00=0.89+0.11 5:1.00=0.95+0.05 0:1.00=1.00+0"),
    V("vat-halfup-12", ["1 x 0.42 @12"], "", "0.42", "0", "0.42",
      "12:0.42=0.37+0.05"),                                   # 5.04/112=0.045 (he 0.04)
    V("vat-halfup-20", ["1 x 0.15 @20"], "", "0.15", "0", "0.15",
      "20:0.15=0.12+0.03"),                                   # 0.025 (he 0.02)
    V("vat-halfup-100", ["1 x 0.01 @100"], "", "0.01", "0", "0.01",
      "100:0.01=0.00+0.01"),                                  # 0.005 (he 0.00)
    V("vat-fractional-rate", ["1 x 10.00 @9.5"], "", "10.00", "0", "10.00",
      "9.5:10.00=9.13+0.87"),                                 # 95/109.5=0.8676
    V("vat-on-group-not-per-line", ["1 x 0.01 @21", "1 x 0.01 @21", "1 x 0.01 @21"], "",
      "0.01 0.01 0.01", "0 0 0", "0.03", "21:0.03=0.02+0.01"),  # per line each would be 0
    V("vat-equal-rates-merge", ["1 x 1.00 @21", "1 x 2.00 @21.00"], "", "1.00 2.00", "0 0",
      "3.00", "21:3.00=2.48+0.52"),
    V("vat-after-document-discount", ["1 x 12.10 @21"], "-2.10", "12.10", "2.10", "10.00",
      "21:10.00=8.26+1.74"),                                  # 210/121=1.7355

    # --- zero prices, zero quantities, empty documents --------------------------------------------
    V("zero-price", ["1 x 0.00 @21"], "", "0.00", "0", "0.00", "21:0.00=0.00+0.00"),
    V("zero-quantity", ["0 x 5.00 @21"], "", "0.00", "0", "0.00", "21:0.00=0.00+0.00"),
    V("zero-price-pct-discount", ["2 x 0.00 @21 -50%"], "", "0.00", "0", "0.00",
      "21:0.00=0.00+0.00", line_discounts="0.00"),
    V("zero-price-with-doc-pct", ["1 x 0.00 @0", "1 x 1.00 @21"], "-50%", "0.00 1.00",
      "0.00 0.50", "0.50", "21:0.50=0.41+0.09 0:0.00=0.00+0"),
    V("empty-document", [], "", "", "", "0", ""),

    # --- weighed (3-decimal) quantities and large values ------------------------------------------
    V("weighed-1.234kg", ["1.234 x 2.99 @21"], "", "3.69", "0", "3.69",
      "21:3.69=3.05+0.64"),                                   # 3.68966; 77.49/121=0.6404
    V("weighed-0.001-of-max-price", ["0.001 x 99999999.99 @21"], "", "100000.00", "0",
      "100000.00", "21:100000.00=82644.63+17355.37"),         # 2100000/121=17355.3719
    V("weighed-max-quantity", ["999999.999 x 0.01 @0"], "", "10000.00", "0", "10000.00",
      "0:10000.00=10000.00+0"),                               # 9999.99999
    V("weighed-halfup-0.625x1.80", ["0.625 x 1.80 @12"], "", "1.13", "0", "1.13",
      "12:1.13=1.01+0.12"),                                   # 1.125 (he 1.12)
    V("max-quantity-at-the-document-limit", ["999999.999 x 9999.99 @21"], "",
      "9999989990.00", "0", "9999989990.00",                  # 9999990000 - 9.99999
      "21:9999989990.00=8264454537.19+1735535452.81"),        # 209999789790/121=…452.8099
    # --- a percentage rounded up past an unrounded gross: the amount stops at 0 -------------------
    V("pct100-of-half-cent-gross", ["0.125 x 1.00 @21 -100%"], "", "0.00", "0", "0.00",
      "21:0.00=0.00+0.00", line_discounts="0.13"),           # literal rule: round(-0.005)=-0.01
    V("pct99.95-rounds-past-gross", ["0.139 x 0.90 @21 -99.95%"], "", "0.00", "0", "0.00",
      "21:0.00=0.00+0.00", line_discounts="0.13"),           # 0.1251 -> 0.12504 -> 0.13
]
# fmt: on


def test_table_has_at_least_sixty_vectors() -> None:
    assert len(VECTORS) >= 60
    assert len({v.id for v in VECTORS}) == len(VECTORS)


@pytest.mark.parametrize("vector", VECTORS, ids=[v.id for v in VECTORS])
def test_price_document_vector(vector: Vector) -> None:
    discount, discount_type = parse_discount(vector.discount)
    lines = [parse_line(s) for s in vector.lines]
    price = price_document(lines, discount, discount_type)

    # What a posted invoice keeps of its pricing: the same total, in cents.
    assert_posted_total(lines, discount, discount_type)
    assert [p.amount for p in price.lines] == decimals(vector.amounts)
    assert [p.document_discount for p in price.lines] == decimals(vector.shares)
    assert price.total == D(vector.total)
    assert price.vat == parse_vat(vector.vat)
    if vector.line_discounts is not None:
        assert [p.line_discount for p in price.lines] == decimals(vector.line_discounts)
    # The invariants every vector must satisfy as well.
    assert sum((p.total for p in price.lines), D(0)) == price.total
    assert price.document_discount == sum((p.document_discount for p in price.lines), D(0))
    assert price.net + price.tax == price.total
    assert [g.rate for g in price.vat] == sorted((g.rate for g in price.vat), reverse=True)


def test_documented_example_in_detail() -> None:
    """The documented "Slip after payment" request, worked by hand from the rules.

    Row 1: 3 * 2.34 = 7.02, 5 % = 0.351 -> 0.35, amount 6.67. Row 2: 5 * 2.1 = 10.50.
    The 1.00 discount over 17.17: 100 * 6.67 / 17.17 = 38.85 and 61.15 cents; floors 38 + 61
    leave one cent, which goes to the larger remainder (.85): 0.39 and 0.61. Totals 6.28 and
    9.89, 16.17 in all. VAT 21 %: 6.28 * 21 / 121 = 1.0899 -> 1.09, net 5.19; VAT 5 %:
    9.89 * 5 / 105 = 0.4710 -> 0.47, net 9.42.
    """
    price = price_document(
        [Line(D(3), D("2.34"), D(21), D(5), PERCENT), Line(D(5), D("2.1"), D(5), D(0), AMOUNT)],
        D("1.00"),
        AMOUNT,
    )
    first, second = price.lines
    assert (first.line_discount, first.amount, first.document_discount) == (
        D("0.35"),
        D("6.67"),
        D("0.39"),
    )
    assert (second.line_discount, second.amount, second.document_discount) == (
        D(0),
        D("10.50"),
        D("0.61"),
    )
    assert (first.total, second.total) == (D("6.28"), D("9.89"))
    assert (first.discount_amount, second.discount_amount) == (D("0.74"), D("0.61"))
    assert price.document_discount == D("1.00")
    assert price.total == D("16.17")
    assert price.vat == (
        VatGroup(D(21), D("6.28"), D("5.19"), D("1.09")),
        VatGroup(D(5), D("9.89"), D("9.42"), D("0.47")),
    )
    assert (price.net, price.tax) == (D("14.61"), D("1.56"))


def test_documented_example_with_default_tax_table() -> None:
    """In the real request row 2 has tax *group* 5, which the default table makes 0 % (decisions §2).

    So the request as posted prices to the same total with a 0 % group instead of a 5 % one.
    """
    price = price_document(
        [Line(D(3), D("2.34"), D(21), D(5), PERCENT), Line(D(5), D("2.1"), D(0), D(0), AMOUNT)],
        D("1.00"),
        AMOUNT,
    )
    assert price.total == D("16.17")
    assert price.vat == (
        VatGroup(D(21), D("6.28"), D("5.19"), D("1.09")),
        VatGroup(D(0), D("9.89"), D("9.89"), D(0)),
    )


def test_empty_document_has_zero_net_and_tax() -> None:
    price = price_document([])
    assert price == DocumentPrice((), D(0), D(0), ())
    assert (price.net, price.tax) == (D(0), D(0))


def test_priced_line_properties() -> None:
    line = PricedLine(Line(D(1), D(5), D(21)), D("0.50"), D("4.50"), D("0.25"))
    assert line.total == D("4.25")
    assert line.discount_amount == D("0.75")


def test_results_do_not_depend_on_the_ambient_context() -> None:
    """A caller with a half-even, low-precision context still gets the contract's numbers."""
    lines = [Line(D("0.5"), D("0.01"), D(21)), Line(D("1"), D("0.42"), D(12))]
    expected = price_document(lines)
    with localcontext() as context:
        context.rounding = ROUND_HALF_EVEN
        context.prec = 3
        assert price_document(lines) == expected
        assert round_money(D("0.125")) == D("0.13")
        assert vat(D("12345.67"), D(21)) == (D("10203.03"), D("2142.64"))


# --- rule violations ----------------------------------------------------------------------------

GE_0 = "Ensure this value is greater than or equal to 0."
LE_100 = "Ensure this value is less than or equal to 100."
TYPE = 'Set discount_type to "amount" or "percent" when discount is not 0.'
OVER_LINE = "The discount cannot exceed the line amount."
OVER_DOC = "The discount cannot exceed the amount it applies to."
OVER_LIMIT = "The rows add up to {} before discounts; one document may not exceed 9999999999.99."

# fmt: off
ERROR_CASES = [
    ("line-pct-over-100", ["1 x 1.00 @21 -100.01%"], "",
     [(("rows", 0, "discount"), LE_100)]),
    ("line-amt-over-gross", ["1 x 1.00 @21 -1.01"], "",
     [(("rows", 0, "discount"), OVER_LINE)]),
    ("line-amt-over-exact-gross", ["0.125 x 1.00 @21 -0.13"], "",  # gross 0.125, not 0.13
     [(("rows", 0, "discount"), OVER_LINE)]),
    ("line-negative-amount", ["1 x 1.00 @21 --0.01"], "",
     [(("rows", 0, "discount"), GE_0)]),
    ("line-negative-percent", ["1 x 1.00 @21 --5%"], "",
     [(("rows", 0, "discount"), GE_0)]),
    ("doc-pct-over-100", ["1 x 1.00 @21"], "-100.5%",
     [(("discount",), LE_100)]),
    ("doc-amt-over-base", ["1 x 1.00 @21"], "-1.01",
     [(("discount",), OVER_DOC)]),
    ("doc-amt-over-discountable-base", ["1 x 1.00 @21", "1 x 9.00 @21 nd"], "-1.01",
     [(("discount",), OVER_DOC)]),
    ("doc-amt-all-nd", ["1 x 5.00 @21 nd"], "-0.01",
     [(("discount",), OVER_DOC)]),
    ("doc-amt-empty-document", [], "-0.01",
     [(("discount",), OVER_DOC)]),
    ("doc-negative-amount", ["1 x 1.00 @21"], "--1",
     [(("discount",), GE_0)]),
    ("doc-negative-percent", ["1 x 1.00 @21"], "--1%",
     [(("discount",), GE_0)]),
    ("row-past-the-document-limit", ["999999.999 x 99999999.99 @21"], "",
     [(("rows",), OVER_LIMIT.format("99999999890000"))]),
    ("rows-past-the-document-limit-even-at-100-pct-off",
     ["1 x 99999999.99 @21"] * 100 + ["1 x 1.00 @21"], "-100%",
     [(("rows",), OVER_LIMIT.format("10000000000"))]),
    ("all-problems-at-once", ["1 x 1.00 @21 -150%", "1 x 1.00 @21", "1 x 2.00 @21 -3.00"],
     "-101%",
     [(("rows", 0, "discount"), LE_100), (("rows", 2, "discount"), OVER_LINE),
      (("discount",), LE_100)]),
]
# fmt: on


@pytest.mark.parametrize(
    ("lines", "discount", "expected"),
    [
        pytest.param(lines, discount, expected, id=id_)
        for id_, lines, discount, expected in ERROR_CASES
    ],
)
def test_price_document_rule_violations(
    lines: list[str], discount: str, expected: list[tuple[tuple[str | int, ...], str]]
) -> None:
    doc_discount, doc_type = parse_discount(discount)
    with pytest.raises(ValidationFailed) as caught:
        price_document([parse_line(s) for s in lines], doc_discount, doc_type)
    assert caught.value.errors == tuple(FieldError(path, message) for path, message in expected)
    assert_posted_total([parse_line(s) for s in lines], doc_discount, doc_type)


def test_discount_without_type_is_reported_on_discount_type() -> None:
    with pytest.raises(ValidationFailed) as caught:
        price_document([Line(D(1), D(1), D(21)), Line(D(1), D(1), D(21), D(5), None)], D(1), None)
    assert caught.value.errors == (
        FieldError(("rows", 1, "discount_type"), TYPE),
        FieldError(("discount_type",), TYPE),
    )


def test_negative_discount_without_type_reports_both() -> None:
    with pytest.raises(ValidationFailed) as caught:
        price_document([Line(D(1), D(1), D(21), D(-1), None)])
    assert caught.value.errors == (
        FieldError(("rows", 0, "discount"), GE_0),
        FieldError(("rows", 0, "discount_type"), TYPE),
    )


def test_document_base_is_not_judged_while_a_line_is_invalid() -> None:
    """The amounts a document discount applies to are unknown until the lines are valid."""
    with pytest.raises(ValidationFailed) as caught:
        price_document([Line(D(1), D(1), D(21), D(200), PERCENT)], D(5), AMOUNT)
    assert caught.value.errors == (FieldError(("rows", 0, "discount"), LE_100),)


def test_boundaries_are_allowed() -> None:
    """100 %, a discount equal to the exact gross, a document discount equal to its base."""
    price = price_document(
        [
            Line(D("0.125"), D(1), D(21), D(100), PERCENT),
            Line(D("0.125"), D(1), D(21), D("0.125"), AMOUNT),
            Line(D(2), D("1.50"), D(21)),
        ],
        D("3.00"),
        AMOUNT,
    )
    assert [p.amount for p in price.lines] == [D(0), D(0), D("3.00")]
    assert price.total == D(0)
    assert all(str(p.total) == "0.00" for p in price.lines)  # no negative zeros


def test_a_document_may_reach_the_limit_exactly() -> None:
    price = price_document([parse_line("1 x 99999999.99 @21")] * 100 + [parse_line("1 x 0.99 @0")])
    assert price.total == MAX_TOTAL


@pytest.mark.parametrize(
    ("quantity", "price", "expected"),
    [
        pytest.param("100", "99999999.99", None, id="at-the-limit"),
        pytest.param("100.001", "99999999.99", "10000099999", id="past-the-limit"),
        # Past MAX_TOTAL unrounded: only the rounded gross decides.
        pytest.param("153.908", "64973880.50", None, id="rounds-down-to-the-limit"),
        pytest.param("191.650", "52178450.30", "10000000000", id="rounds-up-past-the-limit"),
        pytest.param("999999.999", "99999999.99", "99999999890000", id="largest-factors"),
        pytest.param("1000000", "99999999.99", None, id="quantity-out-of-range-reported-there"),
        pytest.param("1", "100000000", None, id="price-out-of-range-reported-there"),
        pytest.param("NaN", "1", None, id="not-a-number-reported-there"),
    ],
)
def test_line_gross_error(quantity: str, price: str, expected: str | None) -> None:
    message = line_gross_error(D(quantity), D(price))
    if expected is None:
        assert message is None
    else:
        assert message == f"Quantity × price ({expected}) may not exceed 9999999999.99 on one row."


def test_zero_discount_without_type_is_fine() -> None:
    price = price_document([Line(D(1), D(1), D(21), D("0.00"), None)], D("0.00"), None)
    assert price.total == D("1.00")


# --- round_money --------------------------------------------------------------------------------

ROUNDING = [
    ("0.005", "0.01", "0.00"),
    ("0.015", "0.02", "0.02"),
    ("0.025", "0.03", "0.02"),
    ("2.675", "2.68", "2.68"),
    ("123.445", "123.45", "123.44"),
    ("-0.005", "-0.01", "-0.00"),
    ("-2.345", "-2.35", "-2.34"),
    ("0.0049999", "0.00", "0.00"),
    ("1.004999", "1.00", "1.00"),
    ("7", "7.00", "7.00"),
    ("99999999.995", "100000000.00", "100000000.00"),
    ("1E+30", "1000000000000000000000000000000.00", "1000000000000000000000000000000.00"),
]


@pytest.mark.parametrize(("value", "half_up", "half_even"), ROUNDING, ids=[r[0] for r in ROUNDING])
def test_round_money_is_half_up(value: str, half_up: str, half_even: str) -> None:
    result = round_money(D(value))
    assert result == D(half_up)
    assert result.as_tuple().exponent == -2
    with localcontext() as context:  # Python's default rounding would differ where marked
        context.prec = 100
        assert D(value).quantize(CENT, rounding=ROUND_HALF_EVEN) == D(half_even)


@pytest.mark.parametrize("value", ["NaN", "sNaN", "Infinity", "-Infinity"])
def test_round_money_refuses_non_finite(value: str) -> None:
    with pytest.raises(ValueError, match="finite"):
        round_money(D(value))


# --- line_discount, vat, spread -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gross", "discount", "discount_type", "expected"),
    [
        pytest.param("7.02", "5", PERCENT, "0.35", id="pct-5"),
        pytest.param("0.25", "10", PERCENT, "0.03", id="pct-halfup"),
        pytest.param("2.345", "10", PERCENT, "0.23", id="pct-exact-gross"),
        pytest.param("3.98", "0.50", AMOUNT, "0.50", id="amount-as-is"),
        pytest.param("3.98", "0", None, "0", id="none"),
    ],
)
def test_line_discount(
    gross: str, discount: str, discount_type: DiscountType | None, expected: str
) -> None:
    result = line_discount(D(gross), D(discount), discount_type)
    assert result == D(expected)


@pytest.mark.parametrize(
    ("gross", "rate", "net", "tax"),
    [
        pytest.param("34.59", "21", "28.59", "6.00", id="documented"),
        pytest.param("5.00", "21", "4.13", "0.87", id="five-euro"),
        pytest.param("0", "21", "0", "0.00", id="zero-gross"),
        pytest.param("100.00", "0", "100.00", "0.00", id="zero-rate"),
        pytest.param("0.42", "12", "0.37", "0.05", id="halfup-12"),
        pytest.param("-12.10", "21", "-10.00", "-2.10", id="refund-negative"),
        pytest.param("-0.01", "100", "0.00", "-0.01", id="negative-halfup-away-from-zero"),
        pytest.param(
            "12345678901234567890.12",
            "21",
            "10203040414243444537.29",
            "2142638486991123352.83",
            id="beyond-28-digits",
        ),
    ],
)
def test_vat(gross: str, rate: str, net: str, tax: str) -> None:
    assert vat(D(gross), D(rate)) == (D(net), D(tax))


def test_vat_refuses_negative_rate() -> None:
    with pytest.raises(ValueError, match="rate"):
        vat(D(1), D(-1))


SPREADS = [
    ("documented", "1.00", "6.67 10.50", "0.39 0.61"),
    ("tie-two", "0.01", "1 1", "0.01 0.00"),
    ("tie-three", "0.02", "1 1 1", "0.01 0.01 0.00"),
    ("thirds-1.00", "1.00", "1 1 1", "0.34 0.33 0.33"),
    ("thirds-2.00", "2.00", "1 1 1", "0.67 0.67 0.66"),
    ("quarters-tie", "0.05", "1 1 1 1", "0.02 0.01 0.01 0.01"),
    ("largest-remainder", "0.07", "2 3 5", "0.01 0.02 0.04"),  # 1.4 2.1 3.5
    ("small-weights", "0.10", "0.01 0.02 0.97", "0.00 0.00 0.10"),
    ("remainder-to-smaller", "0.03", "1.50 0.50", "0.02 0.01"),
    ("negative-total", "-0.03", "1.50 0.50", "-0.02 -0.01"),
    ("zero-weights-get-zero", "1.00", "0 1 0", "0.00 1.00 0.00"),
    ("zero-total", "0.00", "1 2", "0.00 0.00"),
    ("zero-total-zero-weights", "0", "0 0", "0.00 0.00"),
    ("zero-total-no-weights", "0", "", ""),
    ("single", "10.00", "3", "10.00"),
    ("mixed-exponents", "0.05", "1 1E-10", "0.05 0.00"),
    ("equal-values-other-spelling", "0.01", "1.0 1.00", "0.01 0.00"),
]


@pytest.mark.parametrize(
    ("total", "weights", "expected"),
    [pytest.param(t, w, e, id=i) for i, t, w, e in SPREADS],
)
def test_spread(total: str, weights: str, expected: str) -> None:
    parts = spread(D(total), decimals(weights))
    assert parts == decimals(expected)
    assert sum(parts, D(0)) == D(total)


@pytest.mark.parametrize(
    ("total", "weights"),
    [
        pytest.param("1.00", "", id="no-weights"),
        pytest.param("1.00", "0 0", id="zero-weights"),
        pytest.param("0.001", "1", id="not-whole-cents"),
        pytest.param("1.00", "-1 2", id="negative-weight"),
        pytest.param("1.00", "1 NaN", id="nan-weight"),
        pytest.param("1.00", "Infinity", id="infinite-weight"),
    ],
)
def test_spread_refuses(total: str, weights: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        spread(D(total), decimals(weights))


# --- check_decimal ------------------------------------------------------------------------------


def price_message(value: Decimal) -> str | None:
    return check_decimal(value, places=PRICE_PLACES, minimum=D(0), maximum=MAX_PRICE)


def quantity_message(value: Decimal, *, exclusive_minimum: bool = False) -> str | None:
    return check_decimal(
        value,
        places=QUANTITY_PLACES,
        minimum=D(0),
        maximum=MAX_QUANTITY,
        exclusive_minimum=exclusive_minimum,
    )


NOT_NUMBER = "A valid number is required."
PRICE_PLACES_MSG = "Ensure that there are no more than 2 decimal places."
PRICE_MAX_MSG = "Ensure this value is less than or equal to 99999999.99."
MIN_MSG = "Ensure this value is greater than or equal to 0."


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("2.34", None, id="ok"),
        pytest.param("1.000", None, id="trailing-zeros-are-not-places"),
        pytest.param("0", None, id="zero"),
        pytest.param("-0", None, id="negative-zero"),
        pytest.param("0E-400", None, id="zero-tiny-exponent"),
        pytest.param("0E+400", None, id="zero-huge-exponent"),
        pytest.param("1E+2", None, id="exponent-form"),
        pytest.param("99999999.99", None, id="max"),
        pytest.param("2.345", PRICE_PLACES_MSG, id="three-places"),
        pytest.param("1E-400", PRICE_PLACES_MSG, id="tiny"),
        pytest.param("1.0000000000000000000000000000001", PRICE_PLACES_MSG, id="beyond-precision"),
        pytest.param("100000000", PRICE_MAX_MSG, id="over-max"),
        pytest.param("1E+400", PRICE_MAX_MSG, id="huge"),
        pytest.param("1.5E+999999", PRICE_MAX_MSG, id="huger"),
        pytest.param("123456789.123", PRICE_MAX_MSG, id="range-before-places"),
        pytest.param("-0.01", MIN_MSG, id="negative"),
        pytest.param("-1E+400", MIN_MSG, id="huge-negative"),
        pytest.param("-1E-400", MIN_MSG, id="tiny-negative"),
        pytest.param("NaN", NOT_NUMBER, id="nan"),
        pytest.param("-NaN", NOT_NUMBER, id="negative-nan"),
        pytest.param("sNaN", NOT_NUMBER, id="snan"),
        pytest.param("Infinity", NOT_NUMBER, id="infinity"),
        pytest.param("-Infinity", NOT_NUMBER, id="negative-infinity"),
    ],
)
def test_check_decimal_price(value: str, expected: str | None) -> None:
    assert price_message(D(value)) == expected


def test_check_decimal_quantity_messages() -> None:
    assert quantity_message(D("1.234")) is None
    assert quantity_message(D("1.2345")) == "Ensure that there are no more than 3 decimal places."
    assert quantity_message(D("1000000")) == (
        "Ensure this value is less than or equal to 999999.999."
    )
    assert quantity_message(D("0")) is None


def test_check_decimal_exclusive_minimum() -> None:
    greater = "Ensure this value is greater than 0."
    assert quantity_message(D(0), exclusive_minimum=True) == greater
    assert quantity_message(D("-0"), exclusive_minimum=True) == greater
    assert quantity_message(D(-1), exclusive_minimum=True) == greater
    assert quantity_message(D("1E-400"), exclusive_minimum=True) == (
        "Ensure that there are no more than 3 decimal places."
    )
    assert quantity_message(D("0.001"), exclusive_minimum=True) is None


def test_check_decimal_other_bounds_are_quoted() -> None:
    message = check_decimal(D("100.5"), places=2, minimum=D("-1.5"), maximum=D(100))
    assert message == "Ensure this value is less than or equal to 100."
    message = check_decimal(D("-2"), places=2, minimum=D("-1.5"), maximum=D(100))
    assert message == "Ensure this value is greater than or equal to -1.5."


@given(st.decimals(allow_nan=True, allow_infinity=True))
def test_check_decimal_never_raises(value: Decimal) -> None:
    result = price_message(value)
    assert result is None or result.startswith(("A valid", "Ensure"))


# --- to_minor / from_minor / json_number ---------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "places", "units"),
    [
        pytest.param("2.34", 2, 234, id="cents"),
        pytest.param("2.3", 2, 230, id="one-place"),
        pytest.param("2.340", 2, 234, id="trailing-zero"),
        pytest.param("1E+2", 2, 10000, id="exponent"),
        pytest.param("-0.01", 2, -1, id="negative"),
        pytest.param("-0", 2, 0, id="negative-zero"),
        pytest.param("1.234", 3, 1234, id="thousandths"),
        pytest.param("999999.999", 3, 999999999, id="max-quantity"),
        pytest.param("99999999.99", 2, 9999999999, id="max-price"),
    ],
)
def test_to_minor(value: str, places: int, units: int) -> None:
    assert to_minor(D(value), places) == units
    assert from_minor(units, places) == D(value)


@pytest.mark.parametrize("value", ["2.345", "1E-3", "NaN", "Infinity"])
def test_to_minor_refuses_lossy_values(value: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        to_minor(D(value), 2)


def test_from_minor_is_exact() -> None:
    assert from_minor(234, 2) == D("2.34")
    assert str(from_minor(234, 2)) == "2.34"
    assert str(from_minor(5, 3)) == "0.005"
    assert from_minor(10**40 + 1, 2) == D("1" + "0" * 37 + "0.01")


def test_storage_units_by_name() -> None:
    assert to_cents(D("2.3")) == 230
    assert str(from_cents(230)) == "2.30"
    assert shown_cents(230) == D("2.3")
    assert str(shown_cents(500)) == "5"
    assert to_thousandths(D("1.5")) == 1500
    assert str(from_thousandths(1500)) == "1.500"
    assert str(shown_thousandths(1500)) == "1.5"
    with pytest.raises(ValueError, match="more than 2 decimal places"):
        to_cents(D("0.001"))


@given(st.integers(min_value=-(10**20), max_value=10**20), st.sampled_from([0, 2, 3]))
def test_minor_round_trip(units: int, places: int) -> None:
    assert to_minor(from_minor(units, places), places) == units


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("5.00", "5", id="whole"),
        pytest.param("50", "50", id="not-5E+1"),
        pytest.param("34.590", "34.59", id="trailing-zero"),
        pytest.param("0.870", "0.87", id="below-one"),
        pytest.param("-0", "0", id="negative-zero"),
        pytest.param("0.000", "0", id="zero-places"),
        pytest.param("1E+2", "100", id="exponent"),
        pytest.param("-1.50", "-1.5", id="negative"),
        pytest.param("0.001", "0.001", id="thousandth"),
        pytest.param("99999999.99", "99999999.99", id="max-price"),
    ],
)
def test_json_number(value: str, expected: str) -> None:
    result = json_number(D(value))
    assert str(result) == expected
    assert result == D(value)


@given(st.integers(min_value=-(10**15), max_value=10**15), st.sampled_from([0, 1, 2, 3]))
def test_json_number_never_uses_exponent_or_trailing_zeros(units: int, places: int) -> None:
    value = from_minor(units, places)
    text = str(json_number(value))
    assert json_number(value) == value
    assert "E" not in text
    assert "." not in text or not text.endswith("0")
    assert text != "-0"


# --- properties ---------------------------------------------------------------------------------

RATES = [D(0), D(5), D(12), D(21), D("9.5")]


@st.composite
def lines_strategy(draw: st.DrawFn) -> Line:
    small = draw(st.booleans())  # everyday values as often as extreme ones
    quantity_units = draw(st.integers(0, 10_000 if small else 999_999_999))
    # Up to the largest price, as long as nine such lines stay within one document (MAX_TOTAL).
    top = to_minor(MAX_TOTAL, PRICE_PLACES) // 9 * 1000 // max(quantity_units, 1)
    price_units = draw(st.integers(0, 10_000 if small else min(9_999_999_999, top)))
    quantity = from_minor(quantity_units, QUANTITY_PLACES)
    price = from_minor(price_units, PRICE_PLACES)
    rate = draw(st.sampled_from(RATES))
    discountable = draw(st.booleans())
    kind = draw(st.sampled_from([None, AMOUNT, PERCENT]))
    if kind is PERCENT:
        discount = from_minor(draw(st.integers(0, 10_000)), 2)
    elif kind is AMOUNT:  # whole cents up to the exact gross
        floor_cents = to_minor(quantity, 3) * to_minor(price, 2) // 1000
        discount = from_minor(draw(st.integers(0, floor_cents)), 2)
    else:
        discount = D(0)
    return Line(quantity, price, rate, discount, kind, discountable)


@st.composite
def documents(draw: st.DrawFn) -> tuple[list[Line], Decimal, DiscountType | None]:
    lines = draw(st.lists(lines_strategy(), max_size=8))
    base = sum((p.amount for p in price_document(lines).lines if p.line.discountable), D(0))
    kind = draw(st.sampled_from([None, AMOUNT, PERCENT]))
    if kind is PERCENT:
        discount = from_minor(draw(st.integers(0, 10_000)), 2)
    elif kind is AMOUNT:
        discount = from_minor(draw(st.integers(0, to_minor(base, 2))), 2)
    else:
        discount = D(0)
    return lines, discount, kind


def at_most_two_places(value: Decimal) -> bool:
    return (
        check_decimal(value, places=2, minimum=-MAX_PRICE * 10**9, maximum=MAX_PRICE * 10**9)
        is None
    )


@given(
    st.integers(-(10**9), 10**9),
    st.lists(
        st.builds(from_minor, st.integers(0, 10**12), st.sampled_from([0, 2, 3])), max_size=12
    ),
)
def test_spread_parts_sum_to_total(cents: int, weights: list[Decimal]) -> None:
    total = from_minor(cents, 2)
    if cents and not any(weights):
        with pytest.raises(ValueError, match="spread"):
            spread(total, weights)
        return
    parts = spread(total, weights)
    assert sum(parts, D(0)) == total
    assert len(parts) == len(weights)
    weight_sum = sum(weights, D(0))
    for part, weight in zip(parts, weights, strict=True):
        assert at_most_two_places(part)
        if not weight:
            assert part == 0
        else:  # within one cent of the exact pro-rata share
            assert abs(part - total * weight / weight_sum) < CENT


@given(documents())
def test_document_invariants(document: tuple[list[Line], Decimal, DiscountType | None]) -> None:
    lines, discount, kind = document
    price = price_document(lines, discount, kind)
    assert_posted_total(lines, discount, kind)

    assert sum((p.total for p in price.lines), D(0)) == price.total
    assert sum((p.document_discount for p in price.lines), D(0)) == price.document_discount
    assert price.total >= 0
    assert all(p.total >= 0 for p in price.lines)
    assert all(p.document_discount == 0 for p in price.lines if not p.line.discountable)
    assert sum((g.gross for g in price.vat), D(0)) == price.total
    for group in price.vat:
        assert group.net + group.tax == group.gross
        if group.rate == 0:
            assert group.tax == 0
    assert price.net + price.tax == price.total
    numbers = [price.total, price.document_discount, price.net, price.tax]
    for p in price.lines:
        numbers += [p.amount, p.line_discount, p.document_discount, p.total, p.discount_amount]
    for g in price.vat:
        numbers += [g.gross, g.net, g.tax]
    assert all(at_most_two_places(n) for n in numbers)


@given(st.decimals(min_value=-(10**12), max_value=10**12, allow_nan=False, allow_infinity=False))
def test_round_money_properties(value: Decimal) -> None:
    rounded = round_money(value)
    assert abs(rounded - value) <= D("0.005")
    assert round_money(rounded) == rounded
    assert at_most_two_places(rounded)


@given(
    st.builds(from_minor, st.integers(-(10**12), 10**12), st.just(2)),
    st.sampled_from([*RATES, D(100)]),
)
def test_vat_properties(gross: Decimal, rate: Decimal) -> None:
    net, tax = vat(gross, rate)
    assert net + tax == gross
    if rate == 0:
        assert tax == 0
    assert abs(tax - gross * rate / (100 + rate)) <= D("0.005")


# --- a posted invoice's total in integers ---------------------------------------------------------

# Edge values in storage units: the smallest and largest quantity (thousandths) and price
# (cents), half-cent grosses (0.125 × 1.00), 3-place quantities.
EDGE_QUANTITIES = [1, 5, 125, 139, 1235, 1000, 999_999_999]
EDGE_PRICES = [0, 1, 90, 100, 249, 9_999_999_999]
EDGE_PERCENTS = [0, 1, 9995, 9999, 10_000, 10_001]  # hundredths of a percent
MAX_PRICE_CENTS = 9_999_999_999


@st.composite
def posted_lines(draw: st.DrawFn) -> LineUnits:
    small = draw(st.booleans())
    quantity = draw(
        st.one_of(
            st.sampled_from(EDGE_QUANTITIES), st.integers(1, 10_000 if small else 999_999_999)
        )
    )
    price = draw(
        st.one_of(
            st.sampled_from(EDGE_PRICES), st.integers(0, 10_000 if small else MAX_PRICE_CENTS)
        )
    )
    kind = draw(st.sampled_from([None, None, AMOUNT, PERCENT]))
    if kind is PERCENT:
        off = draw(st.one_of(st.sampled_from(EDGE_PERCENTS), st.integers(0, 10_100)))
    elif kind is AMOUNT:  # up to just past the exact gross (a 400), within the field's range
        floor_cents = quantity * price // 1000
        edges = [0, floor_cents, floor_cents + 1]
        off = min(
            draw(st.one_of(st.sampled_from(edges), st.integers(0, floor_cents + 2))),
            MAX_PRICE_CENTS,
        )
    else:  # mostly no discount; now and then one without a type (a 400)
        off = draw(st.sampled_from([0, 0, 0, 1]))
    return (quantity, price, off, kind)


@st.composite
def posted_documents(draw: st.DrawFn) -> tuple[list[LineUnits], int, DiscountType | None]:
    lines = draw(st.lists(posted_lines(), max_size=8))
    kind = draw(st.sampled_from([None, AMOUNT, PERCENT]))
    if kind is PERCENT:
        discount = draw(st.one_of(st.sampled_from(EDGE_PERCENTS), st.integers(0, 10_100)))
    elif kind is AMOUNT:  # up to just past the undiscounted sum, so past the base at times
        top = sum(quantity * price for quantity, price, _, _ in lines) // 1000 + 2
        discount = min(
            draw(st.one_of(st.sampled_from([0, 1, top - 2, top - 1]), st.integers(0, top))),
            MAX_PRICE_CENTS,
        )
    else:
        discount = draw(st.sampled_from([0, 0, 1]))
    return lines, max(discount, 0), kind


@settings(max_examples=500)
@given(posted_documents())
def test_posted_total_is_price_documents(
    document: tuple[list[LineUnits], int, DiscountType | None],
) -> None:
    """``document_total_cents`` gives ``price_document``'s total, or the same errors."""
    units, discount, kind = document
    lines = [
        Line(from_thousandths(quantity), from_cents(price), D(21), from_cents(off), line_kind)
        for quantity, price, off, line_kind in units
    ]
    assert posted(lines, from_cents(discount)) == (units, discount)
    assert_posted_total(lines, from_cents(discount), kind)


def test_posted_total_edge_cases() -> None:
    """Max values, 3-place quantities, 100 % off, a discount past the total."""
    biggest = (999_999_999, MAX_PRICE_CENTS, 0, None)
    over = "The rows add up to 99999999890000 before discounts; one document may not exceed 9999999999.99."
    with pytest.raises(ValidationFailed) as caught:
        document_total_cents([biggest], 0, None)
    assert caught.value.errors == (FieldError(("rows",), over),)
    at_limit = [(1000, MAX_PRICE_CENTS, 0, None)] * 100 + [(1000, 99, 0, None)]
    assert document_total_cents(at_limit, 0, None) == 999_999_999_999
    # 0.125 × 1.00 at 100 %: the discount rounds to 0.13 past the gross, the amount stops at 0.
    assert document_total_cents([(125, 100, 10_000, PERCENT)], 0, None) == 0
    assert document_total_cents([(1235, 249, 0, None)], 10_000, PERCENT) == 0
    # 1.235 × 2.49 = 3.07515 -> 3.08; 10 % of 3.07515 = 0.307515 -> 0.31; 3.07515 - 0.31 -> 2.77.
    assert document_total_cents([(1235, 249, 1000, PERCENT)], 0, None) == 277
    with pytest.raises(ValidationFailed) as caught:
        document_total_cents([(1235, 249, 0, None)], 309, AMOUNT)
    assert caught.value.errors == (FieldError(("discount",), OVER_DOC),)


def test_posted_total_covers_the_tables() -> None:
    """Most table vectors are posted invoices too, so the integer total is held to them."""
    vectors = [
        v
        for v in VECTORS
        if posted([parse_line(s) for s in v.lines], parse_discount(v.discount)[0])
    ]
    errors = [
        c for c in ERROR_CASES if posted([parse_line(s) for s in c[1]], parse_discount(c[2])[0])
    ]
    assert len(vectors) >= 40
    assert len(errors) >= 8


@given(st.decimals(allow_nan=True, allow_infinity=True), st.sampled_from([2, 3]))
def test_minor_units_is_to_minor_for_an_accepted_number(value: Decimal, places: int) -> None:
    units = minor_units(value, places=places, minimum=D(0), maximum=MAX_PRICE)
    if not isinstance(units, str):
        assert units == to_minor(value, places)


@pytest.mark.parametrize(
    ("quantity", "price", "discount", "kind", "over"),
    [
        ("0.5", "10", "5", "amount", False),  # exactly the gross
        ("0.499", "10", "5", "amount", True),
        ("0.1", "10", "100", "percent", False),  # a percentage never exceeds its line
        ("1", "10", "11", None, False),  # no type: another rule's error
    ],
)
def test_a_money_off_discount_is_held_to_the_lines_gross(
    quantity: str, price: str, discount: str, kind: str | None, over: bool
) -> None:
    error = line_discount_error(Decimal(quantity), Decimal(price), Decimal(discount), kind)
    assert (error is not None) is over
