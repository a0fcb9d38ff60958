"""What the handlers and the schedulers share for the operator's lifetime: settings, the Backend, caches, and
what is known of each resource.

Per-resource state (the schedulers' tracked entries, the Secret versions a failure happened with) is
dropped in one place, when kopf sees the resource deleted (``forget-*`` in
:mod:`headlamp_operator.handlers.registration`).
"""
from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping
from typing import Any, Protocol

from headlamp_operator.headlamp.backend import Backend
from headlamp_operator.kube.api import KubeApi
from headlamp_operator.kube.events import EventRecorder, EventSource
from headlamp_operator.reconciling import credentials, specs, targets
from headlamp_operator.reconciling.forwardlists import ForwardLists
from headlamp_operator.scheduling.retries import Retries
from headlamp_operator.settings import Settings


class PodWatchState(Protocol):
    """What a forward's context needs of the pod watches (:class:`.podwatch.PodWatches`)."""

    def unwatched(self, uid: str) -> str:
        """Why the forward's pods are not watched, or ``""``."""


class NotStarted(RuntimeError):
    """The Backend is asked for before the operator's startup opened it, or after its cleanup closed it."""


def snapshot(body: Mapping[str, Any], status: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What a scheduler keeps of a resource between events, ``status`` merged in: as little as it needs.

    Its identity (for the status write and its Event), the generation, ``spec.credentials`` (a Failed
    resource is retried when one of its Secrets changes) and the status, whose conditions keep only
    what the next status is rendered from (type, status, lastTransitionTime). Thousands of resources
    are kept: every field left out is memory.
    """
    metadata = body.get("metadata") or {}
    current = {**(body.get("status") or {}), **(status or {})}
    current["conditions"] = [{key: c.get(key) for key in ("type", "status", "lastTransitionTime")}
                             for c in current.get("conditions") or () if isinstance(c, Mapping)]
    credentials = (body.get("spec") or {}).get("credentials")
    return {"apiVersion": body.get("apiVersion"), "kind": body.get("kind"),
            "metadata": {key: metadata.get(key) for key in ("name", "namespace", "uid", "generation")},
            "spec": {"credentials": credentials} if credentials is not None else {}, "status": current}


@dataclasses.dataclass(kw_only=True, slots=True)
class TrackedPatch:
    """A ResourcePatch as the scheduler knows it: a trimmed body (metadata, spec, status) and its parsed spec."""

    body: Mapping[str, Any]
    spec: specs.ResourcePatchSpec | list[str]  # the problems, for an invalid one


@dataclasses.dataclass(kw_only=True, slots=True)
class TrackedForward:
    """A PortForward as its scheduler knows it: a trimmed body and its parsed spec."""

    body: Mapping[str, Any]
    spec: specs.PortForwardSpec | list[str]  # the problems, for an invalid one
    # The shared list's ``by_id`` it was last found steady in. While the backend's answer is the same
    # (the same object, ForwardLists) and this entry is not replaced (track), it still is.
    steady_in: Mapping[str, Any] | None = None
    # Derived once here, not on every pass of the scheduler over thousands of forwards:
    cluster: str = dataclasses.field(init=False)  # its spec's cluster ("" for an invalid spec)
    listed: bool = dataclasses.field(init=False)  # checked in the backend-wide list (not a dynamic cluster)
    secrets: tuple[tuple[str, str], ...] = dataclasses.field(init=False)  # (namespace, name) of its Secrets

    def __post_init__(self) -> None:
        spec = self.spec
        named = spec.credentials if isinstance(spec, specs.PortForwardSpec) else None
        namespace = self.body["metadata"]["namespace"]
        self.cluster = spec.cluster if isinstance(spec, specs.PortForwardSpec) else ""
        self.listed = isinstance(spec, specs.PortForwardSpec) and (named is None or named.kubeconfig is None)
        self.secrets = tuple((namespace, ref.name) for ref in named.references().values()) if named else ()


class TrackedForwards:
    """uid -> :class:`TrackedForward`, with a ``version`` that changes with every put and pop.

    The scheduler derives views of the whole table each pass (the clusters, the Secrets); it rebuilds
    them only when the version changed, so an idle pass over thousands of forwards is not a loop over them.
    """

    __slots__ = ("_by_uid", "changed", "version")

    def __init__(self) -> None:
        self._by_uid: dict[str, TrackedForward] = {}
        self.version = 0
        self.changed = asyncio.Event()  # set by every put and pop (the pod watches follow it)

    def get(self, uid: str) -> TrackedForward | None:
        """The forward as last seen, or None if it is not tracked."""
        return self._by_uid.get(uid)

    def put(self, uid: str, tracked: TrackedForward) -> None:
        """Track a forward (anew: a new entry replaces the one before)."""
        self._by_uid[uid] = tracked
        self.version += 1
        self.changed.set()

    def pop(self, uid: str) -> TrackedForward | None:
        """Stop tracking a forward (deleted, or going); None if it was not tracked."""
        tracked = self._by_uid.pop(uid, None)
        if tracked is not None:
            self.version += 1
            self.changed.set()
        return tracked

    def items(self) -> list[tuple[str, TrackedForward]]:
        """(uid, forward) pairs, a copy: the table may change while the caller goes through them."""
        return list(self._by_uid.items())


@dataclasses.dataclass
class Runtime:
    """The operator's shared state; the Backend is opened at startup and closed at cleanup."""

    settings: Settings
    read_secret: credentials.SecretReader
    kube: KubeApi  # the operator's own Kubernetes API calls
    events: EventRecorder = dataclasses.field(init=False)  # posts over ``kube``; closed with it
    backend: Backend | None = None
    lists: ForwardLists = dataclasses.field(init=False)
    resolutions: targets.Resolutions = dataclasses.field(init=False)
    blocked: dict[str, Mapping[str, str | None]] = dataclasses.field(default_factory=dict)  # uid -> secret rvs
    patches: dict[str, TrackedPatch] = dataclasses.field(default_factory=dict)  # uid -> ResourcePatch as last seen
    scheduler: asyncio.Task[None] | None = None  # the ResourcePatch scheduler, started by the first handler
    forwards: TrackedForwards = dataclasses.field(default_factory=TrackedForwards)  # PortForwards as last seen
    forward_scheduler: asyncio.Task[None] | None = None  # the PortForward scheduler, started likewise
    restarts: dict[str, int] = dataclasses.field(default_factory=dict)  # uid -> heals in a row that did not last
    pod_watches: PodWatchState | None = None  # the pods behind the forwards, watched (started with the health pass)
    # Each kind's retries of its transient outcomes (docs/status.md#retries), set up when its handlers are registered:
    forward_retries: Retries | None = None
    patch_retries: Retries | None = None

    def __post_init__(self) -> None:
        bound = self.settings.backend.max_cached
        self.lists = ForwardLists(ttl=self.settings.reconcile.sync_interval, max_size=bound)
        self.resolutions = targets.Resolutions(max_size=bound)
        identity = self.settings.peering.identity
        self.events = EventRecorder(self.kube, source=EventSource(instance=identity) if identity else EventSource())

    @property
    def open_backend(self) -> Backend:
        """The Backend, which exists between startup and cleanup.

        Raises:
            NotStarted: outside that time (a kopf handler is then retried:
                :func:`headlamp_operator.handlers.started`).
        """
        if self.backend is None:
            raise NotStarted("the operator is still starting")
        return self.backend


