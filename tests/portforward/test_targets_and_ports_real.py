"""What a forward points at and the local port it keeps, on the real peers: the bytes follow a moved target,
the real forwarder names a taken port, an unknown cluster is named."""
from __future__ import annotations

import socket

import pytest

from headlamp_operator_testing.process import held_port
from headlamp_operator_testing.realpeers.world import World
from tests.harness.e2e.cluster import Namespace, eventually
from tests.portforward.test_bytes_real import echoes, spec

pytestmark = pytest.mark.realpeers

PF, RP = "portforwards", "resourcepatches"






async def test_a_running_forward_moved_to_another_pod_and_port_carries_bytes_there(
        world: World, ns: Namespace) -> None:
    await ns.deployment("echo", replicas=2)
    pods = await eventually(lambda: ns.ready_pods("echo"), lambda found: len(found) == 2, within=ns.within,
                            what="two Ready pods")
    await ns.create(PF, "move-me", await spec(ns, pod=pods[0], targetPort=8080))
    first = (await ns.wait_ready(PF, "move-me"))["status"]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        wanted = sock.getsockname()[1]
    await ns.patch_spec(PF, "move-me", {"pod": pods[1], "port": wanted})
    moved = (await ns.wait_ready(PF, "move-me"))["status"]
    assert moved["pod"] == pods[1] and moved["port"] == str(wanted)
    assert moved["message"] == f"forwarding localhost:{wanted} -> {ns.name}/{pods[1]}:8080"
    assert await echoes(wanted)
    await eventually(lambda: echoes(int(first["port"])), lambda ok: not ok, within=ns.within,
                     what="the old forward's port closed")
    listed = [f for f in await ns.headlamp.forwards() if f["id"] == moved["id"]]
    assert [(f["pod"], str(f["port"])) for f in listed] == [(pods[1], str(wanted))]


async def test_a_taken_local_port_is_named_by_the_real_forwarder(world: World, ns: Namespace) -> None:
    pod = await ns.echo()
    with held_port() as taken:  # on 127.0.0.1 and ::1: the real forwarder is content with either
        await ns.create(PF, "busy", await spec(ns, pod=pod, targetPort=8080, port=taken))
        status = await ns.wait_status(PF, "busy", phase="Failed")
    assert status["reason"] == "Conflict"
    assert "local port is already in use on the Headlamp host" in status["message"]
    assert "unable to listen on any of the requested ports" in status["message"]


async def test_an_unknown_cluster_is_named(world: World, ns: Namespace) -> None:
    await ns.create(RP, "typo", {"cluster": "prod-eu", "credentials": await ns.viewer_secret(), "patch": {},
                                 "target": {"apiVersion": "v1", "kind": "ConfigMap", "name": "x"}})
    status = await ns.wait_status(RP, "typo", phase="Failed")
    assert status["reason"] == "NotFound" and "Headlamp knows no cluster 'prod-eu'" in status["message"], status
