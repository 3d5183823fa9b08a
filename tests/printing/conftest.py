"""Fixtures for the printer transport tests: a fake network printer on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_printer import FakePrinter


@pytest.fixture
def printer() -> Iterator[FakePrinter]:
    with FakePrinter() as fake:
        yield fake
