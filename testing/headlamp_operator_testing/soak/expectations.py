"""Every resource's expected end state once the faults stopped, and the invariants over all of them.

The end state is the one the spec and the restored world imply (docs/portforward.md#what-the-operator-does,
docs/resourcepatch.md#what-the-operator-does, docs/credentials.md, docs/status.md#retries):
- a PortForward whose ``spec.state`` is Running: phase Running (reason ``Adopted`` for one that adopts by
  ``spec.id``), Ready for its generation, and exactly one forward of its id listed Running at Headlamp, in
  its cluster, on the local port its status names (``spec.port`` when set), to its pod or to a pod of its
  service;
- one whose state is Stopped: phase Stopped, and no forward of its id Running;
- a ResourcePatch: phase Applied, Ready, and its patch visible in the target object;
- what the spec makes invalid (a port no pod has, a kubeconfig without the cluster's context, a json
  patch that is not a list, a patch of a Deployment's status): Failed with that reason, nothing running;
- a deleted resource: gone, and at Headlamp nothing left of its forward for ``deletionPolicy: Delete``,
  nothing Running for ``Stop`` (``Orphan`` leaves it as it was).
Over all forwards at Headlamp: no two Running on one local port, none Running that no resource owns.
"""
from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from typing import Any

from headlamp_operator_testing.headlamp import Forward
from headlamp_operator_testing.soak import world as w
from headlamp_operator_testing.soak.workload import REAPPLY_INTERVAL, Item

FAILED = {"pf-invalid-port": "InvalidSpec", "pf-invalid-credentials": "InvalidCredentials",
          "rp-invalid-status": "InvalidSpec", "rp-invalid-json": "InvalidSpec"}  # role -> reason
REPORTED = 5  # status changes shown per stuck resource (statuses.log has them all)
POLL = 0.25  # seconds between looks at both emulators (in this process: no request is sent)


@dataclasses.dataclass(frozen=True)
class Finding:
    """A resource not in its expected end state (or an invariant broken): what was expected, what was seen."""

    what: str  # the resource's label, or the forward's id for an invariant
    problem: str
    status: str = ""  # "phase/reason: message" of the resource, when it has one
    history: tuple[str, ...] = ()  # its last status changes, oldest first (:meth:`Journal.history`)

    def lines(self) -> list[str]:
        """Its lines in the soak's report: what is wrong, then how its status got there."""
        head = f"stuck: {self.what}: {self.problem}" + (f"; status {self.status}" if self.status else "")
        return [head, *(f"    {change}" for change in self.history[-REPORTED:])]


def expected(item: Item) -> str:
    """The phase (and reason) the item must end in, in words: ``Running``, ``Failed/InvalidSpec``, ``deleted``."""
    if item.deleted:
        return "deleted"
    if item.role in FAILED:
        return f"Failed/{FAILED[item.role]}"
    if item.kind == "ResourcePatch":
        return "Applied"
    state = item.spec.get("state", "Running")
    return f"{state}/Adopted" if item.desk is not None and state == "Running" else state


def describe(body: dict[str, Any] | None) -> str:
    """``phase/reason: message`` of a resource's status, or what is missing."""
    if body is None:
        return "(the resource is gone)"
    status = body.get("status") or {}
    if not status.get("phase"):
        return "(no status)"
    return f"{status.get('phase')}/{status.get('reason')}: {status.get('message', '')}"


def _entries(forwards: Sequence[Forward], fid: str) -> str:
    return ", ".join(f"{f.cluster}:{f.status}:{f.port}->{f.namespace}/{f.pod}" + (f" ({f.error})" if f.error else "")
                     for f in forwards if f.id == fid) or "none"


def _forward_problem(world: w.World, item: Item, body: dict[str, Any], forwards: Sequence[Forward]) -> str | None:
    """What is wrong at Headlamp for a live PortForward, or None."""
    fid = item.forward_id
    running = [f for f in forwards if f.id == fid and f.status == "Running"]
    want = expected(item)
    if not want.startswith("Running"):
        return f"a forward of id {fid} runs at Headlamp: {_entries(forwards, fid)}" if running else None
    if len(running) != 1:
        return f"{len(running)} forwards of id {fid} run at Headlamp (expected one): {_entries(forwards, fid)}"
    entry, spec, status = running[0], item.spec, body.get("status") or {}
    if entry.cluster != spec["cluster"]:
        return f"its forward runs in cluster {entry.cluster}, not {spec['cluster']}"
    if str(status.get("port") or "") != entry.port or (spec.get("port") and entry.port != str(spec["port"])):
        return (f"status.port {status.get('port')!r} (spec.port {spec.get('port')!r}), "
                f"but Headlamp listens on {entry.port}")
    if str(status.get("id") or "") != fid:
        return f"status.id {status.get('id')!r}, expected {fid}"
    if spec.get("pod") and entry.pod != spec["pod"]:
        return f"its forward runs to pod {entry.pod}, not {spec['pod']}"
    if spec.get("service"):
        service = world.cluster.get("services", spec["namespace"], spec["service"]) or {}
        selector = (service.get("spec") or {}).get("selector") or {}
        labels = ((world.cluster.get("pods", entry.namespace, entry.pod) or {}).get("metadata") or {}).get("labels")
        if not selector or not set(selector.items()) <= set((labels or {}).items()):
            return (f"its forward runs to pod {entry.namespace}/{entry.pod}, "
                    f"which service {spec['service']} does not select")
    return None


def _patch_problem(world: w.World, item: Item) -> str | None:
    """Whether the patch shows in its target object, or None."""
    target = item.spec["target"]
    plural = "deployments" if target["kind"] == "Deployment" else "configmaps"
    obj = world.cluster.get(plural, target["namespace"], target["name"])
    if obj is None:
        return f"its target {target['kind']} {target['namespace']}/{target['name']} does not exist"
    patch = item.spec["patch"]
    if item.spec.get("patchType") == "json":
        want = patch[0]["value"]
        seen = (obj.get("data") or {}).get(item.key)
    elif plural == "deployments":
        want = patch["metadata"]["labels"][item.key]
        seen = (obj.get("metadata") or {}).get("labels", {}).get(item.key)
    else:
        want = patch["data"][item.key]
        seen = (obj.get("data") or {}).get(item.key)
    return None if seen == want else f"its target holds {item.key}={seen!r}, not {want!r}"


def check(world: w.World, item: Item, forwards: Sequence[Forward]) -> Finding | None:
    """The item's expected end state against both emulators now: None when it holds."""
    body = world.kube.get_object(w.GROUP, w.VERSION, item.plural, item.namespace, item.name)
    want = expected(item)
    fid = item.forward_id
    if want == "deleted":
        if body is not None:
            return Finding(item.label, "deleted, but the resource is still there "
                           f"(finalizers {body['metadata'].get('finalizers')})", describe(body))
        policy = item.spec.get("deletionPolicy", "Delete")
        if item.kind == "PortForward" and policy == "Delete" and any(f.id == fid for f in forwards):
            return Finding(item.label, f"deleted with deletionPolicy Delete, but Headlamp still lists its forward: "
                                       f"{_entries(forwards, fid)}")
        if item.kind == "PortForward" and policy == "Stop" and any(f.id == fid and f.status == "Running"
                                                                    for f in forwards):
            return Finding(item.label, f"deleted with deletionPolicy Stop, but its forward still runs: "
                                       f"{_entries(forwards, fid)}")
        return None
    if body is None:
        return Finding(item.label, f"expected {want}, but the resource is gone")
    status = body.get("status") or {}
    phase, _, reason = want.partition("/")
    if status.get("phase") != phase or (reason and status.get("reason") != reason) \
            or (phase == "Running" and status.get("reason") not in ("Started", "Adopted")):
        return Finding(item.label, f"expected {want}", describe(body))
    if status.get("observedGeneration") != body["metadata"].get("generation"):
        return Finding(item.label, f"expected {want} for generation {body['metadata'].get('generation')}, "
                                   f"observedGeneration is {status.get('observedGeneration')}", describe(body))
    if phase != "Failed" and not w.ready(body):
        return Finding(item.label, f"{want}, but not Ready for its generation", describe(body))
    if item.kind == "PortForward":
        problem = _forward_problem(world, item, body, forwards)
    else:
        problem = _patch_problem(world, item) if phase == "Applied" else None
    return Finding(item.label, problem, describe(body)) if problem else None


def invariants(items: Sequence[Item], forwards: Sequence[Forward]) -> list[Finding]:
    """No two forwards Running on one local port; no forward Running that no resource owns."""
    findings: list[Finding] = []
    by_port: dict[str, list[Forward]] = {}
    for forward in forwards:
        if forward.status == "Running":
            by_port.setdefault(forward.port, []).append(forward)
    for port, sharing in sorted(by_port.items()):
        if len(sharing) > 1:
            findings.append(Finding(f"local port {port}", "forwards running twice on it: "
                                    + ", ".join(f"{f.cluster}/{f.id}" for f in sharing)))
    owned = {item.forward_id for item in items if item.kind == "PortForward"}
    for forward in forwards:
        if forward.status == "Running" and forward.id not in owned:
            findings.append(Finding(f"forward {forward.cluster}/{forward.id}",
                                    f"runs at Headlamp ({forward.namespace}/{forward.pod}), owned by no resource"))
    return findings


def deadline_of(item: Item, config: w.OperatorConfig) -> float:
    """Seconds after the faults stopped by which the item must hold: two sync intervals plus the longest
    backoff; a re-applied patch whose target drifted is corrected on its period, so that period more."""
    return config.settle_time + (REAPPLY_INTERVAL if item.drifts_at else 0.0)


async def settle(world: w.World, items: Sequence[Item], config: w.OperatorConfig) -> list[Finding]:
    """Wait until every item holds (or its deadline passed), then once more a sync interval later; the findings.

    An item is stuck when it does not hold at its deadline, or no longer holds at the last look (it
    fell over again without any fault). The invariants are checked at the last look.
    """
    loop = asyncio.get_running_loop()
    start = loop.time()
    stuck: dict[str, Finding] = {}

    def noted(item: Item, finding: Finding) -> Finding:
        changes = world.journal.history(item.plural, item.namespace, item.name)
        return dataclasses.replace(finding, history=tuple(changes))

    while True:
        forwards = world.hl.forwards
        now = loop.time() - start
        pending = []
        for item in items:
            if item.label in stuck:
                continue
            finding = check(world, item, forwards)
            if finding is not None and now >= deadline_of(item, config):
                stuck[item.label] = noted(item, finding)
            elif finding is not None:
                pending.append(item)
        if not pending:
            break
        await asyncio.sleep(POLL)  # a look at in-process state; the deadline bounds the loop
    # Hold for one more sync interval: a health pass must leave what converged as it is.
    await asyncio.sleep(config.sync_interval)
    forwards = world.hl.forwards
    for item in items:
        if item.label not in stuck and (finding := check(world, item, forwards)) is not None:
            stuck[item.label] = noted(item, dataclasses.replace(finding, problem=finding.problem + " (after it had "
                                                                                             "converged)"))
    return [*stuck.values(), *invariants(items, forwards)]
