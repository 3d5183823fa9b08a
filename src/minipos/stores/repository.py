"""The centre's SQL: the stores registry, its memory of what arrived (``sync_ingest``,
``sync_conflicts``), and the copies of the stores' stations, shifts, receipts and invoices.

The copies go into the areas' own tables (the mirrored rows look like local ones to the lists
and to ``minipos verify``); what only a copy has (``store_id``, ``chain_ids``, ``flags``,
``local_id``, the reconciliation) is written here, beside the areas' column lists.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from minipos.db import Connection, Row, insert_statement, select_in
from minipos.invoices import repository as invoice_repository
from minipos.receipts import repository as receipt_repository
from minipos.stations import repository as station_repository

# --- the registry ------------------------------------------------------------------------------

_STORE_COLUMNS = "id, code, name, api_key_id, last_contact_at, last_skew_ms, last_error, created_at"


def insert_store(conn: Connection, code: str, name: str, now_us: int) -> int:
    return conn.insert(
        "INSERT INTO stores (code, name, down_revision, created_at)"
        " VALUES (:code, :name, 0, :now) RETURNING id",
        {"code": code, "name": name, "now": now_us},
    )


def get_store(conn: Connection, store_id: int) -> Row | None:
    return conn.fetchone(f"SELECT {_STORE_COLUMNS} FROM stores WHERE id = :id", {"id": store_id})


def set_store_key(conn: Connection, store_id: int, api_key_id: int) -> None:
    conn.execute(
        "UPDATE stores SET api_key_id = :key WHERE id = :id", {"key": api_key_id, "id": store_id}
    )


def store_by_code(conn: Connection, code: str) -> Row | None:
    return conn.fetchone(f"SELECT {_STORE_COLUMNS} FROM stores WHERE code = :code", {"code": code})


def touch_store(
    conn: Connection, store_id: int, *, now_us: int, skew_ms: int | None, error: str | None
) -> None:
    """Record a contact. On PostgreSQL the UPDATE holds the store's row lock until COMMIT, so
    two pushes of one store (two workers, a duplicated request) run one after the other."""
    conn.execute(
        "UPDATE stores SET last_contact_at = :now, last_skew_ms = :skew, last_error = :error"
        " WHERE id = :id",
        {"now": now_us, "skew": skew_ms, "error": error, "id": store_id},
    )


def set_store_error(conn: Connection, store_id: int, error: str | None) -> None:
    conn.execute(
        "UPDATE stores SET last_error = :error WHERE id = :id", {"error": error, "id": store_id}
    )


# --- what arrived -------------------------------------------------------------------------------


def ingested(conn: Connection, store_id: int, kind: str, local_id: str) -> Row | None:
    return conn.fetchone(
        "SELECT hash, common_id FROM sync_ingest"
        " WHERE store_id = :store AND kind = :kind AND local_id = :local",
        {"store": store_id, "kind": kind, "local": local_id},
    )


_INSERT_INGEST = (
    "INSERT INTO sync_ingest (store_id, kind, local_id, hash, common_id, received_at, flags)"
    " VALUES (:store_id, :kind, :local_id, :hash, :common_id, :received_at, :flags)"
)
#: Most keys one ``IN (…)`` list asks for.
_CHUNK = 512


def ingested_many(
    conn: Connection, store_id: int, kind: str, local_ids: Collection[str]
) -> list[Row]:
    """The stored keys among ``local_ids`` (a push's, asked for at once)."""
    found: list[Row] = []
    ordered = sorted(local_ids)
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        # Padded to a power of two: a few statement texts, each prepared once.
        size = 1 << (len(chunk) - 1).bit_length()
        padded = chunk + [chunk[-1]] * (size - len(chunk))
        names = ", ".join(f":v{i}" for i in range(size))
        found += conn.fetchall(
            "SELECT local_id, hash, common_id FROM sync_ingest"
            f" WHERE store_id = :store AND kind = :kind AND local_id IN ({names})",
            {"store": store_id, "kind": kind, **{f"v{i}": v for i, v in enumerate(padded)}},
        )
    return found


def record_ingest(conn: Connection, values: dict[str, Any]) -> None:
    conn.execute(_INSERT_INGEST, values)


def record_ingests(conn: Connection, rows: list[dict[str, Any]]) -> None:
    conn.execute_many(_INSERT_INGEST, rows)


def record_conflict(conn: Connection, values: dict[str, Any]) -> int:
    return conn.insert(
        "INSERT INTO sync_conflicts (store_id, kind, local_id, stored_hash, offered_hash,"
        " offered_body, received_at)"
        " VALUES (:store_id, :kind, :local_id, :stored_hash, :offered_hash, :offered_body,"
        " :received_at) RETURNING id",
        values,
    )


def open_conflict(
    conn: Connection, store_id: int, kind: str, local_id: str, offered_hash: str
) -> Row | None:
    """The unresolved conflict of this very offer, if it came before (a resent request)."""
    return conn.fetchone(
        "SELECT id FROM sync_conflicts WHERE store_id = :store AND kind = :kind"
        " AND local_id = :local AND offered_hash = :offered AND resolved_at IS NULL",
        {"store": store_id, "kind": kind, "local": local_id, "offered": offered_hash},
    )


def resolve_conflict(conn: Connection, store_id: int, conflict_id: int, now_us: int) -> bool:
    done = conn.fetchone(
        "UPDATE sync_conflicts SET resolved_at = :now"
        " WHERE id = :id AND store_id = :store AND resolved_at IS NULL RETURNING id",
        {"now": now_us, "id": conflict_id, "store": store_id},
    )
    return done is not None


def conflicts(conn: Connection, store_id: int) -> list[Row]:
    return conn.fetchall(
        "SELECT id, kind, local_id, stored_hash, offered_hash, offered_body, received_at,"
        " resolved_at FROM sync_conflicts WHERE store_id = :store ORDER BY id",
        {"store": store_id},
    )


# --- mirrored stations and shifts ---------------------------------------------------------------

_INSERT_STATION = insert_statement("stations", (*station_repository.STATION_COLUMNS, "store_id"))


def mirror_station(conn: Connection, store_id: int, pos_id: str) -> Row | None:
    return conn.fetchone(
        "SELECT id, name, last_document_id, last_z_number, chain_head, grand_total"
        " FROM stations WHERE store_id = :store AND pos_id = :pos",
        {"store": store_id, "pos": pos_id},
    )


def insert_station(conn: Connection, station: dict[str, Any]) -> int:
    return conn.insert(_INSERT_STATION, station)


def describe_station(conn: Connection, station_id: int, values: dict[str, Any]) -> None:
    conn.execute(
        "UPDATE stations SET name = :name, pos_number = :pos_number, chassis_id = :chassis_id,"
        " station_group = :station_group WHERE id = :id",
        {**values, "id": station_id},
    )


def advance_station(conn: Connection, station_id: int, document_id: int, head: str) -> None:
    """Move the contiguous high-water mark on (the caller checked ``document_id`` is next)."""
    conn.execute(
        "UPDATE stations SET last_document_id = :number, chain_head = :head WHERE id = :id",
        {"number": document_id, "head": head, "id": station_id},
    )


def raise_z_number(conn: Connection, station_id: int, z_number: int) -> None:
    conn.execute(
        "UPDATE stations SET last_z_number = :z WHERE id = :id AND last_z_number < :z",
        {"z": z_number, "id": station_id},
    )


def set_grand_total(conn: Connection, station_id: int, grand_total: int) -> None:
    conn.execute(
        "UPDATE stations SET grand_total = :total WHERE id = :id",
        {"total": grand_total, "id": station_id},
    )


_INSERT_SHIFT = insert_statement("shifts", (*station_repository.SHIFT_COLUMNS, "local_id"))


def shift_by_z(conn: Connection, station_id: int, z_number: int) -> Row | None:
    return conn.fetchone(
        "SELECT id, local_id, close_date, volume FROM shifts"
        " WHERE station_id = :station AND z_number = :z",
        {"station": station_id, "z": z_number},
    )


def insert_shift(conn: Connection, shift: dict[str, Any]) -> int:
    return conn.insert(_INSERT_SHIFT, shift)


def own_common_shift(conn: Connection, shift_id: int) -> None:
    """At the centre a shift's ``common_shift`` is its own id (what the store's copy gets)."""
    conn.execute("UPDATE shifts SET common_shift = id WHERE id = :id", {"id": shift_id})


def set_local_id(conn: Connection, shift_id: int, local_id: int) -> None:
    conn.execute(
        "UPDATE shifts SET local_id = :local WHERE id = :id", {"local": local_id, "id": shift_id}
    )


def open_shift_copy(conn: Connection, shift_id: int, values: dict[str, Any]) -> None:
    """A shift a receipt created before its ``shift.open`` arrived gets what that tells."""
    conn.execute(
        "UPDATE shifts SET local_id = :local_id, start_date = :start_date,"
        " start_employee = :start_employee, start_employee_name = :start_employee_name"
        " WHERE id = :id",
        {**values, "id": shift_id},
    )


def close_shift_copy(conn: Connection, shift_id: int, values: dict[str, Any]) -> None:
    conn.execute(
        "UPDATE shifts SET close_date = :close_date, grand_total = :grand_total,"
        " close_employee = :close_employee, close_employee_name = :close_employee_name,"
        " report = :report, hash = :hash, reconciled_at = :reconciled_at,"
        " reconcile_note = :reconcile_note WHERE id = :id",
        {**values, "id": shift_id},
    )


def shift_receipts(conn: Connection, shift_id: int) -> Row:
    """What the centre holds of a shift: count, first and last numbers, their volume."""
    row = conn.fetchone(
        "SELECT count(*) AS n, min(CAST(document_id AS BIGINT)) AS first,"
        " max(CAST(document_id AS BIGINT)) AS last,"
        " COALESCE(sum(bruto_amount), 0) AS volume"
        " FROM receipts WHERE shift_id = :id",
        {"id": shift_id},
    )
    assert row is not None
    return row


def broken_receipts(conn: Connection, shift_id: int) -> int:
    """How many of a shift's receipts arrived with a broken chain (flagged)."""
    row = conn.fetchone(
        "SELECT count(*) AS n FROM receipts WHERE shift_id = :id AND flags LIKE :flag",
        {"id": shift_id, "flag": '%"chain_broken"%'},
    )
    return 0 if row is None else int(row["n"])


# --- receipts -----------------------------------------------------------------------------------

_INSERT_RECEIPT = insert_statement(
    "receipts",
    (*receipt_repository.RECEIPT_COLUMNS, "common_id", "synchronized_at", "flags", "chain_ids"),
)


def insert_receipts(
    conn: Connection,
    receipts: list[dict[str, Any]],
    rows: list[list[dict[str, Any]]],
    payments: list[list[dict[str, Any]]],
) -> list[int]:
    """A batch of receipts with their rows and payments, in a few statements; their ids."""
    ids = conn.insert_many(_INSERT_RECEIPT, receipts)
    # Its common_id is its own id at the centre, as for an invoice.
    conn.execute_many("UPDATE receipts SET common_id = id WHERE id = :id", [{"id": i} for i in ids])
    children: list[dict[str, Any]] = []
    paid: list[dict[str, Any]] = []
    for receipt_id, own_rows, own_payments in zip(ids, rows, payments, strict=True):
        children += ({**row, "receipt_id": receipt_id} for row in own_rows)
        paid += ({**payment, "receipt_id": receipt_id} for payment in own_payments)
    if children:
        conn.execute_many(receipt_repository.ROWS.append, children)
    if paid:
        conn.execute_many(receipt_repository.PAYMENTS.append, paid)
    return ids


def known_products(conn: Connection, product_ids: Collection[int]) -> set[int]:
    if not product_ids:
        return set()
    return {
        int(row["id"])
        for row in select_in(conn, "SELECT id FROM products WHERE id IN ({})", product_ids)
    }


def receipt_by_document(conn: Connection, station_id: int, document_id: str) -> Row | None:
    return conn.fetchone(
        "SELECT id FROM receipts WHERE station_id = :station AND document_id = :document",
        {"station": station_id, "document": document_id},
    )


# --- invoices -----------------------------------------------------------------------------------


def insert_invoice(
    conn: Connection,
    header: dict[str, Any],
    rows: list[dict[str, Any]],
    payments: list[dict[str, Any]],
) -> int:
    """A store's invoice as the centre keeps it (``header`` names the store, and has no
    ``down_revision``: it was posted at the store, so nothing of it goes back down)."""
    invoice_repository.insert(conn, header, rows, payments)
    invoice_id: int = header["id"]
    # At the centre an invoice's common_id is its own id, whoever posted it.
    conn.execute("UPDATE invoices SET common_id = id WHERE id = :id", {"id": invoice_id})
    return invoice_id


def store_invoice(conn: Connection, store_id: int, invoice_id: int) -> Row | None:
    """The centre's invoice ``invoice_id`` if it belongs to this store."""
    return conn.fetchone(
        "SELECT id FROM invoices WHERE id = :id AND store_id = :store",
        {"id": invoice_id, "store": store_id},
    )


def set_invoice_state(conn: Connection, invoice_id: int, values: dict[str, Any]) -> None:
    conn.execute(
        "UPDATE invoices SET status = :status, station = :station, check_num = :check_num,"
        " printed_at = :printed_at, print_station = :print_station,"
        " print_pos_id = :print_pos_id, print_chassis_id = :print_chassis_id,"
        " changed_sum = :changed_sum, updated_at = :updated_at WHERE id = :id",
        {**values, "id": invoice_id},
    )
