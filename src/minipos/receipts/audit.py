"""The fiscal record added up and audited: a shift's totals (the X- and Z-report) and
``minipos verify``, which recomputes every chain, number and Z-report."""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from minipos.db import Connection, Row
from minipos.domain.money import (
    MAX_GRAND_TOTAL,
    MAX_SHIFT_TOTAL,
    MAX_TOTAL,
    from_cents,
    json_number,
    to_cents,
    vat,
)
from minipos.domain.receipt import GENESIS_HASH, ReceiptMode, chain_hash
from minipos.domain.shift import ReceiptFigures, ShiftTotals, add_up
from minipos.receipts import repository, service, shift_sums


def figures(
    receipt: Any, rows: Sequence[Any], payments: Sequence[Any], cash: set[int]
) -> ReceiptFigures:
    """A stored receipt as the Z-report counts it; VAT per rate recomputed from its rows."""
    # Sum whole cents per rate first: a Z-report adds up thousands of rows, and Decimal
    # arithmetic per row is what would make closing a busy shift slow.
    cents: dict[int, int] = defaultdict(int)
    for row in rows:
        cents[row["tax_rate"]] += row["amount"]
    vat_lines = tuple(
        (rate, gross, *vat(gross, rate))
        for rate, gross in (
            (from_cents(units), from_cents(total))
            for units, total in sorted(cents.items(), reverse=True)
        )
    )
    return ReceiptFigures(
        mode=ReceiptMode(receipt["mode"]),
        gross=from_cents(receipt["bruto_amount"]),
        net=from_cents(receipt["neto_amount"]),
        tax=from_cents(receipt["tax_amount"]),
        vat=vat_lines,
        payments=tuple(
            (p["method_name"], from_cents(p["amount"]), p["method"] in cash) for p in payments
        ),
        change=from_cents(receipt["changed_amount"]),
        discounts=from_cents(sum(int(row["discount_amount"] or 0) for row in rows)),
    )


def shift_totals(conn: Connection, shift_id: int, cash: set[int]) -> ShiftTotals:
    """The X- and Z-report's figures, summed in SQL (``shift_sums``); ``verify`` adds the
    same receipts up one by one (:func:`receipt_totals`) and compares."""
    return shift_sums.shift_totals(conn, shift_id, cash)


def receipt_totals(conn: Connection, shift_id: int, cash: set[int]) -> ShiftTotals:
    """The shift's figures added up receipt by receipt (``domain.shift.add_up``)."""
    receipts = repository.of_shift(conn, shift_id)
    rows, payments = service.children(conn, receipts)
    return add_up(figures(r, rows[r["id"]], payments[r["id"]], cash) for r in receipts)


def report_content(totals: ShiftTotals) -> dict[str, Any]:
    """The Z-report as stored (and hashed): decimals as strings, so it reads back exactly."""
    return {
        "receipts": totals.receipts,
        "sales": str(totals.sales),
        "refunds": str(totals.refunds),
        "turnover": str(totals.turnover),
        "tax": str(totals.tax),
        "vat": [
            {"rate": str(rate), "gross": str(g), "net": str(n), "tax": str(t)}
            for rate, (g, n, t) in sorted(totals.vat.items(), reverse=True)
        ],
        "payments": [
            {"method_name": name, "amount": str(amount)}
            for name, amount in sorted(totals.payments.items())
        ],
    }


def verify(conn: Connection, cash: set[int]) -> Iterator[str]:
    """Every break in every station's receipt chain, numbering and Z-reports, and every figure
    past the money limits, in order."""
    for station in repository.chains(conn):
        yield from _verify_station(conn, station, cash)


def _verify_station(conn: Connection, station: Row, cash: set[int]) -> Iterator[str]:
    name = f"station {station['id']} ({station['name']})"
    receipts = repository.of_station(conn, station["id"])
    rows, payments = service.children(conn, receipts)
    head = GENESIS_HASH
    for expected_number, receipt in enumerate(receipts, start=1):
        label = f"{name} receipt {receipt['document_id']}"
        if receipt["document_id"] != str(expected_number):
            yield f"{label}: expected number {expected_number} (a gap or a reordering)"
        if receipt["prev_hash"] != head:
            yield f"{label}: does not follow the previous receipt (chain broken)"
        computed = chain_hash(
            receipt["prev_hash"],
            service.hash_content(as_hashed(receipt), rows[receipt["id"]], payments[receipt["id"]]),
        )
        if computed != receipt["hash"]:
            yield f"{label}: content does not match its hash (altered)"
        for field in ("bruto_amount", "changed_amount"):
            if past := _past(receipt[field], MAX_TOTAL):
                yield f"{label}: {field} {past} of one document"
        head = receipt["hash"]
    if station["chain_head"] != head:
        yield f"{name}: the last receipt is not the chain head (receipts removed?)"
    if station["last_document_id"] != len(receipts):
        yield f"{name}: {station['last_document_id']} numbers issued, {len(receipts)} receipts kept"
    if past := _past(station["grand_total"], MAX_GRAND_TOTAL):
        yield f"{name}: grand total {past} of a station"

    by_shift: dict[int, list[Any]] = defaultdict(list)
    for receipt in receipts:
        by_shift[receipt["shift_id"]].append(receipt)
    shifts = repository.z_reports(conn, station["id"])
    grand_total = 0
    for expected_z, shift in zip(itertools.count(1), shifts, strict=False):
        label = f"{name} Z {shift['z_number']}"
        if shift["z_number"] != expected_z:
            yield f"{label}: expected Z number {expected_z}"
        own = by_shift[shift["id"]]
        volume = sum(r["bruto_amount"] for r in own)
        if shift["volume"] != volume:
            yield f"{label}: volume {shift['volume']} is not the sum of its receipts ({volume})"
        if past := _past(volume, MAX_SHIFT_TOTAL):
            yield f"{label}: receipts add up to {past} of one shift"
        if shift["close_date"] is None:
            continue
        totals = add_up(figures(r, rows[r["id"]], payments[r["id"]], cash) for r in own)
        content = report_content(totals)
        if json.loads(shift["report"] or "null") != content:
            yield f"{label}: stored totals differ from the sum of its receipts"
        grand_total += to_cents(totals.sales)
        if shift["grand_total"] != grand_total:
            yield f"{label}: grand total {shift['grand_total']} is not cumulative ({grand_total})"
        if past := _past(shift["grand_total"], MAX_GRAND_TOTAL):
            yield f"{label}: grand total {past} of a station"
        if shift["hash"] != chain_hash(own[-1]["hash"] if own else GENESIS_HASH, content):
            yield f"{label}: Z-report does not match its hash (altered)"


def as_hashed(receipt: Row) -> Any:
    """The receipt as its chain hash saw it: a centre's copy of a store's receipt hashes the
    store's row ids (``chain_ids``), not the copy's own."""
    if not receipt["chain_ids"]:
        return receipt
    return {
        **{c: receipt[c] for c in repository.RECEIPT_COLUMNS},
        **json.loads(receipt["chain_ids"]),
    }


def _past(cents: int, limit: Decimal) -> str | None:
    """What is wrong with a stored amount below zero or above ``limit`` (a figure no request
    can make), or None."""
    amount = from_cents(cents)
    return None if 0 <= amount <= limit else f"{json_number(amount)}, past the limit {limit}"
