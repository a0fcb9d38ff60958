"""PortForwards whose bytes really flow: operator -> Headlamp -> kube-apiserver -> kwok -> the echo server.

kwok's ``ClusterPortForward`` sends every pod's port-forward stream to the control plane's local echo
server, so what a test writes into the forward's local port comes back only if the whole chain works.
"""
from __future__ import annotations

import asyncio
from typing import Any

import pytest

from headlamp_operator_testing.realpeers.world import World
from tests.harness.e2e.cluster import Namespace, eventually

pytestmark = pytest.mark.realpeers

PF = "portforwards"


async def roundtrip(port: int, payload: bytes, *, within: float = 10.0, host: str = "127.0.0.1") -> bytes:
    """Write ``payload`` into ``host``:``port`` and read as many bytes back."""
    async with asyncio.timeout(within):
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(payload)
            await writer.drain()
            return await reader.readexactly(len(payload))
        finally:
            writer.close()


async def echoes(port: int) -> bool:
    """Whether bytes written into the port come back (False while the forward is not up)."""
    payload = b"ping through the forward\n"
    try:
        return await roundtrip(port, payload, within=5.0) == payload
    except (OSError, asyncio.IncompleteReadError, TimeoutError):
        return False


async def spec(ns: Namespace, **fields: Any) -> dict[str, Any]:
    return {"cluster": ns.config.cluster, "namespace": ns.name, "credentials": await ns.viewer_secret(), **fields}


async def test_bytes_written_into_a_forward_to_a_pod_come_back_from_the_echo_server(
        world: World, ns: Namespace) -> None:
    pod = await ns.echo()
    await ns.create(PF, "to-pod", await spec(ns, pod=pod, targetPort=8080))
    obj = await ns.wait_ready(PF, "to-pod")
    port = int(obj["status"]["port"])
    assert obj["status"]["message"] == f"forwarding localhost:{port} -> {ns.name}/{pod}:8080"
    payload = b"hello from the real-peer suite\n" * 100
    assert await roundtrip(port, payload) == payload


@pytest.mark.parametrize("target_port", ["http", "web", 8080])
async def test_a_forward_to_a_service_carries_bytes(world: World, ns: Namespace, target_port: str | int) -> None:
    pod = await ns.echo()
    await ns.create(PF, "to-svc", await spec(ns, service="echo", targetPort=target_port))
    obj = await ns.wait_ready(PF, "to-svc")
    assert obj["status"]["pod"] == pod
    assert obj["status"]["message"].endswith(f"-> {ns.name}/{pod}:8080")  # http -> web -> 8080
    assert await echoes(int(obj["status"]["port"]))


async def test_stopped_closes_the_local_port_and_running_opens_it_again(world: World, ns: Namespace) -> None:
    pod = await ns.echo()
    await ns.create(PF, "toggle", await spec(ns, pod=pod, targetPort=8080))
    port = int((await ns.wait_ready(PF, "toggle"))["status"]["port"])
    assert await echoes(port)
    await ns.patch_spec(PF, "toggle", {"state": "Stopped"})
    await ns.wait_status(PF, "toggle", phase="Stopped")
    await eventually(lambda: echoes(port), lambda ok: not ok, within=ns.within,
                     what="the stopped forward's port closed")
    await ns.patch_spec(PF, "toggle", {"state": "Running"})
    again = await ns.wait_ready(PF, "toggle")
    assert await echoes(int(again["status"]["port"]))


async def test_a_deleted_pod_is_healed_onto_another_ready_pod(world: World, ns: Namespace) -> None:
    await ns.deployment("echo", replicas=2)
    await ns.service("echo")
    pods = await eventually(lambda: ns.ready_pods("echo"), lambda found: len(found) == 2, within=ns.within,
                            what="two Ready pods")
    await ns.create(PF, "heal", await spec(ns, service="echo", targetPort="http"))
    first = (await ns.wait_ready(PF, "heal"))["status"]
    assert first["pod"] in pods
    await ns.kube.run(ns.kube.core.delete_namespaced_pod, first["pod"], ns.name, grace_period_seconds=0)
    healed = await eventually(lambda: ns.status(PF, "heal"),
                              lambda s: s.get("phase") == "Running" and s.get("pod") not in (None, first["pod"]),
                              within=ns.within, what="the forward healed onto another pod")

    async def flowing() -> dict[str, Any]:  # the status as it is once bytes come back through its port
        status = await ns.status(PF, "heal")
        return {**status, "echoes": await echoes(int(status.get("port") or healed["port"]))}

    # The bytes are waited for, not taken from one try: the status may say Running on the new pod a moment
    # before its listener takes connections on 127.0.0.1 (a CI run saw one try fail).
    back = await eventually(flowing, lambda s: s["echoes"], within=ns.within, what="bytes through the healed forward")
    assert back["phase"] == "Running" and back.get("pod") not in (None, first["pod"])


async def test_every_forward_comes_back_after_headlamp_restarts(world: World, ns: Namespace) -> None:
    pod = await ns.echo()
    for name in ("a", "b"):
        await ns.create(PF, name, await spec(ns, pod=pod, targetPort=8080))
    ids = {name: (await ns.wait_ready(PF, name))["status"]["id"] for name in ("a", "b")}
    assert world.headlamp is not None
    world.headlamp.stop()
    world.start_headlamp(world.headlamp)  # a new process: Headlamp's forward cache is empty
    for name, fid in ids.items():
        await eventually(lambda fid=fid: ns.headlamp.forward(fid),  # type: ignore[misc]
                         lambda f: f is not None and f.get("status") == "Running", within=ns.within,
                         what=f"forward {name} back in Headlamp's list")
        status = await ns.wait_status(PF, name, phase="Running")
        assert await echoes(int(status["port"]))


async def test_deletion_policy_stop_keeps_a_stopped_entry_and_orphan_keeps_the_forward_running(
        world: World, ns: Namespace) -> None:
    pod = await ns.echo()
    await ns.create(PF, "stop", await spec(ns, pod=pod, targetPort=8080, deletionPolicy="Stop"))
    await ns.create(PF, "orphan", await spec(ns, pod=pod, targetPort=8080, deletionPolicy="Orphan"))
    stop = (await ns.wait_ready(PF, "stop"))["status"]
    orphan = (await ns.wait_ready(PF, "orphan"))["status"]
    for name in ("stop", "orphan"):
        await ns.delete(PF, name)
        await ns.wait_gone(PF, name)
    await eventually(lambda: ns.headlamp.forward(stop["id"]), lambda f: f is not None and f["status"] == "Stopped",
                     within=ns.within, what="the Stop-policy forward listed as Stopped")
    assert not await echoes(int(stop["port"]))
    entry = await ns.headlamp.forward(orphan["id"])
    assert entry is not None and entry["status"] == "Running"
    assert await echoes(int(orphan["port"]))  # orphaned: still carrying bytes after its resource is gone
