"""Watching the pods behind PortForwards, so that a forward whose pod dies is moved at once
(docs/portforward.md#watching-pods), not after Headlamp's 5 s pod monitor and the next health pass.

One watch per (cluster, credential, namespace) of the forwards that should run, however many forwards share it
(:class:`PodWatches`): one request, the namespace's pods first, then their changes, made again from where it
ended, through Headlamp's cluster proxy with the forwards' own credentials (:mod:`headlamp_operator.headlamp.watch`).
What it sees of a pod becomes, for each forward of the watch:

- the pod a Running forward runs on is deleted, being deleted (``deletionTimestamp``) or no longer Ready: the
  forward is moved (:func:`~headlamp_operator.scheduling.healing.retry` with a ``cause``): its status says
  Pending at once, then a service forward starts on another Ready pod on the same local port, and a pod
  forward waits for its pod;
- a pod becomes Ready: a Pending forward that may run on it (a pod forward of that name, a service forward
  waiting for a Ready pod) is retried now instead of after its backoff.

A watch the credential may not make (403) is tried again every :data:`FORBIDDEN_PAUSE` seconds; meanwhile
each of its Running forwards says once in its status that it is healed by the health pass only
(:meth:`PodWatches.unwatched`). The end of a watch makes the next at once; a failure, after a pause. The health
pass (:mod:`~headlamp_operator.scheduling.forwardpass`) stays the safety net: a backend restart, a stream that
died without a word (kopf #1267).
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from headlamp_operator.headlamp import errors, paths, watch
from headlamp_operator.reconciling import specs, targets
from headlamp_operator.scheduling import forwards, gate
from headlamp_operator.scheduling import state as rt
from headlamp_operator.status.outcomes import Result

logger = logging.getLogger("headlamp_operator.portforwards")

WatchKey = tuple[str, str, str, str]  # (cluster, the resources' namespace, their credentials spec, the pods' namespace)
WATCH_SECONDS = 290  # the API server ends each watch after this; it is made again from the last resourceVersion
PAUSE = 5.0  # seconds before a watch is made again after it failed (at once after one the server ended)
FORBIDDEN_PAUSE = 300.0  # seconds before a watch the API server refused (403) is tried again
UNWATCHED = "its pods are not watched"  # how a Running forward's message begins to say so
# seconds: table changes closer than this are taken together (a burst of thousands of creations is a few looks
# at the table, not one per change); a forward's watch opens at most this long after it first runs
COALESCE = 0.5


def key_of(tracked: rt.TrackedForward) -> WatchKey | None:
    """The watch a tracked forward needs: one that should run on a pod or a service (never an adopted one)."""
    spec, status = tracked.spec, tracked.body.get("status") or {}
    if not isinstance(spec, specs.PortForwardSpec) or spec.state != "Running" or spec.adopting:
        return None
    if status.get("phase") not in ("Running", "Pending"):
        return None
    namespace = tracked.body["metadata"]["namespace"]
    pods_namespace = (spec.namespace or namespace) if spec.pod else (spec.service_namespace or spec.namespace
                                                                      or namespace)
    return spec.cluster, namespace, repr(spec.credentials), pods_namespace


def why_dead(kind: str, pod: Mapping[str, Any]) -> str:
    """What a watch event says of a pod that no longer serves, in a status message's words."""
    metadata = pod.get("metadata") or {}
    shown = f"{metadata.get('namespace')}/{metadata.get('name')}"
    if kind == "DELETED":
        return f"pod {shown} was deleted"
    if metadata.get("deletionTimestamp"):
        return f"pod {shown} is being deleted"
    phase = (pod.get("status") or {}).get("phase")
    return f"pod {shown} is {phase}" if phase != "Running" else f"pod {shown} is no longer Ready"


@dataclasses.dataclass(eq=False)
class PodWatch:
    """One watch: the forwards that share it, what it knows of their namespace's pods, and its task."""

    key: WatchKey
    uids: set[str] = dataclasses.field(default_factory=set)
    alive: dict[str, str] = dataclasses.field(default_factory=dict)  # pod name -> uid, for the pods that serve
    version: str = ""  # the last resourceVersion seen, where the next watch request starts ("": from now)
    forbidden: str = ""  # the API server's 403 to this watch: the forwards are healed by the health pass only
    task: asyncio.Task[None] | None = None


class PodWatches:
    """The pod watches the tracked forwards need, started and stopped as the forwards come and go."""

    def __init__(self, runtime: rt.Runtime) -> None:
        self.runtime = runtime
        self.watches: dict[WatchKey, PodWatch] = {}
        self._of: dict[str, WatchKey] = {}  # uid -> its watch

    def unwatched(self, uid: str) -> str:
        """Why the forward's pods are not watched (the 403 of its watch), or ``""``."""
        found = self.watches.get(self._of.get(uid, ("", "", "", "")))
        return found.forbidden if found is not None else ""

    async def serve(self) -> None:
        """Follow the table of forwards for good: each change, the watches it needs (until cancelled)."""
        table = self.runtime.forwards
        try:
            while True:
                await table.changed.wait()
                table.changed.clear()
                self.sync()
                await asyncio.sleep(COALESCE)
        finally:
            for found in self.watches.values():
                if found.task is not None:
                    found.task.cancel()

    def sync(self) -> None:
        """Start the watches the tracked forwards need, stop the ones nobody needs, and tell each its forwards."""
        wanted: dict[WatchKey, set[str]] = {}
        for uid, tracked in self.runtime.forwards.items():
            key = key_of(tracked)
            if key is not None:
                wanted.setdefault(key, set()).add(uid)
        for key in [key for key in self.watches if key not in wanted]:
            gone = self.watches.pop(key)
            if gone.task is not None:
                gone.task.cancel()
        self._of = {uid: key for key, uids in wanted.items() for uid in uids}
        for key, uids in wanted.items():
            found = self.watches.get(key)
            if found is None:
                found = self.watches[key] = PodWatch(key)
                found.task = asyncio.create_task(self._run(found), name=f"pod watch {key[0]}/{key[3]}")
            found.uids = uids

    # -- one watch ----------------------------------------------------------------------------------

    async def _run(self, found: PodWatch) -> None:
        """Watch, again and again: at once after the server ended a watch, after a pause when it failed (see the
        module)."""
        while True:
            try:
                await self._watch(found)
                continue  # the server ended the watch: again from where it ended
            except asyncio.CancelledError:
                raise
            except errors.ForbiddenError as e:
                if not found.forbidden:
                    found.forbidden = f"{UNWATCHED} ({e.message}): a pod's death is noticed by the health " \
                                      f"pass, every {self.runtime.settings.reconcile.sync_interval:g}s"
                    logger.warning("watching pods of %s/%s for PortForwards was refused: %s", found.key[0],
                                   found.key[3], e.message)
                    self._say(found)
                await asyncio.sleep(FORBIDDEN_PAUSE)  # RBAC may be granted later
                continue
            except errors.ApiError as e:
                logger.info("watching pods of %s/%s: %s; again in %gs", found.key[0], found.key[3], e, PAUSE)
            except Exception:  # one watch's trouble never stops the others, nor its own next try
                logger.exception("watching pods of %s/%s failed; again in %gs", found.key[0], found.key[3], PAUSE)
            await asyncio.sleep(PAUSE)

    async def _watch(self, found: PodWatch) -> None:
        """One watch request, from where the last one ended (its last resourceVersion), or from now: the pods that
        exist come first then, an ADDED event each (and a 410 starts from now again)."""
        cluster, _, _, pods_namespace = found.key
        credentials = await self._credentials(found)
        if credentials is None:
            await asyncio.sleep(PAUSE)
            return
        path = paths.object_path(group_name="", version_name="v1", plural_name="pods", namespace_name=pods_namespace)
        try:
            async for kind, pod in watch.watch_objects(self.runtime.open_backend, path, cluster=cluster,
                                                       resource_version=found.version, credentials=credentials,
                                                       timeout_seconds=WATCH_SECONDS):
                if found.forbidden:  # granted since: the forwards that said otherwise say it no longer
                    found.forbidden = ""
                    self._say(found)
                found.version = str((pod.get("metadata") or {}).get("resourceVersion") or found.version)
                if kind in ("ADDED", "MODIFIED", "DELETED"):
                    self._seen(found, kind, pod)
        except errors.GoneError:
            found.version = ""  # too old: from now on (the pods that exist come first)

    async def _credentials(self, found: PodWatch) -> Any:
        """The credentials of the watch's forwards (they share them: the same Secrets), or None for now."""
        for uid in list(found.uids):
            tracked = self.runtime.forwards.get(uid)
            if tracked is None:
                continue
            loaded = await gate.prepare(self.runtime, tracked.spec, namespace=found.key[1])
            return None if isinstance(loaded, Result) else loaded.credentials
        return None

    def _seen(self, found: PodWatch, kind: str, pod: Mapping[str, Any]) -> None:
        """One event: a pod that stopped serving moves its forwards; one that started serving wakes the waiting."""
        metadata = pod.get("metadata") or {}
        name, uid = str(metadata.get("name") or ""), str(metadata.get("uid") or "")
        serving = kind != "DELETED" and targets.pod_ready(pod)
        before = found.alive.get(name)
        if serving:
            found.alive[name] = uid
            if before != uid:
                self._wake(found.uids, name)
            return
        found.alive.pop(name, None)
        cause = why_dead(kind, pod)
        for forward in found.uids:
            if self._pod_of(forward) == name:
                self._move(forward, cause)

    def _pod_of(self, uid: str) -> str:
        """The pod a Running forward runs on, as its status says; ``""`` when it does not run."""
        tracked = self.runtime.forwards.get(uid)
        status = (tracked.body.get("status") or {}) if tracked is not None else {}
        return str(status.get("pod") or "") if status.get("phase") == "Running" else ""

    def _move(self, uid: str, cause: str) -> None:
        """Have the forward moved now, by its retry (one attempt at a time per resource)."""
        forwards.retries(self.runtime).schedule(uid, attempt=0, delay=0.0, cause=cause)

    def _wake(self, uids: Iterable[str], pod: str) -> None:
        """A pod became Ready: retry now the Pending forwards that may run on it (their retry is only waiting)."""
        retries = forwards.retries(self.runtime)
        for uid in uids:
            tracked = self.runtime.forwards.get(uid)
            if tracked is None or not isinstance(tracked.spec, specs.PortForwardSpec):
                continue
            status = tracked.body.get("status") or {}
            if status.get("phase") != "Pending" or status.get("reason") not in ("Pending", "NotFound") \
                    or tracked.spec.pod not in ("", pod):
                continue  # (a backend's failure keeps its backoff, whatever the pods do)
            due = retries.pending(uid)
            if due is not None:
                retries.schedule(uid, attempt=due.attempt, delay=0.0, check=due.check, cause=due.cause)

    def _say(self, found: PodWatch) -> None:
        """Have each Running forward of the watch say in its status whether its pods are watched (a check writes it)."""
        retries = forwards.retries(self.runtime)
        for uid in found.uids:
            if self._pod_of(uid) and retries.get(uid) is None:
                retries.schedule(uid, attempt=0, delay=0.0, check=True)
