"""The emulated world of one benchmark phase, in the bench process: Kubernetes API + Headlamp backend.

Timings are read from the emulator's store: a hook sees every committed write, so the creation
time of a resource (its ADDED event) and the time of the status write that made it Ready are
exact, with no polling. Requests are counted from both emulators' request logs.
"""
from __future__ import annotations

import base64
import collections
import contextlib
import dataclasses
import gc
import pathlib
import time
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from typing import Any

import kmock
import yaml

from bench import workload
from headlamp_operator_testing.headlamp import HeadlampEmulator
from headlamp_operator_testing.kubernetes import KubernetesEmulator, WatchEvent, write_kubeconfig

ROOT = pathlib.Path(__file__).resolve().parents[1]
OUR_PLURALS = frozenset(workload.PLURALS.values())


def crds() -> list[dict[str, Any]]:
    """The project's CRDs, as ``kubectl apply -f manifests/crds`` would store them."""
    return [yaml.safe_load(path.read_text()) for path in sorted((ROOT / "manifests" / "crds").glob("*.yaml"))]


def is_ready(body: dict[str, Any]) -> bool:
    """kstatus readiness: condition Ready=True."""
    status = body.get("status") or {}
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or ())


@dataclasses.dataclass
class Tracker:
    """Creation and Ready times of our resources, fed by the store's hook (time.monotonic())."""

    created: dict[tuple[str, str, str], float] = dataclasses.field(default_factory=dict)
    ready: dict[tuple[str, str, str], float] = dataclasses.field(default_factory=dict)
    writes: list[float] = dataclasses.field(default_factory=list)  # times of every committed write
    # The keys a burst waits for, and how many of them are Ready (kept up to date by the hook).
    counted: frozenset[tuple[str, str, str]] = frozenset()
    counted_ready: int = 0

    def __call__(self, event: WatchEvent) -> None:
        now = time.monotonic()
        self.writes.append(now)
        plural = event.resource.plural
        if plural not in OUR_PLURALS or event.namespace is None:
            return
        key = (str(plural), event.namespace, event.object["metadata"]["name"])
        if event.type == "ADDED":
            self.created.setdefault(key, now)
        elif event.type == "MODIFIED" and key not in self.ready and is_ready(event.object):
            self.ready[key] = now
            self.counted_ready += key in self.counted

    def count(self, keys: Iterable[tuple[str, str, str]]) -> None:
        """Count the Ready ones among ``keys`` from now on (those Ready already included): the burst polls
        :meth:`ready_count` every 50 ms, which must not cost a pass over thousands of keys."""
        self.counted = frozenset(keys)
        self.counted_ready = sum(1 for key in self.counted if key in self.ready)

    def ready_count(self) -> int:
        """How many of the keys given to :meth:`count` are Ready."""
        return self.counted_ready


@dataclasses.dataclass
class World:
    """The two emulators of one phase and what is needed to point an operator at them."""

    kube: KubernetesEmulator
    server: kmock.Server
    hl: HeadlampEmulator
    kubeconfig: pathlib.Path
    tracker: Tracker

    @property
    def kube_url(self) -> str:
        return str(self.server.url).rstrip("/")

    @property
    def hl_url(self) -> str:
        return str(self.hl.url)

    # -- request logs ----------------------------------------------------------------------------
    def kube_requests(self) -> Sequence[kmock.Request]:
        """The Kubernetes emulator's answered requests, in the order they were answered."""
        return self.kube.answered

    def mark(self) -> tuple[int, int]:
        """Positions in both request logs, to count what happens after this point."""
        return len(self.kube_requests()), len(self.hl.requests)

    # -- seeding ---------------------------------------------------------------------------------
    def seed(self, *, credentials: workload.Credentials) -> None:
        """Namespaces (and token Secrets) in the Kubernetes API; the cluster behind Headlamp."""
        for namespace in workload.NAMESPACES:
            if self.kube.get_object("", "v1", "namespaces", None, namespace) is None:
                self.kube.create_object("", "v1", "namespaces", None, {"metadata": {"name": namespace}})
            if credentials == "token":
                token = base64.b64encode(workload.token_of(namespace).encode()).decode()
                self.kube.create_object("", "v1", "secrets", namespace, {
                    "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                    "metadata": {"name": workload.SECRET, "namespace": namespace}, "data": {"token": token}})
        workload.seed_headlamp(self.hl)

    def preload(self, items: Iterable[workload.Item], *, credentials: workload.Credentials) -> None:
        """Store resources without HTTP (the floor's world: they exist before it starts)."""
        for item in items:
            self.kube.create_object(workload.GROUP, workload.VERSION, item.plural, item.namespace,
                                    workload.body(item, credentials=credentials))


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection in this process while the block runs; one full collection after it.

    The emulators keep every object, every version of it and every request in this process's memory,
    and a full collection scans all of it: its cost grew with the burst, to 4.3 of the emulators' 12
    CPU-seconds at 4N (the same burst with the collector off: 7.7 s, and 1.9 ms per resource at N and
    4N alike). Those pauses held back the creations and the answers the operator and the floors are
    timed on, where the API server they stand in for (Go, a concurrent collector) does not stop. A
    phase's cyclic garbage is freed when the phase ends; reference counting frees the rest as it goes.
    """
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
        gc.collect()


@contextlib.asynccontextmanager
async def world(workdir: pathlib.Path, *, credentials: workload.Credentials,
                history_limit: int = 200_000) -> AsyncIterator[World]:
    """Fresh emulators on loopback, seeded, with a kubeconfig for them in ``workdir``; collector paused meanwhile."""
    tracker = Tracker()
    # A large watch history: kopf never gets a 410 during a 4N burst (a real API server keeps
    # ~5 minutes of history; the emulator counts entries, 10,000 by default).
    with collector_paused():
        async with KubernetesEmulator(history_limit=history_limit) as kube, kmock.Server(kube) as server, \
                HeadlampEmulator() as hl:
            kube.register_builtin()
            for crd in crds():
                kube.register_crd(crd)
            kube.state.hooks.append(tracker)
            path = write_kubeconfig(str(server.url).rstrip("/"), workdir / "kubeconfig")
            result = World(kube=kube, server=server, hl=hl, kubeconfig=path, tracker=tracker)
            result.seed(credentials=credentials)
            yield result


# -- classifying requests ------------------------------------------------------------------------

def classify_kube(requests: Sequence[kmock.Request]) -> dict[str, Any]:
    """Kubernetes API requests by what they are: writes to our resources split by kind and by
    status / metadata (main body), events apart, the bench's own creations apart, reads by resource."""
    counts: collections.Counter[str] = collections.Counter()
    for request in requests:
        method = str(request.method.value if hasattr(request.method, "value") else request.method).upper()
        resource = request.resource
        plural = resource.plural if resource is not None else None
        if plural in OUR_PLURALS:
            kind = workload.KINDS[str(plural)]
            if method == "POST":
                counts[f"{kind}.create"] += 1  # the bench's own creations
            elif method in ("PATCH", "PUT"):
                part = "status" if request.subresource == "status" else "metadata"
                counts[f"{kind}.{part}"] += 1
            elif method == "DELETE":
                counts[f"{kind}.delete"] += 1
            elif request.params.get("watch") in ("true", "1"):
                counts[f"{kind}.watch"] += 1
            else:
                counts[f"{kind}.read"] += 1
        elif plural == "events" and method == "POST":
            data = request.data if isinstance(request.data, dict) else {}
            kind = str((data.get("involvedObject") or {}).get("kind") or "other")
            counts[f"events.{kind}"] += 1
        elif method in ("POST", "PATCH", "PUT", "DELETE"):
            counts[f"other-write.{plural or request.url.path}"] += 1
        else:
            counts[f"read.{plural or request.url.path}"] += 1
    return dict(sorted(counts.items()))


def classify_headlamp(records: Sequence[Any]) -> dict[str, int]:
    """Headlamp requests by route: set-token, port-forward calls, proxied reads, discovery, patches."""
    counts: collections.Counter[str] = collections.Counter()
    for record in records:
        parts = record.path.split("/")  # /clusters/{cluster}/...
        rest = "/".join(parts[3:]) if len(parts) > 3 and parts[1] == "clusters" else record.path
        if rest == "set-token":
            name = "set-token"
        elif rest == "portforward/list":
            name = "portforward-list"
        elif rest == "portforward":
            name = f"portforward-{record.method.lower()}"
        elif record.method == "PATCH":
            name = "patch"
        elif rest.endswith("/services/grafana") or "/services/" in rest:
            name = "get-service"
        elif rest.endswith("/pods") or "/pods" in rest:
            name = "list-pods" if rest.endswith("/pods") else "get-pod"
        elif rest in ("api/v1", "api") or (rest.startswith("apis/") and rest.count("/") <= 2):
            name = "discovery"
        else:
            name = f"{record.method} other"
        counts[name] += 1
    return dict(sorted(counts.items()))
