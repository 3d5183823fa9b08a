"""The centre's pushed-body schemas name the domain's enumerations as plain values
(``stores.schemas``): they must stay the same sets."""

from __future__ import annotations

from typing import Any, get_args

import pytest

from minipos.domain.invoice import InvoiceMode, InvoiceStatus
from minipos.domain.money import DiscountType
from minipos.domain.receipt import ReceiptMode, ReceiptState
from minipos.stores import schemas


@pytest.mark.parametrize(
    ("values", "enum"),
    [
        (schemas.InvoiceModeValue, InvoiceMode),
        (schemas.InvoiceStatusValue, InvoiceStatus),
        (schemas.ReceiptModeValue, ReceiptMode),
        (schemas.ReceiptStateValue, ReceiptState),
        (schemas.DiscountTypeValue, DiscountType),
    ],
)
def test_the_values_are_the_domains(values: Any, enum: Any) -> None:
    assert set(get_args(values)) == {member.value for member in enum}
