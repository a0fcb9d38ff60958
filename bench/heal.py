"""``python -m bench --heal``: how fast a forward's traffic comes back after its pod dies (issue 25, point 1).

On the real-peer world (:class:`HealWorld`: a real kube-apiserver + etcd + kwok, the product installed, the
Headlamp emulator or, with ``HEADLAMP_SERVER=``, the real headlamp-server), with the operator's default
``HEADLAMP_SYNC_INTERVAL``, two PortForwards run: one to Service ``monitoring/grafana`` (a Deployment of two
kwok pods) and one to pod ``monitoring/db-0``, a bare pod that the bench recreates under the same name after
``recreate_after`` seconds, as a StatefulSet's controller would once the old pod is gone and the new one
started. A client loop (:class:`Prober`) connects to each forward's local port again and again and writes
bytes that must come back. The pod behind a forward is deleted (``gracePeriodSeconds=0``: the pod is gone
with the API server's answer), alternately for the two forwards, each at another moment of the operator's
sync interval (:func:`phase`), and for each deletion (a *heal*) the bench notes, from that answer on:

- ``traffic``: until bytes flow through the SAME local port to a live pod. kwok sends every port-forward
  stream to the one echo server whatever pod it names, so a forward to a deleted pod keeps echoing until
  Headlamp closes it: bytes alone prove nothing. The heal counts only once the backend lists the forward
  Running on a pod that exists, and that forward was started after the deletion (the backend listed it
  not Running meanwhile, or the operator sent a start: its ``POST`` count went up), or names another pod;
  then the first bytes that come back after that;
- ``outage``: how long connections failed (refused, reset, no echo) in between;
- ``status_truth``: until the resource's status stops saying Running/Ready=True on the deleted pod (or the
  heal is done, from which on Running is true again);
- ``requests``: the operator's requests to Headlamp meanwhile (``headlamp_operator_backend_requests_total``
  from its metrics: the same for the emulator and the real server, and the bench's own list calls are not
  in it);
- ``port_kept``: whether the status and the backend's entry still name the first local port.

A heal not done within ``timeout`` is counted as failed, at the timeout. The summary (:mod:`bench.healreport`)
gives p50/p95/p99/worst per figure and per kind.
"""
from __future__ import annotations

import asyncio
import dataclasses
import pathlib
import tempfile
import time
from collections.abc import Callable
from typing import Any, Literal

import yaml

from bench import workload
from bench.heallive import Live, Prober
from bench.realrun import operator_acting
from bench.realworld import BenchWorld
from headlamp_operator_testing.realpeers.world import CLUSTER

Say = Callable[[str], None]
Kind = Literal["service", "pod"]
NAMESPACE = "bench-0"  # the PortForwards' namespace (its `viewer` token may forward to monitoring)
POD = "db-0"  # the pod forward's target, recreated under this name
POD_PORT = 5432
NAMES: dict[Kind, str] = {"service": "heal-svc", "pod": "heal-pod"}
DEFAULT_SYNC_INTERVAL = 30.0  # the operator's HEADLAMP_SYNC_INTERVAL when unset (headlamp_operator.settings)
GOLDEN = 0.6180339887498949


def phase(index: int, interval: float) -> float:
    """Seconds to wait, once the forward is steady, before its ``index``-th deletion.

    A heal ends just after one of the operator's list passes, so a deletion made at once would always come
    right after the next one and wait a whole interval: every heal would take the same 30 s. Pods die at
    any moment of the interval; these waits spread the deletions over it evenly and reproducibly (the
    golden-ratio sequence: 0, 0.62, 0.24, 0.85, 0.47, ... of the interval)."""
    return (index * GOLDEN) % 1.0 * interval


@dataclasses.dataclass(frozen=True, kw_only=True)
class HealOptions:
    deletions: int = 20  # spread over the two kinds, alternately
    sync_interval: float | None = None  # None: HEADLAMP_SYNC_INTERVAL left at the operator's default (30 s)
    timeout: float = 45.0  # seconds a heal may take before it counts as failed
    recreate_after: float = 6.0  # seconds before the pod forward's pod is created again (see pod_manifest)
    keep_logs: pathlib.Path | None = None
    operator: str | None = None  # the headlamp-operator to measure (make bench-heal: the runtime-only install)


def pod_manifest() -> dict[str, Any]:
    """The pod forward's target. kwok starts it at once; a StatefulSet's new pod comes after the old one is
    gone and its container started, and Headlamp's pod monitor (every 5 s, by name) would not notice a gap
    shorter than its period: so the bench waits ``recreate_after`` (6 s by default) before creating it."""
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": POD, "namespace": "monitoring",
                                                            "labels": {"app": "db"}},
            "spec": {"automountServiceAccountToken": False, "terminationGracePeriodSeconds": 1,
                     "containers": [{"name": "db", "image": "postgres",
                                     "ports": [{"name": "pg", "containerPort": POD_PORT}]}]}}


def forward_manifest(kind: Kind) -> dict[str, Any]:
    spec: dict[str, Any] = {"cluster": CLUSTER, "namespace": "monitoring",
                            "credentials": {"tokenSecretRef": {"name": workload.SECRET}}}
    spec.update({"service": "grafana", "targetPort": "http"} if kind == "service"
                else {"pod": POD, "targetPort": POD_PORT})
    return {"apiVersion": f"{workload.GROUP}/{workload.VERSION}", "kind": "PortForward",
            "metadata": {"name": NAMES[kind], "namespace": NAMESPACE}, "spec": spec}


class HealWorld(BenchWorld):
    """The bench's real-peer world with Headlamp as ``make test-real`` runs it (emulator or ``HEADLAMP_SERVER``,
    no emulator-only flags), the operator's sync interval left at its default unless asked, and pod db-0."""

    def __init__(self, workdir: pathlib.Path, *, sync_interval: float | None, operator: str | None = None) -> None:
        super().__init__(workdir, sync_interval=sync_interval or 0.0, operator=operator)
        self.heal_interval = sync_interval

    def start(self) -> None:
        self.start_peers()
        kubeconfig = self.cp.kubeconfig(self.workdir / "headlamp.kubeconfig", token=self.cp.admin_token,
                                        context=CLUSTER, user="headlamp")
        self.headlamp = self._headlamp("headlamp", self.headlamp_port, kubeconfig, backend_token=None)
        self.start_headlamp(self.headlamp)
        self.operator = self._operator()
        if self.heal_interval is None:  # the suite sets SYNC_INTERVAL; the heal bench measures the default
            self.operator.env.pop("HEADLAMP_SYNC_INTERVAL", None)
        else:
            self.operator.env["HEADLAMP_SYNC_INTERVAL"] = f"{self.heal_interval:g}"
        self.start_operator()

    def seed(self) -> None:
        super().seed()
        self.cp.kubectl("apply", "-f", "-", input=yaml.safe_dump(pod_manifest()))


@dataclasses.dataclass
class Heal:
    """One deletion and what followed, in seconds from the API server's answer to the DELETE."""

    kind: Kind
    dead_pod: str
    traffic: float | None = None  # None: not healed within the timeout
    outage: float = 0.0
    status_truth: float | None = None
    requests: int = 0
    requests_by_method: dict[str, int] = dataclasses.field(default_factory=dict)
    port_kept: bool | None = None
    new_pod: str | None = None
    back_after_recreation: float | None = None  # pod kind: traffic, from the new pod's creation
    failed_connections: int = 0
    waited: float = 0.0  # seconds between the forward being steady and the deletion (see phase)
    statuses: list[str] = dataclasses.field(default_factory=list)  # the status's changes: "t phase/reason pod"


async def steady(live: Live, kind: Kind, port: int, prober: Prober, *, within: float) -> str | None:
    """Wait until the forward runs on a live pod, listed Running, its bytes flowing (and, for the service,
    both grafana pods Running again); return its pod, or None after ``within`` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        status = await live.status(NAMES[kind])
        pod = status.get("pod")
        entry = (await live.backend()).get(str(status.get("id")))
        pods = await live.pods()
        wanted = 2 if kind == "service" else 1
        labelled = [p for p in pods.values() if p["app"] == ("grafana" if kind == "service" else "db")]
        if live.claims_running(status) and pod in pods and entry is not None and entry.get("status") == "Running" \
                and entry.get("pod") == pod and len(labelled) >= wanted and int(status.get("port") or 0) == port \
                and prober.ok_since(time.monotonic() - 0.5):
            return str(pod)
        await asyncio.sleep(0.2)
    return None


async def one_heal(live: Live, kind: Kind, port: int, prober: Prober, options: HealOptions) -> Heal:
    """Delete the forward's pod and follow it until the heal is done or the timeout (see the module's doc)."""
    name = NAMES[kind]
    before_status = await live.status(name)
    dead, fid = str(before_status["pod"]), str(before_status["id"])
    heal = Heal(kind=kind, dead_pod=dead)
    counted = await live.operator_requests()
    dead_uid = (await live.pods())[dead]["uid"]
    t0 = await live.delete_pod(dead)
    recreated: list[float] = []

    async def recreate() -> None:
        await asyncio.sleep(max(0.0, t0 + options.recreate_after - time.monotonic()))
        await live.create_pod(pod_manifest())
        recreated.append(time.monotonic())

    recreating = asyncio.create_task(recreate()) if kind == "pod" else None
    seen_down, last_seen = False, ""
    started_since = False
    deadline = t0 + options.timeout
    try:
        while time.monotonic() < deadline:
            now = time.monotonic()
            status = await live.status(name)
            seen = f"{status.get('phase')}/{status.get('reason') or ''} {status.get('pod') or '-'}"
            if seen != last_seen:
                heal.statuses.append(f"{now - t0:.2f} {seen}")
                last_seen = seen
            if heal.status_truth is None and not (live.claims_running(status) and status.get("pod") == dead):
                heal.status_truth = now - t0
            entry = (await live.backend()).get(fid)
            running = entry is not None and entry.get("status") == "Running"
            seen_down = seen_down or not running
            pods = await live.pods()
            on = str(entry.get("pod")) if entry is not None else ""
            alive = on in pods and pods[on]["uid"] != dead_uid
            if running and alive and not (seen_down or on != dead or started_since):
                started_since = (await live.operator_requests()).get("POST", 0) > counted.get("POST", 0)
            if running and alive and (seen_down or on != dead or started_since):
                done = await prober.success_after(now, until=deadline)
                if done is not None:
                    heal.traffic, heal.new_pod = done - t0, on
                    if recreated:
                        heal.back_after_recreation = done - recreated[0]
                    break
            await asyncio.sleep(0.1)
    finally:
        if recreating is not None:
            await recreating  # the next heal needs the pod back, healed or not
    end = t0 + heal.traffic if heal.traffic is not None else time.monotonic()
    if heal.status_truth is None or heal.status_truth > end - t0:
        heal.status_truth = end - t0 if heal.traffic is not None else None
    heal.outage, heal.failed_connections = prober.outage(t0, end)
    after = await live.operator_requests()
    heal.requests_by_method = {m: int(after.get(m, 0) - counted.get(m, 0)) for m in after
                               if after.get(m, 0) != counted.get(m, 0)}
    heal.requests = sum(heal.requests_by_method.values())
    status = await live.status(name)
    entry = (await live.backend()).get(fid) or {}
    heal.port_kept = int(status.get("port") or 0) == port and int(entry.get("port") or 0) == port
    return heal


def _line(heal: Heal, timeout: float) -> str:
    took = f"{heal.traffic:.2f} s" if heal.traffic is not None else f"not within {timeout:g} s"
    truth = "-" if heal.status_truth is None else f"{heal.status_truth:.2f}"
    return (f"traffic {took}, outage {heal.outage:.2f} s, status {truth} s, {heal.requests} requests, "
            f"port kept: {heal.port_kept}")


async def _heals(live: Live, ports: dict[Kind, int], options: HealOptions, say: Say) -> list[Heal]:
    """The deletions, alternately behind the service forward and the pod forward, each probed by its client."""
    heals: list[Heal] = []
    async with Prober(ports["service"]) as svc_probe, Prober(ports["pod"]) as pod_probe:
        probes: dict[Kind, Prober] = {"service": svc_probe, "pod": pod_probe}
        for i in range(options.deletions):
            kind: Kind = "service" if i % 2 == 0 else "pod"
            if await steady(live, kind, ports[kind], probes[kind], within=options.timeout) is None:
                heals.append(Heal(kind=kind, dead_pod="", statuses=["not steady before the deletion"]))
                say(f"heal {i + 1}/{options.deletions} ({kind}): the forward never got steady")
                continue
            waited = phase(i // 2, options.sync_interval or DEFAULT_SYNC_INTERVAL)
            await asyncio.sleep(waited)
            heals.append(await one_heal(live, kind, ports[kind], probes[kind], options))
            heals[-1].waited = round(waited, 2)
            say(f"heal {i + 1}/{options.deletions} ({kind}): {_line(heals[-1], options.timeout)}")
    return heals


async def run_heal(options: HealOptions, *, say: Say = print) -> dict[str, Any]:
    """A fresh world, the two forwards, ``deletions`` heals alternating between them; the raw heals and config."""
    heals: list[Heal] = []
    started = time.monotonic()
    backend = "headlamp: not started"
    with tempfile.TemporaryDirectory(prefix="bench-heal-") as tmp:
        world = HealWorld(pathlib.Path(tmp) / "heal", sync_interval=options.sync_interval, operator=options.operator)
        try:
            await asyncio.to_thread(world.start)
            await operator_acting(world, within=60.0)
            backend = world.headlamp_description
            say(f"heal: world up in {time.monotonic() - started:.0f} s ({backend}); "
                f"HEADLAMP_SYNC_INTERVAL={'default' if options.sync_interval is None else options.sync_interval}")
            async with Live(world, NAMESPACE) as live:
                ports: dict[Kind, int] = {}
                for kind in NAMES:
                    await live.create_forward(forward_manifest(kind))
                for kind in NAMES:
                    ports[kind] = await live.wait_port(NAMES[kind], within=60.0)
                heals = await _heals(live, ports, options, say)
        finally:
            await asyncio.to_thread(world.stop)
            if options.keep_logs is not None:
                options.keep_logs.mkdir(parents=True, exist_ok=True)
                for source in [world.workdir / "operator.log", world.workdir / "headlamp.log"]:
                    if source.exists():
                        (options.keep_logs / f"heal-{source.name}").write_bytes(source.read_bytes())
    config = dataclasses.asdict(options)
    config.pop("keep_logs")
    config["sync_interval"] = options.sync_interval if options.sync_interval is not None else "default (30 s)"
    config["headlamp"] = backend
    return {"config": config, "seconds": round(time.monotonic() - started, 1),
            "heals": [dataclasses.asdict(heal) for heal in heals]}
