"""The health sync: one list call per cluster per interval; healing lost and stopped forwards."""
from __future__ import annotations

import asyncio

import aiohttp

from headlamp_operator_testing.kopf_harness import wait_until
from tests.harness.memory import SYNC, TOKEN_A, Env

SERVICE = {"cluster": "prod", "service": "grafana", "namespace": "monitoring", "targetPort": "http",
           "credentials": {"tokenSecretRef": {"name": "viewer"}}}


async def test_a_dead_pod_is_replaced_by_re_resolving_the_service(env: Env) -> None:
    env.hl.clusters["prod"].forbid_token(TOKEN_A, verbs=["watch"])  # the health pass heals (no pod watch: podwatch)
    await env.create("portforwards", "team-a", "grafana", SERVICE)
    first = await env.wait_status("portforwards", "team-a", "grafana", phase="Running")
    assert first["pod"] == "grafana-0"
    env.hl.clusters["prod"].kill_pod("monitoring", "grafana-0")  # the backend's monitor stops the forward
    healed = await env.wait_status("portforwards", "team-a", "grafana", phase="Running", pod="grafana-1",
                                   within=10 * SYNC)
    assert "restarted" in healed["message"] and "Stopped" in healed["message"]
    assert healed["id"] == first["id"]
    assert env.hl.forward(first["id"]).pod == "grafana-1" and env.hl.forward(first["id"]).status == "Running"


async def test_forwards_lost_in_a_backend_restart_are_started_again(env: Env) -> None:
    await env.create("portforwards", "team-a", "grafana", SERVICE)
    first = await env.wait_status("portforwards", "team-a", "grafana", phase="Running")
    await env.hl.restart()
    await wait_until(lambda: any(f.id == first["id"] for f in env.hl.forwards_for("prod")), within=10 * SYNC,
                     message="the forward restarted")
    # the forward runs again before its status says so (the status is written after the start answers)
    status = await wait_until(
        lambda: (found := env.status("portforwards", "team-a", "grafana")).get("message", "").startswith("restarted")
        and found, within=5, message="the status says it was restarted")
    assert status["phase"] == "Running" and "no longer lists" in status["message"]


async def test_one_list_call_per_cluster_per_interval_with_50_forwards(env: Env) -> None:
    await asyncio.gather(*(env.create("portforwards", "team-a", f"pf-{i}", SERVICE) for i in range(49)))
    adopted = await env.create("portforwards", "team-a", "pf-49", SERVICE)  # then adopted by its id alone
    await env.wait_status("portforwards", "team-a", "pf-49", phase="Running", within=30)  # behind 49 starts
    await env.create("portforwards", "team-b", "adopter", {"cluster": "prod", "id": adopted["metadata"]["uid"],
                                                          "credentials": SERVICE["credentials"]})
    await env.wait_status("portforwards", "team-b", "adopter", phase="Running", reason="Adopted", within=30)
    for i in range(50):
        await env.wait_status("portforwards", "team-a", f"pf-{i}", phase="Running", within=20)
    def versions() -> dict[str, str]:
        names = [f"pf-{i}" for i in range(50)]
        return {name: (env.get("portforwards", "team-a", name) or {})["metadata"]["resourceVersion"] for name in names}

    env.hl.clear_requests()
    before = versions()
    window = 4 * SYNC
    await asyncio.sleep(window)  # a measurement window, not a synchronisation: count what happens in it
    lists = env.hl.requests_for(path="/clusters/prod/portforward/list")
    assert 1 <= len(lists) <= window / SYNC + 1
    assert [r for r in env.hl.requests if r.path != "/clusters/prod/portforward/list"] == []  # quiet when idle
    assert versions() == before  # and no Kubernetes write: nothing changed, nothing written


async def test_a_forward_stopped_after_quiet_passes_is_healed(env: Env) -> None:
    # Passes that found every forward steady in an unchanged list skip the forwards altogether; a change
    # in the backend's list must still reach the one forward it concerns.
    for name in ("a", "b", "c"):
        await env.create("portforwards", "team-a", name, SERVICE)
    statuses = [await env.wait_status("portforwards", "team-a", name, phase="Running") for name in ("a", "b", "c")]
    await env.wait_pod_watch()
    env.hl.clear_requests()
    await wait_until(lambda: len(env.hl.requests_for(path="/clusters/prod/portforward/list")) >= 3,
                     within=10 * SYNC, message="three quiet passes")
    assert [r for r in env.hl.requests if r.path != "/clusters/prod/portforward/list"] == []
    async with aiohttp.ClientSession() as session:  # stopped in the UI
        async with session.delete(f"{env.hl.url}/clusters/prod/portforward",
                                  json={"id": statuses[1]["id"], "stopOrDelete": True}) as response:
            assert response.status == 200
    healed = await wait_until(
        lambda: (found := env.status("portforwards", "team-a", "b")).get("message", "").startswith("restarted")
        and found, within=10 * SYNC, message="the stopped forward restarted")
    assert healed["phase"] == "Running" and env.hl.forward(statuses[1]["id"]).status == "Running"
    starts = env.hl.requests_for(method="POST", path="/clusters/prod/portforward")
    assert [s.json["id"] for s in starts] == [statuses[1]["id"]]  # the others were left alone


async def test_a_failed_list_leaves_every_forward_as_it_was(env: Env) -> None:
    # One list request the backend failed says nothing about the forwards: with thousands of them, taking
    # it as each one's failure wrote every status twice and posted two Events each (Pending, Running).
    names = ("a", "b", "c")
    for name in names:
        await env.create("portforwards", "team-a", name, SERVICE)
    for name in names:
        await env.wait_status("portforwards", "team-a", name, phase="Running")
    before = {name: (env.get("portforwards", "team-a", name) or {})["metadata"]["resourceVersion"] for name in names}
    await wait_until(lambda: len(env.kube.events("team-a")) >= len(names), within=5,
                     message="each forward's Started Event (posted once its object is quiet)")
    events = len(env.kube.events("team-a"))
    lists = "/clusters/prod/portforward/list"
    await env.wait_pod_watch()
    env.hl.clear_requests()
    env.hl.fail_next(2, status=503, method="GET", path=lists)
    await wait_until(lambda: len(env.hl.requests_for(path=lists)) >= 4, within=10 * SYNC,
                     message="two failed lists, then answered ones")
    assert {name: (env.get("portforwards", "team-a", name) or {})["metadata"]["resourceVersion"]
            for name in names} == before
    assert len(env.kube.events("team-a")) == events
    assert [r for r in env.hl.requests if r.path != lists] == []  # no forward was checked or restarted one by one


async def test_a_backend_whose_list_keeps_failing_is_reported_on_every_forward(env: Env) -> None:
    await env.create("portforwards", "team-a", "grafana", SERVICE)
    await env.wait_status("portforwards", "team-a", "grafana", phase="Running")
    env.hl.fail_next(1000, status=503, method="GET", path="/clusters/prod/portforward/list")
    status = await env.wait_status("portforwards", "team-a", "grafana", phase="Pending", within=10 * SYNC)
    assert status["message"].startswith("health check: Service Unavailable")
    env.hl.reset_faults()
    await env.wait_status("portforwards", "team-a", "grafana", phase="Running", within=10 * SYNC)
