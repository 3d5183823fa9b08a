"""Catalogue rules: what makes a product or a category valid beyond its field types.

The rules read a product through the ``*Input`` protocols below (the API's msgspec structs,
an import row, or a test double) and what they need to know about the stored catalogue from
``CatalogueFacts``, which the caller loads in bulk beforehand. So one call reports every
problem at once, and an import of 100,000 rows is checked without one query per row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import IntEnum
from typing import Protocol

from minipos.domain import blocks
from minipos.domain.errors import ErrorCollector, FieldError, Path, ValidationFailed
from minipos.domain.invoice import PrintBlock
from minipos.domain.money import (
    MAX_PRICE,
    MAX_QUANTITY,
    PRICE_PLACES,
    QUANTITY_PLACES,
    DiscountType,
    _check_discount,
    check_decimal,
)
from minipos.domain.reference import ReferenceData

ZERO = Decimal(0)
_MSG_DUPLICATE_BARCODE = "A product with this barcode already exists."
_MSG_DUPLICATE_CODE = "A product with this code already exists."


class ProductStatus(IntEnum):
    """``status`` of a product. The docs show only 1; 0 is ours (decisions left it open)."""

    INACTIVE = 0  # kept in the catalogue (and in the station feed) but not offered for sale
    ACTIVE = 1


class BarcodeInput(Protocol):
    @property
    def barcode(self) -> str: ...
    @property
    def discount(self) -> Decimal: ...
    @property
    def discount_type(self) -> DiscountType | None: ...
    @property
    def default_quantity(self) -> Decimal: ...


class ProductInput(Protocol):
    @property
    def barcodes(self) -> Sequence[BarcodeInput]: ...
    @property
    def addons(self) -> Sequence[int]: ...
    @property
    def code(self) -> int | None: ...
    @property
    def price(self) -> Decimal: ...
    @property
    def is_free_price(self) -> bool: ...
    @property
    def default_quantity(self) -> Decimal: ...
    @property
    def category(self) -> int | None: ...
    @property
    def fiscal_section(self) -> int: ...
    @property
    def tax(self) -> int: ...
    def print_blocks(self) -> Iterable[tuple[Path, PrintBlock]]:
        """Every block in ``info`` with its path."""
        ...


@dataclass(frozen=True, slots=True)
class CatalogueFacts:
    """What is stored, as far as the products being checked refer to it.

    Loaded by the caller for exactly the ids, barcodes and codes those products mention.
    """

    #: Ids of live (not deleted) products among the addons mentioned.
    products: frozenset[int] = frozenset()
    #: Ids of existing categories among those mentioned.
    categories: frozenset[int] = frozenset()
    #: Barcode → the live product that has it, for the barcodes mentioned.
    barcodes: Mapping[str, int] = field(default_factory=dict)
    #: Code → the live product that has it, for the codes mentioned.
    codes: Mapping[int, int] = field(default_factory=dict)


def does_not_exist(pk: int) -> str:
    """DRF's wording for a reference to a missing record."""
    return f'Invalid pk "{pk}" - object does not exist.'


def product_problems(
    product: ProductInput,
    reference: ReferenceData,
    facts: CatalogueFacts,
    *,
    product_id: int | None,
) -> list[FieldError]:
    """Every broken rule of ``product``; ``product_id`` is its id when it replaces a stored one."""
    errors = ErrorCollector()
    _check_number(errors, ("price",), product.price, PRICE_PLACES, MAX_PRICE)
    _check_quantity(errors, ("default_quantity",), product.default_quantity)
    if product.tax not in reference.taxes:
        errors.add(("tax",), f'"{product.tax}" is not a valid choice.')
    if product.fiscal_section not in reference.fiscal_sections:
        errors.add(("fiscal_section",), f'"{product.fiscal_section}" is not a valid choice.')
    if product.category is not None and product.category not in facts.categories:
        errors.add(("category",), does_not_exist(product.category))
    if product.code is not None and facts.codes.get(product.code, product_id) != product_id:
        errors.add(("code",), _MSG_DUPLICATE_CODE)
    _check_addons(errors, product.addons, facts, product_id)
    _check_barcodes(errors, product, facts, product_id)
    for path, block in product.print_blocks():
        errors.extend(path, block.problems())
    errors.extend((), blocks.budget_problems(product.print_blocks()))
    return errors.errors


def check_product(
    product: ProductInput,
    reference: ReferenceData,
    facts: CatalogueFacts,
    *,
    product_id: int | None,
) -> None:
    """Raise ``ValidationFailed`` naming every broken rule of ``product``."""
    problems = product_problems(product, reference, facts, product_id=product_id)
    if problems:
        raise ValidationFailed(problems)


def batch_duplicates(
    products: Sequence[ProductInput], labels: Sequence[str]
) -> dict[int, list[FieldError]]:
    """Barcodes and codes used by more than one product of a batch (an import file).

    Each later use is reported on its own product (by index), naming where the value was
    first seen with ``labels[index]`` ("line 7"). The check against stored products is
    ``product_problems``'s; this one needs no storage at all.
    """
    problems: dict[int, list[FieldError]] = {}
    first_barcode: dict[str, int] = {}
    first_code: dict[int, int] = {}
    for index, product in enumerate(products):
        found: list[FieldError] = []
        if product.code is not None:
            seen = first_code.setdefault(product.code, index)
            if seen != index:
                found.append(FieldError(("code",), f"The same code is on {labels[seen]}."))
        for position, barcode in enumerate(product.barcodes):
            seen = first_barcode.setdefault(barcode.barcode, index)
            if seen != index:
                found.append(
                    FieldError(
                        ("barcodes", position, "barcode"),
                        f"The same barcode is on {labels[seen]}.",
                    )
                )
        if found:
            problems[index] = found
    return problems


def category_problems(
    category_id: int | None, parent: int | None, ancestors: Sequence[int] | None
) -> list[FieldError]:
    """Rules of a category's ``parent``: it exists and the tree stays a tree.

    ``ancestors`` is ``[parent, its parent, …]`` up to a root, or ``None`` if ``parent`` does
    not exist. ``category_id`` is ``None`` for a new category (which cannot close a cycle).
    """
    if parent is None:
        return []
    if ancestors is None:
        return [FieldError(("parent",), does_not_exist(parent))]
    if category_id is not None and category_id in ancestors:
        return [FieldError(("parent",), "A category cannot be placed under itself.")]
    return []


# --- helpers ------------------------------------------------------------------------------------


def _check_number(
    errors: ErrorCollector, path: Path, value: Decimal, places: int, maximum: Decimal
) -> bool:
    """Range and precision of a money amount (≥ 0); False if it is broken (and reported)."""
    message = check_decimal(value, places=places, minimum=ZERO, maximum=maximum)
    if message:
        errors.add(path, message)
    return message is None


def _check_quantity(errors: ErrorCollector, path: Path, value: Decimal) -> bool:
    """A quantity added per press or scan: > 0, at most 3 decimals."""
    message = check_decimal(
        value, places=QUANTITY_PLACES, minimum=ZERO, maximum=MAX_QUANTITY, exclusive_minimum=True
    )
    if message:
        errors.add(path, message)
    return message is None


def _check_addons(
    errors: ErrorCollector, addons: Sequence[int], facts: CatalogueFacts, product_id: int | None
) -> None:
    # DRF reports a many-related field's problems on the field itself, not per item.
    seen: set[int] = set()
    for addon in addons:
        if addon in seen:
            errors.add(("addons",), f'Product "{addon}" is listed more than once.')
        elif product_id is not None and addon == product_id:
            errors.add(("addons",), "A product cannot be its own addon.")
        elif addon not in facts.products:
            errors.add(("addons",), does_not_exist(addon))
        seen.add(addon)


def _check_barcodes(
    errors: ErrorCollector, product: ProductInput, facts: CatalogueFacts, product_id: int | None
) -> None:
    price_ok = (
        check_decimal(product.price, places=PRICE_PLACES, minimum=ZERO, maximum=MAX_PRICE) is None
    )
    seen: set[str] = set()
    for index, barcode in enumerate(product.barcodes):
        path: Path = ("barcodes", index)
        if barcode.barcode in seen:
            errors.add((*path, "barcode"), "This barcode is listed more than once.")
        elif facts.barcodes.get(barcode.barcode, product_id) != product_id:
            errors.add((*path, "barcode"), _MSG_DUPLICATE_BARCODE)
        seen.add(barcode.barcode)
        quantity_ok = _check_quantity(errors, (*path, "default_quantity"), barcode.default_quantity)
        if not _check_number(
            errors, (*path, "discount"), barcode.discount, PRICE_PLACES, MAX_PRICE
        ):
            continue
        # A scan adds default_quantity × price, and an amount off may not exceed that line. A
        # free price is known only at the till, so there the sale checks the line instead.
        gross = None
        if price_ok and quantity_ok and not product.is_free_price:
            gross = product.price * barcode.default_quantity  # ≤ 19 digits: exact
        _check_discount(errors, path, barcode.discount, barcode.discount_type, gross=gross)
