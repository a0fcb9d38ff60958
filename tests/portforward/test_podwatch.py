"""Watching the pods behind the forwards (docs/portforward.md#watching-pods): a forward whose pod dies is moved at once.

The health pass runs every minute here (``sync_interval=60``): whatever heals within these tests' deadlines was
healed by the pod watch, not by the pass.
"""
from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from headlamp_operator_testing.kopf_harness import wait_until
from tests.harness.memory import TOKEN_A, Env, OperatorFactory

SERVICE = {"cluster": "prod", "service": "grafana", "namespace": "monitoring", "targetPort": "http",
           "credentials": {"tokenSecretRef": {"name": "viewer"}}}
POD = {"cluster": "prod", "pod": "redis-0", "namespace": "monitoring", "targetPort": 6379,
       "credentials": {"tokenSecretRef": {"name": "viewer"}}}


@pytest.fixture()
async def env(start_operator: OperatorFactory) -> AsyncIterator[Env]:
    async with start_operator(sync_interval=60.0) as running:
        await running.put_secret("team-a", "viewer", token=TOKEN_A)
        yield running


def _said(env: Env, name: str, reason: str, text: str) -> bool:
    return any(e["reason"] == reason and text in e["message"] for e in env.events(name))


async def test_a_deleted_pod_moves_its_service_forward_to_another_pod_on_the_same_port(env: Env) -> None:
    await env.create("portforwards", "team-a", "grafana", SERVICE)
    first = await env.wait_status("portforwards", "team-a", "grafana", phase="Running", within=10)
    assert first["pod"] == "grafana-0"
    await env.wait_pod_watch()
    env.hl.clusters["prod"].kill_pod("monitoring", "grafana-0", delete=True)
    healed = await env.wait_status("portforwards", "team-a", "grafana", phase="Running", pod="grafana-1", within=10)
    assert (healed["id"], healed["port"]) == (first["id"], first["port"])
    assert healed["message"].startswith("forwarding ") and healed["message"].endswith("monitoring/grafana-1:3000")
    forward = env.hl.forward(first["id"])
    assert (forward.pod, forward.status, str(forward.port)) == ("grafana-1", "Running", first["port"])
    # On its way, the status said Pending, naming the dead pod (an Event of each status transition).
    await wait_until(lambda: _said(env, "grafana", "Pending", "pod monitoring/grafana-0 was deleted: moving the "
                                                              "forward to another Ready pod of service "
                                                              "monitoring/grafana on the same local port"),
                     within=5, message="a Pending event naming the deleted pod")


async def test_a_pod_that_is_no_longer_ready_moves_its_forward_too(env: Env) -> None:
    await env.create("portforwards", "team-a", "grafana", SERVICE)
    await env.wait_status("portforwards", "team-a", "grafana", phase="Running", pod="grafana-0", within=10)
    await env.wait_pod_watch()
    env.hl.clusters["prod"].kill_pod("monitoring", "grafana-0")  # Failed, not Ready: still listed
    await env.wait_status("portforwards", "team-a", "grafana", phase="Running", pod="grafana-1", within=10)
    await wait_until(lambda: _said(env, "grafana", "Pending", "pod monitoring/grafana-0 is Failed"), within=5,
                     message="a Pending event saying why")


async def test_a_pod_forward_waits_for_its_pod_and_starts_on_the_same_port_once_it_is_back(env: Env) -> None:
    cluster = env.hl.clusters["prod"]
    await env.create("portforwards", "team-a", "redis", POD)
    first = await env.wait_status("portforwards", "team-a", "redis", phase="Running", within=10)
    await env.wait_pod_watch()
    cluster.kill_pod("monitoring", "redis-0", delete=True)
    gone = await env.wait_status("portforwards", "team-a", "redis", phase="Pending", within=10)
    assert "redis-0" in gone["message"]
    cluster.add_pod("monitoring", "redis-0", labels={"app": "redis"}, ports=[{"name": "redis", "containerPort": 6379}])
    back = await env.wait_status("portforwards", "team-a", "redis", phase="Running", within=10)
    assert (back["id"], back["port"], back["pod"]) == (first["id"], first["port"], "redis-0")
    assert env.hl.forward(first["id"]).status == "Running"


async def test_one_watch_serves_every_forward_of_a_namespace_and_credential(env: Env) -> None:
    for i in range(5):
        await env.create("portforwards", "team-a", f"grafana-{i}", SERVICE)
    for i in range(5):
        await env.wait_status("portforwards", "team-a", f"grafana-{i}", phase="Running", within=10)
    await env.wait_pod_watch()
    watches = env.hl.requests_for(method="GET", path="/clusters/prod/api/v1/namespaces/monitoring/pods")
    assert len([r for r in watches if r.query.get("watch") == "1"]) == 1


async def test_a_credential_that_may_not_watch_pods_says_so_once_and_heals_by_the_health_pass(
        start_operator: OperatorFactory) -> None:
    async with start_operator(sync_interval=1.0) as env:
        await env.put_secret("team-a", "viewer", token=TOKEN_A)
        env.hl.clusters["prod"].forbid_token(TOKEN_A, verbs=["watch"])
        await env.create("portforwards", "team-a", "grafana", SERVICE)
        said = await wait_until(
            lambda: "its pods are not watched" in (found := env.status("portforwards", "team-a", "grafana")).get(
                "message", "") and found, within=10, message="the status says its pods are not watched")
        assert said["phase"] == "Running" and "every 1s" in said["message"] and "Forbidden" in said["message"]
        env.hl.clusters["prod"].kill_pod("monitoring", "grafana-0")
        healed = await env.wait_status("portforwards", "team-a", "grafana", phase="Running", pod="grafana-1",
                                       within=10)
        assert "restarted" in healed["message"] and "its pods are not watched" in healed["message"]
