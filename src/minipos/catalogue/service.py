"""Catalogue use cases: products, categories, the station sync feed, import and export.

Functions that touch storage take a ``Connection`` and run inside the caller's unit of work
(``Database.write``/``read``/``run``). Every write first takes a catalogue revision, which
also serialises catalogue writers (``repository.take_revisions``); the checks that follow
therefore see the catalogue as it will be when the change commits.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from msgspec import UNSET, Struct

from minipos.catalogue import repository
from minipos.catalogue.schemas import (
    BarcodeIn,
    BarcodeOut,
    CategoryIn,
    CategoryOut,
    CategoryQuery,
    ProductChange,
    ProductIn,
    ProductInfo,
    ProductOut,
    ProductQuery,
)
from minipos.db import Connection, Row
from minipos.domain.catalogue import (
    ProductStatus,
    batch_duplicates,
    category_problems,
    check_product,
    product_problems,
)
from minipos.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from minipos.domain.events import EventType
from minipos.domain.money import (
    DiscountType,
    shown_cents,
    shown_thousandths,
    to_cents,
    to_thousandths,
)
from minipos.domain.reference import ReferenceData
from minipos.events import service as events
from minipos.timeutil import local_aware, parse_local

#: Products read per query when exporting.
_BATCH = 1000
_MAX_REVISION = 2**63 - 1


@dataclass(frozen=True, slots=True)
class CatalogueContext:
    reference: ReferenceData
    zone: ZoneInfo


# --- products -------------------------------------------------------------------------------


def get(conn: Connection, product_id: int, ctx: CatalogueContext) -> ProductOut:
    row = repository.get(conn, product_id)
    if row is None:
        raise NotFound()
    return _render(conn, [row], ctx)[0]


def create(conn: Connection, product: ProductIn, ctx: CatalogueContext, now_us: int) -> ProductOut:
    revision, now = repository.take_revisions(conn, 1, now_us)
    check_product(product, ctx.reference, repository.facts(conn, [product]), product_id=None)
    row = _storage(product, revision=revision, created_at=now, updated_at=now)
    barcodes = _barcode_rows(product)
    repository.insert(conn, row)
    repository.replace_links(conn, row["id"], barcodes, product.addons)
    return _changed(conn, _product(row, barcodes, list(product.addons), ctx), now)


def replace(
    conn: Connection, product_id: int, product: ProductIn, ctx: CatalogueContext, now_us: int
) -> ProductOut:
    """``PUT``: the product becomes exactly ``product`` (fields not sent take defaults)."""
    revision, now = repository.take_revisions(conn, 1, now_us)
    stored = repository.get(conn, product_id)
    if stored is None:
        raise NotFound()
    check_product(product, ctx.reference, repository.facts(conn, [product]), product_id=product_id)
    row = _storage(product, revision=revision, created_at=stored["created_at"], updated_at=now)
    row["id"] = product_id
    barcodes = _barcode_rows(product)
    repository.update(conn, row)
    repository.replace_links(conn, product_id, barcodes, product.addons)
    return _changed(conn, _product(row, barcodes, list(product.addons), ctx), now)


def _changed(conn: Connection, product: ProductOut, now_us: int) -> ProductOut:
    events.record(conn, EventType.PRODUCT_CHANGED, product.id, product, now_us)
    return product


def _bumped(conn: Connection, first: int, count: int, ctx: CatalogueContext, now_us: int) -> None:
    """Announce products a change elsewhere touched (given revisions ``first`` … on)."""
    for product in _render(conn, repository.with_revisions(conn, first, count), ctx):
        _changed(conn, product, now_us)


def patch(
    conn: Connection, product_id: int, changes: Struct, ctx: CatalogueContext, now_us: int
) -> ProductOut:
    """``PATCH``: the fields sent replace the stored ones; the result is checked as a whole."""
    repository.take_revisions(conn, 0, now_us)  # the lock first, so the merge sees the latest
    stored = repository.get(conn, product_id)
    if stored is None:
        raise NotFound()
    current = _request(
        stored,
        repository.barcodes_of(conn, [product_id]).get(product_id, []),
        repository.addons_of(conn, [product_id]).get(product_id, []),
    )
    sent = {
        name: value
        for name in changes.__struct_fields__
        if (value := getattr(changes, name)) is not UNSET
    }
    return replace(conn, product_id, msgspec.structs.replace(current, **sent), ctx, now_us)


def delete(conn: Connection, product_id: int, ctx: CatalogueContext, now_us: int) -> None:
    """Delete a product, leaving a tombstone for the sync feed.

    Products that list it as an addon lose it from their lists in the same transaction, and
    each gets a new revision, so stations learn of that change too (docs/catalogue.md).
    """
    revision, now = repository.take_revisions(conn, 1, now_us)
    if repository.get(conn, product_id) is None:
        raise NotFound()
    repository.delete(conn, product_id, revision, now)
    deleted = {"id": product_id, "revision": revision, "deleted_at": _aware(now, ctx)}
    events.record(conn, EventType.PRODUCT_DELETED, product_id, deleted, now)
    owners = {"addon": product_id}
    count = repository.count_selected(conn, repository.ADDON_OWNERS, owners)
    if count:
        first, now = repository.take_revisions(conn, count, now)
        repository.bump(conn, repository.ADDON_OWNERS, owners, first_revision=first, now_us=now)
        repository.remove_addon(conn, product_id)
        _bumped(conn, first, count, ctx, now)


def search(
    conn: Connection, query: ProductQuery, ctx: CatalogueContext
) -> tuple[list[ProductOut], int]:
    filters = {
        "barcode": query.barcode,
        "code": query.code,
        "category": query.category,
        "status": query.status,
        "after_id": query.after_id,
    }
    rows, total = repository.search(conn, filters, limit=query.limit, offset=query.offset)
    return _render(conn, rows, ctx), total


FEED_EXCLUSIVE = ("barcode", "code", "category", "status", "after_id")


def feed(
    conn: Connection, query: ProductQuery, ctx: CatalogueContext
) -> tuple[list[ProductChange], int]:
    """The sync feed: every product changed or deleted after the cursor, in revision order."""
    assert query.updated_since is not None
    if any(getattr(query, name) is not None for name in FEED_EXCLUSIVE):
        # A filtered feed would hide a product that changed out of the filter, and the
        # station would keep a stale copy for ever.
        raise ValidationFailed.single(
            ("updated_since",), "Cannot be combined with " + ", ".join(FEED_EXCLUSIVE) + "."
        )
    after = _after_revision(conn, query.updated_since, ctx)
    rows, total = repository.changes(conn, after, limit=query.limit, offset=query.offset)
    items = [
        ProductChange(
            **msgspec.structs.asdict(product),
            revision=int(row["revision"]),
            deleted=row["deleted_at"] is not None,
        )
        for row, product in zip(rows, _render(conn, rows, ctx), strict=True)
    ]
    return items, total


def _after_revision(conn: Connection, cursor: str, ctx: CatalogueContext) -> int:
    """A cursor is a revision (the last one seen) or a date-time (changes at or after it)."""
    if cursor.isascii() and cursor.isdigit():
        revision = int(cursor)
        if revision > _MAX_REVISION:
            raise ValidationFailed.single(
                ("updated_since",), f"Ensure this value is less than or equal to {_MAX_REVISION}."
            )
        return revision
    try:
        since = parse_local(cursor, ctx.zone)
    except (ValueError, OverflowError):
        raise ValidationFailed.single(
            ("updated_since",),
            "Enter a revision number or a date-time (YYYY-MM-DD or YYYY-MM-DDThh:mm:ss).",
        ) from None
    first = repository.first_revision_since(conn, since)
    return repository.current_revision(conn) if first is None else first - 1


# --- categories -----------------------------------------------------------------------------


def get_category(conn: Connection, category_id: int, ctx: CatalogueContext) -> CategoryOut:
    row = repository.get_category(conn, category_id)
    if row is None:
        raise NotFound()
    return _category(row, ctx)


def create_category(
    conn: Connection, category: CategoryIn, ctx: CatalogueContext, now_us: int
) -> CategoryOut:
    _, now = repository.take_revisions(conn, 0, now_us)
    _check_parent(conn, None, category.parent)
    row: dict[str, Any] = {
        "name": category.name,
        "parent": category.parent,
        "created_at": now,
        "updated_at": now,
    }
    repository.insert_category(conn, row)
    return _category(row, ctx)


def replace_category(
    conn: Connection, category_id: int, category: CategoryIn, ctx: CatalogueContext, now_us: int
) -> CategoryOut:
    _, now = repository.take_revisions(conn, 0, now_us)
    stored = repository.get_category(conn, category_id)
    if stored is None:
        raise NotFound()
    _check_parent(conn, category_id, category.parent)
    row = {
        "id": category_id,
        "name": category.name,
        "parent": category.parent,
        "created_at": stored["created_at"],
        "updated_at": now,
    }
    repository.update_category(conn, row)
    return _category(row, ctx)


def delete_category(
    conn: Connection, category_id: int, ctx: CatalogueContext, now_us: int, *, detach: bool
) -> None:
    """Delete a category that nothing uses; with ``detach``, first set its products' category
    to null (each gets a new revision) and move its children up to its own parent."""
    _, now = repository.take_revisions(conn, 0, now_us)
    stored = repository.get_category(conn, category_id)
    if stored is None:
        raise NotFound()
    products, children = repository.category_usage(conn, category_id)
    if (products or children) and not detach:
        raise Conflict(
            f"Category {category_id} is used by {products} product(s) and {children} child"
            " categor(y/ies). Move them first, or delete with ?detach=1 to set those products'"
            " category to null and move the children up."
        )
    if products:
        selection = {"category": category_id}
        first, now = repository.take_revisions(conn, products, now)
        repository.bump(
            conn,
            repository.IN_CATEGORY,
            selection,
            first_revision=first,
            now_us=now,
            also="category = NULL, ",
        )
        _bumped(conn, first, products, ctx, now)
    if children:
        repository.reparent_children(conn, category_id, stored["parent"], now)
    repository.delete_category(conn, category_id)


def search_categories(
    conn: Connection, query: CategoryQuery, ctx: CatalogueContext
) -> tuple[list[CategoryOut], int]:
    filters = {"parent": query.parent, "after_id": query.after_id}
    rows, total = repository.search_categories(
        conn, filters, limit=query.limit, offset=query.offset
    )
    return [_category(row, ctx) for row in rows], total


def _check_parent(conn: Connection, category_id: int | None, parent: int | None) -> None:
    chain = None if parent is None else repository.ancestors(conn, parent)
    problems = category_problems(category_id, parent, chain)
    if problems:
        raise ValidationFailed(problems)


# --- import and export ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One product of an import file, as parsed (``catalogue.files``)."""

    #: CSV: the line the record starts on (the header is line 1). JSON: the index in the array.
    line: int
    #: ``None`` when the row could not be read as a product (``errors`` says why).
    product: ProductIn | None
    errors: tuple[FieldError, ...] = ()


class ImportFailed(ValidationFailed):
    """Rows of an import are invalid; nothing was imported. Paths start with the line."""

    def __init__(self, errors: Sequence[FieldError], unit: str = "line") -> None:
        super().__init__(errors)
        self.unit = unit

    @property
    def lines(self) -> list[int]:
        """The bad lines (or JSON indexes), each once, in order."""
        return sorted({int(e.path[0]) for e in self.errors if e.path})

    def messages(self) -> list[str]:
        """``line 4: price: Ensure that there are no more than 2 decimal places.``"""
        out = []
        for error in self.errors:
            line, *field = error.path or (0,)
            where = ".".join(str(step) for step in field)
            out.append(f"{self.unit} {line}: {where + ': ' if where else ''}{error.message}")
        return out


def import_products(
    conn: Connection,
    rows: Sequence[SourceRow],
    *,
    reference: ReferenceData,
    now_us: int,
    unit: str = "line",
) -> int:
    """Create every product of ``rows``, or none: any bad row raises ``ImportFailed`` listing
    every bad row. Checks run on the whole file at once (a few bulk queries, duplicates within
    the file in memory) and rows go in with one prepared INSERT per table. Returns how many
    were created.
    """
    problems = [
        FieldError((row.line, *error.path), error.message) for row in rows for error in row.errors
    ]
    readable = [row for row in rows if row.product is not None]
    products = [row.product for row in readable if row.product is not None]
    first, now = repository.take_revisions(conn, len(products), now_us)
    facts = repository.facts(conn, products)
    labels = [f"{unit} {row.line}" for row in readable]
    repeated = batch_duplicates(products, labels)
    for index, (row, product) in enumerate(zip(readable, products, strict=True)):
        found = product_problems(product, reference, facts, product_id=None)
        found += repeated.get(index, [])
        problems += [FieldError((row.line, *e.path), e.message) for e in found]
    if problems:
        problems.sort(key=lambda e: int(e.path[0]))
        raise ImportFailed(problems, unit)

    stored = [
        _storage(product, revision=first + index, created_at=now, updated_at=now)
        for index, product in enumerate(products)
    ]
    ids = repository.insert_many(conn, stored)
    barcodes: list[dict[str, Any]] = []
    addons: list[tuple[int, Sequence[int]]] = []
    for product_id, product in zip(ids, products, strict=True):
        barcodes += [{**b, "product_id": product_id} for b in _barcode_rows(product)]
        if product.addons:
            addons.append((product_id, product.addons))
    repository.insert_barcodes(conn, barcodes)
    repository.insert_addons(conn, addons)
    if products:
        # One event for the lot: the products themselves are in the catalogue feed.
        imported = {
            "created": len(products),
            "first_revision": first,
            "last_revision": first + len(products) - 1,
        }
        events.record(conn, EventType.CATALOGUE_IMPORTED, first, imported, now)
    return len(products)


def export_products(conn: Connection) -> Iterator[ProductIn]:
    """Every live product, in id order, as the request that would create it (the import
    format). Reads ``_BATCH`` products per query, so memory does not grow with the catalogue."""
    for rows in repository.pages(conn, _BATCH):
        ids = [int(row["id"]) for row in rows]
        barcodes = repository.barcodes_of(conn, ids)
        addons = repository.addons_of(conn, ids)
        for row in rows:
            product_id = int(row["id"])
            yield _request(row, barcodes.get(product_id, []), addons.get(product_id, []))


# --- storage form ↔ shapes ------------------------------------------------------------------


def _storage(
    product: ProductIn, *, revision: int, created_at: int, updated_at: int
) -> dict[str, Any]:
    return {
        "id": None,
        "code": product.code,
        "name": product.name,
        "price": to_cents(product.price),
        "is_free_price": product.is_free_price,
        "is_weight": product.is_weight,
        "default_quantity": to_thousandths(product.default_quantity),
        "payload": product.payload,
        "info": msgspec.json.encode(product.info).decode(),
        "no_discount": product.no_discount,
        "category": product.category,
        "fiscal_section": product.fiscal_section,
        "tax": product.tax,
        # The plain int: drivers must not see (and adapt) an Enum.
        "status": int(product.status),
        "created_at": created_at,
        "updated_at": updated_at,
        "revision": revision,
        "deleted_at": None,
    }


def _barcode_rows(product: ProductIn) -> list[dict[str, Any]]:
    return [
        {
            "product_id": None,
            "position": position,
            "barcode": b.barcode,
            "discount": to_cents(b.discount),
            "discount_type": None if b.discount_type is None else b.discount_type.value,
            "default_quantity": to_thousandths(b.default_quantity),
        }
        for position, b in enumerate(product.barcodes)
    ]


def _render(conn: Connection, rows: Sequence[Row], ctx: CatalogueContext) -> list[ProductOut]:
    """Products with their barcodes and addons: two queries for the whole page."""
    ids = [int(row["id"]) for row in rows]
    barcodes = repository.barcodes_of(conn, ids) if ids else {}
    addons = repository.addons_of(conn, ids) if ids else {}
    return [
        _product(row, barcodes.get(int(row["id"]), []), addons.get(int(row["id"]), []), ctx)
        for row in rows
    ]


def _product(
    row: Mapping[str, Any] | Row,
    barcodes: Sequence[Mapping[str, Any] | Row],
    addons: list[int],
    ctx: CatalogueContext,
) -> ProductOut:
    return ProductOut(
        id=int(row["id"]),
        barcodes=[
            BarcodeOut(
                barcode=b["barcode"],
                discount=shown_cents(b["discount"]),
                discount_type=b["discount_type"],
                default_quantity=shown_thousandths(b["default_quantity"]),
            )
            for b in barcodes
        ],
        addons=addons,
        status=int(row["status"]),
        code=row["code"],
        name=row["name"],
        price=shown_cents(row["price"]),
        is_free_price=bool(row["is_free_price"]),
        is_weight=bool(row["is_weight"]),
        default_quantity=shown_thousandths(row["default_quantity"]),
        payload=row["payload"],
        created_at=_aware(row["created_at"], ctx),
        updated_at=_aware(row["updated_at"], ctx),
        info=msgspec.Raw(row["info"].encode()),
        no_discount=bool(row["no_discount"]),
        category=row["category"],
        fiscal_section=int(row["fiscal_section"]),
        tax=int(row["tax"]),
    )


def _request(row: Row, barcodes: Sequence[Row], addons: list[int]) -> ProductIn:
    """A stored product as the request that would create it (for PATCH and export)."""
    return ProductIn(
        barcodes=[
            BarcodeIn(
                barcode=b["barcode"],
                discount=shown_cents(b["discount"]),
                discount_type=None
                if b["discount_type"] is None
                else DiscountType(b["discount_type"]),
                default_quantity=shown_thousandths(b["default_quantity"]),
            )
            for b in barcodes
        ],
        addons=addons,
        status=ProductStatus(row["status"]),
        code=row["code"],
        name=row["name"],
        price=shown_cents(row["price"]),
        is_free_price=bool(row["is_free_price"]),
        is_weight=bool(row["is_weight"]),
        default_quantity=shown_thousandths(row["default_quantity"]),
        payload=row["payload"],
        info=msgspec.json.decode(row["info"], type=ProductInfo),
        no_discount=bool(row["no_discount"]),
        category=row["category"],
        fiscal_section=int(row["fiscal_section"]),
        tax=int(row["tax"]),
    )


def _category(row: Mapping[str, Any] | Row, ctx: CatalogueContext) -> CategoryOut:
    return CategoryOut(
        id=int(row["id"]),
        name=row["name"],
        parent=row["parent"],
        created_at=_aware(row["created_at"], ctx),
        updated_at=_aware(row["updated_at"], ctx),
    )


def _aware(us: int, ctx: CatalogueContext) -> str:
    text = local_aware(us, ctx.zone)
    assert text is not None
    return text
