"""The change log of the in-memory API server, and the watch streams that replay it.

Every write appends one event under the resourceVersion it made; a watch replays the events after the
resourceVersion it names (or starts from a snapshot of the objects taken in the same synchronous step as
its log position), then follows new ones. Older events are dropped past ``history_limit``; a watch from
before them gets ``410 Gone`` and re-lists, as with kube-apiserver's watch cache.
"""
from __future__ import annotations

import asyncio
import bisect
import collections
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import kmock

Body = dict[str, Any]


@dataclass(frozen=True)
class WatchEvent:
    """One entry of the change log that watch requests replay from a ``resourceVersion``."""
    rv: int
    resource: kmock.resource
    namespace: str | None
    type: str
    object: Body


@dataclass(frozen=True, kw_only=True)
class WatchRequest:
    """What one watch asks for: a resource, optionally one namespace and one name, and a label/field matcher."""
    resource: kmock.resource
    namespace: str | None
    name: str | None
    matcher: Callable[[Mapping[str, Any]], bool]
    api_version: str
    kind: str

    def relevant(self, namespace: str | None, body: Body) -> bool:
        """Whether an object of this resource in that namespace is one the watch shows."""
        return ((self.namespace is None or namespace == self.namespace) and self.matcher(body)
                and (self.name is None or (body.get('metadata') or {}).get('name') == self.name))


class ChangeLog:
    """The events since the oldest resourceVersion kept, and the wakeups of the watches that follow them."""

    def __init__(self, *, history_limit: int = 10_000) -> None:
        self.history_limit = history_limit
        self.active_watches: collections.Counter[tuple[kmock.resource, str | None]] = collections.Counter()
        self._log: list[WatchEvent] = []
        self._floor = 0  # the newest resourceVersion already dropped from the log
        self._wakeups: set[asyncio.Event] = set()

    def append(self, event: WatchEvent) -> None:
        """Log one write and wake every watch."""
        self._log.append(event)
        if len(self._log) > self.history_limit:
            dropped = len(self._log) - self.history_limit // 2
            self._floor = self._log[dropped - 1].rv
            del self._log[:dropped]
        for wakeup in self._wakeups:
            wakeup.set()

    def expire(self, newest: int) -> None:
        """Forget every event up to ``newest``: a watch resuming from an older resourceVersion gets 410 Gone."""
        self._floor = newest
        self._log.clear()

    async def watch(self, request: WatchRequest, *, since: str | None, snapshot: Callable[[], tuple[int, list[Body]]],
                    initial_events: bool, bookmarks: bool, bookmark_interval: float,
                    server_timeout: float | None, closed: Callable[[], bool]) -> AsyncIterator[Body]:
        """Stream watch events: the current objects (``snapshot()``: its resourceVersion and the matching
        objects, copied) or a replay after ``since``, then live changes, until ``closed()`` or the timeout."""
        loop = asyncio.get_running_loop()
        deadline = None if server_timeout is None else loop.time() + server_timeout
        next_bookmark = loop.time() + bookmark_interval
        wakeup = asyncio.Event()
        self._wakeups.add(wakeup)
        self.active_watches[request.resource, request.namespace] += 1
        try:
            if since in (None, '', '0') or initial_events:
                position, objects = snapshot()
                for body in objects:
                    yield {'type': 'ADDED', 'object': body}
                if initial_events and bookmarks:
                    yield _bookmark(request, position, {'k8s.io/initial-events-end': 'true'})
            elif not str(since).isdigit():
                yield _watch_error(400, 'BadRequest', f'invalid resourceVersion: {since!r}')
                return
            else:
                position = int(str(since))
            while True:
                if position < self._floor:
                    yield _watch_error(410, 'Expired', f'too old resource version: {position}')
                    return
                pending = self._log[bisect.bisect_right(self._log, position, key=lambda e: e.rv):]
                if pending:
                    position = pending[-1].rv
                    for event in pending:
                        if event.resource == request.resource and request.relevant(event.namespace, event.object):
                            yield {'type': event.type, 'object': event.object}
                    continue
                now = loop.time()
                if closed() or (deadline is not None and now >= deadline):
                    return
                if bookmarks and now >= next_bookmark:
                    next_bookmark = now + bookmark_interval
                    yield _bookmark(request, position)
                    continue
                wakeup.clear()
                delays = [0.5, next_bookmark - now] + ([] if deadline is None else [deadline - now])
                try:
                    await asyncio.wait_for(wakeup.wait(), timeout=max(0.0, min(delays)))
                except TimeoutError:
                    pass
        finally:
            self._wakeups.discard(wakeup)
            self.active_watches[request.resource, request.namespace] -= 1


def _bookmark(request: WatchRequest, rv: int, annotations: Mapping[str, str] | None = None) -> Body:
    meta: Body = {'resourceVersion': str(rv)}
    if annotations:
        meta['annotations'] = dict(annotations)
    return {'type': 'BOOKMARK', 'object': {'apiVersion': request.api_version, 'kind': request.kind, 'metadata': meta}}


def _watch_error(code: int, reason: str, message: str) -> Body:
    return {'type': 'ERROR', 'object': {'apiVersion': 'v1', 'kind': 'Status', 'metadata': {},
                                        'status': 'Failure', 'code': code, 'reason': reason, 'message': message}}
