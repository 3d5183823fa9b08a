"""The centre serves a store's pull (docs/stores.md, "Down"): a page of the catalogue feed
after the store's revision, the categories and reference data whole when the store's hash
differs, and the invoices posted at the centre for the store after its cursor, marked
delivered by the first pull that serves them (from then on they are the store's)."""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

from minipos.catalogue import repository as catalogue
from minipos.db import Connection, Row
from minipos.domain.reference import ReferenceData
from minipos.invoices import repository as invoices
from minipos.invoices import service as invoice_service
from minipos.sync.wire import (
    BarcodeDown,
    CategoryDown,
    InvoiceDown,
    MethodDown,
    ProductDown,
    PullRequest,
    PullResponse,
    RateChangeDown,
    ReferenceDown,
    SectionDown,
    TaxDown,
)

_encoder = msgspec.json.Encoder(decimal_format="string")


def _hash(document: object) -> str:
    # Only the centre computes it; the store keeps and sends it back. Struct fields encode in
    # declaration order, so equal content gives equal bytes.
    return hashlib.sha256(_encoder.encode(document)).hexdigest()


def reference_document(reference: ReferenceData) -> ReferenceDown:
    return ReferenceDown(
        taxes=[
            TaxDown(t.id, t.rate, t.name, [RateChangeDown(c.valid_from, c.rate) for c in t.changes])
            for t in sorted(reference.taxes.values(), key=_id)
        ],
        fiscal_sections=[
            SectionDown(s.id, s.name) for s in sorted(reference.fiscal_sections.values(), key=_id)
        ],
        payment_methods=[
            MethodDown(m.id, m.code, m.name, m.is_cash)
            for m in sorted(reference.payment_methods.values(), key=_id)
        ],
    )


def _id(item: TaxDown | SectionDown | MethodDown | object) -> int:
    return int(getattr(item, "id"))  # noqa: B009 - one key for three record types


def serve(
    conn: Connection,
    store_id: int,
    request: PullRequest,
    *,
    reference: ReferenceData,
    station_group: str,
    now_us: int,
) -> PullResponse:
    """One pull page for the store (a write: it records delivery). ``station_group``: the
    centre's default, which an invoice posted without one was given."""
    rows = catalogue.changed_after(conn, request.catalogue_revision, request.limit)
    products = _products(conn, rows)
    # Read after the products, so a category a product of the page names is listed (or was
    # deleted since, and the product comes again detached).
    categories = [
        CategoryDown(c["id"], c["name"], c["parent"], c["created_at"], c["updated_at"])
        for c in catalogue.all_categories(conn)
    ]
    categories_hash = _hash(categories)
    document = reference_document(reference)
    reference_hash = _hash(document)
    candidates = invoices.down_page(conn, store_id, request.invoice_revision, request.limit)
    delivered = invoices.deliver(conn, [int(c["id"]) for c in candidates], now_us)
    return PullResponse(
        centre_time=now_us,
        products=products,
        catalogue_revision=rows[-1]["revision"] if rows else request.catalogue_revision,
        categories=None if categories_hash == request.categories_hash else categories,
        categories_hash=categories_hash,
        reference=None if reference_hash == request.reference_hash else document,
        reference_hash=reference_hash,
        invoices=_invoices(conn, delivered, station_group),
        # Past the candidates cancelled before delivery too: they are never served.
        invoice_revision=(
            int(candidates[-1]["down_revision"]) if candidates else request.invoice_revision
        ),
        more=len(rows) == request.limit or len(candidates) == request.limit,
    )


def _products(conn: Connection, rows: list[Row]) -> list[ProductDown]:
    ids = [int(r["id"]) for r in rows]
    barcodes = catalogue.barcodes_of(conn, ids)
    addons = catalogue.addons_of(conn, ids)
    return [
        ProductDown(
            id=int(r["id"]),
            code=r["code"],
            name=r["name"],
            price=r["price"],
            is_free_price=bool(r["is_free_price"]),
            is_weight=bool(r["is_weight"]),
            default_quantity=r["default_quantity"],
            payload=r["payload"],
            info=r["info"],
            no_discount=bool(r["no_discount"]),
            category=r["category"],
            fiscal_section=r["fiscal_section"],
            tax=r["tax"],
            status=r["status"],
            created_at=r["created_at"],
            updated_at=r["updated_at"],
            revision=r["revision"],
            deleted_at=r["deleted_at"],
            barcodes=[
                BarcodeDown(b["barcode"], b["discount"], b["discount_type"], b["default_quantity"])
                for b in barcodes.get(int(r["id"]), [])
            ],
            addons=addons.get(int(r["id"]), []),
        )
        for r in rows
    ]


def _invoices(conn: Connection, headers: list[Row], default_group: str) -> list[InvoiceDown]:
    ids = [int(h["id"]) for h in headers]
    rows: dict[int, list[Row]] = {}
    payments: dict[int, list[Row]] = {}
    for row in invoices.rows_of_many(conn, ids):
        rows.setdefault(int(row["invoice_id"]), []).append(row)
    for payment in invoices.payments_of_many(conn, ids):
        payments.setdefault(int(payment["invoice_id"]), []).append(payment)
    return [
        InvoiceDown(
            common_id=int(h["id"]),
            down_revision=int(h["down_revision"]),
            invoice=_header(h, default_group),
            rows=[
                invoice_service.storage_form(r, invoice_service.DOWN_ROW_COLUMNS)
                for r in rows.get(int(h["id"]), [])
            ],
            payments=[
                invoice_service.storage_form(p, invoice_service.DOWN_PAYMENT_COLUMNS)
                for p in payments.get(int(h["id"]), [])
            ],
        )
        for h in headers
    ]


def _header(header: Row, default_group: str) -> dict[str, Any]:
    sent = invoice_service.storage_form(header, invoice_service.DOWN_COLUMNS)
    # The centre's default group means "none named": the store's stations are in the store's
    # own default group, and the invoice must reach them.
    if sent["station_group"] == default_group:
        sent["station_group"] = None
    return sent
