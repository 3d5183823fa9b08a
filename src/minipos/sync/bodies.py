"""What each outbox item carries: the fact in storage form (cents, thousandths, microseconds),
with the store's own row ids turned into what the centre can resolve (``pos_id``, ``z_number``,
an invoice's local id or ``common_id``). The contract between a store's outbox and the centre's
ingest (docs/stores.md, "What travels").

A body is built once, when its change commits, and sent byte for byte on every retry: its hash
is the item's identity of content.
"""

from __future__ import annotations

from typing import Any

from minipos.db import Connection, Row
from minipos.domain.sync import STORE_LANE, SyncKind
from minipos.invoices import repository as invoice_repository
from minipos.receipts import repository as receipt_repository

#: Columns that are the store's bookkeeping, not the fact: never sent.
_INVOICE_LOCAL = frozenset(
    {
        "station",
        "print_station",
        "common_id",
        "synchronized_at",
        "lease_expires_at",
        "complete_request_id",
        "created_by",
    }
)
_BOOLEAN = frozenset(
    {"print_paper_receipt", "keep_drawer_closed", "is_auto_open", "is_free_price", "is_weight"}
)
INVOICE_COLUMNS = tuple(c for c in invoice_repository.HEADER_COLUMNS if c not in _INVOICE_LOCAL)
INVOICE_ROW_COLUMNS = tuple(c for c in invoice_repository.ROW_COLUMNS if c != "invoice_id")
INVOICE_PAYMENT_COLUMNS = tuple(c for c in invoice_repository.PAYMENT_COLUMNS if c != "invoice_id")
RECEIPT_COLUMNS = tuple(
    c
    for c in receipt_repository.RECEIPT_COLUMNS
    if c not in {"station_id", "shift_id", "invoice_id", "parent_station", "refunded_at"}
)
RECEIPT_ROW_COLUMNS = tuple(c for c in receipt_repository.ROW_COLUMNS if c != "receipt_id")
RECEIPT_PAYMENT_COLUMNS = tuple(c for c in receipt_repository.PAYMENT_COLUMNS if c != "receipt_id")
#: The receipt columns that are the store's row ids and that its chain hash covers.
CHAIN_ID_COLUMNS = ("station_id", "shift_id", "invoice_id", "parent_station")
STATION_COLUMNS = ("name", "pos_number", "chassis_id", "station_group")
SHIFT_OPEN_COLUMNS = ("z_number", "start_date", "start_employee", "start_employee_name")
SHIFT_CLOSE_COLUMNS = (
    "z_number",
    "close_date",
    "grand_total",
    "close_employee",
    "close_employee_name",
    "report",
    "hash",
    "volume",
)


class Item:
    """One outbox item before it is written: its key, lane and body."""

    __slots__ = ("body", "kind", "lane", "local_id")

    def __init__(
        self, kind: SyncKind, local_id: str | None, lane: str, body: dict[str, Any]
    ) -> None:
        self.kind = kind
        self.local_id = local_id
        self.lane = lane
        self.body = body


def build(conn: Connection, kind: SyncKind, resource_id: int) -> Item | None:
    """The item telling of the change to ``resource_id``, read in the change's own unit of
    work; None when there is nothing to send (an invoice the centre posted: it has it)."""
    match kind:
        case SyncKind.INVOICE:
            return _invoice(conn, resource_id)
        case SyncKind.INVOICE_STATE:
            return _invoice_state(conn, resource_id)
        case SyncKind.RECEIPT:
            return _receipt(conn, resource_id)
        case SyncKind.SHIFT_OPEN | SyncKind.SHIFT_CLOSE:
            return _shift(conn, kind, resource_id)


def _pick(row: Row, columns: tuple[str, ...]) -> dict[str, Any]:
    return {
        c: (None if row[c] is None else bool(row[c])) if c in _BOOLEAN else row[c] for c in columns
    }


def invoice_ref(invoice: Row) -> dict[str, Any]:
    """How the centre finds an invoice: by the store's id, or by its own for one it posted."""
    if invoice["common_id"] is not None:
        return {"invoice_common_id": invoice["common_id"], "invoice_local_id": None}
    return {"invoice_common_id": None, "invoice_local_id": str(invoice["id"])}


def _invoice(conn: Connection, invoice_id: int) -> Item | None:
    invoice = conn.fetchone("SELECT * FROM invoices WHERE id = :id", {"id": invoice_id})
    assert invoice is not None
    if invoice["common_id"] is not None:
        return None
    rows = conn.fetchall(
        "SELECT * FROM invoice_rows WHERE invoice_id = :id ORDER BY position", {"id": invoice_id}
    )
    payments = conn.fetchall(
        "SELECT * FROM invoice_payments WHERE invoice_id = :id ORDER BY position",
        {"id": invoice_id},
    )
    body = {
        "invoice": _pick(invoice, INVOICE_COLUMNS),
        "rows": [_pick(r, INVOICE_ROW_COLUMNS) for r in rows],
        "payments": [_pick(p, INVOICE_PAYMENT_COLUMNS) for p in payments],
    }
    return Item(SyncKind.INVOICE, str(invoice_id), STORE_LANE, body)


def _invoice_state(conn: Connection, invoice_id: int) -> Item:
    invoice = conn.fetchone(
        "SELECT i.id, i.common_id, i.status, i.check_num, i.printed_at, i.print_pos_id,"
        " i.print_chassis_id, i.changed_sum, i.updated_at, s.pos_id AS station_pos_id"
        " FROM invoices i LEFT JOIN stations s ON s.id = i.station WHERE i.id = :id",
        {"id": invoice_id},
    )
    assert invoice is not None
    body = {
        **invoice_ref(invoice),
        "status": invoice["status"],
        "station_pos_id": invoice["station_pos_id"],
        "check_num": invoice["check_num"],
        "printed_at": invoice["printed_at"],
        "print_pos_id": invoice["print_pos_id"],
        "print_chassis_id": invoice["print_chassis_id"],
        "changed_sum": invoice["changed_sum"],
        "at": invoice["updated_at"],
    }
    # Keyed by the outbox row's own id (``local_id`` None): one invoice changes many times.
    return Item(SyncKind.INVOICE_STATE, None, STORE_LANE, body)


def _receipt(conn: Connection, receipt_id: int) -> Item:
    receipt = conn.fetchone(
        "SELECT r.*, st.pos_id AS pos_id, sh.z_number AS z_number,"
        " ps.pos_id AS parent_pos_id, i.common_id AS invoice_common_id"
        " FROM receipts r JOIN stations st ON st.id = r.station_id"
        " JOIN shifts sh ON sh.id = r.shift_id"
        " LEFT JOIN stations ps ON ps.id = r.parent_station"
        " LEFT JOIN invoices i ON i.id = r.invoice_id WHERE r.id = :id",
        {"id": receipt_id},
    )
    assert receipt is not None
    rows = conn.fetchall(
        "SELECT * FROM receipt_rows WHERE receipt_id = :id ORDER BY position", {"id": receipt_id}
    )
    payments = conn.fetchall(
        "SELECT * FROM receipt_payments WHERE receipt_id = :id ORDER BY position",
        {"id": receipt_id},
    )
    invoice: dict[str, Any] = {"invoice_common_id": None, "invoice_local_id": None}
    if receipt["invoice_id"] is not None:
        invoice = (
            {"invoice_common_id": receipt["invoice_common_id"], "invoice_local_id": None}
            if receipt["invoice_common_id"] is not None
            else {"invoice_common_id": None, "invoice_local_id": str(receipt["invoice_id"])}
        )
    body = {
        "receipt": _pick(receipt, RECEIPT_COLUMNS),
        "pos_id": receipt["pos_id"],
        "z_number": receipt["z_number"],
        "parent_pos_id": receipt["parent_pos_id"],
        **invoice,
        # The store's own row ids the chain hash covers (receipts.service.hash_content): the
        # centre keeps them beside its copy to recompute the chain (``minipos verify``).
        "chain_ids": {c: receipt[c] for c in CHAIN_ID_COLUMNS},
        "rows": [_pick(r, RECEIPT_ROW_COLUMNS) for r in rows],
        "payments": [_pick(p, RECEIPT_PAYMENT_COLUMNS) for p in payments],
    }
    return Item(SyncKind.RECEIPT, str(receipt_id), receipt["pos_id"], body)


def _shift(conn: Connection, kind: SyncKind, shift_id: int) -> Item:
    shift = conn.fetchone(
        "SELECT sh.*, st.pos_id AS pos_id, st.name AS name, st.pos_number AS pos_number,"
        " st.chassis_id AS chassis_id, st.station_group AS station_group"
        " FROM shifts sh JOIN stations st ON st.id = sh.station_id WHERE sh.id = :id",
        {"id": shift_id},
    )
    assert shift is not None
    body: dict[str, Any] = {"pos_id": shift["pos_id"]}
    if kind is SyncKind.SHIFT_OPEN:
        body |= _pick(shift, SHIFT_OPEN_COLUMNS)
        body["station"] = _pick(shift, STATION_COLUMNS)
    else:
        body |= _pick(shift, SHIFT_CLOSE_COLUMNS)
        count = conn.fetchone(
            "SELECT COUNT(*) AS n, MIN(CAST(document_id AS BIGINT)) AS first,"
            " MAX(CAST(document_id AS BIGINT)) AS last FROM receipts WHERE shift_id = :id",
            {"id": shift_id},
        )
        assert count is not None
        body |= {
            "receipt_count": count["n"],
            "first_document_id": None if count["first"] is None else str(count["first"]),
            "last_document_id": None if count["last"] is None else str(count["last"]),
        }
    return Item(kind, str(shift_id), shift["pos_id"], body)
