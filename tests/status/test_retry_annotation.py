"""The "retry now" annotation (issue 12): a new ``reconcile.headlamp-operator.dev/requestedAt`` retries at once."""
from __future__ import annotations

from tests.harness.memory import GROUP, TOKEN_A, VERSION, Env

CREDS = {"tokenSecretRef": {"name": "viewer"}}
ANNOTATION = "reconcile.headlamp-operator.dev/requestedAt"


async def request_reconcile(env: Env, plural: str, name: str, value: str) -> None:
    await env.api.patch(GROUP, VERSION, plural, "team-a", name, {"metadata": {"annotations": {ANNOTATION: value}}})


async def test_a_failed_resourcepatch_is_applied_once_its_cluster_exists_and_a_retry_is_asked(env: Env) -> None:
    target = {"apiVersion": "v1", "kind": "ConfigMap", "name": "later", "namespace": "shop"}
    await env.create("resourcepatches", "team-a", "early", {"cluster": "later", "target": target, "credentials": CREDS,
                                                            "patch": {"data": {"a": "b"}}})
    failed = await env.wait_status("resourcepatches", "team-a", "early", phase="Failed")
    assert failed["reason"] == "NotFound"
    env.hl.add_cluster("later").add_configmap("shop", "later")  # fixed elsewhere: no spec or Secret change
    await request_reconcile(env, "resourcepatches", "early", "2026-11-30T10:00:00Z")
    applied = await env.wait_status("resourcepatches", "team-a", "early", phase="Applied")
    assert applied["lastHandledReconcileAt"] == "2026-11-30T10:00:00Z"
    assert env.hl.clusters["later"].get("configmaps", "shop", "later")["data"] == {"a": "b"}


async def test_a_forbidden_portforward_runs_once_rbac_is_granted_and_a_retry_is_asked(env: Env) -> None:
    prod = env.hl.clusters["prod"]
    prod.deny_portforward(TOKEN_A)
    await env.create("portforwards", "team-a", "denied", {"cluster": "prod", "pod": "redis-0",
                                                          "namespace": "monitoring", "targetPort": 6379,
                                                          "credentials": CREDS})
    failed = await env.wait_status("portforwards", "team-a", "denied", phase="Failed")
    assert failed["reason"] == "Forbidden"
    prod.allow_token(TOKEN_A)  # RBAC fixed in the target cluster
    await request_reconcile(env, "portforwards", "denied", "first")
    running = await env.wait_status("portforwards", "team-a", "denied", phase="Running")
    assert running["lastHandledReconcileAt"] == "first"
    await request_reconcile(env, "portforwards", "denied", "second")  # any new value: handled again
    await env.wait_status("portforwards", "team-a", "denied", lastHandledReconcileAt="second")
