"""What a sale sells, as receipt lines: an invoice's rows with the cashier's edits, or walk-in
rows found in the catalogue (by barcode or code) or typed as free text."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from minipos.catalogue import repository as catalogue
from minipos.checkout.schemas import CompleteIn, SaleRowIn
from minipos.db import Connection, Row
from minipos.domain.errors import ErrorCollector, Path
from minipos.domain.money import (
    amount_error,
    from_cents,
    from_thousandths,
    line_discount_error,
    line_gross_error,
    quantity_error,
    stored_discount_type,
)
from minipos.domain.reference import ReferenceData
from minipos.receipts.service import SaleLine

ZERO = Decimal(0)


def edited_lines(rows: Sequence[Row], request: CompleteIn) -> list[SaleLine]:
    """The invoice rows as sold, with the edits their flags allow (``is_weight``: quantity,
    ``is_free_price``: price)."""
    by_id = {row["id"]: row for row in rows}
    edits: dict[int, tuple[Decimal | None, Decimal | None]] = {}
    errors = ErrorCollector()
    for index, edit in enumerate(request.rows):
        row = by_id.get(edit.id)
        if row is None:
            errors.add(("rows", index, "id"), "No such row on this invoice.")
            continue
        if edit.id in edits:  # two edits of one row: neither may silently win
            errors.add(("rows", index, "id"), "This row is listed more than once.")
            continue
        if edit.quantity is not None:
            if not row["is_weight"]:
                errors.add(
                    ("rows", index, "quantity"),
                    "This row's quantity is fixed (it is not is_weight).",
                )
            elif message := quantity_error(edit.quantity):
                errors.add(("rows", index, "quantity"), message)
        if edit.price is not None:
            if not row["is_free_price"]:
                errors.add(
                    ("rows", index, "price"), "This row's price is fixed (it is not is_free_price)."
                )
            elif message := amount_error(edit.price):
                errors.add(("rows", index, "price"), message)
        edits[edit.id] = (edit.quantity, edit.price)
    errors.raise_if_any()
    lines = []
    for row in rows:
        quantity, price = edits.get(row["id"], (None, None))
        lines.append(
            SaleLine(
                product_name=row["text"],
                product_code=row["code"],
                price=price if price is not None else from_cents(row["price"]),
                quantity=quantity if quantity is not None else from_thousandths(row["quantity"]),
                tax=row["tax"],
                tax_rate=from_cents(row["tax_rate"]),
                discount=from_cents(row["discount"]),
                discount_type=row["discount_type"],
            )
        )
    position = {row["id"]: n for n, row in enumerate(rows)}
    for index, edit in enumerate(request.rows):
        line = lines[position[edit.id]]
        # Named at the request's own row and the field it edited; pricing would name the
        # invoice row's position and its discount, which the request never sent.
        edited = "quantity" if edit.quantity is not None else "price"
        if message := line_gross_error(line.quantity, line.price):
            errors.add(("rows", index, "quantity"), message)
        elif message := line_discount_error(
            line.quantity, line.price, line.discount, line.discount_type
        ):
            errors.add(("rows", index, edited), f"{message.rstrip('.')} at this {edited}.")
    errors.raise_if_any()
    return lines


def walk_in_line(
    conn: Connection, path: Path, row: SaleRowIn, reference: ReferenceData, errors: ErrorCollector
) -> SaleLine | None:
    """What one walk-in row sells, or None with its problems added to ``errors``."""
    given = [name for name in ("barcode", "code", "text") if getattr(row, name) is not None]
    if len(given) != 1:
        errors.add(path, "Give exactly one of barcode, code or text.")
        return None
    product = None
    if row.barcode is not None:
        product = catalogue.for_sale_by_barcode(conn, row.barcode)
    elif row.code is not None:
        product = catalogue.for_sale_by_code(conn, row.code)
    if product is None and row.text is None:
        errors.add((*path, given[0]), f"No product has this {given[0]}.")
        return None
    if product is None:
        return _free_text_line(path, row, reference, errors)
    if row.price is not None and not product["is_free_price"]:
        errors.add((*path, "price"), "This product's price is fixed (it is not is_free_price).")
        return None
    tax = product["tax"]
    if tax not in reference.taxes:
        errors.add((*path, "tax"), f'"{tax}" is not a valid choice.')
        return None
    if row.discount is not None:
        discount, discount_type = row.discount, stored_discount_type(row.discount_type)
    else:  # the barcode's own discount (none when sold by code)
        discount = from_cents(product["barcode_discount"] or 0)
        discount_type = product["barcode_discount_type"]
    line = SaleLine(
        product_name=product["name"],
        product_code=None if product["code"] is None else str(product["code"]),
        price=row.price if row.price is not None else from_cents(product["price"]),
        quantity=row.quantity if row.quantity is not None else _default_quantity(product),
        tax=tax,
        tax_rate=reference.taxes[tax].rate,
        discount=discount,
        discount_type=discount_type,
        product_id=product["id"],
        barcode=product["barcode"],
        category_id=product["category"],
        category_name=product["category_name"],
        discountable=not product["no_discount"],
    )
    return line if _line_numbers_ok(path, line, errors) else None


def _free_text_line(
    path: Path, row: SaleRowIn, reference: ReferenceData, errors: ErrorCollector
) -> SaleLine | None:
    if row.price is None:
        errors.add((*path, "price"), "A free-text row needs a price.")
        return None
    tax = row.tax if row.tax is not None else 0
    if tax not in reference.taxes:
        errors.add((*path, "tax"), f'"{tax}" is not a valid choice.')
        return None
    line = SaleLine(
        product_name=str(row.text),
        product_code=None,
        price=row.price,
        quantity=row.quantity if row.quantity is not None else Decimal(1),
        tax=tax,
        tax_rate=reference.taxes[tax].rate,
        discount=row.discount if row.discount is not None else ZERO,
        discount_type=stored_discount_type(row.discount_type),
    )
    return line if _line_numbers_ok(path, line, errors) else None


def _line_numbers_ok(path: Path, line: SaleLine, errors: ErrorCollector) -> bool:
    before = len(errors.errors)
    quantity = quantity_error(line.quantity)
    if quantity:
        errors.add((*path, "quantity"), quantity)
    check_amount((*path, "price"), line.price, errors)
    if message := line_gross_error(line.quantity, line.price):
        errors.add((*path, "quantity"), message)
    check_amount((*path, "discount"), line.discount, errors)
    return len(errors.errors) == before


def check_amount(path: Path, value: Decimal, errors: ErrorCollector) -> None:
    message = amount_error(value)
    if message:
        errors.add(path, message)


def _default_quantity(product: catalogue.ForSaleRow) -> Decimal:
    """The barcode's default quantity (a six-pack scans as 6), else the product's, else 1."""
    units = product["barcode_quantity"] or product["default_quantity"]
    return from_thousandths(units) if units else Decimal(1)
