"""Faults on the real peers: the API server away for 10 s, the operator SIGKILLed in a burst."""
from __future__ import annotations

import asyncio
import collections

import pytest

from headlamp_operator_testing.realpeers.world import World
from tests.harness.e2e.cluster import Namespace, eventually

pytestmark = pytest.mark.realpeers

OUTAGE = 10.0  # seconds kube-apiserver stays down: the fault itself, not a wait for something


async def test_the_operator_resumes_its_watches_after_the_api_server_was_away(world: World, ns: Namespace) -> None:
    await ns.deployment("web")
    viewer = await ns.viewer_secret()
    target = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "namespace": ns.name}
    await ns.create("resourcepatches", "before", {"cluster": ns.config.cluster, "target": target,
                                                  "patch": {"spec": {"replicas": 2}}, "credentials": viewer})
    await ns.wait_ready("resourcepatches", "before")

    await asyncio.to_thread(world.cp.stop_apiserver)
    await asyncio.sleep(OUTAGE)
    await asyncio.to_thread(world.cp.start_apiserver)

    await ns.patch_spec("resourcepatches", "before", {"patch": {"spec": {"replicas": 3}}})
    await ns.create("resourcepatches", "after", {"cluster": ns.config.cluster, "target": target,
                                                 "patch": {"metadata": {"labels": {"after": "yes"}}},
                                                 "credentials": viewer})
    await ns.wait_ready("resourcepatches", "after")
    changed = await ns.wait_ready("resourcepatches", "before")
    assert changed["status"]["observedGeneration"] == 2
    assert await ns.replicas("web") == 3
    assert (await ns.read_deployment("web"))["metadata"]["labels"]["after"] == "yes"
    # The leader could not renew its Lease while the API server was away: it stopped, and came back
    # (restarted as a Deployment restarts its pod) as the same identity, holding the Lease again.
    assert world.operator is not None and world.operator.alive()


async def test_a_sigkilled_operator_converges_every_resource_of_a_burst_without_duplicate_forwards(
        world: World, ns: Namespace) -> None:
    pod = await ns.echo()
    await ns.deployment("web")
    viewer = await ns.viewer_secret()
    target = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "namespace": ns.name}
    names = [f"pf-{i}" for i in range(25)] + [f"rp-{i}" for i in range(25)]
    # All 50 at once (the admission webhook runs in the operator: it must be up to admit them), then
    # SIGKILL while the operator is in the middle of handling them: no cleanup at all.
    await asyncio.gather(*(create(ns, name, pod, target, viewer) for name in names))
    world.stop_operator(kill=True)
    names.append("pf-late")  # created while the operator (and its webhook) is down: the webhook fails open
    await create(ns, "pf-late", pod, target, viewer)
    await asyncio.to_thread(world.start_operator)
    uids = {}
    for name in names:
        obj = await ns.wait_ready("portforwards" if name.startswith("pf") else "resourcepatches", name)
        uids[name] = obj["metadata"]["uid"]
    listed = await eventually(ns.headlamp.forwards,
                              lambda forwards: sum(f.get("namespace") == ns.name for f in forwards) >= 26,
                              within=ns.within, what="26 forwards in Headlamp's list")
    ids = collections.Counter(f["id"] for f in listed if f.get("namespace") == ns.name)
    assert set(ids) == {uids[name] for name in names if name.startswith("pf")}
    assert max(ids.values()) == 1, ids  # no forward started twice
    assert all(f.get("status") == "Running" for f in listed if f.get("namespace") == ns.name)


async def create(ns: Namespace, name: str, pod: str, target: dict[str, str], viewer: dict[str, object]) -> None:
    if name.startswith("pf"):
        await ns.create("portforwards", name, {"cluster": ns.config.cluster, "pod": pod, "namespace": ns.name,
                                               "targetPort": 8080, "credentials": viewer})
    else:
        await ns.create("resourcepatches", name, {"cluster": ns.config.cluster, "target": target,
                                                  "patch": {"metadata": {"annotations": {name: "x"}}},
                                                  "credentials": viewer})
