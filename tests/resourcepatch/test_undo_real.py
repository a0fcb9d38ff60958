"""Preview, undo and drift of ResourcePatches on the real API server (docs/resourcepatch.md): dryRun=All as
kube-apiserver runs it, the undo's `test` guard losing to a concurrent write, an undo after a spec change, a
deletion while Headlamp is down, and a Secret whose values reach no status, Event or log line.

Every assertion about a target reads it back from the real API server.
"""
from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from headlamp_operator.headlamp import errors, resources
from headlamp_operator.headlamp.backend import Backend
from headlamp_operator.reconciling import pointers
from headlamp_operator.settings import BackendSettings
from headlamp_operator.structs import Credentials, Secret
from headlamp_operator_testing.realpeers.world import World
from tests.harness.e2e.cluster import Namespace, eventually

pytestmark = pytest.mark.realpeers

RP = "resourcepatches"


def web(ns: Namespace) -> dict[str, str]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "namespace": ns.name}


async def test_a_dry_run_previews_and_stores_nothing(world: World, ns: Namespace) -> None:
    before = await ns.deployment("web")
    viewer = await ns.viewer_secret()
    await ns.create(RP, "preview", {"cluster": ns.config.cluster, "target": web(ns), "dryRun": True,
                                    "patch": {"spec": {"replicas": 3}}, "credentials": viewer})
    status = await ns.wait_status(RP, "preview", phase="Previewed")
    assert status["preview"] == [{"path": "/spec/replicas", "before": "1", "after": "3"}]
    assert status["message"].startswith(f"would change 1 field of apps/v1 Deployment {ns.name}/web"), status
    after = await ns.read_deployment("web")  # nothing stored (its status may move: kwok runs its pods)
    assert after["spec"] == before["spec"] and after["metadata"]["generation"] == before["metadata"]["generation"]
    assert not (await ns.get(RP, "preview") or {})["metadata"].get("finalizers")
    # a preview the API server refuses fails as the apply would
    await ns.create(RP, "refused", {"cluster": ns.config.cluster, "target": web(ns), "dryRun": True,
                                    "patch": {"spec": {"replicas": -1}}, "credentials": viewer})
    refused = await ns.wait_status(RP, "refused", phase="Failed")
    assert refused["reason"] == "InvalidSpec" and "spec.replicas" in refused["message"], refused
    await ns.patch_spec(RP, "preview", {"dryRun": False})
    await ns.wait_status(RP, "preview", phase="Applied", observedGeneration=2)
    assert await ns.replicas("web") == 3


async def test_the_undo_test_guard_loses_to_a_concurrent_write(world: World, ns: Namespace) -> None:
    """The guard itself, on the real API server: an undo planned from a read that is stale by the time it is sent
    is refused whole (422), and nothing of it lands."""
    await ns.deployment("web", replicas=2)
    entries = [pointers.Entry(path="/spec/replicas", before="1", applied=pointers.digest(2))]
    credentials = Credentials(token=Secret(world.cp.admin_token))
    path = f"/apis/apps/v1/namespaces/{ns.name}/deployments/web"
    async with Backend(BackendSettings(url=world.headlamp_url, request_timeout=10.0)) as backend:
        stale = await resources.get_object(backend, path, cluster=ns.config.cluster, credentials=credentials)
        plan = pointers.plan(entries, stale)
        assert plan.restored == ["/spec/replicas"]
        world.cp.kubectl("-n", ns.name, "scale", "deployment/web", "--replicas=5")  # somebody writes meanwhile
        with pytest.raises(errors.ApiError) as refused:
            await resources.patch(backend, path, plan.operations, cluster=ns.config.cluster, patch_type="json",
                                  credentials=credentials)
    assert refused.value.status == 422, refused.value
    assert await ns.replicas("web") == 5  # the concurrent write stands; nothing of the undo landed


async def test_an_undo_leaves_a_path_changed_since_and_restores_the_others(world: World, ns: Namespace) -> None:
    await ns.deployment("web")
    viewer = await ns.viewer_secret()
    await ns.create(RP, "undo", {"cluster": ns.config.cluster, "target": web(ns), "revertOnDelete": True,
                                 "patch": {"spec": {"replicas": 3}, "metadata": {"labels": {"patched": "yes"}}},
                                 "credentials": viewer})
    status = await ns.wait_status(RP, "undo", phase="Applied")
    assert status["revert"]["complete"] is True
    world.cp.kubectl("-n", ns.name, "scale", "deployment/web", "--replicas=4")  # somebody else's change
    await ns.delete(RP, "undo")
    await ns.wait_gone(RP, "undo")
    after = await ns.read_deployment("web")
    assert after["spec"]["replicas"] == 4 and "patched" not in (after["metadata"].get("labels") or {})
    await ns.wait_events("undo", [("Normal", "Applied"), ("Warning", "RevertConflict"), ("Normal", "Reverted")])


async def test_a_spec_change_restores_the_old_paths_first(world: World, ns: Namespace) -> None:
    await ns.deployment("web")
    viewer = await ns.viewer_secret()
    await ns.create(RP, "change", {"cluster": ns.config.cluster, "target": web(ns), "revertOnDelete": True,
                                   "patchType": "json", "credentials": viewer,
                                   "patch": [{"op": "add", "path": "/metadata/labels/old", "value": "1"},
                                             {"op": "replace", "path": "/spec/replicas", "value": 2}]})
    await ns.wait_status(RP, "change", phase="Applied")
    await ns.patch_spec(RP, "change", {"patch": [{"op": "replace", "path": "/spec/replicas", "value": 3}]})
    status = await ns.wait_status(RP, "change", phase="Applied", observedGeneration=2)
    after = await ns.read_deployment("web")
    assert "old" not in (after["metadata"].get("labels") or {})  # the old patch left nothing behind
    assert after["spec"]["replicas"] == 3
    assert [(p["path"], p.get("before")) for p in status["revert"]["paths"]] == [("/spec/replicas", "1")]
    await ns.delete(RP, "change")
    await ns.wait_gone(RP, "change")
    assert await ns.replicas("web") == 1


async def test_deletion_waits_while_headlamp_is_down(world: World, ns: Namespace) -> None:
    await ns.deployment("web")
    viewer = await ns.viewer_secret()
    await ns.create(RP, "down", {"cluster": ns.config.cluster, "target": web(ns), "revertOnDelete": True,
                                 "patch": {"spec": {"replicas": 2}}, "credentials": viewer})
    await ns.wait_status(RP, "down", phase="Applied")
    assert world.headlamp is not None
    world.headlamp.stop()
    try:
        await ns.delete(RP, "down")
        held = await eventually(lambda: ns.get(RP, "down"), lambda obj: obj is not None and bool(
            obj["metadata"].get("deletionTimestamp")), within=ns.within, what="the deletion held by the finalizer")
        assert held["metadata"]["finalizers"] == ["headlamp-operator.dev/finalizer"]
        assert await ns.replicas("web") == 2
    finally:
        world.start_headlamp(world.headlamp)
    await ns.wait_gone(RP, "down")
    assert await ns.replicas("web") == 1


async def test_a_secret_is_previewed_and_restored_with_no_value_in_any_status_event_or_log(
        world: World, ns: Namespace) -> None:
    old, new = "real-old-7c1e04", "real-new-93d5aa"
    await ns.put_secret("db", password=old)
    await ns.put_secret("admin", token=world.cp.admin_token)
    target = {"apiVersion": "v1", "kind": "Secret", "name": "db", "namespace": ns.name}
    await ns.create(RP, "secret", {"cluster": ns.config.cluster, "target": target, "dryRun": True,
                                   "patch": {"stringData": {"password": new}},
                                   "credentials": {"tokenSecretRef": {"name": "admin"}}})
    preview = await ns.wait_status(RP, "secret", phase="Previewed")
    assert [entry["path"] for entry in preview["preview"]] == ["/data/password"]
    await ns.patch_spec(RP, "secret", {"dryRun": False, "revertOnDelete": True})
    applied = await ns.wait_status(RP, "secret", phase="Applied", observedGeneration=2)
    assert await read_password(world, ns) == new
    await ns.delete(RP, "secret")
    await ns.wait_gone(RP, "secret")
    assert await read_password(world, ns) == old
    events = world.cp.kubectl("-n", ns.name, "get", "events", "-o", "json").stdout
    assert world.operator is not None
    seen = json.dumps([preview, applied]) + events + world.operator.log()
    for value in (old, new):
        for form in (value, base64.b64encode(value.encode()).decode()):
            assert form not in seen


async def read_password(world: World, ns: Namespace) -> str:
    secret: dict[str, Any] = json.loads(world.cp.kubectl("-n", ns.name, "get", "secret", "db", "-o", "json").stdout)
    return base64.b64decode(secret["data"]["password"]).decode()
