"""Products and categories between their storage form (cents, thousandths, µs) and the API's
shapes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from minipos.catalogue import repository
from minipos.catalogue.schemas import BarcodeIn, BarcodeOut, ProductIn, ProductInfo, ProductOut
from minipos.catalogue.service import CatalogueContext
from minipos.db import Connection, Row
from minipos.domain.catalogue import ProductStatus
from minipos.domain.money import (
    DiscountType,
    shown_cents,
    shown_thousandths,
    to_cents,
    to_thousandths,
)
from minipos.timeutil import local_aware


def storage_row(
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


def barcode_rows(product: ProductIn) -> list[dict[str, Any]]:
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


def render(conn: Connection, rows: Sequence[Row], ctx: CatalogueContext) -> list[ProductOut]:
    """Products with their barcodes and addons: two queries for the whole page."""
    ids = [int(row["id"]) for row in rows]
    barcodes = repository.barcodes_of(conn, ids) if ids else {}
    addons = repository.addons_of(conn, ids) if ids else {}
    return [
        product_out(row, barcodes.get(int(row["id"]), []), addons.get(int(row["id"]), []), ctx)
        for row in rows
    ]


def product_out(
    row: Mapping[str, Any] | Row,
    barcodes: Sequence[Mapping[str, Any] | Row],
    addons: list[int],
    ctx: CatalogueContext,
) -> ProductOut:
    return ProductOut(
        id=int(row["id"]),
        barcodes=[
            BarcodeOut(**_stored_barcode_fields(b), discount_type=b["discount_type"])
            for b in barcodes
        ],
        addons=addons,
        status=int(row["status"]),
        created_at=aware(row["created_at"], ctx),
        updated_at=aware(row["updated_at"], ctx),
        info=msgspec.Raw(row["info"].encode()),
        **_stored_fields(row),
    )


def product_request(row: Row, barcodes: Sequence[Row], addons: list[int]) -> ProductIn:
    """A stored product as the request that would create it (for PATCH and export)."""
    return ProductIn(
        barcodes=[
            BarcodeIn(
                **_stored_barcode_fields(b),
                discount_type=None
                if b["discount_type"] is None
                else DiscountType(b["discount_type"]),
            )
            for b in barcodes
        ],
        addons=addons,
        status=ProductStatus(row["status"]),
        info=msgspec.json.decode(row["info"], type=ProductInfo),
        **_stored_fields(row),
    )


def _stored_fields(row: Mapping[str, Any] | Row) -> dict[str, Any]:
    """The fields a product's API shape and its create request show alike."""
    return {
        "code": row["code"],
        "name": row["name"],
        "price": shown_cents(row["price"]),
        "is_free_price": bool(row["is_free_price"]),
        "is_weight": bool(row["is_weight"]),
        "default_quantity": shown_thousandths(row["default_quantity"]),
        "payload": row["payload"],
        "no_discount": bool(row["no_discount"]),
        "category": row["category"],
        "fiscal_section": int(row["fiscal_section"]),
        "tax": int(row["tax"]),
    }


def _stored_barcode_fields(b: Mapping[str, Any] | Row) -> dict[str, Any]:
    return {
        "barcode": b["barcode"],
        "discount": shown_cents(b["discount"]),
        "default_quantity": shown_thousandths(b["default_quantity"]),
    }


def aware(us: int, ctx: CatalogueContext) -> str:
    text = local_aware(us, ctx.zone)
    assert text is not None
    return text
