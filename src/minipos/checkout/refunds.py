"""Refunds against their original receipt: each refunded row is matched to an original row
(same text and price) and may not exceed what that row still allows; those limits drop."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from minipos.db import Connection, Row
from minipos.domain.errors import ErrorCollector, ValidationFailed
from minipos.domain.money import (
    DocumentPrice,
    from_cents,
    from_thousandths,
    to_cents,
    to_thousandths,
)
from minipos.domain.receipt import ReceiptMode, Refundable, check_refund
from minipos.receipts import repository as receipts
from minipos.receipts.service import SaleLine
from minipos.stations import repository as stations


@dataclass(frozen=True, slots=True)
class Refunded:
    """The lines of a refund and their priced form."""

    lines: Sequence[SaleLine]
    price: DocumentPrice


def original_receipt(conn: Connection, document_id: str, pos_id: str | None) -> Row:
    """The sale receipt a refund names, or a 400 on ``parent_document_id``."""
    # Both or neither: ``parent_problems`` refused half a reference before this.
    assert pos_id is not None, "a refund's parent named without its POS"
    parent_station = stations.get_station_by_pos(conn, pos_id)
    original = None
    if parent_station is not None:
        original = receipts.by_document(conn, parent_station["id"], document_id)
    if original is None or original["mode"] == ReceiptMode.REFUND:
        raise ValidationFailed.single(
            ("parent_document_id",), "No sale receipt with this number at that POS."
        )
    return original


def check_against_original(
    conn: Connection,
    document_id: str | None,
    pos_id: str | None,
    refunded: Refunded,
    now_us: int,
) -> Row | None:
    """Check a refund against what its original receipt still allows, and lower that."""
    if not document_id:
        return None
    original = original_receipt(conn, document_id, pos_id)
    lines, price = refunded.lines, refunded.price
    matched = []
    errors = ErrorCollector()
    for index, (line, match) in enumerate(
        zip(lines, matching_rows(conn, original, lines), strict=True)
    ):
        if match is None:
            errors.add(
                ("rows", index), "The original receipt has no such row (same text and price)."
            )
            continue
        matched.append((match, line, price.lines[index]))
    errors.raise_if_any()
    check_refund(
        [(line.quantity, priced.total) for _, line, priced in matched],
        [
            Refundable(
                from_thousandths(r["max_quantity"]),
                from_cents(r["max_amount"]),
            )
            for r, _, _ in matched
        ],
    )
    for row, line, priced in matched:
        receipts.lower_refundable(
            conn,
            row["id"],
            to_thousandths(line.quantity),
            to_cents(priced.total),
        )
    receipts.mark_refunded(conn, original["id"], now_us)
    return original


def matching_rows(conn: Connection, original: Row, lines: Sequence[SaleLine]) -> list[Row | None]:
    """The original receipt's row each refunded line refunds (same text and price, each row
    once, in order), or None where there is none."""
    original_rows = receipts.rows_of(conn, [original["id"]])
    taken: set[int] = set()
    found: list[Row | None] = []
    for line in lines:
        match = next(
            (
                r
                for r in original_rows
                if r["id"] not in taken
                and r["product_name"] == line.product_name
                and r["price"] == to_cents(line.price)
            ),
            None,
        )
        if match is not None:
            taken.add(match["id"])
        found.append(match)
    return found
