"""When each resource's next retry is due, and the one task that makes it (docs/status.md#retries).

Every transient outcome has a retry scheduled, whoever produced it: a kopf handler (create, spec
change, the ``requestedAt`` annotation), the health pass, the re-apply pass, a Secret change, or an
earlier retry. They all end in :meth:`Retries.schedule` with the delay their message announces (the
result's ``retry_in``, from :func:`~headlamp_operator.status.outcomes.backoff` and the configured
settings): the "retrying in Ns" a user reads is the real delay. kopf's own handler retries are not
used for outcomes: a Pending written by a pass or a retry has no kopf handler behind it, and after
a restart kopf would not know of it either (influxdata/sinker#159 is that bug in another operator).

One :class:`Retries` per kind runs one forever-running loop (:meth:`Retries.serve`) that sleeps until
the earliest retry is due, then starts it as a task of its own: a slow backend holds up that one
resource, never the others' retries. A resource has at most one retry, pending or running; a
handler that takes the resource over (a spec change) cancels it first (:meth:`Retries.cancel`).
"""
from __future__ import annotations

import asyncio
import dataclasses
import heapq
import itertools
import logging
import time
from collections.abc import Awaitable, Callable

logger = logging.getLogger("headlamp_operator.retries")


@dataclasses.dataclass(slots=True, eq=False)
class Retry:
    """One scheduled retry of one resource."""

    attempt: int  # the attempt it makes, 0-based: after one failure, 1 (the message said "attempt 1" of that)
    due: float  # when, in monotonic seconds
    check: bool = False  # a PortForward: look at the backend's list first (the failure was a health check's)
    cause: str = ""  # a PortForward whose pod stopped serving (a pod watch saw it): why; it is moved


Run = Callable[[str, Retry], Awaitable[None]]  # (uid, retry): make the attempt and record its outcome


class Retries:
    """Scheduled retries by resource uid, made by :meth:`serve` when due (see the module)."""

    def __init__(self, run: Run, *, backoff: Callable[[int], float], name: str,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._run = run
        self._backoff = backoff  # seconds before attempt n + 1 when an attempt raised instead of answering
        self._name = name
        self._clock = clock
        self._pending: dict[str, Retry] = {}
        self._heap: list[tuple[float, int, str, Retry]] = []
        self._order = itertools.count()
        self._running: dict[str, tuple[Retry, asyncio.Task[None]]] = {}
        self._wake = asyncio.Event()

    def __len__(self) -> int:
        """How many resources have a retry, pending or under way."""
        return len(self._pending.keys() | self._running.keys())

    def get(self, uid: str) -> Retry | None:
        """The resource's retry, pending or under way; None when it has none."""
        found = self._pending.get(uid)
        if found is None and uid in self._running:
            found = self._running[uid][0]
        return found

    def pending(self, uid: str) -> Retry | None:
        """The resource's retry if it is only waiting (not under way); None otherwise."""
        return self._pending.get(uid)

    def schedule(self, uid: str, *, attempt: int, delay: float, check: bool = False, cause: str = "") -> Retry:
        """Retry the resource in ``delay`` seconds as attempt ``attempt``; replaces a pending retry of it."""
        retry = Retry(attempt=attempt, due=self._clock() + max(0.0, delay), check=check, cause=cause)
        self._pending[uid] = retry
        earliest = self._heap[0][0] if self._heap else None
        heapq.heappush(self._heap, (retry.due, next(self._order), uid, retry))
        if earliest is None or retry.due < earliest:
            self._wake.set()
        return retry

    def cancel(self, uid: str) -> None:
        """Drop the resource's retry: the pending one, and the one under way (unless it is the caller)."""
        self._pending.pop(uid, None)
        running = self._running.get(uid)
        if running is not None and running[1] is not asyncio.current_task():
            running[1].cancel()
            del self._running[uid]

    async def serve(self) -> None:
        """Make every retry when it is due, each as a task of its own; runs until cancelled (then cancels them)."""
        try:
            while True:
                self._start_due()
                timeout = max(0.0, self._heap[0][0] - self._clock()) if self._heap else None
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout)
                except TimeoutError:
                    pass
        finally:
            for _, task in list(self._running.values()):
                task.cancel()
            self._running.clear()

    def _start_due(self) -> None:
        now = self._clock()
        while self._heap and self._heap[0][0] <= now:
            _, _, uid, retry = heapq.heappop(self._heap)
            if self._pending.get(uid) is not retry:
                continue  # replaced or cancelled since
            del self._pending[uid]
            if uid in self._running:  # the last one is still under way: this one follows it
                self.schedule(uid, attempt=retry.attempt, delay=0.5, check=retry.check, cause=retry.cause)
                continue
            task = asyncio.create_task(self._make(uid, retry), name=f"{self._name} retry {uid}")
            self._running[uid] = (retry, task)

    async def _make(self, uid: str, retry: Retry) -> None:
        try:
            await self._run(uid, retry)
        except asyncio.CancelledError:
            raise
        except Exception:  # an attempt that raised is still a transient outcome: it gets a retry too
            delay = self._backoff(retry.attempt)
            logger.exception("%s %s: retry %d failed; retrying in %gs", self._name, uid, retry.attempt, delay)
            if self._running.get(uid, (None,))[0] is retry and uid not in self._pending:
                del self._running[uid]
                self.schedule(uid, attempt=retry.attempt + 1, delay=delay, check=retry.check, cause=retry.cause)
        finally:
            if self._running.get(uid, (None,))[0] is retry:
                del self._running[uid]
