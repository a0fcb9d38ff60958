"""The credentials gate (scheduling/gate.py), tested without kopf: a spec's problems and unusable credentials fail
before any request, and a Failed resource is tried again exactly when one of its Secrets changed."""
from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import kmock
import kopf
import pytest

from headlamp_operator.kube.api import KubeApi
from headlamp_operator.kube.secrets import SecretReader
from headlamp_operator.reconciling import credentials, specs
from headlamp_operator.scheduling import gate
from headlamp_operator.scheduling.state import Runtime
from headlamp_operator.settings import BackendSettings, Settings
from headlamp_operator.status import outcomes
from headlamp_operator.status.outcomes import Result
from headlamp_operator_testing.kubernetes import KubernetesEmulator

Kube = tuple[KubernetesEmulator, kmock.Server]
SPEC = {"cluster": "prod", "namespace": "monitoring", "pod": "grafana-0", "targetPort": "3000",
        "credentials": {"tokenSecretRef": {"name": "viewer", "key": "token"}}}


async def put_secret(api: KubeApi, name: str, **data: str) -> None:
    """Create or update a Secret over the Kubernetes API, as a user rotating a token would."""
    encoded = {key: base64.b64encode(value.encode()).decode() for key, value in data.items()}
    path = "/api/v1/namespaces/team-a/secrets"
    if await api.get(f"{path}/{name}") is None:
        await api.request("POST", path, body={"metadata": {"name": name, "namespace": "team-a"}, "data": encoded})
    else:
        await api.merge_patch(f"{path}/{name}", {"data": encoded})


def resource(spec: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"name": "web", "namespace": "team-a", "uid": "uid-web", "generation": 1}, "spec": spec}


@pytest.fixture()
async def runtime(kube: Kube) -> AsyncIterator[Runtime]:
    emulator, server = kube
    emulator.create_object("", "v1", "namespaces", None, {"metadata": {"name": "team-a"}})
    api = KubeApi(lambda: kopf.ConnectionInfo(server=str(server.url).rstrip("/")))
    yield Runtime(settings=Settings(backend=BackendSettings(url="http://127.0.0.1:1")), kube=api,
                  read_secret=SecretReader(api, ttl=0))
    await api.close()


async def test_a_spec_with_problems_fails_before_any_request(runtime: Runtime) -> None:
    loaded = await gate.prepare(runtime, ["spec.cluster is required"], namespace="team-a")
    assert isinstance(loaded, Result) and not loaded.transient
    assert (loaded.outcome.phase, loaded.outcome.reason) == ("Failed", "InvalidSpec")
    assert loaded.outcome.message == "spec.cluster is required"


async def test_a_missing_secret_is_invalid_credentials_and_a_present_one_loads(
        runtime: Runtime, kube: Kube) -> None:
    spec = specs.portforward(SPEC)
    assert isinstance(spec, specs.PortForwardSpec)
    missing = await gate.prepare(runtime, spec, namespace="team-a")
    assert isinstance(missing, Result) and missing.outcome.reason == "InvalidCredentials"
    assert "viewer" in missing.outcome.message
    await put_secret(runtime.kube, "viewer", token="t0ken-of-the-viewer")
    loaded = await gate.prepare(runtime, spec, namespace="team-a")
    assert isinstance(loaded, credentials.Loaded)
    assert loaded.credentials.token == "t0ken-of-the-viewer"


async def test_a_failed_resource_is_tried_again_only_when_its_secret_changed(runtime: Runtime, kube: Kube) -> None:
    await put_secret(runtime.kube, "viewer", token="old")
    body = resource(SPEC)
    versions = await gate.secret_versions(runtime, body)
    assert set(versions) == {"viewer"} and versions["viewer"]
    failed = outcomes.invalid("Unauthorized", "the backend refused the token")
    gate.remember(runtime, body, failed, versions=versions)
    assert await gate.secrets_changed(runtime, body) is None  # the same Secret: it would fail the same way
    await put_secret(runtime.kube, "viewer", token="rotated")
    changed = await gate.secrets_changed(runtime, body)
    assert changed is not None and changed["viewer"] != versions["viewer"]


async def test_after_a_restart_a_failed_resource_is_tried_once(runtime: Runtime, kube: Kube) -> None:
    """Nothing is remembered across a restart: the first look tries it, with the versions it tries with."""
    await put_secret(runtime.kube, "viewer", token="old")
    body = resource(SPEC)
    first = await gate.secrets_changed(runtime, body)
    assert first is not None and first["viewer"]
    assert await gate.secrets_changed(runtime, body) is None


async def test_a_success_forgets_the_versions_of_a_failure(runtime: Runtime, kube: Kube) -> None:
    await put_secret(runtime.kube, "viewer", token="old")
    body = resource(SPEC)
    gate.remember(runtime, body, outcomes.invalid("Unauthorized", "no"), versions={"viewer": "1"})
    assert "uid-web" in runtime.blocked
    gate.remember(runtime, body, outcomes.retrying("later", reason="Unreachable", settings=runtime.settings.reconcile,
                                                   attempt=0), versions={"viewer": "1"})
    assert "uid-web" not in runtime.blocked
