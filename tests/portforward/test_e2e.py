"""PortForward against a real cluster and a real Headlamp (tests/portforward/test_*.py, for real).

Each test forwards to a Deployment of its own namespace through its Service, whose port ``http``
targets the pods' port by name (``web`` -> 8080), and checks both the resource's status and what
Headlamp itself lists at ``/clusters/{cluster}/portforward/list``.
"""
from __future__ import annotations

from typing import Any

import pytest

from tests.harness.e2e.cluster import CONTAINER_PORT, SERVICE_PORT_NAME, Namespace, conditions, eventually, is_ready

pytestmark = pytest.mark.e2e


async def forward_spec(ns: Namespace, **extra: Any) -> dict[str, Any]:
    """A PortForward to the Service ``echo`` by its port's name, acting with the viewer token."""
    return {"cluster": ns.config.cluster, "service": "echo", "namespace": ns.name,
            "targetPort": SERVICE_PORT_NAME, "credentials": await ns.viewer_secret(), **extra}


async def listed(ns: Namespace, forward_id: str, **expected: Any) -> dict[str, Any]:
    """Wait until Headlamp lists the forward with these fields; return the entry."""
    entry = await eventually(lambda: ns.headlamp.forward(forward_id),
                             lambda f: f is not None and all(f.get(k) == v for k, v in expected.items()),
                             within=ns.within, what=f"Headlamp's list shows forward {forward_id} with {expected}")
    assert entry is not None
    return entry


async def test_service_with_named_target_port_runs_in_headlamp(ns: Namespace) -> None:
    pod = await ns.echo()
    created = await ns.create("portforwards", "echo", await forward_spec(ns))
    status = await ns.wait_status("portforwards", "echo", phase="Running")
    assert status["reason"] == "Started"
    assert status["id"] == created["metadata"]["uid"]  # the default id
    assert status["pod"] == pod  # resolved through the Service to its Ready pod
    assert status["port"].isdigit()
    assert f"-> {ns.name}/{pod}:{CONTAINER_PORT}" in status["message"]  # http -> web -> 8080
    assert status["observedGeneration"] == created["metadata"]["generation"]
    assert conditions(status)["Ready"] == "True"
    assert is_ready(await ns.get("portforwards", "echo"))
    entry = await listed(ns, status["id"], status="Running")
    assert entry["pod"] == pod and entry["namespace"] == ns.name
    assert str(entry["port"]) == status["port"]
    assert str(entry["targetPort"]) == str(CONTAINER_PORT)
    await ns.wait_events("echo", [("Normal", "Started")])


async def test_stopped_then_running_again_with_the_same_id(ns: Namespace) -> None:
    await ns.echo()
    await ns.create("portforwards", "echo", await forward_spec(ns))
    running = await ns.wait_status("portforwards", "echo", phase="Running")
    await listed(ns, running["id"], status="Running")

    await ns.patch_spec("portforwards", "echo", {"state": "Stopped"})
    stopped = await ns.wait_status("portforwards", "echo", phase="Stopped")
    assert stopped["reason"] == "Stopped" and stopped["id"] == running["id"]
    await listed(ns, running["id"], status="Stopped")  # stopOrDelete: true keeps the entry, Stopped

    await ns.patch_spec("portforwards", "echo", {"state": "Running"})
    again = await ns.wait_status("portforwards", "echo", phase="Running", reason="Started")
    assert again["id"] == running["id"]
    assert again["observedGeneration"] == 3
    await listed(ns, running["id"], status="Running")
    assert len([f for f in await ns.headlamp.forwards() if f.get("id") == running["id"]]) == 1
    await ns.wait_events("echo", [("Normal", "Started"), ("Normal", "Stopped"), ("Normal", "Started")])


async def test_deletion_policy_delete_removes_the_forward_from_headlamp(ns: Namespace) -> None:
    await ns.echo()
    await ns.create("portforwards", "echo", await forward_spec(ns, deletionPolicy="Delete"))
    status = await ns.wait_status("portforwards", "echo", phase="Running")
    await listed(ns, status["id"], status="Running")
    obj = await ns.get("portforwards", "echo")
    assert obj is not None and obj["metadata"].get("finalizers")  # the finalizer guards the forward

    await ns.delete("portforwards", "echo")
    await ns.wait_gone("portforwards", "echo")
    await eventually(lambda: ns.headlamp.forward(status["id"]), lambda f: f is None, within=ns.within,
                     what=f"forward {status['id']} gone from Headlamp's /portforward/list")
