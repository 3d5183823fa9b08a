"""Import and export of whole catalogues (the files are parsed and written by
``catalogue.files``): an import creates or updates (by ``code``) every product of a file, or
none."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

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
#: In ``SourceRow.kept``: the barcodes' discounts and quantities (a CSV lists bare barcodes).
BARCODE_DETAILS = "barcode_details"
_SHOWN_PLACES = {"price": ".2f", "default_quantity": ".3f"}
_FIELDS = tuple(f.name for f in msgspec.structs.fields(ProductIn))


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One product of an import file, as parsed (``catalogue.files``)."""

    #: CSV: the line the record starts on (the header is line 1). JSON: the index in the array.
    line: int
    #: ``None`` when the row could not be read as a product (``errors`` says why).
    product: ProductIn | None
    errors: tuple[FieldError, ...] = ()
    #: Fields the file does not give (CSV: addons, info, columns it lacks, and
    #: ``BARCODE_DETAILS``): an update keeps the stored values, so a CSV cannot wipe them.
    kept: frozenset[str] = frozenset()


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


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field of a product an import changes, as the API shows it (JSON-ready)."""

    field: str
    before: Any
    after: Any


@dataclass(frozen=True, slots=True)
class RowChange:
    """What an import does to one product: ``id`` is ``None`` for a product to be created."""

    line: int
    action: str  # "create" or "update"
    id: int | None
    code: int | None
    name: str
    changes: tuple[FieldChange, ...] = ()


@dataclass(frozen=True, slots=True)
class ImportResult:
    """Counts of an import (or of its dry run) and the first ``show`` changes, in file order."""

    created: int
    updated: int
    unchanged: int
    changes: tuple[RowChange, ...]
    dry_run: bool = False


@dataclass(frozen=True, slots=True)
class _Item:
    """A checked row: the product to store and, for an update, the stored one it replaces."""

    line: int
    product: ProductIn
    id: int | None = None
    current: ProductIn | None = None
    created_at: int = 0


def import_products(
    conn: Connection,
    rows: Sequence[SourceRow],
    *,
    reference: ReferenceData,
    now_us: int,
    unit: str = "line",
    dry_run: bool = False,
    show: int = 100,
) -> ImportResult:
    """Import ``rows``, all or nothing: a row whose ``code`` is a live product's updates it,
    any other row creates a product; any bad row raises ``ImportFailed`` listing every bad
    row. A row equal to its stored product is left alone (no new revision), so re-importing
    an export changes nothing. ``dry_run`` checks and reports without writing (the caller
    may run it in a read-only transaction).

    Checks run on the whole file at once (a few bulk queries, duplicates within the file in
    memory) and new rows go in with one prepared INSERT per table.
    """
    if not dry_run:
        # The revision lock first, so the checks see the catalogue the writes will change.
        repository.take_revisions(conn, 0, now_us)
    items = _checked(conn, rows, reference, unit)
    creates = [item for item in items if item.current is None]
    updates = [item for item in items if item.current is not None and item.product != item.current]
    changes: list[RowChange] = []
    for item in items:
        if len(changes) >= show:
            break
        if item.current is None:
            changes.append(
                RowChange(item.line, "create", None, item.product.code, item.product.name)
            )
        elif item.product != item.current:
            differences = _differences(item.current, item.product)
            changes.append(
                RowChange(
                    item.line, "update", item.id, item.product.code, item.product.name, differences
                )
            )
    result = ImportResult(
        created=len(creates),
        updated=len(updates),
        unchanged=len(items) - len(creates) - len(updates),
        changes=tuple(changes),
        dry_run=dry_run,
    )
    if not dry_run and (creates or updates):
        _store(conn, creates, updates, now_us)
    return result


def _checked(
    conn: Connection, rows: Sequence[SourceRow], reference: ReferenceData, unit: str
) -> list[_Item]:
    """Every row as an ``_Item``, or ``ImportFailed`` naming every bad one."""
    problems = [
        FieldError((row.line, *error.path), error.message) for row in rows for error in row.errors
    ]
    readable = [(row, row.product) for row in rows if row.product is not None]
    products = [product for _, product in readable]
    facts = repository.facts(conn, products)
    stored = repository.by_ids(conn, set(facts.codes.values()))
    barcodes_now = repository.barcodes_of(conn, list(stored))
    addons_now = repository.addons_of(conn, list(stored))
    repeated = batch_duplicates(products, [f"{unit} {row.line}" for row, _ in readable])
    items = []
    for index, (row, given) in enumerate(readable):
        target = facts.codes.get(given.code) if given.code is not None else None
        item = _Item(row.line, given)
        if target is not None:
            current = shapes.product_request(
                stored[target], barcodes_now.get(target, []), addons_now.get(target, [])
            )
            merged = _keep(given, current, row.kept)
            item = _Item(row.line, merged, target, current, int(stored[target]["created_at"]))
        found = product_problems(item.product, reference, facts, product_id=target)
        found += repeated.get(index, [])
        problems += [FieldError((row.line, *e.path), e.message) for e in found]
        items.append(item)
    if problems:
        problems.sort(key=lambda e: int(e.path[0]))
        raise ImportFailed(problems, unit)
    return items


def _store(conn: Connection, creates: list[_Item], updates: list[_Item], now_us: int) -> None:
    first, now = repository.take_revisions(conn, len(creates) + len(updates), now_us)
    new_rows = [
        shapes.storage_row(item.product, revision=first + n, created_at=now, updated_at=now)
        for n, item in enumerate(creates)
    ]
    ids = repository.insert_many(conn, new_rows)
    barcodes: list[dict[str, Any]] = []
    addons: list[tuple[int, Sequence[int]]] = []
    for product_id, item in zip(ids, creates, strict=True):
        barcodes += [{**b, "product_id": product_id} for b in shapes.barcode_rows(item.product)]
        if item.product.addons:
            addons.append((product_id, item.product.addons))
    repository.insert_barcodes(conn, barcodes)
    repository.insert_addons(conn, addons)
    for n, item in enumerate(updates, start=len(creates)):
        assert item.id is not None  # an update has its stored product
        stored = shapes.storage_row(
            item.product, revision=first + n, created_at=item.created_at, updated_at=now
        )
        stored["id"] = item.id
        repository.update(conn, stored)
        repository.replace_links(
            conn, item.id, shapes.barcode_rows(item.product), item.product.addons
        )
    # One event for the lot: the products themselves are in the catalogue feed.
    imported = {
        "created": len(creates),
        "updated": len(updates),
        "first_revision": first,
        "last_revision": first + len(creates) + len(updates) - 1,
    }
    events.record(conn, EventType.CATALOGUE_IMPORTED, first, imported, now)


def _keep(product: ProductIn, current: ProductIn, kept: frozenset[str]) -> ProductIn:
    """``product`` with what its file could not say taken from the stored ``current``."""
    if not kept:
        return product
    values = {name: getattr(current, name) for name in kept if name in _FIELDS}
    if BARCODE_DETAILS in kept:
        # A CSV cell holds bare barcodes: discounts and quantities of those still listed stay.
        known = {b.barcode: b for b in current.barcodes}
        values["barcodes"] = [known.get(b.barcode, b) for b in product.barcodes]
    return msgspec.structs.replace(product, **values)


def _differences(before: ProductIn, after: ProductIn) -> tuple[FieldChange, ...]:
    old = msgspec.to_builtins(before)
    new = msgspec.to_builtins(after)
    for name, places in _SHOWN_PLACES.items():
        # As the API shows them ("1.20", not the stored "1.2"); format() of a Decimal is exact.
        old[name] = format(getattr(before, name), places)
        new[name] = format(getattr(after, name), places)
    return tuple(
        FieldChange(name, old.get(name), new.get(name))
        for name in _FIELDS
        if getattr(before, name) != getattr(after, name)
    )


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
