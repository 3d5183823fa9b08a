"""Test-only: a process started with this directory on ``PYTHONPATH`` runs its wall clock
``MINIPOS_TEST_CLOCK_OFFSET_SECONDS`` ahead (or behind), as a shop server whose clock is
wrong would. The chain tests use it to show that clock skew changes no order
(docs/design/stores.md §8). Monotonic clocks are left alone."""

from __future__ import annotations

import os
import time

_OFFSET = float(os.environ.get("MINIPOS_TEST_CLOCK_OFFSET_SECONDS") or 0)

if _OFFSET:
    _time, _time_ns = time.time, time.time_ns
    _offset_ns = int(_OFFSET * 1_000_000_000)

    def _skewed_time() -> float:
        return _time() + _OFFSET

    def _skewed_time_ns() -> int:
        return _time_ns() + _offset_ns

    time.time = _skewed_time
    time.time_ns = _skewed_time_ns
