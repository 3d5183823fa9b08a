"""MINIPOS_REFERENCE_FILE with and without dated tax rates (docs/api-conventions.md)."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from minipos.config import ConfigError, Settings
from minipos.domain.reference import RateChange

BASE: dict[str, Any] = {
    "fiscal_sections": [{"id": 1, "name": "Nodaļa 1"}],
    "payment_methods": [{"id": 1, "code": 0, "name": "Skaidrā nauda", "is_cash": True}],
}


def _load(tmp_path: Path, taxes: list[dict[str, Any]]) -> Settings:
    path = tmp_path / "reference.json"
    path.write_text(json.dumps({"taxes": taxes, **BASE}))
    return Settings(reference_file=str(path))


def test_an_old_file_without_changes_loads_as_before(tmp_path: Path) -> None:
    taxes = _load(tmp_path, [{"id": 0, "rate": "21", "name": "PVN 21%"}]).reference().taxes
    assert (taxes[0].rate, taxes[0].changes) == (Decimal(21), ())


def test_dated_changes_load_in_order(tmp_path: Path) -> None:
    taxes = (
        _load(
            tmp_path,
            [
                {
                    "id": 6,
                    "rate": 21,
                    "name": "Pamatpārtika",
                    "changes": [
                        {"valid_from": "2026-07-01T00:00:00", "rate": "12"},
                        {"valid_from": "2027-01-01T00:00:00", "rate": 5},
                    ],
                }
            ],
        )
        .reference()
        .taxes
    )
    assert taxes[6].changes == (
        RateChange(datetime(2026, 7, 1), Decimal(12)),
        RateChange(datetime(2027, 1, 1), Decimal(5)),
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            [
                {"valid_from": "2027-01-01T00:00:00", "rate": 5},
                {"valid_from": "2026-07-01T00:00:00", "rate": 12},
            ],
            "taxes id 6 changes: valid_from must increase",
        ),
        ([{"valid_from": "2026-07-01T00:00:00+03:00", "rate": 12}], "MINIPOS_REFERENCE_FILE"),
        ([{"valid_from": "2026-07-01T00:00:00", "rate": -1}], "taxes id 6 changes: A rate"),
        ([{"valid_from": "soon", "rate": 12}], "MINIPOS_REFERENCE_FILE"),
    ],
)
def test_bad_changes_stop_start_up_naming_the_group(
    tmp_path: Path, changes: list[dict[str, Any]], message: str
) -> None:
    settings = _load(tmp_path, [{"id": 6, "rate": 21, "name": "x", "changes": changes}])
    with pytest.raises(ConfigError, match=message):
        settings.reference()
