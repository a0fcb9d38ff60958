"""What a patch may carry, on the real peers: the size limits kube-apiserver and etcd enforce, a patch at the
limit, a re-applying patch deleted while the operator is down, a retry request, and a patch stored invalid."""
from __future__ import annotations

import asyncio
import json
import ssl

import aiohttp
import kmock
import pytest

from headlamp_operator.reconciling import validation
from headlamp_operator_testing.kubernetes import KubernetesEmulator
from headlamp_operator_testing.realpeers.world import World
from tests.harness.e2e.cluster import Namespace, eventually

pytestmark = pytest.mark.realpeers

PF, RP = "portforwards", "resourcepatches"


SIZES = (1_572_000, validation.ETCD_REQUEST_LIMIT, 3 * 1024 * 1024 + 1)  # fits; etcd's limit; over 3 MiB




async def sizes_answered(session: aiohttp.ClientSession, base: str, namespace: str) -> list[tuple[int, str]]:
    """Create a Blob of each size; what the server answered (status, message)."""
    seen = []
    for size in SIZES:
        body = {"apiVersion": "size.example.com/v1", "kind": "Blob", "metadata": {"name": f"b{size}"},
                "data": "x" * size}
        async with session.post(f"{base}/apis/size.example.com/v1/namespaces/{namespace}/blobs", json=body) as r:
            seen.append((r.status, str((await r.json()).get("message", "")) if r.status >= 400 else ""))
    return seen


async def test_the_size_limits_measured_and_the_emulator_answers_alike(world: World, ns: Namespace) -> None:
    """The premise of the patch limit, measured: etcd refuses a stored object of 1,572,864 bytes with a 500;
    kube-apiserver refuses a body over 3 MiB with a 413. The Kubernetes emulator answers the same."""
    world.cp.kubectl("apply", "-f", "-", input=json.dumps(BLOB_CRD))
    world.cp.kubectl("wait", "--for=condition=Established", "crd/blobs.size.example.com", "--timeout=30s")
    context = ssl.create_default_context(cafile=str(world.cp.ca_file))
    headers = {"Authorization": f"Bearer {world.cp.admin_token}"}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context), headers=headers) as session:
        real = await sizes_answered(session, world.cp.server, ns.name)
    async with KubernetesEmulator() as emulator:
        emulator.register_crd(BLOB_CRD)
        async with kmock.Server(emulator) as server, aiohttp.ClientSession() as session:
            emulated = await sizes_answered(session, str(server.url).rstrip("/"), "default")
    assert real == [(201, ""), (500, "etcdserver: request is too large"),
                    (413, "Request entity too large: limit is 3145728")]
    assert emulated == real


BLOB_CRD = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "blobs.size.example.com"},
            "spec": {"group": "size.example.com", "scope": "Namespaced",
                     "names": {"plural": "blobs", "singular": "blob", "kind": "Blob"},
                     "versions": [{"name": "v1", "served": True, "storage": True, "schema": {
                         "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}]}}


async def test_a_patch_at_the_limit_is_stored_and_applied(world: World, ns: Namespace) -> None:
    world.cp.kubectl("apply", "-f", "-", input=json.dumps(BLOB_CRD))
    world.cp.kubectl("wait", "--for=condition=Established", "crd/blobs.size.example.com", "--timeout=30s")
    world.cp.kubectl("-n", ns.name, "apply", "-f", "-", input=json.dumps(
        {"apiVersion": "size.example.com/v1", "kind": "Blob", "metadata": {"name": "target"}}))
    await ns.put_secret("admin", token=world.cp.admin_token)
    patch = {"data": ""}
    patch["data"] = "x" * (validation.MAX_PATCH_BYTES - len(json.dumps(patch, separators=(",", ":"))))
    document = {"apiVersion": "headlamp-operator.dev/v1alpha1", "kind": "ResourcePatch",
                "metadata": {"name": "at-limit", "namespace": ns.name},
                "spec": {"cluster": ns.config.cluster, "patch": patch,
                         "credentials": {"tokenSecretRef": {"name": "admin"}},
                         "target": {"apiVersion": "size.example.com/v1", "kind": "Blob", "name": "target"}}}
    refused = world.cp.kubectl("apply", "-f", "-", input=json.dumps(document), check=False)
    assert "metadata.annotations: Too long: may not be more than 262144 bytes" in refused.stderr  # client-side
    world.cp.kubectl("apply", "--server-side", "-f", "-", input=json.dumps(document))  # as docs/resourcepatch.md says
    await ns.wait_ready(RP, "at-limit")
    stored = world.cp.kubectl("-n", ns.name, "get", "resourcepatch", "at-limit", "-o", "json",
                              "--show-managed-fields").stdout
    assert stored.count(patch["data"]) == 1 and len(stored) < validation.ETCD_REQUEST_LIMIT
    target = json.loads(world.cp.kubectl("-n", ns.name, "get", "blob", "target", "-o", "json").stdout)
    assert target["data"] == patch["data"]


async def test_a_reapplying_patch_is_deleted_at_once_while_the_operator_is_down(world: World, ns: Namespace) -> None:
    await ns.deployment("web")
    await ns.create(RP, "drift-guard", {
        "cluster": ns.config.cluster, "reapplyInterval": "30s", "credentials": await ns.viewer_secret(),
        "target": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "namespace": ns.name},
        "patch": {"metadata": {"annotations": {"qa.example.com/guarded": "true"}}}})
    applied = await ns.wait_ready(RP, "drift-guard")
    assert not applied["metadata"].get("finalizers")
    world.stop_operator()
    try:
        world.cp.kubectl("-n", ns.name, "delete", "resourcepatch", "drift-guard", "--timeout=10s")
        assert await ns.get(RP, "drift-guard") is None
    finally:
        await asyncio.to_thread(world.start_operator)


async def test_the_retry_annotation_applies_a_failed_patch_at_once(world: World, ns: Namespace) -> None:
    """issue 12: Flux's 'retry now', on the real API server: kubectl annotate, then Applied. A missing target is
    waited for (issue 22: Pending/NotFound, with backoff): the annotation applies it before the next retry."""
    await ns.create(RP, "early", {"cluster": ns.config.cluster, "credentials": await ns.viewer_secret(),
                                  "target": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "later"},
                                  "patch": {"metadata": {"labels": {"patched": "yes"}}}})
    await eventually(lambda: ns.status(RP, "early"), lambda status: "retrying in 8s" in status.get("message", ""),
                     within=ns.within, what="the fourth attempt, 8 s before the next")
    await ns.deployment("later")
    world.cp.kubectl("-n", ns.name, "annotate", "rpatch", "early", "--overwrite",
                     "reconcile.headlamp-operator.dev/requestedAt=now-please")
    applied = await ns.wait_status(RP, "early", phase="Applied")
    assert applied["lastHandledReconcileAt"] == "now-please"
    assert (await ns.read_deployment("later"))["metadata"]["labels"]["patched"] == "yes"


async def test_a_patch_stored_invalid_while_the_webhook_was_away_keeps_its_metadata_writable(
        world: World, ns: Namespace) -> None:
    """Admitted while the webhook was unreachable (failurePolicy Ignore), a spec the webhook refuses is stored.

    Its status says what is wrong, and the user can still label it, ask for a retry, and fix it: the webhook
    judges only a spec an update changes, as Kubernetes ratchets CRD validation. It refused every update
    before, the retry annotation and a label alike.
    """
    bad = {"cluster": ns.config.cluster, "patchType": "json", "patch": {"op": "add"},
           "credentials": await ns.viewer_secret(),
           "target": {"apiVersion": "v1", "kind": "ConfigMap", "name": "x", "namespace": ns.name}}
    world.stop_operator()
    try:
        await ns.create(RP, "stored-invalid", bad)
    finally:
        await asyncio.to_thread(world.start_operator)
    failed = await ns.wait_status(RP, "stored-invalid", phase="Failed")
    assert "a json patch must be a non-empty list of RFC 6902 operations" in failed["message"], failed
    kubectl = ("-n", ns.name)
    world.cp.kubectl(*kubectl, "label", "resourcepatch", "stored-invalid", "team=shop")
    world.cp.kubectl(*kubectl, "annotate", "resourcepatch", "stored-invalid",
                     "reconcile.headlamp-operator.dev/requestedAt=now-please")
    changed = world.cp.kubectl(*kubectl, "patch", "resourcepatch", "stored-invalid", "--type=merge",
                               "-p", '{"spec":{"patch":{"op":"remove"}}}', check=False)
    assert changed.returncode != 0 and "denied the request" in changed.stderr, changed.stderr
    world.cp.kubectl(*kubectl, "patch", "resourcepatch", "stored-invalid", "--type=merge",
                     "-p", '{"spec":{"patch":[{"op":"add","path":"/data/fixed","value":"yes"}]}}')
    stored = await ns.get(RP, "stored-invalid")
    assert stored is not None and stored["metadata"]["labels"] == {"team": "shop"}
