"""PortForward: start by service or pod, stop and start again, adoption, events."""
from __future__ import annotations

import pytest

from headlamp_operator_testing.kopf_harness import wait_until
from tests.harness.memory import TOKEN_A, Env, OperatorFactory

CREDS = {"tokenSecretRef": {"name": "viewer"}}


async def test_service_with_named_target_port_starts_on_a_ready_pod(env: Env) -> None:
    created = await env.create("portforwards", "team-a", "grafana", {
        "cluster": "prod", "service": "grafana", "namespace": "monitoring", "targetPort": "http",
        "credentials": CREDS})
    status = await env.wait_status("portforwards", "team-a", "grafana", phase="Running")
    assert status["reason"] == "Started"
    assert status["pod"] == "grafana-0"
    assert status["id"] == created["metadata"]["uid"]
    assert status["port"].isdigit()
    assert status["observedGeneration"] == created["metadata"]["generation"]
    assert {c["type"]: c["status"] for c in status["conditions"]}["Ready"] == "True"
    [start] = env.hl.requests_for(method="POST", path="/clusters/prod/portforward")
    assert start.json["pod"] == "grafana-0" and start.json["targetPort"] == "3000"
    assert start.json["service"] == "grafana" and start.json["serviceNamespace"] == "monitoring"
    [forward] = env.hl.forwards_for("prod")
    assert forward.token == TOKEN_A  # started as the resource's user, from the session cookies
    await env.wait_events("grafana", [("Normal", "Started")])


async def test_pod_with_numeric_port_and_requested_local_port(env: Env) -> None:
    await env.create("portforwards", "team-a", "redis", {
        "cluster": "prod", "pod": "redis-0", "namespace": "monitoring", "targetPort": 6379, "port": 16379,
        "credentials": CREDS})
    status = await env.wait_status("portforwards", "team-a", "redis", phase="Running")
    assert status["port"] == "16379" and status["pod"] == "redis-0"
    assert "-> monitoring/redis-0:6379" in status["message"]


async def test_stopped_then_running_again_with_the_same_id(env: Env) -> None:
    await env.create("portforwards", "team-a", "grafana", {
        "cluster": "prod", "service": "grafana", "namespace": "monitoring", "targetPort": "http",
        "credentials": CREDS})
    running = await env.wait_status("portforwards", "team-a", "grafana", phase="Running")
    await env.patch_spec("portforwards", "team-a", "grafana", {"state": "Stopped"})
    stopped = await env.wait_status("portforwards", "team-a", "grafana", phase="Stopped")
    assert stopped["reason"] == "Stopped"
    [stop] = env.hl.requests_for(method="DELETE", path="/clusters/prod/portforward")
    assert stop.json == {"id": running["id"], "stopOrDelete": True, "action": "stop"}
    assert env.hl.forward(running["id"]).status == "Stopped"
    await env.patch_spec("portforwards", "team-a", "grafana", {"state": "Running"})
    await env.wait_status("portforwards", "team-a", "grafana", phase="Running", reason="Started")
    starts = env.hl.requests_for(method="POST", path="/clusters/prod/portforward")
    assert [s.json["id"] for s in starts] == [running["id"], running["id"]]
    await env.wait_events("grafana", [("Normal", "Started"), ("Normal", "Stopped"), ("Normal", "Started")])


async def test_409_for_our_own_id_adopts_the_running_forward(env: Env) -> None:
    await _start_in_ui(env, "fixed-id")
    await env.create("portforwards", "team-a", "grafana", {
        "cluster": "prod", "pod": "grafana-0", "namespace": "monitoring", "targetPort": 3000, "id": "fixed-id",
        "credentials": CREDS})
    status = await env.wait_status("portforwards", "team-a", "grafana", phase="Running")
    assert status["reason"] == "Adopted" and status["id"] == "fixed-id"
    assert len(env.hl.forwards_for("prod")) == 1  # no duplicate
    # confirmed from the list: what runs is what the spec asks (docs/portforward.md#start), so it is adopted, not
    # replaced
    assert env.hl.requests_for(method="GET", path="/clusters/prod/portforward/list")
    assert not env.hl.requests_for(method="DELETE", path="/clusters/prod/portforward")


async def test_adopting_an_existing_forward_by_id_alone(env: Env) -> None:
    await _start_in_ui(env, "from-the-ui")
    await env.create("portforwards", "team-a", "adopted", {"cluster": "prod", "id": "from-the-ui",
                                                          "credentials": CREDS})
    status = await env.wait_status("portforwards", "team-a", "adopted", phase="Running")
    assert status["reason"] == "Adopted" and status["pod"] == "grafana-0"
    assert not env.hl.requests_for(method="POST", path="/clusters/prod/portforward")
    await env.patch_spec("portforwards", "team-a", "adopted", {"state": "Stopped"})
    await env.wait_status("portforwards", "team-a", "adopted", phase="Stopped")
    assert env.hl.forward("from-the-ui").status == "Stopped"


async def _start_in_ui(env: Env, forward_id: str) -> None:
    """Start a forward as Headlamp's UI would, straight at the backend."""
    import aiohttp
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{env.hl.url}/clusters/prod/portforward", json={
                "id": forward_id, "namespace": "monitoring", "pod": "grafana-0", "targetPort": "3000"}) as response:
            assert response.status == 200
    env.hl.clear_requests()



async def test_an_adopted_forward_that_vanishes_is_watched_until_it_returns(env: Env) -> None:
    import aiohttp
    await _start_in_ui(env, "ui-forward")
    await env.create("portforwards", "team-a", "adopted", {"cluster": "prod", "id": "ui-forward",
                                                          "credentials": CREDS})
    await env.wait_status("portforwards", "team-a", "adopted", phase="Running", reason="Adopted")
    async with aiohttp.ClientSession() as session:  # deleted in Headlamp's UI
        async with session.delete(f"{env.hl.url}/clusters/prod/portforward",
                                  json={"id": "ui-forward", "stopOrDelete": False}) as response:
            assert response.status == 200
    gone = await env.wait_status("portforwards", "team-a", "adopted", phase="Pending")
    assert gone["reason"] in ("NotFound", "Stopped")  # v0.45.0 lists it again once, Stopped (#7389)
    assert "watching for it" in gone["message"]
    await _start_in_ui(env, "ui-forward")  # started again in the UI
    await env.wait_status("portforwards", "team-a", "adopted", phase="Running", reason="Adopted")
    assert not env.hl.requests_for(method="POST", path="/clusters/prod/portforward")  # observed, never started


@pytest.mark.parametrize("port", [None, 16380], ids=["port picked", "port named"])
async def test_a_start_that_timed_out_after_the_backend_made_the_forward_ends_running(
        start_operator: OperatorFactory, port: int | None) -> None:
    """The operator gave up waiting, but Headlamp went on and made the forward, on its port: the retry finds its own
    forward there (not someone else's port), and the status says Running, never Failed Conflict."""
    async with start_operator(backend={"request_timeout": 0.5}) as env:
        await env.put_secret("team-a", "viewer", token=TOKEN_A)
        env.hl.start_delay = 1.0  # longer than the operator waits for the start's answer
        spec = {"cluster": "prod", "pod": "redis-0", "namespace": "monitoring", "targetPort": 6379,
                "credentials": CREDS, **({"port": port} if port else {})}
        await env.create("portforwards", "team-a", "redis", spec)
        await env.wait_status("portforwards", "team-a", "redis", phase="Pending", reason="Timeout")
        await wait_until(lambda: [f for f in env.hl.forwards_for("prod") if f.status == "Running"], within=5)
        env.hl.start_delay = 0.0
        status = await env.wait_status("portforwards", "team-a", "redis", phase="Running", within=15)
        [forward] = env.hl.forwards_for("prod")
        assert status["port"] == str(forward.port) and (port is None or status["port"] == str(port))
        assert status["id"] == forward.id
