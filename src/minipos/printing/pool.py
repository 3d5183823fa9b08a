"""Where previews and e-receipt images are drawn: a few threads, a bounded queue, a cache.

Drawing used to run behind one process-wide lock (the preview's FreeType faces were shared and
a face must not serve two threads), so one expensive render held up every other. Each thread
now has its own fonts (:mod:`minipos.printing.preview`), and renders run side by side on
``workers`` threads. At most ``workers + queue`` renders are admitted at a time; the next one
is refused at once with :class:`Busy` (the API answers 503 with ``Retry-After``) instead of
piling up. A render gets a deadline when it starts (``timeout_seconds``) and gives up past it.
Finished renders are kept in a small LRU cache keyed by a hash of what was drawn
(:func:`content_key`), so showing the same receipt again costs nothing.

:func:`shared` is the process's pool, sized from :class:`minipos.config.Settings`.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from minipos.config import Settings

__all__ = ["Busy", "Job", "RenderPool", "content_key", "shared"]

#: A render: called with its deadline (a ``time.monotonic()`` value), returns the bytes.
Job = Callable[[float], bytes]


class Busy(Exception):
    """Every render thread and queue place is taken."""

    def __init__(self) -> None:
        super().__init__("The preview renderer is busy; try again shortly.")


def content_key(*parts: object) -> str:
    """A cache key for a render of ``parts`` (format, documents, profile, wording).

    The parts are frozen dataclasses and structs, whose ``repr`` shows every field.
    """
    return hashlib.sha256(repr(parts).encode("utf-8", "surrogatepass")).hexdigest()


class RenderPool:
    def __init__(
        self,
        *,
        workers: int,
        queue: int,
        timeout_seconds: float,
        cache_entries: int,
        cache_bytes: int,
    ) -> None:
        self.timeout_seconds = timeout_seconds
        #: Seconds a refused caller should wait: by then a render has finished or given up.
        self.retry_after = max(1, round(timeout_seconds / 2))
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="render")
        self._admitted = threading.BoundedSemaphore(workers + queue)
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._cache_entries = cache_entries
        self._cache_bytes = cache_bytes
        self._cached_bytes = 0
        self._lock = threading.Lock()

    def submit(self, key: str, job: Job) -> Future[bytes]:
        """The render of ``key`` by ``job``: from the cache, or queued. Raises :class:`Busy`."""
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
        if found is not None:
            done: Future[bytes] = Future()
            done.set_result(found)
            return done
        if not self._admitted.acquire(blocking=False):
            raise Busy()
        try:
            future = self._executor.submit(self._run, key, job)
        except BaseException:
            self._admitted.release()
            raise
        future.add_done_callback(lambda _: self._admitted.release())
        return future

    def render(self, key: str, job: Job) -> bytes:
        """Render in the pool and wait, from a thread (the e-receipt sender)."""
        return self.submit(key, job).result()

    async def render_async(self, key: str, job: Job) -> bytes:
        """Render in the pool and wait, from the event loop (previews)."""
        return await asyncio.wrap_future(self.submit(key, job))

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _run(self, key: str, job: Job) -> bytes:
        data = job(time.monotonic() + self.timeout_seconds)
        self._remember(key, data)
        return data

    def _remember(self, key: str, data: bytes) -> None:
        if len(data) * 4 > self._cache_bytes:  # one huge image would evict everything else
            return
        with self._lock:
            if key in self._cache:
                return
            self._cache[key] = data
            self._cached_bytes += len(data)
            while len(self._cache) > self._cache_entries or self._cached_bytes > self._cache_bytes:
                _, dropped = self._cache.popitem(last=False)
                self._cached_bytes -= len(dropped)


@functools.cache
def shared() -> RenderPool:
    """This process's pool, created on first use from the ``MINIPOS_RENDER_*`` settings."""
    settings = Settings.from_env()
    return RenderPool(
        workers=settings.render_workers,
        queue=settings.render_queue,
        timeout_seconds=settings.render_timeout_seconds,
        cache_entries=settings.render_cache_entries,
        cache_bytes=settings.render_cache_mb * 1024 * 1024,
    )
