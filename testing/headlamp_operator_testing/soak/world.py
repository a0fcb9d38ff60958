"""The soak's world: kmock's Kubernetes API, the Headlamp backend emulator, and the operator as its own process.

The Kubernetes API (where PortForwards, ResourcePatches and their Secrets live) is never faulted: the
faults are Headlamp's, the target cluster's pods, the Secrets' contents and the operator process.
Behind Headlamp is one emulated cluster, :data:`CLUSTER`, also reachable as the dynamic cluster
:data:`DYNAMIC` through a kubeconfig Secret in each namespace (a context of that name whose cluster is
:data:`CLUSTER`). Everything the soak breaks is remembered as it was wanted, so :meth:`World.restore`
can bring it back when the faults stop.
"""
from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import dataclasses
import datetime
import pathlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import kmock
import yaml

from headlamp_operator import crds
from headlamp_operator_testing import scenery
from headlamp_operator_testing.headlamp import HeadlampEmulator, KubeCluster
from headlamp_operator_testing.kubernetes import KubeClient, KubernetesEmulator, WatchEvent, write_kubeconfig
from headlamp_operator_testing.process import OperatorProcess, operator_process

GROUP, VERSION, PLURALS = crds.GROUP, crds.VERSION, crds.PLURALS
CLUSTER = "soak"  # the cluster Headlamp is configured with
DYNAMIC = "dyn"  # the same cluster as a dynamic one, named by a context of the kubeconfig Secrets
NAMESPACES = ("soak-a", "soak-b", "soak-c", "soak-d")  # where the resources and their Secrets live
TOKEN_SECRET, KUBECONFIG_SECRET, NO_CONTEXT_SECRET = "token", "kubeconfig", "no-context"
APPS = "apps"  # the target cluster's namespace of the soak's pods, services, ConfigMaps and Deployments
SERVICES = 3  # services echo-0.. in APPS, two pods each (echo-N-a, echo-N-b), port http -> container port web
DB_PODS = 6  # pods db-0.. in APPS, no service: the targets of pod forwards
DESK_PODS = 4  # pods desk-0.. in APPS: what the forwards started "from Headlamp's UI" (adopted ones) point at
CONFIGMAPS = 8  # ConfigMaps cm-0.. in APPS: ResourcePatch targets
DEPLOYMENTS = 4  # Deployments web-0.. in APPS: ResourcePatch targets


@dataclasses.dataclass(frozen=True, kw_only=True)
class OperatorConfig:
    """How the operator process runs in the soak: short intervals so that a run converges in seconds."""

    sync_interval: float = 2.0  # seconds, --sync-interval
    backoff_min: float = 0.5  # seconds, --backoff-min
    backoff_max: float = 8.0  # seconds, --backoff-max
    request_timeout: float = 3.0  # seconds, --request-timeout: "slow" faults go past it
    # seconds, --finalizer-timeout: how long a deletion retries an unreachable Headlamp before it lets go
    # (PortForward: Orphaned; ResourcePatch with revertOnDelete: RevertFailed). The operator's default, a hundred
    # times the longest outage a fault makes: a soak shorter than it never lets go for a transient error.
    finalizer_timeout: float = 600.0

    def args(self) -> list[str]:
        """The command line of ``headlamp-operator run`` (after ``run``)."""
        return ["--standalone", "--all-namespaces", "--sync-interval", f"{self.sync_interval:g}",
                "--backoff-min", f"{self.backoff_min:g}", "--backoff-max", f"{self.backoff_max:g}",
                "--request-timeout", f"{self.request_timeout:g}",
                "--finalizer-timeout", f"{self.finalizer_timeout:g}"]

    @property
    def settle_time(self) -> float:
        """Seconds every resource gets to converge once the faults stop: two sync intervals plus the longest backoff."""
        return 2 * self.sync_interval + self.backoff_max


def kubeconfig_text(token: str, *, context: str = DYNAMIC) -> str:
    """A kubeconfig whose context ``context`` reaches :data:`CLUSTER` through Headlamp with ``token``."""
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": context,
        "clusters": [{"name": CLUSTER, "cluster": {"server": "https://soak.example:6443"}}],
        "users": [{"name": "soak", "user": {"token": token}}],
        "contexts": [{"name": context, "context": {"cluster": CLUSTER, "user": "soak"}}],
    }, sort_keys=False)


def _crds() -> list[dict[str, Any]]:
    """The project's CRDs (the soak runs from a checkout, as ``make soak`` does)."""
    for base in (pathlib.Path.cwd(), *pathlib.Path(__file__).resolve().parents):
        directory = base / "manifests" / "crds"
        if directory.is_dir():
            return [yaml.safe_load(path.read_text()) for path in sorted(directory.glob("*.yaml"))]
    raise FileNotFoundError("manifests/crds not found: run the soak from the repository")


def stamp() -> str:
    """The wall-clock time as the operator's log lines show it (``2026-12-07 01:41:44,455``), to read both together."""
    return datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S,%f")[:-3]


class Journal:
    """What the soak did (``soak-events.log``) and every status change of the resources (``statuses.log``).

    Both files are in the workdir, kept when something is stuck; the last status changes of a stuck
    resource go into the report (:meth:`history`).
    """

    KEPT = 8  # status changes remembered per resource for the report

    def __init__(self, workdir: pathlib.Path) -> None:
        self._events = (workdir / "soak-events.log").open("a", encoding="utf-8")
        self._statuses = (workdir / "statuses.log").open("a", encoding="utf-8")
        self._last: dict[tuple[str, str, str], tuple[str, str]] = {}
        self._history: dict[tuple[str, str, str], list[str]] = {}

    def note(self, text: str) -> None:
        """One line of what the soak did."""
        self._events.write(f"[{stamp()}] {text}\n")
        self._events.flush()

    def __call__(self, event: WatchEvent) -> None:
        """The Kubernetes emulator's hook: a PortForward's or ResourcePatch's phase or reason changed."""
        if event.resource.group != GROUP or event.namespace is None:
            return
        key = (str(event.resource.plural), event.namespace, str(event.object["metadata"]["name"]))
        status = event.object.get("status") or {}
        if event.type == "DELETED":
            seen = ("deleted", "")
        elif not status.get("phase"):
            seen = ("created" if event.type == "ADDED" else "no status", "")
        else:
            seen = (str(status["phase"]), str(status.get("reason") or ""))
        if self._last.get(key) == seen:
            return
        self._last[key] = seen
        line = f"{stamp()} {'/'.join(seen).rstrip('/')}: {status.get('message', '')}"[:300]
        self._history.setdefault(key, []).append(line)
        del self._history[key][:-self.KEPT]
        self._statuses.write(f"{key[0]} {key[1]}/{key[2]} {line}\n")

    def history(self, plural: str, namespace: str, name: str) -> list[str]:
        """The resource's last status changes, oldest first."""
        return list(self._history.get((plural, namespace, name), ()))

    def close(self) -> None:
        """Flush and close both files."""
        self._events.close()
        self._statuses.close()


class Operator:
    """The operator as a separate process, started again after a SIGKILL (:func:`operator_process`)."""

    def __init__(self, *, kube: KubernetesEmulator, kubeconfig: pathlib.Path, headlamp_url: str,
                 workdir: pathlib.Path, config: OperatorConfig, journal: Journal) -> None:
        self._kube, self._kubeconfig, self._url, self._workdir = kube, kubeconfig, headlamp_url, workdir
        self._journal = journal
        self.config = config
        self.starts = 0
        self._stack: contextlib.AsyncExitStack | None = None
        self.process: OperatorProcess | None = None

    def _watching(self) -> bool:
        return all(self._kube.watching(GROUP, VERSION, plural) for plural in PLURALS.values())

    @property
    def running(self) -> bool:
        """Whether a started process is alive."""
        return self.process is not None and self.process.alive()

    async def start(self) -> None:
        """Start a process (log ``operator-N.log`` in the workdir) and wait until it watches both kinds."""
        stack = contextlib.AsyncExitStack()
        self.process = await stack.enter_async_context(operator_process(
            kubeconfig=self._kubeconfig, headlamp_url=self._url, workdir=self._workdir,
            name=str(self.starts), args=self.config.args(), ready=self._watching, startup_timeout=90.0))
        self._stack = stack
        self._journal.note(f"operator-{self.starts} started (pid {self.process.pid})")
        self.starts += 1

    async def kill(self) -> None:
        """SIGKILL: no cleanup, no finalizer handling, as when its node dies."""
        if self.process is not None:
            await asyncio.to_thread(self.process.kill)
            self._journal.note(f"operator-{self.starts - 1} SIGKILLed")
        await self.stop()

    async def stop(self) -> None:
        """End the process (SIGTERM, then SIGKILL) if it runs."""
        stack, self._stack, self.process = self._stack, None, None
        if stack is not None:
            await stack.aclose()

    def log_paths(self) -> list[pathlib.Path]:
        """The log file of every process started so far."""
        return [self._workdir / f"operator-{n}.log" for n in range(self.starts)]


@dataclasses.dataclass
class World:
    """Both emulators, a client of the Kubernetes API, the operator, and what the soak must restore."""

    kube: KubernetesEmulator
    hl: HeadlampEmulator
    cluster: KubeCluster  # the emulated cluster behind Headlamp
    api: KubeClient
    operator: Operator
    workdir: pathlib.Path
    journal: Journal
    wanted_pods: dict[tuple[str, str], dict[str, Any]] = dataclasses.field(default_factory=dict)
    tokens: dict[str, int] = dataclasses.field(default_factory=dict)  # namespace -> rotations so far
    bad: set[str] = dataclasses.field(default_factory=set)  # namespaces whose Secrets hold a refused token now
    # every data key any write ever stored in a ConfigMap of APPS (a preview's key must never be among them)
    keys_written: set[str] = dataclasses.field(default_factory=set)

    def saw_write(self, event: WatchEvent) -> None:
        """The target cluster's hook: remember the data keys of every ConfigMap written in :data:`APPS`."""
        if event.type != "DELETED" and event.resource.plural == "configmaps" and event.namespace == APPS:
            self.keys_written.update((event.object.get("data") or {}).keys())

    def events(self, namespace: str, uid: str) -> list[dict[str, Any]]:
        """The Events the operator posted about the object of that uid, oldest first."""
        found = [event for event in self.kube.list_objects("", "v1", "events", namespace)
                 if (event.get("involvedObject") or {}).get("uid") == uid]
        return sorted(found, key=lambda event: str(event.get("eventTime") or event.get("firstTimestamp") or ""))

    # -- the target cluster's pods ------------------------------------------------------------------
    def pods(self, prefix: str) -> list[tuple[str, str]]:
        """The wanted pods (namespace, name) whose name starts with ``prefix``, sorted."""
        return sorted(key for key in self.wanted_pods if key[1].startswith(prefix))

    def break_pod(self, key: tuple[str, str], how: str) -> None:
        """``failed``: phase Failed (forwards to it stop); ``deleted``: gone; ``unready``: Running, not Ready;
        ``pending``: not running yet (a forward start waits for it)."""
        namespace, name = key
        if how == "deleted":
            self.cluster.delete("pods", namespace, name)
            return
        pod = copy.deepcopy(self.wanted_pods[key])
        phase, ready = {"failed": ("Failed", "False"), "unready": ("Running", "False"),
                        "pending": ("Pending", "False")}[how]
        pod["status"].update(phase=phase, conditions=[{"type": "Ready", "status": ready}])
        self.cluster.put(pod)

    def restore_pod(self, key: tuple[str, str]) -> None:
        """The pod as wanted: Running and Ready (created again if it was deleted)."""
        self.cluster.put(self.wanted_pods[key])

    # -- Secrets ------------------------------------------------------------------------------------
    async def put_secret(self, namespace: str, name: str, data: dict[str, str]) -> None:
        """Create or update a Secret over the Kubernetes API, as a person rotating a token does."""
        encoded = {key: base64.b64encode(value.encode()).decode() for key, value in data.items()}
        if await self.api.get("", "v1", "secrets", namespace, name) is None:
            await self.api.create("", "v1", "secrets", namespace, {
                "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                "metadata": {"name": name, "namespace": namespace}, "data": encoded})
        else:
            await self.api.patch("", "v1", "secrets", namespace, name, {"data": encoded})

    async def rotate(self, namespace: str, *, good: bool) -> None:
        """Put a new token into the namespace's token and kubeconfig Secrets: one the cluster accepts, or
        one it refuses (401; the port-forward permission check fails with ``Unauthorized``)."""
        self.tokens[namespace] = self.tokens.get(namespace, 0) + 1
        token = f"{'good' if good else 'bad'}-{namespace}-{self.tokens[namespace]}-0123456789abcdef"
        if not good:
            self.cluster.refuse_token(token)
        await self.put_secret(namespace, TOKEN_SECRET, {"token": token})
        await self.put_secret(namespace, KUBECONFIG_SECRET, {"kubeconfig": kubeconfig_text(token)})
        (self.bad.discard if good else self.bad.add)(namespace)
        self.journal.note(f"Secrets of {namespace} rotated to a {'good' if good else 'refused'} token")

    # -- forwards started from Headlamp's UI --------------------------------------------------------
    async def start_ui_forward(self, fid: str, pod: str) -> None:
        """Start a forward at Headlamp as its UI does (no session: the backend's own identity); raises on failure."""
        body = {"id": fid, "namespace": APPS, "pod": pod, "service": "", "serviceNamespace": "",
                "targetPort": "8080", "port": "", "address": ""}
        async with aiohttp.ClientSession() as session, \
                session.post(f"{self.hl.url}/clusters/{CLUSTER}/portforward", json=body) as response:
            if response.status != 200:
                raise RuntimeError(f"starting the UI forward {fid}: {response.status} {await response.text()}")


def _seed_cluster(hl: HeadlampEmulator) -> tuple[KubeCluster, dict[tuple[str, str], dict[str, Any]]]:
    """The cluster behind Headlamp: the samples' world plus the soak's services, pods, ConfigMaps, Deployments."""
    cluster = scenery.seed_cluster(hl, CLUSTER)
    for n in range(SERVICES):
        cluster.add_service(APPS, f"echo-{n}", selector={"app": f"echo-{n}"},
                            ports=[{"name": "http", "port": 80, "targetPort": "web"}])
        for suffix in ("a", "b"):
            cluster.add_pod(APPS, f"echo-{n}-{suffix}", labels={"app": f"echo-{n}"},
                            ports=[{"name": "web", "containerPort": 8080}])
    for n in range(DB_PODS):
        cluster.add_pod(APPS, f"db-{n}", labels={"app": "db"}, ports=[{"name": "db", "containerPort": 5432}])
    for n in range(DESK_PODS):
        cluster.add_pod(APPS, f"desk-{n}", labels={"app": "desk"}, ports=[{"name": "web", "containerPort": 8080}])
    for n in range(CONFIGMAPS):
        cluster.add_configmap(APPS, f"cm-{n}", data={"seeded": "yes"})
    for n in range(DEPLOYMENTS):
        cluster.add_deployment(APPS, f"web-{n}", replicas=1)
    wanted = {(pod["metadata"]["namespace"], pod["metadata"]["name"]): copy.deepcopy(pod)
              for pod in cluster.list("pods")}
    return cluster, wanted


@contextlib.asynccontextmanager
async def world(workdir: pathlib.Path, *, config: OperatorConfig) -> AsyncIterator[World]:
    """Both emulators seeded, namespaces and good Secrets created, the operator running; all stopped on exit."""
    # A real API server keeps minutes of watch history; a long soak writes statuses often.
    async with KubernetesEmulator(history_limit=500_000) as kube, kmock.Server(kube) as server, \
            HeadlampEmulator() as hl:
        kube.register_builtin()
        for crd in _crds():
            kube.register_crd(crd)
        journal = Journal(workdir)
        kube.state.hooks.append(journal)
        cluster, wanted = _seed_cluster(hl)
        url = str(server.url).rstrip("/")
        kubeconfig = write_kubeconfig(url, workdir / "kubeconfig")
        operator = Operator(kube=kube, kubeconfig=kubeconfig, headlamp_url=str(hl.url), workdir=workdir,
                            config=config, journal=journal)
        async with KubeClient(url) as api:
            result = World(kube=kube, hl=hl, cluster=cluster, api=api, operator=operator, workdir=workdir,
                           journal=journal, wanted_pods=wanted)
            cluster.api.state.hooks.append(result.saw_write)
            for namespace in NAMESPACES:
                await api.create("", "v1", "namespaces", None, {"metadata": {"name": namespace}})
                await result.rotate(namespace, good=True)
                # A kubeconfig without a context for DYNAMIC: resources using it fail as InvalidCredentials.
                await result.put_secret(namespace, NO_CONTEXT_SECRET,
                                        {"kubeconfig": kubeconfig_text("unused-0123456789", context="elsewhere")})
            try:
                await operator.start()
                yield result
            finally:
                await operator.stop()
                journal.close()


def ready(body: dict[str, Any]) -> bool:
    """kstatus: condition Ready=True for the current generation."""
    status = body.get("status") or {}
    generation = (body.get("metadata") or {}).get("generation")
    return status.get("observedGeneration") == generation and any(
        c.get("type") == "Ready" and c.get("status") == "True" and c.get("observedGeneration", generation) == generation
        for c in status.get("conditions") or ())


def plural_of(kind: str) -> str:
    """``portforwards`` / ``resourcepatches``."""
    return PLURALS[kind]

