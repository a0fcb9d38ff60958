"""ResourcePatch preview (dryRun), undo (revertOnDelete) and drift (docs/resourcepatch.md), on the emulators.

Every assertion about a target reads it from the in-memory API server behind the Headlamp emulator.
"""
from __future__ import annotations

import base64
import json
import logging
from typing import Any

import prometheus_client
import pytest

from headlamp_operator.reconciling import validation
from headlamp_operator_testing.headlamp import Fault
from headlamp_operator_testing.kopf_harness import wait_until
from tests.harness.memory import GROUP, TOKEN_A, Env, OperatorFactory

RP = "resourcepatches"
TARGET = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "namespace": "shop"}
CREDS = {"tokenSecretRef": {"name": "viewer"}}


def web(env: Env) -> dict[str, Any]:
    found = env.hl.clusters["prod"].get("deployments", "shop", "web")
    assert found is not None
    return found


def finalizers(env: Env, name: str) -> list[str]:
    return list(((env.get(RP, "team-a", name) or {}).get("metadata") or {}).get("finalizers") or [])


async def test_a_dry_run_previews_the_touched_fields_and_stores_nothing(env: Env) -> None:
    before = web(env)
    await env.create(RP, "team-a", "preview", {
        "cluster": "prod", "target": TARGET, "dryRun": True, "credentials": CREDS,
        "patch": {"spec": {"replicas": 3}, "metadata": {"labels": {"tier": "front"}}}})
    status = await env.wait_status(RP, "team-a", "preview", phase="Previewed")
    assert status["reason"] == "Previewed"
    assert status["message"] == ("would change 2 fields of apps/v1 Deployment shop/web; "
                                 "set dryRun: false to apply it")
    assert status["preview"] == [{"path": "/metadata/labels/tier", "after": '"front"'},
                                 {"path": "/spec/replicas", "before": "1", "after": "3"}]
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "True"
    assert "lastAppliedTime" not in status and "target" not in status
    assert web(env)["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]  # nothing stored
    [request] = env.hl.requests_for(method="PATCH")
    assert request.query["dryRun"] == "All"
    assert not finalizers(env, "preview")
    await env.patch_spec(RP, "team-a", "preview", {"dryRun": False})
    status = await env.wait_status(RP, "team-a", "preview", phase="Applied", observedGeneration=2)
    assert web(env)["spec"]["replicas"] == 3 and web(env)["metadata"]["labels"]["tier"] == "front"
    assert status.get("preview") is None


async def test_a_preview_the_api_server_refuses_fails_with_its_message(env: Env) -> None:
    await env.create(RP, "team-a", "bad", {"cluster": "prod", "target": TARGET, "dryRun": True,
                                           "patch": {"spec": {"replicas": -1}}, "credentials": CREDS})
    status = await env.wait_status(RP, "team-a", "bad", phase="Failed")
    assert status["reason"] == "InvalidSpec" and "replicas" in status["message"], status
    assert web(env)["spec"]["replicas"] == 1


async def test_revert_on_delete_restores_what_the_patch_replaced(env: Env) -> None:
    await env.create(RP, "team-a", "undo", {
        "cluster": "prod", "target": TARGET, "revertOnDelete": True, "credentials": CREDS,
        "patch": {"spec": {"replicas": 4}, "metadata": {"labels": {"patched": "yes"}}}})
    status = await env.wait_status(RP, "team-a", "undo", phase="Applied")
    assert finalizers(env, "undo") == [f"{GROUP}/finalizer"]
    record = status["revert"]
    assert record["complete"] is True and record["target"]["name"] == "web" and record.get("secretName") is None
    assert [p["path"] for p in record["paths"]] == ["/metadata/labels/patched", "/spec/replicas"]
    assert record["paths"][1]["before"] == "1" and "before" not in record["paths"][0]  # the label was absent
    assert web(env)["spec"]["replicas"] == 4
    await env.api.patch(GROUP, "v1alpha1", RP, "team-a", "undo",  # retry now: applied again, record kept
                        {"metadata": {"annotations": {"reconcile.headlamp-operator.dev/requestedAt": "now"}}})
    await env.wait_status(RP, "team-a", "undo", lastHandledReconcileAt="now")
    reads = env.hl.requests_for(method="GET", path="/clusters/prod/apis/apps/v1/namespaces/shop/deployments/web")
    assert len(reads) == 1  # the record's read; the second apply needs no read of the object
    assert len(env.hl.requests_for(method="PATCH")) == 2
    await env.delete(RP, "team-a", "undo")
    await env.wait_gone(RP, "team-a", "undo")
    assert web(env)["spec"]["replicas"] == 1 and "patched" not in (web(env)["metadata"].get("labels") or {})
    [revert] = [r for r in env.hl.requests_for(method="PATCH") if r.headers["Content-Type"].startswith(
        "application/json-patch")]
    assert [op["op"] for op in revert.json] == ["test", "remove", "test", "replace"]
    await env.wait_events("undo", [("Normal", "Applied"), ("Normal", "Reverted")])


async def test_a_path_changed_since_is_left_alone_and_named(env: Env) -> None:
    await env.create(RP, "team-a", "undo", {
        "cluster": "prod", "target": TARGET, "revertOnDelete": True, "credentials": CREDS,
        "patch": {"spec": {"replicas": 4}, "metadata": {"labels": {"patched": "yes"}}}})
    await env.wait_status(RP, "team-a", "undo", phase="Applied")
    changed = web(env)
    changed["spec"]["replicas"] = 7  # somebody else scales it meanwhile
    env.hl.clusters["prod"].put(changed)
    await env.delete(RP, "team-a", "undo")
    await env.wait_gone(RP, "team-a", "undo")
    assert web(env)["spec"]["replicas"] == 7  # theirs kept
    assert "patched" not in (web(env)["metadata"].get("labels") or {})  # ours restored
    await env.wait_events("undo", [("Normal", "Applied"), ("Warning", "RevertConflict"), ("Normal", "Reverted")])
    conflict = next(e for e in env.events("undo") if e["reason"] == "RevertConflict")
    assert "/spec/replicas" in conflict["message"] and "/metadata/labels/patched" not in conflict["message"]


async def test_a_spec_change_restores_the_old_paths_before_applying_the_new_patch(env: Env) -> None:
    await env.create(RP, "team-a", "undo", {
        "cluster": "prod", "target": TARGET, "revertOnDelete": True, "credentials": CREDS,
        "patch": {"metadata": {"labels": {"old": "1"}}}})
    await env.wait_status(RP, "team-a", "undo", phase="Applied")
    assert web(env)["metadata"]["labels"]["old"] == "1"
    await env.patch_spec(RP, "team-a", "undo", {"patch": {"metadata": {"labels": {"old": None, "new": "2"}}}})
    status = await env.wait_status(RP, "team-a", "undo", phase="Applied", observedGeneration=2)
    labels = web(env)["metadata"].get("labels") or {}
    assert "old" not in labels and labels["new"] == "2"
    # the merge patch of the spec deleted `old` from spec.patch too (docs/resourcepatch.md#deleting-a-key): the
    # new patch touches `new` alone, and `old` is left behind no more (#45)
    assert [p["path"] for p in status["revert"]["paths"]] == ["/metadata/labels/new"]
    await env.delete(RP, "team-a", "undo")
    await env.wait_gone(RP, "team-a", "undo")
    assert not {"old", "new"} & set(web(env)["metadata"].get("labels") or {})


async def test_a_restore_before_a_new_spec_that_fails_says_so_and_is_retried(env: Env) -> None:
    await env.create(RP, "team-a", "undo", {"cluster": "prod", "target": TARGET, "revertOnDelete": True,
                                            "patch": {"metadata": {"labels": {"old": "1"}}}, "credentials": CREDS})
    await env.wait_status(RP, "team-a", "undo", phase="Applied")
    env.hl.fault = Fault(status=503, method="PATCH")
    await env.patch_spec(RP, "team-a", "undo", {"patch": {"metadata": {"labels": {"old": None, "new": "2"}}}})
    status = await env.wait_status(RP, "team-a", "undo", phase="Pending", observedGeneration=2)
    assert status["message"].startswith("restoring what the previous spec's patch set, before applying this one")
    assert "retrying in" in status["message"] and web(env)["metadata"]["labels"]["old"] == "1"
    env.hl.fault = None
    await env.wait_status(RP, "team-a", "undo", phase="Applied", observedGeneration=2, within=15)
    labels = web(env)["metadata"]["labels"]
    assert "old" not in labels and labels["new"] == "2"


@pytest.mark.parametrize("change", [{"revertOnDelete": False}, {"revertOnDelete": False, "dryRun": True}])
async def test_turning_revert_off_drops_the_record_and_the_finalizer(env: Env, change: dict[str, Any]) -> None:
    await env.create(RP, "team-a", "undo", {"cluster": "prod", "target": TARGET, "revertOnDelete": True,
                                            "patch": {"spec": {"replicas": 2}}, "credentials": CREDS})
    await env.wait_status(RP, "team-a", "undo", phase="Applied")
    await env.patch_spec(RP, "team-a", "undo", change)
    await env.wait_status(RP, "team-a", "undo", phase="Previewed" if change.get("dryRun") else "Applied",
                          observedGeneration=2)
    await wait_until(lambda: not finalizers(env, "undo") and env.status(RP, "team-a", "undo").get("revert") is None,
                     within=10, message="no finalizer and no record")
    assert web(env)["spec"]["replicas"] == 2  # kept: the patch stays in place


async def test_deletion_waits_for_an_unreachable_headlamp(env: Env) -> None:
    await env.create(RP, "team-a", "undo", {"cluster": "prod", "target": TARGET, "revertOnDelete": True,
                                            "patch": {"spec": {"replicas": 5}}, "credentials": CREDS})
    await env.wait_status(RP, "team-a", "undo", phase="Applied")
    env.hl.clear_requests()
    env.hl.fault = Fault(disconnect=True)
    await env.delete(RP, "team-a", "undo")
    await env.hl.wait_until(lambda: len(env.hl.requests) >= 3, timeout=10)  # retried
    obj = env.get(RP, "team-a", "undo")
    assert obj is not None and obj["metadata"].get("deletionTimestamp")  # held by the finalizer
    env.hl.fault = None
    await env.wait_gone(RP, "team-a", "undo", within=15)
    assert web(env)["spec"]["replicas"] == 1


async def test_deletion_gives_up_after_the_finalizer_timeout(start_operator: OperatorFactory) -> None:
    async with start_operator(finalizer_timeout=1.0) as env:
        await env.put_secret("team-a", "viewer", token=TOKEN_A)
        await env.create(RP, "team-a", "undo", {"cluster": "prod", "target": TARGET, "revertOnDelete": True,
                                                "patch": {"spec": {"replicas": 5}}, "credentials": CREDS})
        await env.wait_status(RP, "team-a", "undo", phase="Applied")
        await env.hl.stop_listening()
        await env.delete(RP, "team-a", "undo")
        await env.wait_gone(RP, "team-a", "undo", within=15)
        await env.wait_events("undo", [("Normal", "Applied"), ("Warning", "Unreachable"), ("Warning", "RevertFailed")])
        assert "keeps the patched values" in env.events("undo")[-1]["message"]


async def test_a_token_refused_during_the_deletion_is_waited_for(env: Env) -> None:
    """A token being rotated (401) must not cost the undo: the deletion retries until it is good again."""
    await env.create(RP, "team-a", "undo", {"cluster": "prod", "target": TARGET, "revertOnDelete": True,
                                            "patch": {"spec": {"replicas": 5}}, "credentials": CREDS})
    await env.wait_status(RP, "team-a", "undo", phase="Applied")
    env.hl.clusters["prod"].refuse_token(TOKEN_A)
    await env.delete(RP, "team-a", "undo")
    status = await env.wait_status(RP, "team-a", "undo", phase="Pending", reason="Unauthorized")
    assert status["message"].startswith("deleting: restoring what the patch set: the token was refused"), status
    assert "retrying in" in status["message"] and "then the target keeps the patched values" in status["message"]
    assert web(env)["spec"]["replicas"] == 5
    env.hl.clusters["prod"].allow_token(TOKEN_A)
    await env.wait_gone(RP, "team-a", "undo", within=15)
    assert web(env)["spec"]["replicas"] == 1


async def test_a_secret_is_previewed_and_reverted_without_its_values_anywhere(
        env: Env, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    old, new = "old-password-4f1c9a", "new-password-8e2b7d"
    env.hl.clusters["prod"].add_secret("shop", "db", data={"password": old, "user": "shop"})
    target = {"apiVersion": "v1", "kind": "Secret", "name": "db", "namespace": "shop"}
    spec = {"cluster": "prod", "target": target, "credentials": CREDS, "dryRun": True,
            "patch": {"stringData": {"password": new}}}
    await env.create(RP, "team-a", "secret", spec)
    status = await env.wait_status(RP, "team-a", "secret", phase="Previewed")
    [entry] = status["preview"]
    assert entry["path"] == "/data/password"
    assert entry["before"].startswith("[redacted: ") and entry["after"].startswith("[redacted: ")
    await env.patch_spec(RP, "team-a", "secret", {"dryRun": False, "revertOnDelete": True})
    status = await env.wait_status(RP, "team-a", "secret", phase="Applied", observedGeneration=2)
    stored = env.hl.clusters["prod"].get("secrets", "shop", "db")
    assert stored is not None and base64.b64decode(stored["data"]["password"]).decode() == new
    kept = status["revert"]["secretName"]
    assert kept and all("before" not in p for p in status["revert"]["paths"])
    secret = env.kube.get_object("", "v1", "secrets", "team-a", kept)
    assert secret is not None and secret["metadata"]["ownerReferences"][0]["kind"] == "ResourcePatch"
    await env.delete(RP, "team-a", "secret")
    await env.wait_gone(RP, "team-a", "secret")
    stored = env.hl.clusters["prod"].get("secrets", "shop", "db")
    assert stored is not None and base64.b64decode(stored["data"]["password"]).decode() == old
    assert env.kube.get_object("", "v1", "secrets", "team-a", kept) is None  # the record goes with it
    await env.wait_events("secret", [("Normal", "Previewed"), ("Normal", "Applied"), ("Normal", "Reverted")])
    lines = [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.name.startswith(("headlamp_operator", "kopf"))]
    seen = json.dumps([status, env.events("secret")]) + "\n".join(lines)
    for value in (old, new):
        for form in (value, base64.b64encode(value.encode()).decode()):
            assert form not in seen, [line for line in lines if form in line]


async def test_drift_is_counted_named_and_exposed(start_operator: OperatorFactory) -> None:
    async with start_operator(sync_interval=0.5, min_reapply_interval=1.0) as env:
        env.relax_crds()  # the CRD's 30s minimum would make this test last a minute: the operator's is 1s here
        await env.put_secret("team-a", "viewer", token=TOKEN_A)
        await env.create(RP, "team-a", "fight", {"cluster": "prod", "target": TARGET, "reapplyInterval": "1s",
                                                 "patch": {"spec": {"replicas": 3}}, "credentials": CREDS})
        await env.wait_status(RP, "team-a", "fight", phase="Applied")
        def corrections() -> float | None:
            return prometheus_client.REGISTRY.get_sample_value("headlamp_operator_drift_corrections_total",
                                                               {"namespace": "team-a", "name": "fight"})
        assert corrections() is None
        changed = web(env)
        changed["spec"]["replicas"] = 1  # another controller undoes the patch
        env.hl.clusters["prod"].put(changed)
        status = await env.wait_status(RP, "team-a", "fight", driftCorrections=1, within=10)
        assert status["lastDriftTime"].endswith("Z") and "drift corrected (1 so far)" in status["message"]
        assert web(env)["spec"]["replicas"] == 3
        await wait_until(lambda: any(e["reason"] == "DriftCorrected" for e in env.events("fight")), within=5,
                         message="a DriftCorrected Event")
        event = next(e for e in env.events("fight") if e["reason"] == "DriftCorrected")
        assert event["type"] == "Warning" and "/spec/replicas" in event["message"]
        assert corrections() == 1
        sent = len(env.hl.requests_for(method="PATCH"))
        await env.hl.wait_until(lambda: len(env.hl.requests_for(method="PATCH")) >= sent + 2, timeout=10)
        assert env.status(RP, "team-a", "fight")["driftCorrections"] == 1  # re-applies that changed nothing
        await env.delete(RP, "team-a", "fight")
        await env.wait_gone(RP, "team-a", "fight")
        await wait_until(lambda: corrections() is None, within=5, message="the deleted patch's series gone")


@pytest.mark.parametrize(("spec", "words"), [
    ({"patchType": "strategic", "revertOnDelete": True, "patch": {"spec": {"replicas": 2}}},
     validation.REVERT_STRATEGIC),
    ({"patchType": "json", "dryRun": True,
      "patch": [{"op": "add", "path": f"/metadata/labels/l{i}", "value": "x"} for i in range(400)]},
     "over the 8192-byte limit of status.preview"),
])
async def test_what_cannot_work_is_refused_before_any_request(env: Env, spec: dict[str, Any], words: str) -> None:
    env.relax_crds()  # the CRD refuses the first one itself; the operator must too
    await env.create(RP, "team-a", "refused", {"cluster": "prod", "target": TARGET, "credentials": CREDS} | spec)
    status = await env.wait_status(RP, "team-a", "refused", phase="Failed")
    assert status["reason"] == "InvalidSpec" and words in status["message"], status
    assert env.hl.requests_for(method="PATCH") == []


async def test_an_undo_record_that_cannot_fit_beside_the_patch_is_refused_naming_both_sizes(env: Env) -> None:
    env.hl.clusters["prod"].add_configmap("shop", "big", data={"a": "a" * 700_000})
    await env.create(RP, "team-a", "big", {
        "cluster": "prod", "target": {"apiVersion": "v1", "kind": "ConfigMap", "name": "big", "namespace": "shop"},
        "revertOnDelete": True, "patch": {"data": {"a": "b" * 700_000}}, "credentials": CREDS})
    status = await env.wait_status(RP, "team-a", "big", phase="Failed")
    assert status["reason"] == "InvalidSpec", status
    room = validation.MAX_PATCH_BYTES - len(json.dumps({"data": {"a": "b" * 700_000}}, separators=(",", ":")))
    record = [{"path": "/data/a", "before": json.dumps("a" * 700_000)}]
    assert f"take {len(json.dumps(record, separators=(',', ':')))} bytes" in status["message"]
    assert f"over the {room} bytes" in status["message"]
    assert env.hl.requests_for(method="PATCH") == []
    assert status.get("revert") is None


@pytest.mark.parametrize("failure", ["503", "token refused, then rotated"])
async def test_drift_corrected_by_the_retry_of_a_failed_re_apply_counts_too(start_operator: OperatorFactory,
                                                                            failure: str) -> None:
    """However the re-apply's retry comes (after a 503, after the Secret was fixed), what it changes is drift."""
    async with start_operator(sync_interval=0.5, min_reapply_interval=1.0) as env:
        env.relax_crds()
        await env.put_secret("team-a", "viewer", token=TOKEN_A)
        await env.create(RP, "team-a", "fight", {"cluster": "prod", "target": TARGET, "reapplyInterval": "1s",
                                                 "patch": {"spec": {"replicas": 3}}, "credentials": CREDS})
        await env.wait_status(RP, "team-a", "fight", phase="Applied")
        if failure == "503":
            env.hl.fault = Fault(status=503, method="PATCH")  # the next re-apply fails: it is retried
        else:
            env.hl.clusters["prod"].refuse_token(TOKEN_A)
        changed = web(env)
        changed["spec"]["replicas"] = 1
        env.hl.clusters["prod"].put(changed)
        if failure == "503":
            await env.wait_status(RP, "team-a", "fight", phase="Pending", within=10)
            env.hl.fault = None
        else:
            await env.wait_status(RP, "team-a", "fight", phase="Failed", within=10)
            await env.put_secret("team-a", "viewer", token="rotated-token-0123456789")
        status = await env.wait_status(RP, "team-a", "fight", phase="Applied", driftCorrections=1, within=10)
        assert "drift corrected (1 so far)" in status["message"] and web(env)["spec"]["replicas"] == 3
