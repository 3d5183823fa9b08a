"""Catalogue files: CSV and JSON into product requests (for import) and back (for export).

Parsing only: each record becomes a ``SourceRow`` holding the product or the reasons it could
not be read, with its line (CSV) or index (JSON), and ``service.import_products`` checks the
rules and stores. Nothing stops at the first bad record: an operator fixes a file in one go.

CSV columns (docs/catalogue.md): a header row naming any of ``CSV_COLUMNS`` (``name`` and
``price`` are required), comma- or semicolon-separated, UTF-8 (with or without a BOM); with
semicolons, ``price`` and ``default_quantity`` may use a decimal comma (``1,50``). An
empty cell means "not given", so the default applies. A column the header lacks, and the
addons and print blocks (no column), keep their stored values when a row updates a product.
``barcodes`` holds one or more barcodes separated by ``|``; booleans read ``true``/``false``,
``1``/``0`` or ``yes``/``no``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import msgspec

from minipos.catalogue.schemas import ProductIn
from minipos.catalogue.service.import_export import BARCODE_DETAILS, SourceRow
from minipos.domain.errors import FieldError
from minipos.jsoncodec import encode, field_error

CSV_COLUMNS = (
    "name", "price", "code", "barcodes", "tax", "fiscal_section", "category", "status",
    "is_weight", "is_free_price", "default_quantity", "no_discount", "payload",
)  # fmt: skip
REQUIRED_COLUMNS = ("name", "price")
BARCODE_SEPARATOR = "|"

_BOOLEAN_COLUMNS = frozenset({"is_weight", "is_free_price", "no_discount"})
_DECIMAL_COLUMNS = frozenset({"price", "default_quantity"})
#: What a CSV never says (no column): an update keeps the stored values (docs/catalogue.md).
_NOT_IN_CSV = frozenset({"addons", "info", BARCODE_DETAILS})
_BOOLEANS = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}


class UnreadableFile(Exception):
    """The file as a whole cannot be read (unknown format, bad header, malformed JSON)."""


def read_file(path: Path) -> tuple[list[SourceRow], str]:
    """The products of a ``.csv`` or ``.json`` file, and what its rows are counted in."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return read_csv(handle), "line"
    if suffix == ".json":
        return read_json(path.read_bytes()), "index"
    raise UnreadableFile(f"{path.name}: use a .csv or .json file")


def read_csv(handle: IO[str]) -> list[SourceRow]:
    """Rows of a CSV catalogue; ``line`` is where each record starts (the header is line 1)."""
    first = handle.readline()
    if not first.strip():
        raise UnreadableFile("the file is empty; the first line names the columns")
    # Spreadsheets set to a decimal-comma locale (as in Latvia) save with semicolons.
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(_chain(first, handle), delimiter=delimiter)
    try:
        header = [name.strip().lower() for name in next(reader)]
    except csv.Error as exc:
        raise UnreadableFile(f"line 1: {exc}") from None
    _check_header(header)
    kept = _NOT_IN_CSV | {name for name in CSV_COLUMNS if name not in header}
    # Only with ";": in a comma-separated file a decimal comma would split the cell.
    decimal_comma = delimiter == ";"
    rows = []
    line = reader.line_num + 1
    try:
        for record in reader:
            if any(cell.strip() for cell in record):
                rows.append(_csv_row(line, header, record, kept, decimal_comma))
            line = reader.line_num + 1
    except csv.Error as exc:  # a cell past the module's field limit (128 KiB), a stray NUL
        raise UnreadableFile(f"line {line}: {exc}") from None
    return rows


def read_json(data: bytes) -> list[SourceRow]:
    """Rows of a JSON catalogue: an array of product objects as ``POST /api/products`` takes."""
    try:
        items = msgspec.json.decode(data, type=list[msgspec.Raw])
    except msgspec.ValidationError:
        raise UnreadableFile("expected a JSON array of product objects") from None
    except msgspec.DecodeError as exc:
        raise UnreadableFile(f"JSON parse error - {exc}") from None
    rows = []
    for index, item in enumerate(items):
        try:
            rows.append(SourceRow(index, msgspec.json.decode(item, type=ProductIn)))
        except msgspec.ValidationError as exc:
            rows.append(SourceRow(index, None, (field_error(str(exc)),)))
    return rows


def write_csv(products: Iterable[ProductIn], handle: IO[str]) -> int:
    """Write ``products`` in the CSV import format (addons and print blocks have no column)."""
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for product in products:
        writer.writerow(_csv_cells(product))
        count += 1
    return count


def write_json(products: Iterable[ProductIn], handle: IO[bytes]) -> int:
    """Write ``products`` as a JSON array in the import format, one product per line."""
    count = 0
    handle.write(b"[")
    for product in products:
        handle.write(b",\n" if count else b"\n")
        handle.write(encode(product))
        count += 1
    handle.write(b"\n]\n")
    return count


# --- helpers --------------------------------------------------------------------------------


def _chain(first: str, rest: IO[str]) -> Iterator[str]:
    yield first
    yield from rest


def _check_header(header: list[str]) -> None:
    unknown = [name for name in header if name not in CSV_COLUMNS]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    repeated = sorted({name for name in header if header.count(name) > 1})
    problems = []
    if unknown:
        problems.append(f"unknown column(s) {', '.join(unknown)}")
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if repeated:
        problems.append(f"repeated column(s) {', '.join(repeated)}")
    if problems:
        raise UnreadableFile(f"line 1: {'; '.join(problems)} (columns: {', '.join(CSV_COLUMNS)})")


def _csv_row(
    line: int, header: list[str], record: list[str], kept: frozenset[str], decimal_comma: bool
) -> SourceRow:
    if len(record) > len(header):
        problem = FieldError((), f"{len(record)} cells but {len(header)} columns.")
        return SourceRow(line, None, (problem,))
    fields: dict[str, Any] = {}
    for name, raw in zip(header, record, strict=False):
        cell = raw.strip()
        if not cell:
            continue  # not given: the default applies
        if name == "barcodes":
            fields[name] = [
                {"barcode": code.strip()} for code in cell.split(BARCODE_SEPARATOR) if code.strip()
            ]
        elif name in _BOOLEAN_COLUMNS:
            fields[name] = _BOOLEANS.get(cell.lower(), cell)
        elif name == "payload":
            fields[name] = raw  # opaque: kept exactly as written
        elif name in _DECIMAL_COLUMNS and decimal_comma and "." not in cell:
            # "1,50" as a Latvian spreadsheet writes it; still text, so Decimal reads it exactly.
            fields[name] = cell.replace(",", ".", 1)
        else:
            fields[name] = cell
    try:
        # Not strict: CSV cells are text, and "12" must become the number 12.
        return SourceRow(line, msgspec.convert(fields, ProductIn, strict=False), kept=kept)
    except msgspec.ValidationError as exc:
        return SourceRow(line, None, (field_error(str(exc)),))


def _csv_cells(product: ProductIn) -> list[str]:
    values: dict[str, Any] = msgspec.to_builtins(product)
    cells = []
    for name in CSV_COLUMNS:
        value = values.get(name)
        if name == "barcodes":
            cells.append(BARCODE_SEPARATOR.join(b["barcode"] for b in value or []))
        elif value is None:
            cells.append("")
        elif isinstance(value, bool):
            cells.append("true" if value else "false")
        else:
            cells.append(str(value))
    return cells
