"""Products, their barcodes and addons, categories and the catalogue revision, in SQL.

Values are already in storage form (cents, thousandths, µs). Deleted products stay as
tombstone rows (``deleted_at`` set) so the sync feed can announce the deletion; every read
here except the feed's leaves them out.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any, TypedDict, cast

from minipos import db
from minipos.db import Connection, Row, insert_statement, select_in
from minipos.domain.catalogue import CatalogueFacts, ProductInput

PRODUCT_COLUMNS = (
    "code", "name", "price", "is_free_price", "is_weight", "default_quantity", "payload",
    "info", "no_discount", "category", "fiscal_section", "tax", "status", "created_at",
    "updated_at", "revision", "deleted_at",
)  # fmt: skip
BARCODE_COLUMNS = (
    "product_id", "position", "barcode", "discount", "discount_type", "default_quantity",
)  # fmt: skip
ADDON_COLUMNS = ("product_id", "position", "addon_id")
CATEGORY_COLUMNS = ("name", "parent", "created_at", "updated_at")

_SELECT_PRODUCT = "SELECT id, " + ", ".join(PRODUCT_COLUMNS) + " FROM products"
_INSERT_PRODUCT = insert_statement("products", PRODUCT_COLUMNS)
_INSERT_BARCODE = insert_statement("product_barcodes", BARCODE_COLUMNS)
_INSERT_ADDON = insert_statement("product_addons", ADDON_COLUMNS)
_UPDATE_PRODUCT = (
    "UPDATE products SET "
    + ", ".join(f"{c} = :{c}" for c in PRODUCT_COLUMNS if c != "created_at")
    + " WHERE id = :id"
)
_SELECT_CATEGORY = "SELECT id, " + ", ".join(CATEGORY_COLUMNS) + " FROM categories"
_INSERT_CATEGORY = insert_statement("categories", CATEGORY_COLUMNS)


# --- the catalogue revision -----------------------------------------------------------------

# One row. The UPDATE locks it until commit, so catalogue writers run one at a time and commit
# in revision order: a reader never sees revision n+1 without n (docs/catalogue.md). The clock
# is kept monotonic too, so a timestamp cursor and a revision cursor mean the same thing.
_TAKE_REVISIONS = (
    "UPDATE catalogue_revision SET value = value + :n,"
    " changed_at = CASE WHEN changed_at > :now THEN changed_at ELSE :now END"
    " WHERE id = 1 RETURNING value, changed_at"
)


def take_revisions(conn: Connection, count: int, now_us: int) -> tuple[int, int]:
    """Reserve ``count`` revisions (0: only take the catalogue write lock).

    Returns the first reserved revision and the time to stamp the change with (``now_us``,
    unless the clock went back since the last change: then that change's time).
    """
    row = conn.fetchone(_TAKE_REVISIONS, {"n": count, "now": now_us})
    assert row is not None, "migration 0002 creates the revision row"
    return int(row["value"]) - count + 1, int(row["changed_at"])


def current_revision(conn: Connection) -> int:
    row = conn.fetchone("SELECT value FROM catalogue_revision WHERE id = 1")
    return int(row["value"]) if row else 0


# --- products -------------------------------------------------------------------------------


def get(conn: Connection, product_id: int) -> Row | None:
    """A live product (not a tombstone)."""
    return conn.fetchone(
        _SELECT_PRODUCT + " WHERE id = :id AND deleted_at IS NULL", {"id": product_id}
    )


def insert(conn: Connection, product: dict[str, Any]) -> int:
    product["id"] = conn.insert(_INSERT_PRODUCT, product)
    return int(product["id"])


def update(conn: Connection, product: Mapping[str, Any]) -> None:
    conn.execute(_UPDATE_PRODUCT, product)


def replace_links(
    conn: Connection,
    product_id: int,
    barcodes: Sequence[Mapping[str, Any]],
    addons: Sequence[int],
) -> None:
    """Make ``barcodes`` (storage rows) and ``addons`` (ids, in order) the product's own."""
    conn.execute("DELETE FROM product_barcodes WHERE product_id = :id", {"id": product_id})
    conn.execute("DELETE FROM product_addons WHERE product_id = :id", {"id": product_id})
    insert_barcodes(conn, [{**b, "product_id": product_id} for b in barcodes])
    insert_addons(conn, [(product_id, addons)])


def insert_barcodes(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    conn.insert_many(_INSERT_BARCODE, rows)


def insert_addons(conn: Connection, lists: Sequence[tuple[int, Sequence[int]]]) -> None:
    rows = [
        {"product_id": product_id, "position": position, "addon_id": addon}
        for product_id, addons in lists
        for position, addon in enumerate(addons)
    ]
    conn.insert_many(_INSERT_ADDON, rows)


def insert_many(conn: Connection, products: Sequence[Mapping[str, Any]]) -> list[int]:
    """Insert products in bulk (one prepared statement); their new ids, in order."""
    return conn.insert_many(_INSERT_PRODUCT, products)


def delete(conn: Connection, product_id: int, revision: int, now_us: int) -> None:
    """Turn the product into a tombstone; its barcodes (and code) become free for others."""
    conn.execute(
        "UPDATE products SET deleted_at = :now, updated_at = :now, revision = :revision"
        " WHERE id = :id",
        {"id": product_id, "now": now_us, "revision": revision},
    )
    conn.execute("DELETE FROM product_barcodes WHERE product_id = :id", {"id": product_id})
    conn.execute("DELETE FROM product_addons WHERE product_id = :id", {"id": product_id})


#: Selections of products whose revision a change elsewhere bumps (column ``id``).
ADDON_OWNERS = "SELECT product_id AS id FROM product_addons WHERE addon_id = :addon"
IN_CATEGORY = "SELECT id FROM products WHERE category = :category AND deleted_at IS NULL"


def count_selected(conn: Connection, selection: str, params: Mapping[str, Any]) -> int:
    row = conn.fetchone(f"SELECT count(*) AS n FROM ({selection}) AS chosen", params)
    return int(row["n"]) if row else 0


def bump(
    conn: Connection,
    selection: str,
    params: Mapping[str, Any],
    *,
    first_revision: int,
    now_us: int,
    also: str = "",
) -> None:
    """Give each selected product its own new revision (in id order) from ``first_revision``.

    One statement however many products; ``also`` adds assignments (``"category = NULL, "``).
    """
    conn.execute(
        f"UPDATE products SET {also}revision = ranked.revision, updated_at = :now"
        " FROM (SELECT id, :base + row_number() OVER (ORDER BY id) AS revision"
        f" FROM ({selection}) AS chosen) AS ranked"
        " WHERE products.id = ranked.id",
        {**params, "base": first_revision - 1, "now": now_us},
    )


def remove_addon(conn: Connection, addon_id: int) -> None:
    conn.execute("DELETE FROM product_addons WHERE addon_id = :addon", {"addon": addon_id})


def barcodes_of(conn: Connection, product_ids: Collection[int]) -> dict[int, list[Row]]:
    found: dict[int, list[Row]] = {}
    for row in select_in(
        conn,
        "SELECT " + ", ".join(BARCODE_COLUMNS) + " FROM product_barcodes"
        " WHERE product_id IN ({}) ORDER BY product_id, position",
        product_ids,
    ):
        found.setdefault(int(row["product_id"]), []).append(row)
    return found


def addons_of(conn: Connection, product_ids: Collection[int]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for row in select_in(
        conn,
        "SELECT product_id, addon_id FROM product_addons"
        " WHERE product_id IN ({}) ORDER BY product_id, position",
        product_ids,
    ):
        found.setdefault(int(row["product_id"]), []).append(int(row["addon_id"]))
    return found


def facts(conn: Connection, products: Sequence[ProductInput]) -> CatalogueFacts:
    """What the stored catalogue says about everything ``products`` mention: a few queries
    for the lot, however many products there are."""
    addons = {addon for p in products for addon in p.addons}
    categories = {p.category for p in products if p.category is not None}
    barcodes = {b.barcode for p in products for b in p.barcodes}
    codes = {p.code for p in products if p.code is not None}
    return CatalogueFacts(
        products=frozenset(
            int(r["id"])
            for r in select_in(
                conn, "SELECT id FROM products WHERE id IN ({}) AND deleted_at IS NULL", addons
            )
        ),
        categories=frozenset(
            int(r["id"])
            for r in select_in(conn, "SELECT id FROM categories WHERE id IN ({})", categories)
        ),
        barcodes={
            r["barcode"]: int(r["product_id"])
            for r in select_in(
                conn,
                "SELECT barcode, product_id FROM product_barcodes WHERE barcode IN ({})",
                barcodes,
            )
        },
        codes={
            int(r["code"]): int(r["id"])
            for r in select_in(
                conn,
                "SELECT code, id FROM products WHERE code IN ({}) AND deleted_at IS NULL",
                codes,
            )
        },
    )


#: Filter name → SQL condition for the product list (live products only).
_PRODUCT_FILTERS = {
    "live": "deleted_at IS NULL",  # always given; the condition takes no parameter
    "barcode": "id IN (SELECT product_id FROM product_barcodes WHERE barcode = :barcode)",
    "code": "code = :code",
    "category": "category = :category",
    "status": "status = :status",
    "after_id": "id > :after_id",
}


#: ``search``: the name contains the text (any case), or the code or a barcode is the text.
#: No index serves "contains": the live products are scanned (timings in docs/catalogue.md,
#: "Search").
_SEARCH = (
    "({name} LIKE :search ESCAPE '!' OR code = :search_code"
    " OR id IN (SELECT product_id FROM product_barcodes WHERE barcode = :search_text))"
)
#: The name as the search compares it: PostgreSQL's lower() folds every letter (UTF-8
#: ctype); SQLite's LIKE ignores case of ASCII letters itself, in C, which is enough for an
#: ASCII text, and a Python function folds the rest (``db.database._unicode_lower``; slower).
_FOLDED = {"postgresql": "lower(name)", "sqlite": "unicode_lower(name)"}


def search(
    conn: Connection,
    filters: Mapping[str, Any],
    *,
    limit: int,
    offset: int,
    text: str | None = None,
) -> tuple[list[Row], int]:
    """One page of live products in id order, and how many match in all; ``text`` searches
    names (contains, any case), codes and barcodes (exactly)."""
    conditions = _PRODUCT_FILTERS
    params: dict[str, Any] = {}
    if text is not None:
        ascii_sqlite = conn.dialect == "sqlite" and text.isascii()
        folded = "name" if ascii_sqlite else _FOLDED[conn.dialect]
        conditions = {**conditions, "search": _SEARCH.format(name=folded)}
        escaped = text.lower().replace("!", "!!").replace("%", "!%").replace("_", "!_")
        code = int(text) if text.isascii() and text.isdigit() and int(text) < 2**63 else -1
        params = {"search_code": code, "search_text": text}
        filters = {**filters, "search": f"%{escaped}%"}
    return db.search(
        conn,
        select=_SELECT_PRODUCT,
        count_from="products",
        conditions=conditions,
        filters={**filters, "live": True},
        order_by="id",
        limit=limit,
        offset=offset,
        params=params,
    )


def with_revisions(conn: Connection, first: int, count: int) -> list[Row]:
    """The live products holding revisions ``first`` … ``first + count - 1``."""
    return conn.fetchall(
        _SELECT_PRODUCT + " WHERE revision >= :first AND revision < :end AND deleted_at IS NULL"
        " ORDER BY revision",
        {"first": first, "end": first + count},
    )


def changes(
    conn: Connection, after_revision: int, *, limit: int, offset: int
) -> tuple[list[Row], int]:
    """Products (tombstones too) changed after ``after_revision``, in revision order."""
    return db.search(
        conn,
        select=_SELECT_PRODUCT,
        count_from="products",
        conditions={"after": "revision > :after"},
        filters={"after": after_revision},
        order_by="revision",
        limit=limit,
        offset=offset,
    )


def first_revision_since(conn: Connection, since_us: int) -> int | None:
    """The lowest revision stamped at or after ``since_us``.

    Exact because revisions and their times increase together (``take_revisions``): the
    products changed since then are exactly those with a revision at least this one.
    """
    row = conn.fetchone(
        "SELECT revision FROM products WHERE updated_at >= :since"
        " ORDER BY updated_at, revision LIMIT 1",
        {"since": since_us},
    )
    return None if row is None else int(row["revision"])


def by_ids(conn: Connection, product_ids: Collection[int]) -> dict[int, Row]:
    """The live products of ``product_ids``, by id (one query per chunk, for imports)."""
    return {
        int(row["id"]): row
        for row in select_in(
            conn, _SELECT_PRODUCT + " WHERE id IN ({}) AND deleted_at IS NULL", product_ids
        )
    }


def pages(conn: Connection, size: int) -> Iterator[list[Row]]:
    """Every live product in id order, ``size`` at a time (keyset, so memory stays flat)."""
    after = 0
    while True:
        rows = conn.fetchall(
            _SELECT_PRODUCT + " WHERE id > :after AND deleted_at IS NULL ORDER BY id LIMIT :size",
            {"after": after, "size": size},
        )
        if not rows:
            return
        yield rows
        after = int(rows[-1]["id"])


# --- categories -----------------------------------------------------------------------------


def get_category(conn: Connection, category_id: int) -> Row | None:
    return conn.fetchone(_SELECT_CATEGORY + " WHERE id = :id", {"id": category_id})


def insert_category(conn: Connection, category: dict[str, Any]) -> int:
    category["id"] = conn.insert(_INSERT_CATEGORY, category)
    return int(category["id"])


def update_category(conn: Connection, category: Mapping[str, Any]) -> None:
    conn.execute(
        "UPDATE categories SET name = :name, parent = :parent, updated_at = :updated_at"
        " WHERE id = :id",
        category,
    )


def delete_category(conn: Connection, category_id: int) -> None:
    conn.execute("DELETE FROM categories WHERE id = :id", {"id": category_id})


def ancestors(conn: Connection, category_id: int) -> list[int] | None:
    """``[category_id, its parent, …]`` up to a root; ``None`` if there is no such category."""
    rows = conn.fetchall(
        "WITH RECURSIVE chain(id, parent, depth) AS ("
        " SELECT id, parent, 0 FROM categories WHERE id = :id"
        " UNION ALL"
        " SELECT c.id, c.parent, chain.depth + 1 FROM categories c"
        " JOIN chain ON c.id = chain.parent"
        # The tree never has a cycle (every write checks), but a bound costs nothing.
        " WHERE chain.depth < 10000"
        ") SELECT id FROM chain ORDER BY depth",
        {"id": category_id},
    )
    return [int(r["id"]) for r in rows] or None


def category_usage(conn: Connection, category_id: int) -> tuple[int, int]:
    """How many live products and how many child categories refer to the category."""
    products = count_selected(conn, IN_CATEGORY, {"category": category_id})
    row = conn.fetchone(
        "SELECT count(*) AS n FROM categories WHERE parent = :id", {"id": category_id}
    )
    return products, int(row["n"]) if row else 0


def reparent_children(conn: Connection, category_id: int, parent: int | None, now_us: int) -> None:
    conn.execute(
        "UPDATE categories SET parent = :parent, updated_at = :now WHERE parent = :id",
        {"id": category_id, "parent": parent, "now": now_us},
    )


_CATEGORY_FILTERS = {"parent": "parent = :parent", "after_id": "id > :after_id"}


def search_categories(
    conn: Connection, filters: Mapping[str, Any], *, limit: int, offset: int
) -> tuple[list[Row], int]:
    return db.search(
        conn,
        select=_SELECT_CATEGORY,
        count_from="categories",
        conditions=_CATEGORY_FILTERS,
        filters=filters,
        order_by="id",
        limit=limit,
        offset=offset,
    )


# --- helpers --------------------------------------------------------------------------------


class ForSaleRow(TypedDict):
    """A live product as a station sells it (checkout reads it): its fields, its category's
    name, and, sold by barcode, the barcode's own discount and default quantity."""

    id: int
    code: int | None
    name: str
    price: int  # cents
    tax: int
    fiscal_section: int
    is_free_price: bool
    is_weight: bool
    default_quantity: int  # thousandths
    no_discount: bool
    category: int | None
    category_name: str | None
    barcode: str | None  # None, and the barcode_* below empty, when sold by code
    barcode_discount: int  # cents
    barcode_discount_type: str | None
    barcode_quantity: int | None  # thousandths


_SALE_COLUMNS = (
    "SELECT p.id, p.code, p.name, p.price, p.tax, p.fiscal_section, p.is_free_price,"
    " p.is_weight, p.default_quantity, p.no_discount, p.category, c.name AS category_name"
)


def for_sale_by_barcode(conn: Connection, barcode: str) -> ForSaleRow | None:
    row = conn.fetchone(
        _SALE_COLUMNS + ", b.barcode, b.discount AS barcode_discount,"
        " b.discount_type AS barcode_discount_type, b.default_quantity AS barcode_quantity"
        " FROM product_barcodes b JOIN products p ON p.id = b.product_id"
        " LEFT JOIN categories c ON c.id = p.category"
        " WHERE b.barcode = :barcode AND p.deleted_at IS NULL",
        {"barcode": barcode},
    )
    # A typing view only (the row stays the driver's): mypy checks the column names read.
    return cast("ForSaleRow | None", row)


def for_sale_by_code(conn: Connection, code: int) -> ForSaleRow | None:
    row = conn.fetchone(
        _SALE_COLUMNS + ", NULL AS barcode, 0 AS barcode_discount,"
        " NULL AS barcode_discount_type, NULL AS barcode_quantity"
        " FROM products p LEFT JOIN categories c ON c.id = p.category"
        " WHERE p.code = :code AND p.deleted_at IS NULL",
        {"code": code},
    )
    return cast("ForSaleRow | None", row)


# --- a store's copy of its centre's catalogue (docs/stores.md, "Down") ------------------------

_UPSERT_PRODUCT = (
    "INSERT INTO products (id, " + ", ".join(PRODUCT_COLUMNS) + ") VALUES (:id, "
    + ", ".join(f":{c}" for c in PRODUCT_COLUMNS)
    + ") ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in PRODUCT_COLUMNS)
)  # fmt: skip


def _execute_in(conn: Connection, sql: str, values: Collection[Any]) -> None:
    """Run ``sql`` (``{}`` where the ``IN`` list goes) for every value, a chunk at a time."""
    ordered = sorted(set(values))
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        marks = ", ".join(f":v{n}" for n in range(len(chunk)))
        conn.execute(sql.format(marks), {f"v{n}": v for n, v in enumerate(chunk)})


def upsert_products(conn: Connection, products: Sequence[Mapping[str, Any]]) -> None:
    """Store products (storage rows with the centre's ``id``) as given, tombstones too.

    A page holds each product's latest state, but the store may still hold another product's
    older one with the same code or barcode (its newer state comes in a later page): the
    codes are freed first, the page's barcodes are taken from whoever has them, and that
    product gets them back, or not, with its own revision."""
    ids = [int(p["id"]) for p in products]
    codes = [int(p["code"]) for p in products if p["code"] is not None]
    _execute_in(conn, "UPDATE products SET code = NULL WHERE code IN ({})", codes)
    _execute_in(conn, "DELETE FROM product_barcodes WHERE product_id IN ({})", ids)
    _execute_in(conn, "DELETE FROM product_addons WHERE product_id IN ({})", ids)
    conn.execute_many(_UPSERT_PRODUCT, products)


def take_barcodes(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Give products their barcodes, taken from any other product still holding them."""
    _execute_in(
        conn, "DELETE FROM product_barcodes WHERE barcode IN ({})", [r["barcode"] for r in rows]
    )
    insert_barcodes(conn, rows)


def existing_ids(conn: Connection, product_ids: Collection[int]) -> set[int]:
    """Which of ``product_ids`` have a row (live or tombstone)."""
    return {
        int(r["id"])
        for r in select_in(conn, "SELECT id FROM products WHERE id IN ({})", product_ids)
    }


def insert_placeholders(conn: Connection, product_ids: Collection[int], now_us: int) -> None:
    """Rows for products an addon list names before their own state arrived (a later page):
    hidden tombstones on a negative revision no cursor reaches, replaced when they come."""
    conn.execute_many(
        "INSERT INTO products (id, code, name, price, is_free_price, is_weight,"
        " default_quantity, payload, info, no_discount, category, fiscal_section, tax, status,"
        " created_at, updated_at, revision, deleted_at) VALUES (:id, NULL, '', 0, FALSE, FALSE,"
        " 1000, NULL, '{}', FALSE, NULL, 1, 0, 0, :now, :now, :revision, :now)",
        [{"id": i, "now": now_us, "revision": -i} for i in product_ids],
    )


def follow_revision(conn: Connection, revision: int, changed_at: int) -> None:
    """Move this catalogue's revision up to the centre's, so its own feed's cursors hold."""
    conn.execute(
        "UPDATE catalogue_revision SET"
        " value = CASE WHEN value > :rev THEN value ELSE :rev END,"
        " changed_at = CASE WHEN changed_at > :at THEN changed_at ELSE :at END WHERE id = 1",
        {"rev": revision, "at": changed_at},
    )


def all_categories(conn: Connection) -> list[Row]:
    return conn.fetchall(_SELECT_CATEGORY + " ORDER BY id")


def category_ids(conn: Connection) -> set[int]:
    return {int(r["id"]) for r in conn.fetchall("SELECT id FROM categories")}


def replace_categories(conn: Connection, categories: Sequence[Mapping[str, Any]]) -> None:
    """Make ``categories`` (with their ids) the whole list. Parents are set once every row
    exists; a category gone sets its products' category to null (the foreign key's rule)."""
    keep = {int(c["id"]) for c in categories}
    conn.execute("UPDATE categories SET parent = NULL")
    conn.execute_many(
        "INSERT INTO categories (id, name, parent, created_at, updated_at)"
        " VALUES (:id, :name, NULL, :created_at, :updated_at) ON CONFLICT (id) DO UPDATE SET"
        " name = excluded.name, created_at = excluded.created_at,"
        " updated_at = excluded.updated_at",
        categories,
    )
    conn.execute_many(
        "UPDATE categories SET parent = :parent WHERE id = :id",
        [{"id": c["id"], "parent": c["parent"]} for c in categories if c["parent"] is not None],
    )
    gone = category_ids(conn) - keep
    _execute_in(conn, "DELETE FROM categories WHERE id IN ({})", gone)


def changed_after(conn: Connection, after_revision: int, limit: int) -> list[Row]:
    """One page of the feed without its count: products (tombstones too) after a revision."""
    return conn.fetchall(
        _SELECT_PRODUCT + " WHERE revision > :after ORDER BY revision LIMIT :limit",
        {"after": after_revision, "limit": limit},
    )
