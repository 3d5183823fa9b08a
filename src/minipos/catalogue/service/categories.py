"""Categories: a tree (no cycles); deleting one in use needs ``detach``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from minipos.catalogue import repository
from minipos.catalogue.schemas import CategoryIn, CategoryOut, CategoryQuery
from minipos.catalogue.service import CatalogueContext, shapes
from minipos.catalogue.service.products import bumped
from minipos.db import Connection, Row
from minipos.domain.catalogue import category_problems
from minipos.domain.errors import Conflict, NotFound, ValidationFailed


def get(conn: Connection, category_id: int, ctx: CatalogueContext) -> CategoryOut:
    row = repository.get_category(conn, category_id)
    if row is None:
        raise NotFound()
    return _category(row, ctx)


def create(
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


def replace(
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


def delete(
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
        bumped(conn, first, products, ctx, now)
    if children:
        repository.reparent_children(conn, category_id, stored["parent"], now)
    repository.delete_category(conn, category_id)


def search(
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


def _category(row: Mapping[str, Any] | Row, ctx: CatalogueContext) -> CategoryOut:
    return CategoryOut(
        id=int(row["id"]),
        name=row["name"],
        parent=row["parent"],
        created_at=shapes.aware(row["created_at"], ctx),
        updated_at=shapes.aware(row["updated_at"], ctx),
    )
