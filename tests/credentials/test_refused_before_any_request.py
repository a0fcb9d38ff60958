"""Invalid specs and credentials fail before any request; anonymous use is refused by default."""
from __future__ import annotations

import pytest

from headlamp_operator_testing.kubernetes import KubeApiError
from tests.harness.memory import Env

CREDS = {"tokenSecretRef": {"name": "viewer"}}


async def test_invalid_spec_fails_without_touching_the_backend(env: Env) -> None:
    both = {"cluster": "prod", "pod": "p", "service": "s", "targetPort": 80, "credentials": CREDS}
    with pytest.raises(KubeApiError) as invalid:  # the CRD's CEL rule refuses it first, as on a real API server
        await env.create("portforwards", "team-a", "both", both)
    assert invalid.value.status == 422 and "mutually exclusive" in str(invalid.value)
    env.relax_crds()  # an old or hand-made CRD: the operator's own check must hold
    await env.create("portforwards", "team-a", "both", both)
    status = await env.wait_status("portforwards", "team-a", "both", phase="Failed")
    assert status["reason"] == "InvalidSpec" and "not both" in status["message"]
    assert env.hl.requests == []
    await env.wait_events("both", [("Warning", "InvalidSpec")])


async def test_anonymous_is_refused_by_default(env: Env) -> None:
    await env.create("resourcepatches", "team-a", "anon", {
        "cluster": "prod", "target": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                                      "namespace": "shop"}, "patch": {"spec": {"replicas": 2}}})
    status = await env.wait_status("resourcepatches", "team-a", "anon", phase="Failed")
    assert status["reason"] == "InvalidCredentials" and "anonymous" in status["message"]
    assert env.hl.requests == []


async def test_missing_secret_is_invalid_credentials(env: Env) -> None:
    await env.create("portforwards", "team-a", "pf", {"cluster": "prod", "pod": "redis-0", "namespace": "monitoring",
                                                     "targetPort": 6379,
                                                     "credentials": {"tokenSecretRef": {"name": "nope"}}})
    status = await env.wait_status("portforwards", "team-a", "pf", phase="Failed")
    assert status["reason"] == "InvalidCredentials" and "team-a/nope not found" in status["message"]
    assert env.hl.requests == []
