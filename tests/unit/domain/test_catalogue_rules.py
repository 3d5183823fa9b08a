"""Catalogue rules, without storage: products, batches (imports) and the category tree."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal

import pytest

from minipos.domain.blocks import PrintCost
from minipos.domain.catalogue import (
    CatalogueFacts,
    batch_duplicates,
    category_problems,
    check_product,
    product_problems,
)
from minipos.domain.errors import FieldError, Path, ValidationFailed
from minipos.domain.invoice import PrintBlock
from minipos.domain.money import DiscountType
from minipos.domain.reference import ReferenceData

REFERENCE = ReferenceData.default()


@dataclass(frozen=True)
class Barcode:
    barcode: str
    discount: Decimal = Decimal(0)
    discount_type: DiscountType | None = None
    default_quantity: Decimal = Decimal(1)


@dataclass(frozen=True)
class Block:
    errors: tuple[FieldError, ...] = ()

    def problems(self) -> Iterable[FieldError]:
        return self.errors

    def cost(self, enlarged: bool) -> PrintCost:
        return PrintCost()


@dataclass(frozen=True)
class Product:
    price: Decimal = Decimal("1.00")
    barcodes: tuple[Barcode, ...] = ()
    addons: tuple[int, ...] = ()
    code: int | None = None
    is_free_price: bool = False
    default_quantity: Decimal = Decimal(1)
    category: int | None = None
    fiscal_section: int = 1
    tax: int = 0
    blocks: tuple[Block, ...] = field(default=())

    def print_blocks(self) -> Iterable[tuple[Path, PrintBlock]]:
        for index, block in enumerate(self.blocks):
            yield ("info", "blocks", index), block


FACTS = CatalogueFacts(
    products=frozenset({1, 2}),
    categories=frozenset({1}),
    barcodes={"4750001": 1},
    codes={100: 1},
)


def problems(product: Product, product_id: int | None = None) -> list[tuple[Path, str]]:
    found = product_problems(product, REFERENCE, FACTS, product_id=product_id)
    return [(e.path, e.message) for e in found]


def test_a_plain_product_is_valid() -> None:
    assert problems(Product()) == []
    assert problems(Product(price=Decimal(0), category=1, addons=(1, 2), tax=5)) == []
    check_product(Product(), REFERENCE, FACTS, product_id=None)


@pytest.mark.parametrize(
    ("product", "expected"),
    [
        (Product(price=Decimal(-1)), [(("price",), "Ensure this value is greater than or equal to 0.")]),
        (Product(price=Decimal("0.001")), [(("price",), "Ensure that there are no more than 2 decimal places.")]),
        (Product(price=Decimal("NaN")), [(("price",), "A valid number is required.")]),
        (Product(default_quantity=Decimal(0)), [(("default_quantity",), "Ensure this value is greater than 0.")]),
        (Product(default_quantity=Decimal("0.0001")), [(("default_quantity",), "Ensure that there are no more than 3 decimal places.")]),
        (Product(tax=7), [(("tax",), '"7" is not a valid choice.')]),
        (Product(fiscal_section=0), [(("fiscal_section",), '"0" is not a valid choice.')]),
        (Product(category=2), [(("category",), 'Invalid pk "2" - object does not exist.')]),
        (Product(code=100), [(("code",), "A product with this code already exists.")]),
        (Product(addons=(3,)), [(("addons",), 'Invalid pk "3" - object does not exist.')]),
        (Product(addons=(1, 1)), [(("addons",), 'Product "1" is listed more than once.')]),
        (Product(barcodes=(Barcode("4750001"),)), [(("barcodes", 0, "barcode"), "A product with this barcode already exists.")]),
        (Product(barcodes=(Barcode("9"), Barcode("9"))), [(("barcodes", 1, "barcode"), "This barcode is listed more than once.")]),
        (Product(barcodes=(Barcode("9", default_quantity=Decimal(-1)),)), [(("barcodes", 0, "default_quantity"), "Ensure this value is greater than 0.")]),
        (Product(barcodes=(Barcode("9", Decimal("0.005"), DiscountType.PERCENT),)), [(("barcodes", 0, "discount"), "Ensure that there are no more than 2 decimal places.")]),
        (Product(barcodes=(Barcode("9", Decimal(5)),)), [(("barcodes", 0, "discount_type"), 'Set discount_type to "amount" or "percent" when discount is not 0.')]),
        (Product(barcodes=(Barcode("9", Decimal(101), DiscountType.PERCENT),)), [(("barcodes", 0, "discount"), "Ensure this value is less than or equal to 100.")]),
        (Product(barcodes=(Barcode("9", Decimal("1.01"), DiscountType.AMOUNT),)), [(("barcodes", 0, "discount"), "The discount cannot exceed the line amount.")]),
        (Product(blocks=(Block(), Block((FieldError(("code",), "bad"),)))), [(("info", "blocks", 1, "code"), "bad")]),
    ],
)  # fmt: skip
def test_broken_rules(product: Product, expected: list[tuple[Path, str]]) -> None:
    assert problems(product) == expected
    with pytest.raises(ValidationFailed):
        check_product(product, REFERENCE, FACTS, product_id=None)


def test_amount_discount_is_measured_against_the_scanned_line() -> None:
    six_pack = Barcode("9", Decimal("5.99"), DiscountType.AMOUNT, default_quantity=Decimal(6))
    assert problems(Product(barcodes=(six_pack,))) == []  # 6 × 1.00 = 6.00 ≥ 5.99
    # A free price is set at the till: the sale checks the line then.
    free = Product(price=Decimal(0), is_free_price=True, barcodes=(six_pack,))
    assert problems(free) == []
    # An unreadable price is reported once, not again as a discount problem.
    assert [p[0] for p in problems(Product(price=Decimal(-1), barcodes=(six_pack,)))] == [
        ("price",)
    ]


def test_a_stored_product_keeps_its_own_code_and_barcodes() -> None:
    own = Product(code=100, barcodes=(Barcode("4750001"),), addons=(2,))
    assert problems(own, product_id=1) == []
    assert problems(own, product_id=2) == [
        (("code",), "A product with this code already exists."),
        (("addons",), "A product cannot be its own addon."),
        (("barcodes", 0, "barcode"), "A product with this barcode already exists."),
    ]


def test_every_problem_is_collected() -> None:
    product = Product(price=Decimal(-1), tax=9, category=7, addons=(8,), code=100)
    assert [path for path, _ in problems(product)] == [
        ("price",),
        ("tax",),
        ("category",),
        ("code",),
        ("addons",),
    ]


def test_batch_duplicates_name_where_a_value_was_first_seen() -> None:
    batch = [
        Product(code=1, barcodes=(Barcode("a"), Barcode("b"))),
        Product(code=2, barcodes=(Barcode("c"),)),
        Product(code=1, barcodes=(Barcode("c"), Barcode("d"), Barcode("a"))),
        Product(),
    ]
    found = batch_duplicates(batch, ["line 2", "line 3", "line 4", "line 5"])
    assert found == {
        2: [
            FieldError(("code",), "The same code is on line 2."),
            FieldError(("barcodes", 0, "barcode"), "The same barcode is on line 3."),
            FieldError(("barcodes", 2, "barcode"), "The same barcode is on line 2."),
        ]
    }
    assert batch_duplicates([replace(batch[1]), Product()], ["a", "b"]) == {}


def test_category_tree_rules() -> None:
    assert category_problems(None, None, None) == []
    assert category_problems(None, 1, [1]) == []
    assert category_problems(5, 1, [1, 2]) == []
    missing = [FieldError(("parent",), 'Invalid pk "9" - object does not exist.')]
    assert category_problems(5, 9, None) == missing
    cycle = [FieldError(("parent",), "A category cannot be placed under itself.")]
    assert category_problems(2, 3, [3, 2, 1]) == cycle
    assert category_problems(2, 2, [2, 1]) == cycle
