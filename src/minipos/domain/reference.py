"""Reference data that invoices and products point at: tax groups, fiscal sections, payment
methods (docs/decisions.md §2). Configurable per shop; these are the Latvian defaults."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class TaxGroup:
    id: int
    rate: Decimal
    name: str


@dataclass(frozen=True, slots=True)
class FiscalSection:
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class PaymentMethod:
    id: int
    code: int
    name: str
    #: Cash may exceed the amount due (the rest is change); other methods may not.
    is_cash: bool


@dataclass(frozen=True, slots=True)
class ReferenceData:
    taxes: Mapping[int, TaxGroup]
    fiscal_sections: Mapping[int, FiscalSection]
    payment_methods: Mapping[int, PaymentMethod]

    @classmethod
    def default(cls) -> ReferenceData:
        taxes = [
            TaxGroup(0, Decimal(21), "PVN 21%"),
            TaxGroup(1, Decimal(12), "PVN 12%"),
            TaxGroup(2, Decimal(5), "PVN 5%"),
            TaxGroup(3, Decimal(0), "PVN 0%"),
            TaxGroup(4, Decimal(0), "Atbrīvots no PVN"),
            TaxGroup(5, Decimal(0), "Neapliekams ar PVN"),
        ]
        methods = [
            PaymentMethod(1, 0, "Skaidrā nauda", is_cash=True),
            PaymentMethod(2, 1, "Karte", is_cash=False),
            PaymentMethod(3, 2, "Pārskaitījums", is_cash=False),
        ]
        return cls(
            taxes={t.id: t for t in taxes},
            fiscal_sections={n: FiscalSection(n, f"Nodaļa {n}") for n in range(1, 100)},
            payment_methods={m.id: m for m in methods},
        )
