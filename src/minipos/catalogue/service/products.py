"""Products: read, create, replace, patch, delete and search; every change is announced as
an event."""

from __future__ import annotations

import msgspec
from msgspec import UNSET, Struct

from minipos.catalogue import repository
from minipos.catalogue.schemas import ProductIn, ProductOut, ProductQuery
from minipos.catalogue.service import CatalogueContext, shapes
from minipos.db import Connection
from minipos.domain.catalogue import check_product
from minipos.domain.errors import NotFound
from minipos.domain.events import EventType
from minipos.events import service as events


def get(conn: Connection, product_id: int, ctx: CatalogueContext) -> ProductOut:
    row = repository.get(conn, product_id)
    if row is None:
        raise NotFound()
    return shapes.render(conn, [row], ctx)[0]


def create(conn: Connection, product: ProductIn, ctx: CatalogueContext, now_us: int) -> ProductOut:
    revision, now = repository.take_revisions(conn, 1, now_us)
    check_product(product, ctx.reference, repository.facts(conn, [product]), product_id=None)
    row = shapes.storage_row(product, revision=revision, created_at=now, updated_at=now)
    barcodes = shapes.barcode_rows(product)
    repository.insert(conn, row)
    repository.replace_links(conn, row["id"], barcodes, product.addons)
    return _changed(conn, shapes.product_out(row, barcodes, list(product.addons), ctx), now)


def replace(
    conn: Connection, product_id: int, product: ProductIn, ctx: CatalogueContext, now_us: int
) -> ProductOut:
    """``PUT``: the product becomes exactly ``product`` (fields not sent take defaults)."""
    revision, now = repository.take_revisions(conn, 1, now_us)
    stored = repository.get(conn, product_id)
    if stored is None:
        raise NotFound()
    check_product(product, ctx.reference, repository.facts(conn, [product]), product_id=product_id)
    row = shapes.storage_row(
        product, revision=revision, created_at=stored["created_at"], updated_at=now
    )
    row["id"] = product_id
    barcodes = shapes.barcode_rows(product)
    repository.update(conn, row)
    repository.replace_links(conn, product_id, barcodes, product.addons)
    return _changed(conn, shapes.product_out(row, barcodes, list(product.addons), ctx), now)


def _changed(conn: Connection, product: ProductOut, now_us: int) -> ProductOut:
    events.record(conn, EventType.PRODUCT_CHANGED, product.id, product, now_us)
    return product


def bumped(conn: Connection, first: int, count: int, ctx: CatalogueContext, now_us: int) -> None:
    """Announce products a change elsewhere touched (given revisions ``first`` … on)."""
    for product in shapes.render(conn, repository.with_revisions(conn, first, count), ctx):
        _changed(conn, product, now_us)


def patch(
    conn: Connection, product_id: int, changes: Struct, ctx: CatalogueContext, now_us: int
) -> ProductOut:
    """``PATCH``: the fields sent replace the stored ones; the result is checked as a whole."""
    repository.take_revisions(conn, 0, now_us)  # the lock first, so the merge sees the latest
    stored = repository.get(conn, product_id)
    if stored is None:
        raise NotFound()
    current = shapes.product_request(
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
    deleted = {"id": product_id, "revision": revision, "deleted_at": shapes.aware(now, ctx)}
    events.record(conn, EventType.PRODUCT_DELETED, product_id, deleted, now)
    owners = {"addon": product_id}
    count = repository.count_selected(conn, repository.ADDON_OWNERS, owners)
    if count:
        first, now = repository.take_revisions(conn, count, now)
        repository.bump(conn, repository.ADDON_OWNERS, owners, first_revision=first, now_us=now)
        repository.remove_addon(conn, product_id)
        bumped(conn, first, count, ctx, now)


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
    text = query.search.strip() if query.search is not None else ""
    rows, total = repository.search(
        conn, filters, limit=query.limit, offset=query.offset, text=text or None
    )
    return shapes.render(conn, rows, ctx), total
