"""An invoice row in the answer: every stored column lands in the field of its name (the row is
built positionally for speed, so a reordered struct must fail here, not in a client)."""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

import msgspec

from minipos.domain.reference import ReferenceData
from minipos.invoices.repository import ROWS
from minipos.invoices.service import ShopConfig, _row


def test_each_stored_column_lands_in_its_field() -> None:
    stored = {
        "id": 7,
        "invoice_id": 3,
        "position": 0,
        "code": "4750000000012",
        "text": "Piens",
        "quantity": 1235,
        "maxquantity": 2000,
        "init_quantity": 1500,
        "price": 249,
        "is_free_price": 1,
        "is_weight": 0,
        "tax": 2,
        "fiscal_section": 4,
        "discount": 50,
        "discount_type": "amount",
        "payload": "p",
        "info": '{"blocks":[]}',
        "tax_rate": 500,
    }
    ctx = ShopConfig(ReferenceData.default(), ZoneInfo("Europe/Riga"), "default")
    assert msgspec.structs.asdict(_row(ROWS.as_tuple(stored), ctx)) == {
        "id": 7,
        "invoice": 3,
        "code": "4750000000012",
        "text": "Piens",
        "quantity": Decimal("1.235"),
        "maxquantity": Decimal("2"),
        "init_quantity": Decimal("1.5"),
        "price": Decimal("2.49"),
        "is_free_price": True,
        "is_weight": False,
        "tax": 2,
        "fiscal_section": 4,
        "fiscal_section_name": "Nodaļa 4",
        "discount": Decimal("0.5"),
        "discount_type": "amount",
        "payload": "p",
        "info": msgspec.Raw(b'{"blocks":[]}'),
        "tax_rate": Decimal("5"),
    }
