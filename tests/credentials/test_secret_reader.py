"""The Secret reader against the Kubernetes emulator over HTTP: one read per burst, failures not kept,
and a Secret found changed or gone reported to its listeners (so that what a rotated token left goes)."""
from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator

import kmock
import kopf
import pytest

from headlamp_operator.kube.api import KubeApi, KubeApiError
from headlamp_operator.kube.secrets import SecretReader
from headlamp_operator_testing.kubernetes import KubeClient, KubernetesEmulator

Kube = tuple[KubernetesEmulator, kmock.Server]


@pytest.fixture()
async def api(kube: Kube) -> AsyncIterator[KubeApi]:
    """The operator's own Kubernetes client, pointed at the emulator."""
    url = str(kube[1].url).rstrip("/")
    client = KubeApi(lambda: kopf.ConnectionInfo(server=url))
    yield client
    await client.close()


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


async def test_a_burst_of_resources_naming_one_secret_reads_it_once(kube: Kube, api: KubeApi) -> None:
    emulator, _ = kube
    put_secret(emulator, "team-a", "viewer", token="t0ken")
    reader = SecretReader(api, ttl=60)
    found = await asyncio.gather(*(reader("team-a", "viewer") for _ in range(10)))
    assert {value.data["token"] for value in found if value is not None} == {b"t0ken"}
    assert reads(emulator, "team-a", "viewer") == 1
    assert await reader("team-a", "missing") is None  # a missing Secret is an answer, and is kept
    assert await reader("team-a", "missing") is None
    assert reads(emulator, "team-a", "missing") == 1


async def test_a_failed_read_reaches_its_waiters_and_is_not_kept(kube: Kube, api: KubeApi) -> None:
    emulator, _ = kube
    emulator["get /api/v1/namespaces/team-a/secrets/flaky"] << 503
    reader = SecretReader(api, ttl=60)
    found = await asyncio.gather(*(reader("team-a", "flaky") for _ in range(5)), return_exceptions=True)
    assert [getattr(error, "status", error) for error in found] == [503] * 5
    assert reads(emulator, "team-a", "flaky") == 1  # one read, its error shared
    with pytest.raises(KubeApiError):
        await reader("team-a", "flaky")
    assert reads(emulator, "team-a", "flaky") == 2  # the failure was not kept


async def test_a_secret_whose_data_changed_or_that_is_gone_is_reported(kube: Kube, api: KubeApi) -> None:
    emulator, server = kube
    put_secret(emulator, "team-a", "viewer", token="one")
    reader = SecretReader(api, ttl=0)  # every call reads
    changes: list[tuple[str, str]] = []
    undo = reader.on_change(lambda namespace, name: changes.append((namespace, name)))
    async with KubeClient(str(server.url)) as api:
        await reader("team-a", "viewer")
        await api.patch("", "v1", "secrets", "team-a", "viewer", {"metadata": {"labels": {"team": "a"}}})
        await reader("team-a", "viewer")
        assert changes == []  # the first read, then the same data under a new resourceVersion: nothing to report
        await api.patch("", "v1", "secrets", "team-a", "viewer",
                        {"data": {"token": base64.b64encode(b"two").decode()}})
        await reader("team-a", "viewer")
        assert changes == [("team-a", "viewer")]
        await api.delete("", "v1", "secrets", "team-a", "viewer")
        assert await reader("team-a", "viewer") is None
        assert changes == [("team-a", "viewer")] * 2
        undo()
        put_secret(emulator, "team-a", "viewer", token="three")
        await reader("team-a", "viewer")
        assert len(changes) == 2  # no listener any more
