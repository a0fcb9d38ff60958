"""ResourcePatch against a real cluster through a real Headlamp (tests/resourcepatch/test_lifecycle.py, for real).

The target is a Deployment ``web`` of the test's namespace; every assertion about the target reads it
back from the API server: the patch must really have changed it, not just have been answered.
"""
from __future__ import annotations

import asyncio
import secrets
import shutil
from typing import Any

import pytest

from tests.harness.e2e.cluster import Namespace, conditions, eventually, is_ready

pytestmark = pytest.mark.e2e


def target(ns: Namespace) -> dict[str, str]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "namespace": ns.name}


async def patch_spec(ns: Namespace, **extra: Any) -> dict[str, Any]:
    return {"cluster": ns.config.cluster, "target": target(ns), "credentials": await ns.viewer_secret(), **extra}


@pytest.mark.parametrize(("patch_type", "patch"), [
    ("merge", {"spec": {"replicas": 2}}),
    ("json", [{"op": "replace", "path": "/spec/replicas", "value": 2}]),
    ("strategic", {"spec": {"replicas": 2}}),
])
async def test_patch_changes_the_deployment(ns: Namespace, patch_type: str, patch: object) -> None:
    before = await ns.deployment("web", replicas=1)
    created = await ns.create("resourcepatches", "scale-web",
                              await patch_spec(ns, patchType=patch_type, patch=patch))
    status = await ns.wait_status("resourcepatches", "scale-web", phase="Applied")
    assert status["reason"] == "Applied"
    assert status["message"] == f"patched apps/v1 Deployment {ns.name}/web"
    assert status["observedGeneration"] == created["metadata"]["generation"]
    assert conditions(status)["Ready"] == "True"
    assert status["lastAppliedTime"].endswith("Z")
    after = await ns.read_deployment("web")
    assert after["spec"]["replicas"] == 2  # really changed, in the API server
    assert status["target"]["uid"] == before["metadata"]["uid"]
    assert status["target"]["resourceVersion"] not in ("", before["metadata"]["resourceVersion"])
    obj = await ns.get("resourcepatches", "scale-web")
    assert obj is not None and not obj["metadata"].get("finalizers")  # nothing blocks its deletion
    await ns.wait_events("scale-web", [("Normal", "Applied")])


async def test_scale_subresource_and_a_spec_change(ns: Namespace) -> None:
    await ns.deployment("web", replicas=1)
    await ns.create("resourcepatches", "scale", await patch_spec(ns, subresource="scale",
                                                                 patch={"spec": {"replicas": 3}}))
    await ns.wait_status("resourcepatches", "scale", phase="Applied")
    assert await ns.replicas("web") == 3
    await ns.patch_spec("resourcepatches", "scale", {"patch": {"spec": {"replicas": 0}}})
    await eventually(lambda: ns.replicas("web"), lambda n: n == 0, within=ns.within,
                     what="the changed patch applied to the scale subresource")
    await ns.wait_status("resourcepatches", "scale", phase="Applied", observedGeneration=2)


async def test_kubectl_wait_for_condition_ready_semantics(ns: Namespace) -> None:
    """Ready=True counts only for the current generation, as ``kubectl wait --for=condition=Ready`` reads it."""
    await ns.deployment("web", replicas=1)
    await ns.create("resourcepatches", "rp", await patch_spec(ns, patch={"spec": {"replicas": 2}}))
    first = await ns.wait_ready("resourcepatches", "rp")
    assert first["status"]["observedGeneration"] == first["metadata"]["generation"] == 1
    await kubectl_wait(ns, "resourcepatches", "rp")

    changed = await ns.patch_spec("resourcepatches", "rp", {"patch": {"spec": {"replicas": 0}}})
    assert changed["metadata"]["generation"] == 2
    second = await ns.wait_ready("resourcepatches", "rp")  # not satisfied by generation 1's Ready
    ready = next(c for c in second["status"]["conditions"] if c["type"] == "Ready")
    assert ready["observedGeneration"] == second["status"]["observedGeneration"] == 2
    assert await ns.replicas("web") == 0
    await kubectl_wait(ns, "resourcepatches", "rp")


async def test_unauthorized_then_the_secret_fixed_applies(ns: Namespace) -> None:
    await ns.deployment("web", replicas=1)
    valid = await ns.token()  # made (and its RBAC in effect) before anything fails
    invalid = f"e2e-invalid-{secrets.token_hex(16)}"
    await ns.put_secret("viewer", token=invalid)  # the API server answers 401
    await ns.create("resourcepatches", "rp", {"cluster": ns.config.cluster, "target": target(ns),
                                              "patch": {"spec": {"replicas": 2}},
                                              "credentials": {"tokenSecretRef": {"name": "viewer"}}})
    failed = await ns.wait_status("resourcepatches", "rp", phase="Failed")
    assert failed["reason"] == "Unauthorized"
    assert conditions(failed)["Ready"] == "False"
    assert not is_ready(await ns.get("resourcepatches", "rp"))
    assert await ns.replicas("web") == 1
    assert invalid not in str(failed)  # nothing secret in a status

    await ns.put_secret("viewer", token=valid)  # rotated: picked up without a restart
    await ns.wait_status("resourcepatches", "rp", phase="Applied")
    assert await ns.replicas("web") == 2
    await ns.wait_events("rp", [("Warning", "Unauthorized"), ("Normal", "Applied")])


async def kubectl_wait(ns: Namespace, plural: str, name: str) -> None:
    """The real ``kubectl wait --for=condition=Ready``, when kubectl is installed (the check above stands alone)."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        return
    context = ["--context", ns.config.context] if ns.config.context else []
    process = await asyncio.create_subprocess_exec(
        kubectl, "--kubeconfig", str(ns.config.kubeconfig), *context, "--namespace", ns.name,
        "wait", "--for=condition=Ready", f"{plural}.headlamp-operator.dev/{name}", f"--timeout={int(ns.within)}s",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await asyncio.wait_for(process.communicate(), timeout=ns.within + 30)
    assert process.returncode == 0, f"kubectl wait: {output.decode(errors='replace')}"
