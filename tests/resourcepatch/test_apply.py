"""One ResourcePatch applied (reconciling/resourcepatch.py), without kopf: the PATCH the backend received, and the
result each answer becomes."""
from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from headlamp_operator.headlamp.backend import Backend
from headlamp_operator.reconciling import resourcepatch, specs
from headlamp_operator.settings import BackendSettings, ReconcileSettings
from headlamp_operator.status import outcomes
from headlamp_operator.structs import Credentials, Secret
from headlamp_operator_testing.headlamp import HeadlampEmulator
from headlamp_operator_testing.process import free_port
from tests.harness.memory import TOKEN_A

SETTINGS = ReconcileSettings(backoff_min=0.2, backoff_max=2.0)
SCALE = {"cluster": "prod", "target": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                                       "namespace": "shop"}, "patch": {"spec": {"replicas": 3}}}


def context(backend: Backend, spec: dict[str, Any], **previous: Any) -> resourcepatch.Context:
    parsed = specs.resourcepatch(spec)
    assert isinstance(parsed, specs.ResourcePatchSpec), parsed
    return resourcepatch.Context(backend=backend, settings=SETTINGS, spec=parsed, namespace="team-a",
                                 credentials=Credentials(token=Secret(TOKEN_A)),
                                 status={"target": previous} if previous else {})


@pytest.fixture()
async def backend(hl: HeadlampEmulator) -> AsyncIterator[Backend]:
    async with Backend(BackendSettings(url=str(hl.url), request_timeout=2.0)) as opened:
        yield opened


async def test_the_patch_is_sent_and_its_answer_recorded(backend: Backend, hl: HeadlampEmulator) -> None:
    result = await resourcepatch.apply(context(backend, SCALE))
    assert (result.outcome.phase, result.outcome.message) == ("Applied", "patched apps/v1 Deployment shop/web")
    [sent] = hl.requests_for(method="PATCH")
    assert sent.path == "/clusters/prod/apis/apps/v1/namespaces/shop/deployments/web"
    assert sent.headers["Content-Type"] == "application/merge-patch+json"
    assert hl.clusters["prod"].get("deployments", "shop", "web")["spec"]["replicas"] == 3
    target = result.outcome.fields["target"]
    assert target["uid"] and target["resourceVersion"]
    again = await resourcepatch.apply(context(backend, SCALE, **target))  # the same patch again: no new version
    assert again.outcome.message.endswith(f"nothing changed (resourceVersion {target['resourceVersion']} as before)")


async def test_a_target_that_does_not_exist_yet_is_waited_for(backend: Backend) -> None:
    """A GitOps sync creates a patch and its target in any order: Pending, retried, never Failed for it."""
    missing = {**SCALE, "target": {**SCALE["target"], "name": "not-yet"}}
    result = await resourcepatch.apply(context(backend, missing), attempt=2)
    assert result.transient and result.retry_in == outcomes.delay(SETTINGS, 2)
    assert result.outcome.phase == "Pending"
    assert "waiting for apps/v1 Deployment shop/not-yet to exist" in result.outcome.message


async def test_status_through_the_main_endpoint_is_refused_before_any_patch(
        backend: Backend, hl: HeadlampEmulator) -> None:
    writes_status = {**SCALE, "patch": {"status": {"replicas": 9}}}
    result = await resourcepatch.apply(context(backend, writes_status))
    assert (result.outcome.phase, result.outcome.reason) == ("Failed", "InvalidSpec")
    assert "use subresource: status" in result.outcome.message
    assert hl.requests_for(method="PATCH") == []


async def test_an_unknown_cluster_fails_and_no_answer_is_retried(hl: HeadlampEmulator) -> None:
    async with Backend(BackendSettings(url=str(hl.url), request_timeout=2.0)) as backend:
        unknown = await resourcepatch.apply(context(backend, {**SCALE, "cluster": "prod-eu"}))
    assert (unknown.outcome.phase, unknown.transient) == ("Failed", False)
    assert "prod-eu" in unknown.outcome.message
    async with Backend(BackendSettings(url=f"http://127.0.0.1:{free_port()}", request_timeout=1.0)) as away:
        unanswered = await resourcepatch.apply(context(away, SCALE))
    assert (unanswered.outcome.phase, unanswered.outcome.reason) == ("Pending", "Unreachable")
    assert unanswered.retry_in == outcomes.delay(SETTINGS, 0)
