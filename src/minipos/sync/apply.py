"""A store applies what it pulled from its centre (docs/stores.md, "Down"): the catalogue under
the centre's ids, the categories and reference data whole, and the invoices posted at the
centre for it. One page and the cursors that follow it commit in one transaction, so a crash
leaves the old cursors and the same page is pulled again.

Nothing here writes an outbox item: the change hook maps only invoice, receipt and shift
events, and an invoice that came from the centre (``common_id`` set) has no body to send
(``sync.bodies``). Its later state changes travel up, naming it by ``common_id``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from minipos.catalogue import repository as catalogue
from minipos.db import Connection
from minipos.domain.reference import (
    FiscalSection,
    PaymentMethod,
    RateChange,
    ReferenceData,
    TaxGroup,
)
from minipos.invoices import repository as invoices
from minipos.invoices import service as invoice_service
from minipos.invoices.service import PreparedInvoice, ShopConfig
from minipos.sync.wire import InvoiceDown, ProductDown, PullResponse, ReferenceDown

#: The id of sync_state's one row.
_STATE = 1


@dataclass(frozen=True, slots=True)
class Cursors:
    catalogue_revision: int
    categories_hash: str | None
    reference_hash: str | None
    invoice_revision: int


@dataclass(frozen=True, slots=True)
class Applied:
    products: int
    invoices: int
    #: The centre's new reference data, to put in use once the page committed (else None).
    reference: ReferenceData | None


def cursors(conn: Connection) -> Cursors:
    """Where this store's copy stands (all at the start before the first pull)."""
    row = conn.fetchone(
        "SELECT catalogue_revision, categories_hash, reference_hash, invoice_revision"
        " FROM sync_state WHERE id = :id",
        {"id": _STATE},
    )
    if row is None:
        return Cursors(0, None, None, 0)
    return Cursors(
        int(row["catalogue_revision"]),
        row["categories_hash"],
        row["reference_hash"],
        int(row["invoice_revision"]),
    )


def first_pulled(conn: Connection) -> bool:
    """Has a pull been applied? Until then a store has no catalogue and no reference data."""
    row = conn.fetchone("SELECT first_pull_at FROM sync_state WHERE id = :id", {"id": _STATE})
    return row is not None and row["first_pull_at"] is not None


def stored_reference(conn: Connection) -> ReferenceData | None:
    """The centre's reference data as last pulled, for a store starting up."""
    row = conn.fetchone("SELECT reference FROM sync_state WHERE id = :id", {"id": _STATE})
    if row is None or row["reference"] is None:
        return None
    return reference_data(msgspec.json.decode(row["reference"], type=ReferenceDown))


def reference_data(doc: ReferenceDown) -> ReferenceData:
    return ReferenceData(
        taxes={
            t.id: TaxGroup(
                t.id, t.rate, t.name, tuple(RateChange(c.valid_from, c.rate) for c in t.changes)
            )
            for t in doc.taxes
        },
        fiscal_sections={s.id: FiscalSection(s.id, s.name) for s in doc.fiscal_sections},
        payment_methods={
            m.id: PaymentMethod(m.id, m.code, m.name, m.is_cash) for m in doc.payment_methods
        },
    )


def apply_page(conn: Connection, page: PullResponse, shop: ShopConfig, now_us: int) -> Applied:
    """Apply one pull answer and move the cursors with it (one unit of work)."""
    conn.execute(
        "INSERT INTO sync_state (id) VALUES (:id) ON CONFLICT (id) DO NOTHING", {"id": _STATE}
    )
    # Categories first: the page's products point at them.
    if page.categories is not None:
        catalogue.replace_categories(conn, [msgspec.structs.asdict(c) for c in page.categories])
    _apply_products(conn, page.products, now_us)
    reference = None if page.reference is None else reference_data(page.reference)
    delivered = _apply_invoices(conn, page.invoices, shop, now_us)
    conn.execute(
        "UPDATE sync_state SET catalogue_revision = :catalogue, categories_hash = :categories,"
        " reference_hash = :reference_hash,"
        " reference = COALESCE(:reference, reference),"
        " invoice_revision = :invoices,"
        " first_pull_at = COALESCE(first_pull_at, :now), last_contact_at = :now,"
        " last_error = NULL WHERE id = :id",
        {
            "catalogue": page.catalogue_revision,
            "categories": page.categories_hash,
            "reference_hash": page.reference_hash,
            "reference": None
            if page.reference is None
            else msgspec.json.encode(page.reference).decode(),
            "invoices": page.invoice_revision,
            "now": now_us,
            "id": _STATE,
        },
    )
    return Applied(len(page.products), delivered, reference)


def _apply_products(conn: Connection, products: list[ProductDown], now_us: int) -> None:
    if not products:
        return
    known_categories = catalogue.category_ids(conn)
    rows: list[dict[str, Any]] = []
    for product in products:
        row = msgspec.structs.asdict(product)
        del row["barcodes"], row["addons"]
        # A category the centre deleted after this page was read: the product comes again,
        # detached, with its next revision.
        if row["category"] not in known_categories:
            row["category"] = None
        rows.append(row)
    ids = {p.id for p in products}
    named = {a for p in products for a in p.addons} - ids
    missing = named - catalogue.existing_ids(conn, named)
    if missing:
        catalogue.insert_placeholders(conn, missing, now_us)
    catalogue.upsert_products(conn, rows)
    catalogue.take_barcodes(
        conn,
        [
            {**msgspec.structs.asdict(b), "product_id": p.id, "position": position}
            for p in products
            for position, b in enumerate(p.barcodes)
        ],
    )
    catalogue.insert_addons(conn, [(p.id, p.addons) for p in products if p.addons])
    # The store's own revision follows the centre's: its stations' feed cursors are the
    # centre's revisions, which the store's rows carry.
    catalogue.follow_revision(
        conn, max(p.revision for p in products), max(p.updated_at for p in products)
    )


def _apply_invoices(
    conn: Connection, sent: list[InvoiceDown], shop: ShopConfig, now_us: int
) -> int:
    # A page pulled again (its answer was lost after the centre served it) changes nothing.
    held = invoices.existing_common_ids(conn, [i.common_id for i in sent])
    count = 0
    for invoice in sent:
        if invoice.common_id in held:
            continue
        invoice_service.store_delivered(
            conn,
            invoice.common_id,
            PreparedInvoice(
                dict(invoice.invoice),
                [dict(r) for r in invoice.rows],
                [dict(p) for p in invoice.payments],
                auto_number=False,
            ),
            shop,
            now_us,
        )
        count += 1
    return count
