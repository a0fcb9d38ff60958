"""The emulator's in-process forwarder (``-forwarder websocket``, the benchmark's) against the real API server.

The same promises as ``kubectl port-forward`` makes for the suite's Headlamp: bytes written into the
forward's local port come back from kwok's echo server, a container port's name is refused before any
forwarder runs (as the real v0.45.0 refuses it: tests/kit/headlamp/transcripts/headlamp-v0.45.0.json,
``start/named-target-port``), a token without the right to forward is refused by the real API server, and
a forward whose pod is deleted is Stopped by the pod monitor. The emulator runs in the test's loop, in front
of the world's API server.
"""
from __future__ import annotations

import json
from collections.abc import AsyncIterator

import aiohttp
import pytest

from headlamp_operator_testing.headlamp import HeadlampEmulator
from headlamp_operator_testing.headlamp.upstream import UpstreamCluster
from headlamp_operator_testing.realpeers.world import CLUSTER, World
from tests.harness.e2e.cluster import Namespace, eventually
from tests.portforward.test_bytes_real import echoes, roundtrip

pytestmark = [pytest.mark.realpeers, pytest.mark.emulator_only("-forwarder websocket is the emulator's own forwarder")]


@pytest.fixture
async def backend(world: World) -> AsyncIterator[HeadlampEmulator]:
    upstream = UpstreamCluster(CLUSTER, server=world.cp.server, ca_data=world.cp.ca_file.read_bytes(),
                               token=world.cp.admin_token, kubectl=str(world.cp.binary("kubectl")),
                               forwarder="websocket")
    async with HeadlampEmulator(ready_timeout=30.0, monitor_interval=0.5) as hl:
        hl.add_upstream_cluster(upstream)
        yield hl


async def start(hl: HeadlampEmulator, ns: Namespace, pod: str, target_port: str, *,
                token: str | None = None) -> tuple[int, str]:
    """POST portforward (with a session for ``token``, else as the backend); (status, body)."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:  # cookies for 127.0.0.1
        base = f"{hl.url}/clusters/{CLUSTER}"
        if token is not None:
            async with session.post(f"{base}/set-token", json={"token": token}) as answer:
                assert answer.status == 200
        payload = {"namespace": ns.name, "pod": pod, "targetPort": target_port, "service": "", "serviceNamespace": ""}
        async with session.post(f"{base}/portforward", data=json.dumps(payload)) as answer:
            return answer.status, await answer.text()


async def test_bytes_come_back_through_the_in_process_forward(backend: HeadlampEmulator, ns: Namespace) -> None:
    pod = await ns.echo()
    status, body = await start(backend, ns, pod, "8080")
    assert status == 200, body
    port = int(json.loads(body)["port"])
    payload = b"through the websocket forwarder\n" * 1000
    assert await roundtrip(port, payload) == payload
    assert await roundtrip(port, b"a second connection\n") == b"a second connection\n"


async def test_a_named_container_port_is_refused_as_the_real_backend_refuses_it(backend: HeadlampEmulator,
                                                                                 ns: Namespace) -> None:
    pod = await ns.echo()
    status, body = await start(backend, ns, pod, "web")  # the pod's container port "web" exists
    assert (status, body) == (500, "failed to initialize port forwarder: failed to create portforwarder: error "
                                   "parsing remote port 'web': strconv.ParseUint: parsing \"web\": invalid syntax\n")
    assert not backend.forwards
    status, body = await start(backend, ns, pod, "8080")  # its number is what a client sends
    assert status == 200, body
    assert await echoes(int(json.loads(body)["port"]))


async def test_a_token_that_may_not_forward_is_refused(world: World, backend: HeadlampEmulator,
                                                       ns: Namespace) -> None:
    pod = await ns.echo()
    world.cp.kubectl("-n", ns.name, "create", "serviceaccount", "nobody")
    token = world.cp.kubectl("-n", ns.name, "create", "token", "nobody").stdout.strip()
    status, body = await start(backend, ns, pod, "8080", token=token)
    assert status == 500
    assert body.startswith("permission check failed: access denied: ")  # v0.45.0's words (RBAC gives no reason)
    assert not backend.forwards


async def test_a_deleted_pod_stops_the_forward(world: World, backend: HeadlampEmulator, ns: Namespace) -> None:
    pod = await ns.echo()
    status, body = await start(backend, ns, pod, "8080")
    assert status == 200, body
    world.cp.kubectl("-n", ns.name, "delete", "pod", pod, "--grace-period=0", "--force", "--wait=false")

    async def state() -> tuple[str, str]:
        forward = backend.forward(json.loads(body)["id"])
        return forward.status, forward.error

    _, error = await eventually(state, lambda s: s[0] == "Stopped", within=30, interval=0.2,
                                what="the forward Stopped after its pod was deleted")
    assert pod in error or "lost connection" in error, error
