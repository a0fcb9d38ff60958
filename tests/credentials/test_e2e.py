"""Invalid specs and credentials in a real cluster: the API server's schema first, then the operator.

A real API server enforces the CRDs' CEL rules (the in-memory one does not), so a spec the schema
can reject never reaches the operator; one only the operator can judge fails with InvalidSpec.
"""
from __future__ import annotations

import pytest
from kubernetes.client.exceptions import ApiException

from tests.harness.e2e.cluster import Namespace, conditions

pytestmark = pytest.mark.e2e


async def test_the_schema_rejects_pod_and_service_together(ns: Namespace) -> None:
    with pytest.raises(ApiException) as raised:
        await ns.create("portforwards", "both", {"cluster": ns.config.cluster, "pod": "p", "service": "s",
                                                 "targetPort": 80, "credentials": await ns.viewer_secret()})
    assert raised.value.status == 422
    assert "mutually exclusive" in str(raised.value.body)
    assert await ns.get("portforwards", "both") is None


async def test_invalid_spec_fails_without_touching_the_target(ns: Namespace) -> None:
    """A json patch that is an object: valid for the schema (the patch is free-form), not for the operator."""
    await ns.deployment("web", replicas=1)
    spec = {"cluster": ns.config.cluster, "patchType": "json", "patch": {"spec": {"replicas": 5}},
            "target": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "namespace": ns.name},
            "credentials": await ns.viewer_secret()}
    try:
        await ns.create("resourcepatches", "bad", spec)
    except ApiException as e:  # the operator's validating webhook, where it is registered, refuses it first
        assert e.status in (400, 403, 422) and "json patch" in str(e.body), e
        return
    status = await ns.wait_status("resourcepatches", "bad", phase="Failed")
    assert status["reason"] == "InvalidSpec" and "json patch" in status["message"]
    assert conditions(status) == {"Ready": "False", "Reconciling": "False", "Stalled": "True"}
    assert await ns.replicas("web") == 1
    await ns.wait_events("bad", [("Warning", "InvalidSpec")])


async def test_missing_secret_is_invalid_credentials(ns: Namespace) -> None:
    await ns.echo()
    created = await ns.create("portforwards", "pf", {
        "cluster": ns.config.cluster, "service": "echo", "namespace": ns.name, "targetPort": "http",
        "credentials": {"tokenSecretRef": {"name": "nope"}}})
    status = await ns.wait_status("portforwards", "pf", phase="Failed")
    assert status["reason"] == "InvalidCredentials" and f"{ns.name}/nope not found" in status["message"]
    assert await ns.headlamp.forward(created["metadata"]["uid"]) is None  # no forward was started
    await ns.wait_events("pf", [("Warning", "InvalidCredentials")])


async def test_anonymous_is_refused(ns: Namespace) -> None:
    """Without credentials the operator would act as Headlamp itself: refused (HEADLAMP_ALLOW_ANONYMOUS unset)."""
    await ns.deployment("web", replicas=1)
    await ns.create("resourcepatches", "anon", {
        "cluster": ns.config.cluster, "patch": {"spec": {"replicas": 4}},
        "target": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "namespace": ns.name}})
    status = await ns.wait_status("resourcepatches", "anon", phase="Failed")
    assert status["reason"] == "InvalidCredentials" and "anonymous" in status["message"]
    assert await ns.replicas("web") == 1
