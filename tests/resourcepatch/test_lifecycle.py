"""ResourcePatch: merge/json/strategic/scale, re-apply, resume, 401 and Secret rotation, backend outages."""
from __future__ import annotations

import pytest

from headlamp_operator_testing.headlamp import Fault
from headlamp_operator_testing.kopf_harness import wait_until
from tests.harness.memory import SYNC, TOKEN_A, Env, OperatorFactory

TARGET = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "namespace": "shop"}
CREDS = {"tokenSecretRef": {"name": "viewer"}}


def replicas(env: Env) -> int:
    return int(env.hl.clusters["prod"].get("deployments", "shop", "web")["spec"]["replicas"])


@pytest.mark.parametrize(("patch_type", "patch", "content_type"), [
    ("merge", {"spec": {"replicas": 3}}, "application/merge-patch+json"),
    ("json", [{"op": "replace", "path": "/spec/replicas", "value": 3}], "application/json-patch+json"),
    ("strategic", {"spec": {"replicas": 3}}, "application/strategic-merge-patch+json"),
])
async def test_patch_types(env: Env, patch_type: str, patch: object, content_type: str) -> None:
    await env.create("resourcepatches", "team-a", "scale-web", {
        "cluster": "prod", "target": TARGET, "patchType": patch_type, "patch": patch, "credentials": CREDS})
    status = await env.wait_status("resourcepatches", "team-a", "scale-web", phase="Applied")
    assert status["reason"] == "Applied" and status["message"] == "patched apps/v1 Deployment shop/web"
    assert status["target"]["uid"] and status["target"]["resourceVersion"]
    assert status["lastAppliedTime"].endswith("Z")
    assert replicas(env) == 3
    [request] = env.hl.requests_for(method="PATCH")
    assert request.path == "/clusters/prod/apis/apps/v1/namespaces/shop/deployments/web"
    assert request.headers["Content-Type"] == content_type
    assert request.headers["Authorization"] == f"Bearer {TOKEN_A}"
    obj = env.get("resourcepatches", "team-a", "scale-web")
    assert obj is not None and not obj["metadata"].get("finalizers")  # nothing blocks its deletion
    await env.wait_events("scale-web", [("Normal", "Applied")])


async def test_scale_subresource_and_spec_change(env: Env) -> None:
    await env.create("resourcepatches", "team-a", "scale", {
        "cluster": "prod", "target": TARGET, "subresource": "scale", "patch": {"spec": {"replicas": 4}},
        "credentials": CREDS})
    await env.wait_status("resourcepatches", "team-a", "scale", phase="Applied")
    assert replicas(env) == 4
    assert env.hl.requests_for(method="PATCH")[0].path.endswith("/deployments/web/scale")
    await env.patch_spec("resourcepatches", "team-a", "scale", {"patch": {"spec": {"replicas": 5}}})
    await wait_until(lambda: replicas(env) == 5, within=10, message="the changed patch applied")
    await env.wait_status("resourcepatches", "team-a", "scale", phase="Applied", observedGeneration=2)


async def test_deleting_sends_nothing(env: Env) -> None:
    await env.create("resourcepatches", "team-a", "rp", {"cluster": "prod", "target": TARGET,
                                                        "patch": {"spec": {"replicas": 2}}, "credentials": CREDS})
    await env.wait_status("resourcepatches", "team-a", "rp", phase="Applied")
    env.hl.clear_requests()
    await env.delete("resourcepatches", "team-a", "rp")
    await env.wait_gone("resourcepatches", "team-a", "rp")
    assert env.hl.requests == []


async def test_reapply_interval_undoes_drift(start_operator: OperatorFactory) -> None:
    async with start_operator(sync_interval=0.5, min_reapply_interval=1.0) as env:
        env.relax_crds()  # the CRD's 30s minimum would make this test last a minute: the operator's is 1s here
        await env.put_secret("team-a", "viewer", token=TOKEN_A)
        await env.create("resourcepatches", "team-a", "rp", {
            "cluster": "prod", "target": TARGET, "patch": {"spec": {"replicas": 3}}, "reapplyInterval": "1s",
            "credentials": CREDS})
        await env.wait_status("resourcepatches", "team-a", "rp", phase="Applied")
        env.hl.clusters["prod"].get("deployments", "shop", "web")["spec"]["replicas"] = 1  # drift
        await wait_until(lambda: replicas(env) == 3, within=10, message="the drift undone")
        assert len(env.hl.requests_for(method="PATCH")) >= 2
        await env.delete("resourcepatches", "team-a", "rp")  # kopf's timer finalizer comes off at once
        await env.wait_gone("resourcepatches", "team-a", "rp", within=5)


async def test_resume_applies_only_when_the_spec_changed_meanwhile(start_operator: OperatorFactory) -> None:
    async with start_operator() as env:
        await env.put_secret("team-a", "viewer", token=TOKEN_A)
        await env.create("resourcepatches", "team-a", "same", {"cluster": "prod", "target": TARGET,
                                                              "patch": {"spec": {"replicas": 2}}, "credentials": CREDS})
        await env.create("resourcepatches", "team-a", "changed", {"cluster": "prod", "target": TARGET,
                                                                 "patch": {"spec": {"replicas": 2}},
                                                                 "credentials": CREDS})
        await env.wait_status("resourcepatches", "team-a", "same", phase="Applied")
        await env.wait_status("resourcepatches", "team-a", "changed", phase="Applied")
    # the operator is down: one spec changes meanwhile
    env.hl.clear_requests()  # before the restart: whatever resume sends must be counted
    async with start_operator() as env:
        await env.patch_spec("resourcepatches", "team-a", "changed", {"patch": {"spec": {"replicas": 6}}})
        await wait_until(lambda: replicas(env) == 6, within=10, message="the changed spec applied")
        await env.wait_status("resourcepatches", "team-a", "changed", phase="Applied", observedGeneration=2)
        assert len(env.hl.requests_for(method="PATCH")) == 1  # 'same' was not re-applied on resume


async def test_401_then_secret_rotation_applies_without_restart(env: Env) -> None:
    env.hl.clusters["prod"].refuse_token(TOKEN_A)
    await env.create("resourcepatches", "team-a", "rp", {"cluster": "prod", "target": TARGET,
                                                        "patch": {"spec": {"replicas": 7}}, "credentials": CREDS})
    status = await env.wait_status("resourcepatches", "team-a", "rp", phase="Failed")
    assert status["reason"] == "Unauthorized"
    logout = env.hl.requests_for(path="/clusters/prod/set-token")
    assert [r.json for r in logout] == [{"token": None}]
    patches = len(env.hl.requests_for(method="PATCH"))
    await env.put_secret("team-a", "viewer", token="rotated-token-0123456789")
    await env.wait_status("resourcepatches", "team-a", "rp", phase="Applied", within=10 * SYNC)
    assert replicas(env) == 7
    last = env.hl.requests_for(method="PATCH")[-1]
    assert last.headers["Authorization"] == "Bearer rotated-token-0123456789"
    assert len(env.hl.requests_for(method="PATCH")) == patches + 1  # not retried before the Secret changed
    await env.wait_events("rp", [("Warning", "Unauthorized"), ("Normal", "Applied")])


async def test_backend_down_pending_unreachable_then_recovered(env: Env) -> None:
    await env.hl.stop_listening()
    await env.create("resourcepatches", "team-a", "rp", {"cluster": "prod", "target": TARGET,
                                                        "patch": {"spec": {"replicas": 2}}, "credentials": CREDS})
    status = await env.wait_status("resourcepatches", "team-a", "rp", phase="Pending", reason="Unreachable")
    assert "attempt" in status["message"] and "retrying in" in status["message"]
    assert status["message"].startswith("patching Deployment web: Unreachable - connection refused by 127.0.0.1:")
    assert {c["type"]: c["status"] for c in status["conditions"]} == {"Ready": "False", "Reconciling": "True",
                                                                     "Stalled": "False"}
    await env.hl.start_listening()
    await env.wait_status("resourcepatches", "team-a", "rp", phase="Applied", within=15)
    assert replicas(env) == 2


async def test_503_honours_retry_after_and_recovers(env: Env) -> None:
    env.hl.fault = Fault(status=503, body="maintenance", retry_after=1)
    await env.create("resourcepatches", "team-a", "rp", {"cluster": "prod", "target": TARGET,
                                                        "patch": {"spec": {"replicas": 2}}, "credentials": CREDS})
    status = await env.wait_status("resourcepatches", "team-a", "rp", phase="Pending")
    assert "Service Unavailable - maintenance" in status["message"]
    env.hl.fault = None
    await env.wait_status("resourcepatches", "team-a", "rp", phase="Applied", within=15)


async def test_missing_target_waits_as_not_found(env: Env) -> None:
    """Pending with reason NotFound, retried (docs/resourcepatch.md#a-target-that-does-not-exist-yet; more in
    test_truthful_status, section 7)."""
    await env.create("resourcepatches", "team-a", "rp", {
        "cluster": "prod", "target": {**TARGET, "name": "nope"}, "patch": {"spec": {"replicas": 2}},
        "credentials": CREDS})
    status = await env.wait_status("resourcepatches", "team-a", "rp", phase="Pending")
    assert status["reason"] == "NotFound" and "nope" in status["message"] and "retrying in" in status["message"]


async def test_an_outcome_missing_from_the_status_is_recovered_on_restart(start_operator: OperatorFactory) -> None:
    """kopf's handled state is there but the outcome is not (a wiped status, an older operator): resume applies."""
    import json
    spec = {"cluster": "prod", "target": TARGET, "patch": {"spec": {"replicas": 8}}, "credentials": CREDS}
    async with start_operator() as env:
        await env.put_secret("team-a", "viewer", token=TOKEN_A)
        await env.create("resourcepatches", "team-a", "same", {"cluster": "prod", "target": TARGET,
                                                              "patch": {"spec": {"replicas": 2}}, "credentials": CREDS})
        await env.wait_status("resourcepatches", "team-a", "same", phase="Applied")
    stored = env.kube.create_object("headlamp-operator.dev", "v1alpha1", "resourcepatches", "team-a", {
        "apiVersion": "headlamp-operator.dev/v1alpha1", "kind": "ResourcePatch",
        "metadata": {"name": "lost", "namespace": "team-a"}, "spec": spec})
    handled = json.dumps({"spec": stored["spec"]})  # as stored: with the CRD's defaults (patchType)
    async with env.harness.client() as api:  # only kopf's bookkeeping in the status, no outcome
        await api.patch("headlamp-operator.dev", "v1alpha1", "resourcepatches", "team-a", "lost",
                        {"status": {"kopf": {"last-handled-configuration": handled}}}, subresource="status")
    env.hl.clear_requests()  # before the restart: whatever resume sends must be counted
    async with start_operator() as env:
        await env.wait_status("resourcepatches", "team-a", "lost", phase="Applied")
        assert replicas(env) == 8
        assert len(env.hl.requests_for(method="PATCH")) == 1  # only the one whose outcome was missing


def sample(name: str, labels: dict[str, str]) -> float | None:
    """One sample of the operator's metrics, as a scrape of /metrics shows it."""
    import prometheus_client
    return prometheus_client.REGISTRY.get_sample_value(name, labels)


def ready_status(namespace: str, name: str) -> dict[str, float | None]:
    return {condition: sample("headlamp_operator_resource_ready_status", {
        "kind": "ResourcePatch", "namespace": namespace, "name": name, "condition": condition})
        for condition in ("True", "False", "Unknown")}


async def test_the_readiness_gauge_names_each_resource_and_forgets_a_deleted_one(
        env: Env, caplog: pytest.LogCaptureFixture) -> None:
    import logging
    caplog.set_level(logging.INFO, logger="kopf")
    env.hl.clusters["prod"].forbid_token(TOKEN_A)
    await env.create("resourcepatches", "team-a", "refused", {"cluster": "prod", "target": TARGET,
                                                             "patch": {"spec": {"replicas": 2}}, "credentials": CREDS})
    await env.wait_status("resourcepatches", "team-a", "refused", phase="Failed", reason="Forbidden")
    await wait_until(lambda: ready_status("team-a", "refused") == {"True": 0.0, "False": 1.0, "Unknown": 0.0},
                     within=5, message=f"the gauge shows it not Ready: {ready_status('team-a', 'refused')}")
    assert sample("headlamp_operator_resources", {"kind": "ResourcePatch", "phase": "Failed"}) == 1.0
    env.hl.clusters["prod"].allow_token(TOKEN_A)
    await env.create("resourcepatches", "team-a", "counted", {"cluster": "prod", "target": TARGET,
                                                             "patch": {"spec": {"replicas": 2}}, "credentials": CREDS})
    await env.wait_status("resourcepatches", "team-a", "counted", phase="Applied")
    await wait_until(lambda: ready_status("team-a", "counted") == {"True": 1.0, "False": 0.0, "Unknown": 0.0},
                     within=5, message=f"the gauge shows it Ready: {ready_status('team-a', 'counted')}")
    assert sample("headlamp_operator_resources", {"kind": "ResourcePatch", "phase": "Applied"}) == 1.0
    assert (sample("headlamp_operator_reconcile_duration_seconds_count", {"kind": "ResourcePatch"}) or 0) >= 2
    await env.delete("resourcepatches", "team-a", "counted")
    await wait_until(lambda: ready_status("team-a", "counted")["True"] is None, within=5, message="the gauge forgot it")
    assert sample("headlamp_operator_resources", {"kind": "ResourcePatch", "phase": "Applied"}) is None
    # the deletion's bookkeeping is not news: no line names a handler the user never wrote
    assert not [r.getMessage() for r in caplog.records if "forget-" in r.getMessage()]


async def test_any_permanent_failure_is_retried_when_its_secret_changes(env: Env) -> None:
    env.hl.clusters["prod"].forbid_token(TOKEN_A)
    await env.create("resourcepatches", "team-a", "rp", {"cluster": "prod", "target": TARGET,
                                                        "patch": {"spec": {"replicas": 9}}, "credentials": CREDS})
    await env.wait_status("resourcepatches", "team-a", "rp", phase="Failed", reason="Forbidden")
    attempts = len(env.hl.requests_for(method="PATCH"))
    await env.put_secret("team-a", "viewer", token="a-token-with-rbac-0123456789")
    await env.wait_status("resourcepatches", "team-a", "rp", phase="Applied", within=10 * SYNC)
    assert replicas(env) == 9 and len(env.hl.requests_for(method="PATCH")) == attempts + 1
