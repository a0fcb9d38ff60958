"""What a patch may carry and where it goes: a patch over etcd's request limit, status through the main
endpoint, a patch that changes nothing, and a re-applying patch deleted while the operator is down.

Each kind of fault was found by trying a public bug report on the product; a test names its kind, the handed
input first, then inputs of the same kind of our own making.
"""
from __future__ import annotations

import json

from headlamp_operator.reconciling import validation
from tests.harness.memory import TOKEN_A, Env, OperatorFactory

CREDS = {"tokenSecretRef": {"name": "viewer"}}
PF, RP = "portforwards", "resourcepatches"




# 8. An outcome that changed nothing says so --------------------------------------------------------------

async def test_kind8_status_through_the_main_endpoint_is_refused(env: Env) -> None:
    await env.create(RP, "team-a", "web-status-main-endpoint", {
        "cluster": "prod", "target": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                                      "namespace": "shop"},
        "patch": {"status": {"readyReplicas": 0}}, "credentials": CREDS})
    status = await env.wait_status(RP, "team-a", "web-status-main-endpoint", phase="Failed")
    assert status["reason"] == "InvalidSpec"
    assert "use subresource: status" in status["message"]
    assert not env.hl.requests_for(method="PATCH")


async def test_kind8_a_json_patch_of_status_and_a_patch_that_changes_nothing(env: Env) -> None:
    target = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "namespace": "shop"}
    await env.create(RP, "team-a", "json-status", {
        "cluster": "prod", "target": target, "patchType": "json",
        "patch": [{"op": "replace", "path": "/status/replicas", "value": 0}], "credentials": CREDS})
    refused = await env.wait_status(RP, "team-a", "json-status", phase="Failed")
    assert "use subresource: status" in refused["message"]
    await env.create(RP, "team-a", "replicas", {"cluster": "prod", "target": target,
                                                "patch": {"spec": {"replicas": 4}}, "credentials": CREDS})
    first = await env.wait_status(RP, "team-a", "replicas", phase="Applied")
    assert "nothing changed" not in first["message"]
    # the same change again, said differently: the object does not change
    await env.patch_spec(RP, "team-a", "replicas", {"patch": {"spec": {"replicas": 4}, "metadata": {}}})
    again = await env.wait_status(RP, "team-a", "replicas", phase="Applied", observedGeneration=2)
    assert again["message"].endswith(f"nothing changed (resourceVersion {first['target']['resourceVersion']} "
                                     "as before)")


# 6. A patch within the documented limit keeps the stored object under etcd's limit ------------------------

async def test_kind6_the_handed_patch_is_applied_and_stored_once_under_etcds_limit(env: Env) -> None:
    env.hl.clusters["prod"].add_configmap("shop", "app.settings.v2")
    text = "x" * 954_001
    await env.create(RP, "team-a", "big", {
        "cluster": "prod", "target": {"apiVersion": "v1", "kind": "ConfigMap", "name": "app.settings.v2",
                                      "namespace": "shop"},
        "patch": {"data": {"settings": text}}, "credentials": CREDS})
    await env.wait_status(RP, "team-a", "big", phase="Applied", within=20)
    stored = env.get(RP, "team-a", "big")
    assert stored is not None
    encoded = json.dumps(stored, separators=(",", ":"))
    assert encoded.count(text) == 1  # kopf's copy of the spec holds a digest of the patch (it was 1,913,437 bytes)
    assert len(encoded) < validation.ETCD_REQUEST_LIMIT


async def test_kind6_a_patch_over_the_limit_is_refused_naming_its_size_and_the_limit(env: Env) -> None:
    patch = {"data": {"settings": "x" * validation.MAX_PATCH_BYTES}}
    await env.create(RP, "team-a", "too-big", {
        "cluster": "prod", "target": {"apiVersion": "v1", "kind": "ConfigMap", "name": "app.settings.v2",
                                      "namespace": "shop"}, "patch": patch, "credentials": CREDS})
    status = await env.wait_status(RP, "team-a", "too-big", phase="Failed")
    assert status["reason"] == "InvalidSpec"
    size = len(json.dumps(patch, separators=(",", ":")))
    assert f"spec.patch is {size} bytes" in status["message"]
    assert f"at most {validation.MAX_PATCH_BYTES}" in status["message"] and "1572864" in status["message"]
    assert not env.hl.requests_for(method="PATCH")
    assert patch["data"]["settings"] not in json.dumps(status)


# 7. No ResourcePatch ever carries a finalizer, so deleting one is never blocked ------------------------

async def test_kind7_a_reapplying_patch_is_deleted_at_once_while_the_operator_is_down(
        start_operator: OperatorFactory) -> None:
    target = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "namespace": "shop"}
    async with start_operator(min_reapply_interval=1.0) as env:
        await env.put_secret("team-a", "viewer", token=TOKEN_A)
        await env.create(RP, "team-a", "drift-guard", {
            "cluster": "prod", "target": target, "reapplyInterval": "30s", "credentials": CREDS,
            "patch": {"metadata": {"annotations": {"qa.example.com/guarded": "true"}}}})
        await env.wait_status(RP, "team-a", "drift-guard", phase="Applied")
        await env.create(RP, "team-a", "blocked", {"cluster": "prod", "target": target, "patch": {},
                                                   "credentials": {"tokenSecretRef": {"name": "missing"}}})
        await env.wait_status(RP, "team-a", "blocked", phase="Failed")  # waits for a Secret to change
        for name in ("drift-guard", "blocked"):
            obj = env.get(RP, "team-a", name)
            assert obj is not None and not obj["metadata"].get("finalizers"), obj["metadata"]
    # the operator is stopped: kubectl delete must not hang
    async with env.harness.client() as api:
        for name in ("drift-guard", "blocked"):
            await api.delete("headlamp-operator.dev", "v1alpha1", RP, "team-a", name)
            assert await api.get("headlamp-operator.dev", "v1alpha1", RP, "team-a", name) is None
