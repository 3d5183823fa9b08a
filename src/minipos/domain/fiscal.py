"""The fiscal core: the profile rules a tax inspector checks, versioned on their own.

A certified till freezes the version of its fiscal core, so this module carries its own
version string (printed on every Z-report and shown by ``minipos --version`` and ``/health``),
changed whenever a rule here or a printed fiscal layout changes (docs/fiscal.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

__all__ = [
    "FISCAL_CORE_VERSION",
    "SELLER_IDENTITY",
    "FiscalProfile",
    "JournalKind",
    "missing_seller_identity",
]

#: Bumped whenever the fiscal rules or a fiscal document's printed layout change.
FISCAL_CORE_VERSION = "lv-1.1.0"  # 1.1: the Z drawer and counts, training documents


class FiscalProfile(StrEnum):
    """``lv``: Latvian rules (Cabinet Regulations No. 95 and 96); ``generic``: today's copies."""

    LV = "lv"
    GENERIC = "generic"


class JournalKind(StrEnum):
    """The fiscal documents the electronic journal (control tape) keeps."""

    RECEIPT = "receipt"
    REFUND = "refund"
    Z_REPORT = "z_report"
    SUPPORTING = "supporting_document"


#: The seller's identity every Latvian receipt carries (R1), by the variable that sets it.
SELLER_IDENTITY: tuple[tuple[str, str], ...] = (
    ("MINIPOS_SHOP_NAME", "the seller's name"),
    ("MINIPOS_SHOP_REGISTRATION_NUMBER", "the company registration number"),
    ("MINIPOS_SHOP_VAT_NUMBER", "the VAT payer number"),
    ("MINIPOS_SHOP_ADDRESS", "the outlet's address"),
)


def missing_seller_identity(profile: FiscalProfile, values: Mapping[str, str]) -> str | None:
    """The first seller-identity variable ``profile`` needs and ``values`` lacks, as a message
    naming it; ``None`` when nothing is missing (the generic profile needs none)."""
    if profile is not FiscalProfile.LV:
        return None
    for variable, meaning in SELLER_IDENTITY:
        if not values.get(variable, "").strip(" |"):
            return (
                f"{variable} is not set: the Latvian fiscal profile (MINIPOS_FISCAL_PROFILE=lv) "
                f"prints {meaning} on every receipt; set it (or MINIPOS_FISCAL_PROFILE=generic)"
            )
    return None
