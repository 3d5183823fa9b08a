"""Catalogue use cases, one module per concern: ``products``, ``categories``, the stations'
``sync_feed``, and ``import_export`` (whole files); ``shapes`` maps stored rows to the API's.

Functions that touch storage take a ``Connection`` and run inside the caller's unit of work
(``Database.write``/``read``/``run``). Every write first takes a catalogue revision, which
also serialises catalogue writers (``repository.take_revisions``); the checks that follow
therefore see the catalogue as it will be when the change commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from minipos.domain.reference import ReferenceData


@dataclass(frozen=True, slots=True)
class CatalogueContext:
    reference: ReferenceData
    zone: ZoneInfo
