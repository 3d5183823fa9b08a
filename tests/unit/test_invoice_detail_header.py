"""An invoice's header in the answer: every stored column lands in the field of its name (the
summary and the detail are built positionally for speed, so a reordered struct must fail here,
not in a client)."""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

import msgspec

from minipos.domain.reference import ReferenceData
from minipos.invoices.repository import HEADER_COLUMNS
from minipos.invoices.schemas import InvoiceSummary
from minipos.invoices.service import ShopConfig, detail, summary

#: 2026-02-17 14:50:13.428620 UTC, 16:50:13 in Riga; the others a second apart.
_AT = 1_771_339_813_428_620

STORED = {
    # The columns the answer does not show, each a value of its own (read by position, a
    # shifted one would turn up in a field).
    **{column: f"<{column}>" for column in HEADER_COLUMNS},
    "id": 7,
    "mode": 2,
    "station": 4,
    "invoice_no": "A-1",
    "discount": 150,
    "discount_type": "amount",
    "created_at": _AT,
    "updated_at": _AT + 1_000_000,
    "printed_at": _AT + 2_000_000,
    "print_station": 5,
    "print_pos_id": "12",
    "print_chassis_id": "CH-9",
    "check_num": "0042",
    "total_sum": 1234,
    "changed_sum": 1230,
    "status": 30,
    "comment": "c",
    "keep_drawer_closed": 1,
    "print_paper_receipt": 0,
    "is_auto_open": 0,
    "report": '{"r":1}',
    "common_id": 99,
    "synchronized_at": _AT + 3_000_000,
    "info": '{"blocks":[]}',
    "station_group": "g",
}
CTX = ShopConfig(ReferenceData.default(), ZoneInfo("Europe/Riga"), "default")
EXPECTED = {
    "id": 7,
    "mode": 2,
    "station": 4,
    "invoice_no": "A-1",
    "discount": Decimal("1.5"),
    "discount_type": "amount",
    "created_at": "2026-02-17T16:50:13.428620",
    "updated_at": "2026-02-17T16:50:14.428620",
    "printed_at": "2026-02-17T16:50:15.428620",
    "print_station": 5,
    "print_pos_id": "12",
    "print_chassis_id": "CH-9",
    "check_num": "0042",
    "total_sum": Decimal("12.34"),
    "changed_sum": Decimal("12.3"),
    "status": 30,
    "comment": "c",
    "keep_drawer_closed": True,
    "print_paper_receipt": False,
    "is_auto_open": False,
    "report": msgspec.Raw(b'{"r":1}'),
    "common_id": 99,
    "synchronized_at": "2026-02-17T16:50:16.428620",
    "info": msgspec.Raw(b'{"blocks":[]}'),
    "status_name": "Done",
}


def test_each_stored_column_lands_in_its_field() -> None:
    assert set(EXPECTED) == set(InvoiceSummary.__struct_fields__)
    assert msgspec.structs.asdict(summary(STORED, CTX)) == EXPECTED
    assert msgspec.structs.asdict(detail(STORED, [], [], CTX)) == {
        **EXPECTED,
        "station_group": "g",
        "rows": [],
        "payments": [],
        "receipts": [],
    }


def test_a_new_invoice_shows_one_instant_twice_and_an_empty_info() -> None:
    new = {**STORED, "updated_at": _AT, "printed_at": None, "report": None, "info": "{}"}
    shown = msgspec.structs.asdict(summary(new, CTX))
    assert shown["updated_at"] == shown["created_at"] == "2026-02-17T16:50:13.428620"
    assert (shown["printed_at"], shown["report"], shown["info"]) == (None, None, msgspec.Raw(b"{}"))
