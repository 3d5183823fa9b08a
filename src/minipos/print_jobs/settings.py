"""Printing settings: the shop's printed particulars and the print worker's knobs.

Read from ``MINIPOS_*`` environment variables like :class:`minipos.config.Settings` (which
ignores the ones it does not know, so both read the same environment):

``MINIPOS_SHOP_NAME``, ``MINIPOS_SHOP_ADDRESS`` (lines separated by ``|``),
``MINIPOS_SHOP_VAT_NUMBER``, ``MINIPOS_SHOP_REGISTRATION_NUMBER``: the top of every receipt.
``MINIPOS_PRINT_LANGUAGE``: ``lv`` (default) or ``en``.
``MINIPOS_FISCAL_PROFILE``: ``lv`` (default; the seller identity above is then required) or
``generic``; ``MINIPOS_SUPPORTING_DOCUMENT_LIMIT``: supporting documents per receipt (``lv``).
``MINIPOS_PRINT_WORKER``: ``false`` keeps a server process from sending print jobs.
``MINIPOS_PRINT_POLL_SECONDS``, ``MINIPOS_PRINT_LEASE_SECONDS``,
``MINIPOS_PRINT_BACKOFF_CAP_SECONDS``: see :class:`PrintSettings`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from minipos.config import ConfigError, load_env
from minipos.domain.fiscal import FiscalProfile, missing_seller_identity
from minipos.printing import ShopInfo
from minipos.printing.wording import ENGLISH, LATVIAN, Wording


class PrintSettings(msgspec.Struct, frozen=True, kw_only=True):
    shop_name: str = ""
    #: Address lines, separated by ``|``.
    shop_address: str = ""
    shop_vat_number: str = ""
    shop_registration_number: str = ""
    print_language: Literal["lv", "en"] = "lv"
    #: ``lv``: Latvian receipts, supporting documents instead of copies (docs/fiscal.md).
    fiscal_profile: FiscalProfile = FiscalProfile.LV
    #: Supporting documents (lost-receipt replacements) one receipt may get in ``lv``.
    supporting_document_limit: Annotated[int, Meta(ge=0, le=100)] = 3
    #: Run the print worker in this process.
    print_worker: bool = True
    #: How often the worker looks for due jobs (it also wakes when a send finishes).
    print_poll_seconds: Annotated[float, Meta(gt=0, le=60)] = 0.5
    #: A job being sent is leased for this long; the sender renews the lease every third of
    #: it. A job whose lease ran out (its process died mid-send) is marked failed.
    print_lease_seconds: Annotated[float, Meta(ge=1, le=3600)] = 30.0
    #: Retry delays double from 1 s up to this.
    print_backoff_cap_seconds: Annotated[float, Meta(ge=1, le=3600)] = 60.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> PrintSettings:
        return load_env(cls, environ)

    def check_fiscal(self) -> None:
        """Refuse to start without what the fiscal profile must print (a ConfigError names
        the variable)."""
        values = {
            "MINIPOS_SHOP_NAME": self.shop_name,
            "MINIPOS_SHOP_REGISTRATION_NUMBER": self.shop_registration_number,
            "MINIPOS_SHOP_VAT_NUMBER": self.shop_vat_number,
            "MINIPOS_SHOP_ADDRESS": self.shop_address,
        }
        if problem := missing_seller_identity(self.fiscal_profile, values):
            raise ConfigError(problem)

    @property
    def shop(self) -> ShopInfo:
        return ShopInfo(
            name=self.shop_name,
            address_lines=tuple(
                line.strip() for line in self.shop_address.split("|") if line.strip()
            ),
            vat_number=self.shop_vat_number or None,
            registration_number=self.shop_registration_number or None,
        )

    @property
    def wording(self) -> Wording:
        return ENGLISH if self.print_language == "en" else LATVIAN
