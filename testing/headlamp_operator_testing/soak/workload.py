"""The soak's resources, and what a person does to them while the faults run.

Every resource has a role (:data:`ROLES`): what it exercises (a service or a pod, token or kubeconfig
credentials, a fixed local port, Stopped, adopted, re-applied, deleted with a policy, undone on deletion
(``revertOnDelete``), previewed (``dryRun``), invalid) and so what its end state must be
(:mod:`.expectations`). The mix is drawn from a random seed: the same seed and count give the same
resources and the same timeline of deletions, state flips, drift, late targets and patches moved to
another key.
"""
from __future__ import annotations

import asyncio
import copy
import dataclasses
import random
import socket
from collections.abc import Callable
from typing import Any, Literal

from headlamp_operator_testing.kubernetes.patches import JSON_PATCH
from headlamp_operator_testing.soak import world as w

Kind = Literal["PortForward", "ResourcePatch"]
REAPPLY_INTERVAL = 30.0  # seconds: the shortest reapplyInterval the CRD admits


@dataclasses.dataclass(frozen=True)
class Role:
    """One kind of resource in the mix: its kind, its share (weight), and what it exercises."""

    name: str
    kind: Kind
    weight: int


ROLES = (
    Role("pf-service-token", "PortForward", 14), Role("pf-service-kubeconfig", "PortForward", 8),
    Role("pf-pod-token", "PortForward", 10), Role("pf-pod-kubeconfig", "PortForward", 6),
    Role("pf-service-numeric", "PortForward", 4), Role("pf-fixed-port", "PortForward", 3),
    Role("pf-stopped", "PortForward", 8), Role("pf-flipped", "PortForward", 8),
    Role("pf-adopt-running", "PortForward", 5), Role("pf-adopt-stopped", "PortForward", 3),
    Role("pf-delete-Delete", "PortForward", 4), Role("pf-delete-Stop", "PortForward", 3),
    Role("pf-delete-Orphan", "PortForward", 3), Role("pf-invalid-port", "PortForward", 2),
    Role("pf-invalid-credentials", "PortForward", 2),
    Role("rp-configmap-token", "ResourcePatch", 14), Role("rp-configmap-kubeconfig", "ResourcePatch", 8),
    Role("rp-deployment-strategic", "ResourcePatch", 8), Role("rp-configmap-json", "ResourcePatch", 6),
    Role("rp-reapply", "ResourcePatch", 8), Role("rp-late-target", "ResourcePatch", 3),
    Role("rp-delete", "ResourcePatch", 5), Role("rp-invalid-status", "ResourcePatch", 2),
    Role("rp-invalid-json", "ResourcePatch", 2),
    # revertOnDelete (docs/resourcepatch.md#undo-specrevertondelete): deleted during the faults, its key must be
    # gone from the target again; kept, maybe moved to another key meanwhile (the old key restored first);
    # dryRun (docs/resourcepatch.md#preview-specdryrun): Previewed, its key never written
    Role("rp-revert-delete", "ResourcePatch", 3), Role("rp-revert-kept", "ResourcePatch", 3),
    Role("rp-preview", "ResourcePatch", 2),
)
MOVE_SHARE = 0.6  # of the rp-revert-kept resources, those whose patch moves to another key during the faults


@dataclasses.dataclass
class Item:
    """One resource of the soak and its plan; ``uid``, ``state`` and ``deleted`` follow what happened to it."""

    role: str
    kind: Kind
    namespace: str
    name: str
    spec: dict[str, Any]
    delete_at: float | None = None  # fraction of the fault phase at which it is deleted
    flips_at: list[float] = dataclasses.field(default_factory=list)  # fractions at which spec.state flips
    drifts_at: list[float] = dataclasses.field(default_factory=list)  # fractions at which its target drifts
    create_target_at: float | None = None  # fraction at which its (late) target ConfigMap is created
    move_at: float | None = None  # fraction at which its patch moves from :attr:`key` to :attr:`moved_key`
    desk: str | None = None  # an adopting one: the pod its forward, started "from Headlamp's UI", runs to
    uid: str = ""
    deleted: bool = False
    moved: bool = False  # its patch now writes :attr:`moved_key`
    drifted: list[float] = dataclasses.field(default_factory=list)  # loop times its patched key was removed by hand

    @property
    def plural(self) -> str:
        """``portforwards`` / ``resourcepatches``."""
        return w.plural_of(self.kind)

    @property
    def label(self) -> str:
        """``PortForward soak-a/pf-3 (pf-service-token)``."""
        return f"{self.kind} {self.namespace}/{self.name} ({self.role})"

    @property
    def key(self) -> str:
        """What its patch writes in the target: a data key or a label, unique over the namespaces."""
        return f"{self.namespace}.{self.name}"

    @property
    def moved_key(self) -> str:
        """The data key its patch writes once moved (``move_at``)."""
        return f"{self.key}.moved"

    @property
    def data_key(self) -> str:
        """The key its patch writes now: :attr:`moved_key` once moved, else :attr:`key`."""
        return self.moved_key if self.moved else self.key

    @property
    def forward_id(self) -> str:
        """The id of its forward at Headlamp: ``spec.id``, else its uid."""
        return str(self.spec.get("id") or self.uid)

    @property
    def body(self) -> dict[str, Any]:
        """The manifest, as ``kubectl apply`` sends it."""
        return {"apiVersion": f"{w.GROUP}/{w.VERSION}", "kind": self.kind,
                "metadata": {"name": self.name, "namespace": self.namespace}, "spec": copy.deepcopy(self.spec)}


def _credentials(kubeconfig: bool, secret: str | None = None) -> dict[str, Any]:
    if kubeconfig:
        return {"kubeconfigSecretRef": {"name": secret or w.KUBECONFIG_SECRET}}
    return {"tokenSecretRef": {"name": secret or w.TOKEN_SECRET}}


def free_ports(rng: random.Random, count: int) -> list[int]:
    """Local ports for ``spec.port``, below Linux's ephemeral range, that nothing holds now."""
    ports: list[int] = []
    while len(ports) < count:
        port = rng.randrange(21000, 29000)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        if port not in ports:
            ports.append(port)
    return ports


def _forward_spec(role: str, rng: random.Random, ports: list[int]) -> dict[str, Any]:
    service = {"cluster": w.CLUSTER, "service": f"echo-{rng.randrange(w.SERVICES)}", "namespace": w.APPS,
               "targetPort": "http", "credentials": _credentials(False)}
    pod = {"cluster": w.CLUSTER, "pod": f"db-{rng.randrange(w.DB_PODS)}", "namespace": w.APPS,
           "targetPort": rng.choice([5432, "db"]), "credentials": _credentials(False)}
    dynamic = {"cluster": w.DYNAMIC, "credentials": _credentials(True)}
    specs: dict[str, Callable[[], dict[str, Any]]] = {
        "pf-service-token": lambda: service,
        "pf-service-kubeconfig": lambda: {**service, **dynamic},
        "pf-pod-token": lambda: pod,
        "pf-pod-kubeconfig": lambda: {**pod, **dynamic},
        "pf-service-numeric": lambda: {**service, "service": "grafana-lb", "namespace": "monitoring",
                                       "targetPort": 80},  # a service port number: its targetPort 3000
        "pf-fixed-port": lambda: {**service, "port": ports.pop()},
        "pf-stopped": lambda: {**rng.choice([service, pod]), "state": "Stopped"},
        "pf-flipped": lambda: {**rng.choice([service, pod]), "state": rng.choice(["Running", "Stopped"])},
        "pf-invalid-port": lambda: {**service, "targetPort": "no-such-port"},
        "pf-invalid-credentials": lambda: {**service, "cluster": w.DYNAMIC,
                                           "credentials": _credentials(True, w.NO_CONTEXT_SECRET)},
    }
    if role.startswith("pf-delete-"):
        return {**rng.choice([service, pod, {**service, **dynamic}]), "deletionPolicy": role.removeprefix("pf-delete-")}
    return specs[role]()


def _patch_spec(item: Item, rng: random.Random) -> dict[str, Any]:
    configmap = {"apiVersion": "v1", "kind": "ConfigMap", "name": f"cm-{rng.randrange(w.CONFIGMAPS)}",
                 "namespace": w.APPS}
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "name": f"web-{rng.randrange(w.DEPLOYMENTS)}",
                  "namespace": w.APPS}
    value = f"v{rng.randrange(1000)}"
    merge = {"cluster": w.CLUSTER, "target": configmap, "patch": {"data": {item.key: value}},
             "credentials": _credentials(False)}
    role = item.role
    if role == "rp-configmap-kubeconfig":
        return {**merge, "cluster": w.DYNAMIC, "credentials": _credentials(True)}
    if role == "rp-deployment-strategic":
        return {**merge, "target": deployment, "patchType": "strategic",
                "patch": {"metadata": {"labels": {item.key: value}}}}
    if role == "rp-configmap-json":
        return {**merge, "patchType": "json", "patch": [{"op": "add", "path": f"/data/{item.key}", "value": value}]}
    if role == "rp-reapply":
        return {**merge, "reapplyInterval": f"{REAPPLY_INTERVAL:g}s"}
    if role == "rp-late-target":
        return {**merge, "target": {**configmap, "name": f"late-{item.namespace}-{item.name}"}}
    # A Deployment keeps status in a subresource: InvalidSpec (docs/resourcepatch.md#what-the-answer-says).
    if role == "rp-invalid-status":
        return {**merge, "target": deployment, "patch": {"status": {"replicas": 7}}}
    # A json patch must be a list of operations (docs/operations.md#validation-and-the-admission-webhook).
    if role == "rp-invalid-json":
        return {**merge, "patchType": "json", "patch": {"data": {item.key: value}}}
    if role in ("rp-revert-delete", "rp-revert-kept"):
        return {**merge, "revertOnDelete": True}
    if role == "rp-preview":
        return {**merge, "dryRun": True}
    return merge  # rp-configmap-token, rp-delete


def counts(n: int) -> dict[str, int]:
    """How many resources of each role among ``n``: every role once (when ``n`` allows), the rest by weight."""
    total = sum(role.weight for role in ROLES)
    result = {role.name: max(1, round(n * role.weight / total)) for role in ROLES}
    by_weight = sorted(ROLES, key=lambda role: -role.weight)
    i = 0
    while sum(result.values()) != n:
        role = by_weight[i % len(by_weight)]
        if sum(result.values()) < n:
            result[role.name] += 1
        elif result[role.name] > 1:
            result[role.name] -= 1
        i += 1
    return result


def plan(n: int, rng: random.Random) -> list[Item]:
    """``n`` resources (at least one of each role), their namespaces and timelines drawn from ``rng``."""
    if n < len(ROLES):
        raise ValueError(f"the soak needs at least {len(ROLES)} resources (one per role), not {n}")
    roles = {role.name: role for role in ROLES}
    wanted = counts(n)
    ports = free_ports(rng, wanted["pf-fixed-port"])
    items: list[Item] = []
    desks = 0
    for name, count in wanted.items():
        role = roles[name]
        for _ in range(count):
            prefix = "pf" if role.kind == "PortForward" else "rp"
            item = Item(role=name, kind=role.kind, namespace=rng.choice(w.NAMESPACES),
                        name=f"{prefix}-{len(items)}", spec={})
            if role.kind == "ResourcePatch":
                item.spec = _patch_spec(item, rng)
            elif name.startswith("pf-adopt-"):
                item.spec = {"cluster": w.CLUSTER, "id": f"ui-{item.name}", "credentials": _credentials(False),
                             "state": "Running" if name == "pf-adopt-running" else "Stopped"}
                item.desk = f"desk-{desks % w.DESK_PODS}"
                desks += 1
            else:
                item.spec = _forward_spec(name, rng, ports)
            if name.startswith(("pf-delete-", "rp-delete", "rp-revert-delete")):
                item.delete_at = rng.uniform(0.05, 0.95)
            if name == "pf-flipped":
                item.flips_at = sorted(rng.uniform(0.05, 0.95) for _ in range(rng.randint(1, 3)))
            if name == "rp-reapply":
                item.drifts_at = sorted(rng.uniform(0.05, 0.95) for _ in range(rng.randint(1, 2)))
            if name == "rp-late-target":
                item.create_target_at = rng.uniform(0.1, 0.9)
            if name == "rp-revert-kept" and rng.random() < MOVE_SHARE:
                item.move_at = rng.uniform(0.05, 0.9)
            items.append(item)
    rng.shuffle(items)
    return items


async def create(world: w.World, items: list[Item]) -> None:
    """Start the UI forwards to adopt, then create every resource over the Kubernetes API (uids recorded)."""
    for item in items:
        if item.desk is not None:
            await world.start_ui_forward(item.forward_id, item.desk)
    for item in items:
        created = await world.api.create(w.GROUP, w.VERSION, item.plural, item.namespace, item.body)
        item.uid = created["metadata"]["uid"]


async def _flip(world: w.World, item: Item) -> None:
    state = "Stopped" if item.spec.get("state", "Running") == "Running" else "Running"
    item.spec["state"] = state
    await world.api.patch(w.GROUP, w.VERSION, item.plural, item.namespace, item.name, {"spec": {"state": state}})


def _drift(world: w.World, item: Item) -> None:
    """Undo the patch in the target by hand (``kubectl edit``): only a re-apply brings it back."""
    target = item.spec["target"]
    current = world.cluster.get("configmaps", target["namespace"], target["name"])
    if current is not None and item.key in (current.get("data") or {}):
        changed = copy.deepcopy(current)
        del changed["data"][item.key]
        world.cluster.put(changed)
        item.drifted.append(asyncio.get_running_loop().time())


async def _move(world: w.World, item: Item) -> None:
    """Change the patch to write the same value under another key (``kubectl edit``): with revertOnDelete the
    operator must first restore the old key (absent again), then apply the new patch."""
    value = item.spec["patch"]["data"][item.key]
    item.spec["patch"] = {"data": {item.moved_key: value}}
    item.moved = True
    await world.api.patch(w.GROUP, w.VERSION, item.plural, item.namespace, item.name,
                          [{"op": "replace", "path": "/spec/patch", "value": item.spec["patch"]}],
                          content_type=JSON_PATCH)


def timeline(items: list[Item]) -> list[tuple[float, str, Item]]:
    """(fraction of the fault phase, action, item), in order: delete, flip, drift, create-target, move."""
    events = [(item.delete_at, "delete", item) for item in items if item.delete_at is not None]
    events += [(at, "flip", item) for item in items for at in item.flips_at]
    events += [(at, "drift", item) for item in items for at in item.drifts_at]
    events += [(item.create_target_at, "create-target", item) for item in items if item.create_target_at is not None]
    events += [(item.move_at, "move", item) for item in items if item.move_at is not None]
    return sorted(events, key=lambda event: event[0])


async def churn(world: w.World, items: list[Item], seconds: float) -> int:
    """What people do during the fault phase (the timeline, spread over ``seconds``); returns the actions taken."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    done = 0
    for at, action, item in timeline(items):
        await asyncio.sleep(max(0.0, start + at * seconds - loop.time()))  # the timeline's own schedule
        if item.deleted:
            continue
        world.journal.note(f"{action} {item.label}")
        if action == "delete":
            await world.api.delete(w.GROUP, w.VERSION, item.plural, item.namespace, item.name)
            item.deleted = True
        elif action == "flip":
            await _flip(world, item)
        elif action == "drift":
            _drift(world, item)
        elif action == "move":
            await _move(world, item)
        else:
            world.cluster.add_configmap(w.APPS, item.spec["target"]["name"], data={"seeded": "late"})
        done += 1
    return done
