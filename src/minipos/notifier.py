"""In-process wake-ups for long-polling readers (station feeds, the event stream, workers).

A commit that a waiter cares about (a new or released invoice, a new event) wakes every waiter
in this process at once. Other processes (PostgreSQL deployments) are not told: their waiters
re-check the database every second, which bounds the delay.
"""

from __future__ import annotations

import asyncio
import contextlib


class Notifier:
    def __init__(self) -> None:
        self._event = asyncio.Event()
        #: Waiters right now: a notify with none (most commits) costs one comparison.
        self._waiting = 0

    def notify(self) -> None:
        if self._waiting:
            self._event.set()
            self._event = asyncio.Event()

    async def wait(self, timeout: float) -> None:
        """Return when notified or after ``timeout`` seconds, whichever comes first."""
        self._waiting += 1
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), timeout)
        finally:
            self._waiting -= 1
