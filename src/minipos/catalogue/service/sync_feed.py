"""The station sync feed: every product changed or deleted after a station's cursor, in
revision order."""

from __future__ import annotations

import msgspec

from minipos.catalogue import repository
from minipos.catalogue.schemas import ProductChange, ProductQuery
from minipos.catalogue.service import CatalogueContext, shapes
from minipos.db import Connection
from minipos.domain.errors import ValidationFailed
from minipos.timeutil import parse_local

_MAX_REVISION = 2**63 - 1

FEED_EXCLUSIVE = ("barcode", "code", "category", "status", "after_id")


def changes(
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
        for row, product in zip(rows, shapes.render(conn, rows, ctx), strict=True)
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
