"""The Secret reader against the Kubernetes emulator over HTTP: one read per burst, failures not kept."""
from __future__ import annotations

import asyncio
import base64

import kmock
import pytest
from kubernetes.client.exceptions import ApiException

from headlamp_operator.handlers.secrets import SecretReader
from headlamp_operator.testing.kubernetes import KubernetesEmulator

Kube = tuple[KubernetesEmulator, kmock.Server]


def reads(emulator: KubernetesEmulator, namespace: str, name: str) -> int:
    """How many times the Secret was asked for over HTTP."""
    path = f"/api/v1/namespaces/{namespace}/secrets/{name}"
    return sum(1 for request in emulator.answered if request.url.path == path)


def put_secret(emulator: KubernetesEmulator, namespace: str, name: str, **data: str) -> None:
    if emulator.get_object("", "v1", "namespaces", None, namespace) is None:
        emulator.create_object("", "v1", "namespaces", None, {"metadata": {"name": namespace}})
    emulator.create_object("", "v1", "secrets", namespace, {
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": namespace},
        "data": {key: base64.b64encode(value.encode()).decode() for key, value in data.items()}})


async def test_a_burst_of_resources_naming_one_secret_reads_it_once(kube: Kube) -> None:
    emulator, _ = kube
    put_secret(emulator, "team-a", "viewer", token="t0ken")
    reader = SecretReader(ttl=60)
    found = await asyncio.gather(*(reader("team-a", "viewer") for _ in range(10)))
    assert {value.data["token"] for value in found if value is not None} == {b"t0ken"}
    assert reads(emulator, "team-a", "viewer") == 1
    assert await reader("team-a", "missing") is None  # a missing Secret is an answer, and is kept
    assert await reader("team-a", "missing") is None
    assert reads(emulator, "team-a", "missing") == 1


async def test_a_failed_read_reaches_its_waiters_and_is_not_kept(kube: Kube) -> None:
    emulator, _ = kube
    emulator["get /api/v1/namespaces/team-a/secrets/flaky"] << 503
    reader = SecretReader(ttl=60)
    found = await asyncio.gather(*(reader("team-a", "flaky") for _ in range(5)), return_exceptions=True)
    assert [getattr(error, "status", error) for error in found] == [503] * 5
    assert reads(emulator, "team-a", "flaky") == 1  # one read, its error shared
    with pytest.raises(ApiException):
        await reader("team-a", "flaky")
    assert reads(emulator, "team-a", "flaky") == 2  # the failure was not kept
