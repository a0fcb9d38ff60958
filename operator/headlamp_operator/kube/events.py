"""The operator's Kubernetes Events (docs/operations.md#metrics-probes-events-and-logs): recorded without waiting,
posted by a few tasks of its own.

A handler or a scheduler calls :meth:`EventRecorder.record` and goes on: it never waits for an Event
and never fails for one (as with client-go's ``EventRecorder`` and kopf's ``kopf.event``). The Event
is stamped when it is recorded, so its time says when the phase changed, however long the queue.
A few tasks take the queue in the order recorded and post over the operator's own API session
(:class:`KubeApi`); four, so that an API server answering in tens of milliseconds still takes a
burst's Events at a hundred or more a second. Each task has a queue of its own, and one object's
Events always go to the same one: they are posted in the order they were recorded::

    record() -> queue (at most `capacity`; beyond: dropped, a warning) -> `workers` tasks -> POST core/v1 events

An Event waits for a quiet moment: it is posted once no other has been recorded for ``settle``
seconds (0.05), or once it has waited ``max_delay`` seconds (2). A single change's Event goes out
``settle`` seconds after it; in a burst, where every resource's status write and its Event compete for the same event
loop and API server, the status writes go first and the Events follow (bench/README.md: the burst's
apply->Ready). Nothing is dropped for it, and the Event's time is still when it was recorded.

Not kopf's poster: it starts a task per object and posts through kopf's API client, which costs
about twice what an Event over this session does.

A refused Event (403 without RBAC for events, a namespace being deleted) is logged and dropped; an
unanswered one, or a 429 or 5xx, is tried again after 1 and 2 seconds, then logged and dropped.
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import logging
import socket
from collections.abc import Mapping, Sequence
from typing import Any

from headlamp_operator.kube.api import KubeApi, KubeApiError, KubeError

logger = logging.getLogger("headlamp_operator.kube.events")

MAX_MESSAGE_LENGTH = 1024  # kopf's cut, well under what the API server takes
RETRY_DELAYS = (1.0, 2.0)  # seconds before the second and the third attempt
SETTLE = 0.05  # seconds without a new Event before the queued ones are posted
MAX_DELAY = 2.0  # seconds an Event waits for such a quiet moment, at most


@dataclasses.dataclass(frozen=True)
class EventSource:
    """Who reports the Events: ``kubectl describe``'s "From" column, and the Events' names."""

    component: str = "headlamp-operator"
    instance: str = dataclasses.field(default_factory=socket.gethostname)  # the replica: its POD_ID when it has one
    name_prefix: str = "headlamp-operator-"  # metadata.generateName


def reference(body: Mapping[str, Any]) -> dict[str, Any]:
    """The ``involvedObject`` of an Event about ``body``: apiVersion, kind, namespace, name, uid."""
    metadata = body.get("metadata") or {}
    return {"apiVersion": body.get("apiVersion"), "kind": body.get("kind"), "namespace": metadata.get("namespace"),
            "name": metadata.get("name"), "uid": metadata.get("uid")}


def _cut(message: str) -> str:
    """``message`` cut in the middle to :data:`MAX_MESSAGE_LENGTH` characters, as kopf does."""
    if len(message) <= MAX_MESSAGE_LENGTH:
        return message
    half = (MAX_MESSAGE_LENGTH - 3) // 2
    return f"{message[:half]}...{message[-(MAX_MESSAGE_LENGTH - 3 - half):]}"


class EventRecorder:
    """Records Events about objects and posts them in the background (see the module's docstring).

    The tasks start with the first Event, in the running event loop; :meth:`aclose` posts what is
    queued (for up to ``close_timeout`` seconds) and stops them; an Event recorded after that is not
    posted (the operator is stopping, its API session closing).
    """

    def __init__(self, api: KubeApi, *, source: EventSource | None = None, capacity: int = 10_000,
                 workers: int = 4, close_timeout: float = 5.0, retry_delays: Sequence[float] = RETRY_DELAYS,
                 settle: float = SETTLE, max_delay: float = MAX_DELAY) -> None:
        self._api = api
        self._source = source or EventSource()
        # One queue per task, an object's Events always in the same one: posted in the order recorded,
        # however long they waited for a quiet moment. ``capacity`` is for all of them together.
        self._queues: list[asyncio.Queue[tuple[str, dict[str, Any], float]]] = [
            asyncio.Queue() for _ in range(max(1, workers))]
        self._capacity = capacity
        self._queued = 0
        self._close_timeout = close_timeout
        self._retry_delays = tuple(retry_delays)
        self._tasks: list[asyncio.Task[None]] = []
        self._dropping = False  # a full queue is reported once until it has room again
        self._closed = False  # after aclose(): nothing more is posted (the session is going)
        self._settle, self._max_delay = settle, max_delay
        self._last_recorded = 0.0  # the event loop's time of the latest record()
        self._closing: asyncio.Event | None = None  # set by aclose(): what is queued goes at once

    def record(self, body: Mapping[str, Any], *, type: str, reason: str, message: str,
               action: str = "Reconcile") -> None:
        """Queue an Event about ``body`` (a namespaced object): ``type`` Normal or Warning, a CamelCase ``reason``.

        ``action`` is what the operator did (required by the API server's validation of an Event with an
        ``eventTime``): ``Reconcile`` for an outcome, ``Delete`` for a deletion's.
        """
        involved = reference(body)
        namespace = involved["namespace"] or "default"
        if self._closed:
            logger.debug("the operator is stopping: not posting %s %s for %s/%s", type, reason, namespace,
                         involved["name"])
            return
        now = datetime.datetime.now(datetime.UTC).isoformat()
        event = {"metadata": {"namespace": namespace, "generateName": self._source.name_prefix},
                 "involvedObject": involved, "type": type, "reason": reason, "message": _cut(message), "action": action,
                 "source": {"component": self._source.component}, "reportingComponent": self._source.component,
                 "reportingInstance": self._source.instance, "firstTimestamp": now, "lastTimestamp": now,
                 "eventTime": now, "count": 1}
        recorded = asyncio.get_running_loop().time()
        if self._queued >= self._capacity:
            if not self._dropping:
                logger.warning("Events are queued faster than the API server takes them: dropping %s %s for "
                               "%s/%s, and any more until there is room", type, reason, namespace, involved["name"])
            self._dropping = True
            return
        self._dropping = False
        self._last_recorded = recorded
        self._queued += 1
        self._queues[hash((namespace, involved["name"])) % len(self._queues)].put_nowait((namespace, event, recorded))
        if not self._tasks:
            self._closing = asyncio.Event()
            self._tasks = [asyncio.create_task(self._work(queue), name=f"events-{i}")
                           for i, queue in enumerate(self._queues)]

    async def _work(self, queue: asyncio.Queue[tuple[str, dict[str, Any], float]]) -> None:
        while True:
            namespace, event, recorded = await queue.get()
            try:
                await self._quiet(recorded)
                await self._post(namespace, event)
            except Exception:  # anything but the API's answers (a failed login, a garbled 2xx): the task lives on
                logger.exception("posting the Event %s %s for %s/%s failed", event["type"], event["reason"],
                                 namespace, event["involvedObject"]["name"])
            finally:
                self._queued -= 1
                queue.task_done()

    async def _quiet(self, recorded: float) -> None:
        """Until no Event has been recorded for ``settle`` seconds, or this one (recorded then) has waited
        ``max_delay``, or the recorder is closing."""
        loop = asyncio.get_running_loop()
        while self._closing is not None and not self._closing.is_set():
            now = loop.time()
            wait = min(self._last_recorded + self._settle, recorded + self._max_delay) - now
            if wait <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), timeout=wait)

    async def _post(self, namespace: str, event: dict[str, Any]) -> None:
        path = f"/api/v1/namespaces/{namespace}/events"
        for delay in (*self._retry_delays, None):
            try:
                await self._api.request("POST", path, body=event)
                return
            except KubeError as e:
                retriable = not isinstance(e, KubeApiError) or e.status == 429 or e.status >= 500
                if not retriable or delay is None:
                    logger.warning("posting the Event %s %s for %s/%s failed: %s", event["type"], event["reason"],
                                   namespace, event["involvedObject"]["name"], e)
                    return
            await asyncio.sleep(delay)

    async def aclose(self) -> None:
        """Post what is queued, waiting at most ``close_timeout`` seconds, then stop the tasks."""
        self._closed = True
        if self._closing is not None:
            self._closing.set()
        if self._tasks:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*(queue.join() for queue in self._queues)),
                                       timeout=self._close_timeout)
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
