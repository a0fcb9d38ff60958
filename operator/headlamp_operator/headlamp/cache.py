"""A single-flight cache with a time to live and a size bound: one request in flight per key, its answer kept a while.

The operator asks the same question many times at once: a burst of resources of one cluster wants
the same discovery answer, the same Service, the same forward list, the same Secret. A
:class:`FlightCache` lets the first caller ask and every other caller wait for that answer:

- **single flight**: while a load runs, callers of the same key await it instead of starting another;
  the load runs as a task of its own, so a cancelled caller never cancels it for the others;
- **time to live**: an answer is served for ``ttl`` seconds counted from the moment its load *started*
  (the answer describes that moment); later, the next caller loads again. A load still running after
  ``ttl`` seconds is not joined either: the next caller starts a new one;
- **failures**: the callers waiting on a failed load all get its exception. Whether later callers get
  it too is each cache's explicit choice, ``failure_ttl``: ``0`` (the default) means failures are
  never cached, the next caller loads again; a positive value keeps a failure for that many seconds
  (a negative cache, e.g. one failed list request stands for its whole interval);
- **invalidation**: :meth:`discard`, :meth:`discard_where` and :meth:`clear` forget entries, in flight
  or not. A load in flight still answers the callers already waiting on it, but its answer is not
  kept: an invalidation during a request never brings the old state back;
- **size bound**: at most ``max_size`` entries; past it, expired entries go first, then the oldest.

Nothing here knows aiohttp, Kubernetes or kopf: it is the request layer's tool, used by the layers
above it too.
"""
from __future__ import annotations

import asyncio
import dataclasses
import math
import time
from collections.abc import Awaitable, Callable, Hashable, Iterator
from typing import Generic, TypeVar

from headlamp_operator.settings import MAX_CACHED

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclasses.dataclass(eq=False)
class _Entry(Generic[V]):
    started: float
    task: asyncio.Future[V]


class FlightCache(Generic[K, V]):
    """Answers by key, loaded once however many callers ask at once, kept ``ttl`` seconds (see the module)."""

    def __init__(self, *, ttl: float = math.inf, failure_ttl: float = 0.0, max_size: int = MAX_CACHED,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if max_size < 1:
            raise ValueError("a cache needs room for at least one entry")
        self.ttl = ttl
        self.failure_ttl = failure_ttl
        self.max_size = max_size
        self._clock = clock
        self._entries: dict[K, _Entry[V]] = {}  # in the order the loads started: the oldest first

    def __len__(self) -> int:
        """The number of entries held, in flight or answered (expired ones until they are pruned)."""
        return len(self._entries)

    def __iter__(self) -> Iterator[K]:
        """The keys held (a copy: the cache may change while the caller looks)."""
        return iter(list(self._entries))

    async def get(self, key: K, load: Callable[[], Awaitable[V]], *, fresh: bool = False,
                  since: float | None = None) -> V:
        """The answer for ``key``: the cached one, the one in flight, or a new ``load()`` (always, if ``fresh``).

        ``since`` (on this cache's clock): only an answer whose load started then or later will do, so
        that callers who want an answer newer than a moment (a retry after a failure) share one load.
        Raises what the load raised, to every caller that waited on it.
        """
        now = self._clock()
        entry = self._entries.get(key)
        if fresh or entry is None or not self._usable(entry, now) or (since is not None and entry.started < since):
            entry = self._start(key, load, now)
        return await asyncio.shield(entry.task)

    def discard(self, key: K) -> None:
        """Forget one key (a load in flight still answers its waiters, and is not kept)."""
        self._entries.pop(key, None)

    def discard_where(self, predicate: Callable[[K], bool]) -> None:
        """Forget every key ``predicate`` holds true for (e.g. everything of one credential)."""
        for key in [key for key in self._entries if predicate(key)]:
            del self._entries[key]

    def clear(self) -> None:
        """Forget everything (e.g. the backend asked for a reload)."""
        self._entries.clear()

    def _usable(self, entry: _Entry[V], now: float) -> bool:
        age = now - entry.started
        task = entry.task
        if task.done() and (task.cancelled() or task.exception() is not None):
            return age < self.failure_ttl
        return age < self.ttl

    def _start(self, key: K, load: Callable[[], Awaitable[V]], now: float) -> _Entry[V]:
        entry = _Entry(started=now, task=asyncio.ensure_future(load()))
        self._entries.pop(key, None)  # to the end: the order stays that of the starts
        self._entries[key] = entry
        entry.task.add_done_callback(lambda task: self._finished(key, entry))
        self._prune(now)
        return entry

    def _finished(self, key: K, entry: _Entry[V]) -> None:
        task = entry.task
        failed = task.cancelled() or task.exception() is not None  # (retrieved: no "never retrieved" warning)
        if failed and self.failure_ttl <= 0 and self._entries.get(key) is entry:
            del self._entries[key]

    def _prune(self, now: float) -> None:
        """Drop expired entries from the oldest on, and the oldest live ones beyond ``max_size``."""
        while self._entries:
            oldest = next(iter(self._entries))
            if len(self._entries) <= self.max_size and self._usable(self._entries[oldest], now):
                break
            del self._entries[oldest]
