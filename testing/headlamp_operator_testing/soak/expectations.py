"""Every resource's expected end state once the faults stopped, and the invariants over all of them.

The end state is the one the spec and the restored world imply (docs/portforward.md#what-the-operator-does,
docs/resourcepatch.md#what-the-operator-does, docs/credentials.md, docs/status.md#retries):
- a PortForward whose ``spec.state`` is Running: phase Running (reason ``Adopted`` for one that adopts by
  ``spec.id``), Ready for its generation, and exactly one forward of its id listed Running at Headlamp, in
  its cluster, on the local port its status names (``spec.port`` when set), to its pod or to a pod of its
  service;
- one whose state is Stopped: phase Stopped, and no forward of its id Running;
- a ResourcePatch: phase Applied, Ready, and its patch visible in the target object; ``status.driftCorrections``
  only with ``reapplyInterval``, and then an int >= 0 (docs/resourcepatch.md#drift: a retry of a failed re-apply
  corrects drift without counting it, so no count is asserted: :func:`summary` reports them);
- one with ``dryRun`` (docs/resourcepatch.md#preview-specdryrun): phase Previewed, Ready, ``status.preview`` the
  one path the patch touches with the value it would set, and its key never written to the target (any write
  of a ConfigMap seen: :attr:`World.keys_written`);
- one with ``revertOnDelete`` (docs/resourcepatch.md#undo-specrevertondelete), not deleted: Applied, its
  finalizer on it, ``status.revert`` complete and recording the key it patches now (absent before); when its
  patch moved to another key during the faults, the old key gone from the target (restored before the new
  patch was applied: docs/resourcepatch.md#a-changed-spec). Deleted: gone, and its key gone from the
  target again, unless a ``RevertFailed`` Event says the deletion gave up after the finalizer timeout
  (``--finalizer-timeout``), which only faults outlasting it excuse (:func:`summary` counts them);
- what the spec makes invalid (a port no pod has, a kubeconfig without the cluster's context, a json
  patch that is not a list, a patch of a Deployment's status): Failed with that reason, nothing running;
- a deleted resource: gone, and at Headlamp nothing left of its forward for ``deletionPolicy: Delete``,
  nothing Running for ``Stop`` (``Orphan`` leaves it as it was).
Over all forwards at Headlamp: no two Running on one local port, none Running that no resource owns.
"""
from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import re
from collections.abc import Sequence
from typing import Any

from headlamp_operator import crds
from headlamp_operator_testing.headlamp import Forward
from headlamp_operator_testing.soak import world as w
from headlamp_operator_testing.soak.workload import REAPPLY_INTERVAL, Item

FAILED = {"pf-invalid-port": "InvalidSpec", "pf-invalid-credentials": "InvalidCredentials",
          "rp-invalid-status": "InvalidSpec", "rp-invalid-json": "InvalidSpec"}  # role -> reason
REPORTED = 5  # status changes shown per stuck resource (statuses.log has them all)
POLL = 0.25  # seconds between looks at both emulators (in this process: no request is sent)
# a RevertFailed for an error from Headlamp, with how long the deletion had waited (handlers/resourcepatches.py)
GAVE_UP = re.compile(r"gave up restoring what the patch set after (\d+)s")


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
        return "Previewed" if item.spec.get("dryRun") else "Applied"
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


def _target(world: w.World, item: Item) -> dict[str, Any] | None:
    target = item.spec["target"]
    plural = "deployments" if target["kind"] == "Deployment" else "configmaps"
    return world.cluster.get(plural, target["namespace"], target["name"])


def _shown_target(item: Item) -> str:
    target = item.spec["target"]
    return f"{target['kind']} {target['namespace']}/{target['name']}"


def _value(item: Item) -> str:
    """The value its (merge) patch sets at :attr:`Item.data_key`."""
    return str(item.spec["patch"]["data"][item.data_key])


def _patch_problem(world: w.World, item: Item) -> str | None:
    """Whether the patch shows in its target object, or None."""
    obj = _target(world, item)
    if obj is None:
        return f"its target {_shown_target(item)} does not exist"
    patch, key = item.spec["patch"], item.data_key
    if item.spec.get("patchType") == "json":
        want = patch[0]["value"]
        seen = (obj.get("data") or {}).get(key)
    elif item.spec["target"]["kind"] == "Deployment":
        want = patch["metadata"]["labels"][key]
        seen = (obj.get("metadata") or {}).get("labels", {}).get(key)
    else:
        want = patch["data"][key]
        seen = (obj.get("data") or {}).get(key)
    return None if seen == want else f"its target holds {key}={seen!r}, not {want!r}"


def _preview_problem(world: w.World, item: Item, status: dict[str, Any]) -> str | None:
    """dryRun: its key never written to the target, and the preview shows it as the patch would set it."""
    if item.key in world.keys_written:
        held = ((_target(world, item) or {}).get("data") or {}).get(item.key)
        return f"dryRun, but its key {item.key} was written to its target {_shown_target(item)} (now {held!r})"
    want = {"path": f"/data/{item.key}", "after": json.dumps(_value(item))}  # absent before: no "before"
    preview = status.get("preview")
    if not isinstance(preview, list) or want not in preview:
        return f"status.preview is {preview!r}, expected it to hold {want!r}"
    return None


def _digest(value: str) -> str:
    """A record's ``applied``: sha256 of the value's compact JSON text (docs/resourcepatch.md#undo-specrevertondelete).
    """
    return "sha256:" + hashlib.sha256(json.dumps(value, separators=(",", ":")).encode()).hexdigest()


def _revert_problem(world: w.World, item: Item, body: dict[str, Any]) -> str | None:
    """revertOnDelete, not deleted: its finalizer, a complete record of the key it patches now (absent before),
    and the key its patch moved away from gone from the target."""
    finalizers = body["metadata"].get("finalizers") or []
    if crds.FINALIZER not in finalizers:
        return f"revertOnDelete, but no finalizer {crds.FINALIZER} (finalizers {finalizers})"
    record = (body.get("status") or {}).get("revert")
    if not isinstance(record, dict) or record.get("complete") is not True:
        return f"status.revert is not complete: {record!r}"
    want = [{"path": f"/data/{item.data_key}", "applied": _digest(_value(item))}]
    if record.get("paths") != want:
        return f"status.revert.paths is {record.get('paths')!r}, expected {want!r} (the key absent before)"
    old = ((_target(world, item) or {}).get("data") or {}).get(item.key)
    if item.moved and old is not None:
        return (f"its patch moved from {item.key} to {item.moved_key}, but its target still holds "
                f"{item.key}={old!r} (not restored before the new patch)")
    return None


def _drift_problem(item: Item, status: dict[str, Any]) -> str | None:
    """``status.driftCorrections``: only with reapplyInterval (only scheduled re-applies count), an int >= 0."""
    count = status.get("driftCorrections")
    if count is None:
        return None
    if not item.spec.get("reapplyInterval"):
        return f"status.driftCorrections is {count!r} without a reapplyInterval (only scheduled re-applies count)"
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        return f"status.driftCorrections is {count!r}, not an int >= 0"
    return None


def revert_failures(world: w.World, item: Item) -> tuple[list[str], list[str]]:
    """The messages of the item's ``RevertFailed`` Events: (those that gave up after the finalizer timeout, the
    others)."""
    timeout = world.operator.config.finalizer_timeout
    late: list[str] = []
    early: list[str] = []
    for event in world.events(item.namespace, item.uid):
        if event.get("reason") == "RevertFailed":
            message = str(event.get("message") or "")
            gave_up = GAVE_UP.search(message)
            (late if gave_up and int(gave_up.group(1)) >= timeout - 1 else early).append(message)
    return late, early


def _undo_problem(world: w.World, item: Item) -> str | None:
    """revertOnDelete, deleted: its key gone from the target again (absent before the patch), unless the
    deletion gave up after the finalizer timeout."""
    obj = _target(world, item)
    held = ((obj or {}).get("data") or {}).get(item.data_key)
    if held is None:
        return None
    late, early = revert_failures(world, item)
    if late:
        return None  # counted by summary(): the faults outlasted the finalizer timeout
    why = f"; RevertFailed: {early[-1]}" if early else "; no RevertFailed Event"
    return f"deleted with revertOnDelete, but its target still holds {item.data_key}={held!r}{why}"


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
        if item.kind == "ResourcePatch" and item.spec.get("revertOnDelete") and \
                (problem := _undo_problem(world, item)) is not None:
            return Finding(item.label, problem)
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
        problem = _drift_problem(item, status)
        if problem is None and phase == "Applied":
            problem = _patch_problem(world, item)
        if problem is None and phase == "Previewed":
            problem = _preview_problem(world, item, status)
        if problem is None and item.spec.get("revertOnDelete") and phase == "Applied":
            problem = _revert_problem(world, item, body)
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


def summary(world: w.World, items: Sequence[Item], config: w.OperatorConfig, *, now: float) -> list[str]:
    """The report's lines on what the faults met of undo, preview and drift (``now``: the loop's time at the end).

    Counts, not findings (those are :func:`check`'s): the deleted revertOnDelete resources whose key is gone
    from the target again, and those whose key is left, the ones let go after the finalizer timeout apart
    (accepted), with their Events (one posted just before a SIGKILL may be lost); the kept ones and how
    many moved their patch; the previews and their keys written; the drifts made by hand, the corrections
    counted, and of the resources that drifted more than a re-apply period (and a sync interval) before the
    end, how many count one (not asserted: a drift that a retry corrects is not counted).
    """
    reasons = ("Reverted", "RevertConflict", "RevertFailed")
    deleted = [i for i in items if i.kind == "ResourcePatch" and i.spec.get("revertOnDelete") and i.deleted]
    kept = [i for i in items if i.kind == "ResourcePatch" and i.spec.get("revertOnDelete") and not i.deleted]
    seen = {reason: 0 for reason in reasons}
    left = accepted = 0
    for item in deleted:
        for event in world.events(item.namespace, item.uid):
            if event.get("reason") in seen:
                seen[str(event["reason"])] += 1
        if ((_target(world, item) or {}).get("data") or {}).get(item.data_key) is not None:
            left += 1
            accepted += bool(revert_failures(world, item)[0])
    moved = sum(item.moved for item in kept)
    conflicts = sum(event.get("reason") == "RevertConflict" for item in kept
                    for event in world.events(item.namespace, item.uid))
    previews = [i for i in items if i.kind == "ResourcePatch" and i.spec.get("dryRun")]
    written = sum(item.key in world.keys_written for item in previews)
    reapplied = [i for i in items if i.kind == "ResourcePatch" and i.spec.get("reapplyInterval")]

    def corrections(item: Item) -> int:
        body = world.kube.get_object(w.GROUP, w.VERSION, item.plural, item.namespace, item.name) or {}
        count = (body.get("status") or {}).get("driftCorrections")
        return count if isinstance(count, int) else 0

    early = [i for i in reapplied if i.drifted and now - i.drifted[0] > REAPPLY_INTERVAL + config.sync_interval]
    return [
        f"revert: {len(deleted)} deleted with revertOnDelete: {len(deleted) - left} restored, {left} left patched "
        f"({accepted} let go after the finalizer timeout of {config.finalizer_timeout:g} s, accepted; "
        f"{left - accepted} stuck); Events {seen['Reverted']} Reverted, {seen['RevertConflict']} RevertConflict, "
        f"{seen['RevertFailed']} RevertFailed; {len(kept)} kept, {moved} moved to another key "
        f"({conflicts} RevertConflict)",
        f"preview: {len(previews)} with dryRun, {written} of their keys written to a target",
        f"drift: {sum(len(i.drifted) for i in reapplied)} drifts of {sum(bool(i.drifted) for i in reapplied)} of "
        f"{len(reapplied)} re-applied patches, {sum(corrections(i) for i in reapplied)} corrections counted; "
        f"{sum(corrections(i) >= 1 for i in early)} of the {len(early)} that drifted over "
        f"{REAPPLY_INTERVAL + config.sync_interval:g} s before the end count one",
    ]
