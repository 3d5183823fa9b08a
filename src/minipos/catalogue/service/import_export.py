"""Import and export of whole catalogues (the files are parsed and written by
``catalogue.files``): an import creates every product of a file or none."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from minipos.catalogue import repository
from minipos.catalogue.schemas import ProductIn
from minipos.catalogue.service import shapes
from minipos.db import Connection
from minipos.domain.catalogue import batch_duplicates, product_problems
from minipos.domain.errors import FieldError, ValidationFailed
from minipos.domain.events import EventType
from minipos.domain.reference import ReferenceData
from minipos.events import service as events

#: Products read per query when exporting.
_BATCH = 1000


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
        shapes.storage_row(product, revision=first + index, created_at=now, updated_at=now)
        for index, product in enumerate(products)
    ]
    ids = repository.insert_many(conn, stored)
    barcodes: list[dict[str, Any]] = []
    addons: list[tuple[int, Sequence[int]]] = []
    for product_id, product in zip(ids, products, strict=True):
        barcodes += [{**b, "product_id": product_id} for b in shapes.barcode_rows(product)]
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
            yield shapes.product_request(
                row, barcodes.get(product_id, []), addons.get(product_id, [])
            )
