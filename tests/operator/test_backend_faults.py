"""The backend misbehaves; every resource converges anyway, each scenario bounded in time."""
from __future__ import annotations

import asyncio
import collections

from headlamp_operator_testing.headlamp import Fault
from headlamp_operator_testing.kopf_harness import wait_until
from tests.harness.memory import SYNC, TOKEN_A, Env, OperatorFactory

CREDS = {"tokenSecretRef": {"name": "viewer"}}
SERVICE = {"cluster": "prod", "service": "grafana", "namespace": "monitoring", "targetPort": "http",
           "credentials": CREDS}


def target(name: str) -> dict[str, str]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "name": name, "namespace": "shop"}


def phases(env: Env, plural: str) -> collections.Counter[str]:
    return collections.Counter((obj.get("status") or {}).get("phase", "-")
                               for obj in env.kube.list_objects("headlamp-operator.dev", "v1alpha1", plural))


async def converged(env: Env, *, forwards: int, patches: int, within: float) -> None:
    def done() -> bool:
        return (phases(env, "portforwards")["Running"] == forwards
                and phases(env, "resourcepatches")["Applied"] == patches)
    try:
        await wait_until(done, within=within, message="every resource converged")
    except TimeoutError:
        raise AssertionError(f"not converged: {phases(env, 'portforwards')} {phases(env, 'resourcepatches')}") from None


async def test_backend_restart_loses_every_forward_and_all_come_back(env: Env) -> None:
    await asyncio.gather(*(env.create("portforwards", "team-a", f"pf-{i}", SERVICE) for i in range(20)))
    await converged(env, forwards=20, patches=0, within=20)
    ids = {obj["status"]["id"] for obj in env.kube.list_objects("headlamp-operator.dev", "v1alpha1", "portforwards")}
    await env.hl.restart()
    assert env.hl.forwards == []
    await wait_until(lambda: {f.id for f in env.hl.forwards if f.status == "Running"} == ids, within=15 * SYNC,
                     message="every forward re-established")
    await converged(env, forwards=20, patches=0, within=10)
    assert len(env.hl.forwards) == 20  # no duplicates


async def test_503_for_10_seconds_then_healthy(env: Env) -> None:
    for i in range(10):
        env.hl.clusters["prod"].add_deployment("shop", f"web-{i}", replicas=1)
    env.hl.fault = Fault(status=503, body="backend restarting")
    await asyncio.gather(*(env.create("resourcepatches", "team-a", f"rp-{i}", {
        "cluster": "prod", "target": target(f"web-{i}"), "patch": {"spec": {"replicas": 3}}, "credentials": CREDS})
        for i in range(10)), *(env.create("portforwards", "team-a", f"pf-{i}", SERVICE) for i in range(10)))
    await wait_until(lambda: phases(env, "resourcepatches")["Pending"] == 10, within=10, message="all Pending")
    await asyncio.sleep(10)  # the scenario: the backend answers 503 for 10 seconds
    assert phases(env, "resourcepatches")["Failed"] == 0 and phases(env, "portforwards")["Failed"] == 0
    env.hl.fault = None
    await converged(env, forwards=10, patches=10, within=20)


async def test_slow_backend_respects_the_concurrency_bound(start_operator: OperatorFactory) -> None:
    async with start_operator(backend={"max_concurrency": 8, "request_timeout": 30}) as env:
        await env.put_secret("team-a", "viewer", token=TOKEN_A)
        for i in range(100):
            env.hl.clusters["prod"].add_deployment("shop", f"web-{i}", replicas=1)
        env.hl.delay = 2.0  # every answer takes 2 s
        await asyncio.gather(*(env.create("resourcepatches", "team-a", f"rp-{i}", {
            "cluster": "prod", "target": target(f"web-{i}"), "patch": {"spec": {"replicas": 2}},
            "credentials": CREDS}) for i in range(100)))
        await converged(env, forwards=0, patches=100, within=90)
        assert env.hl.max_in_flight["prod"] == 8  # saturated, never exceeded
        assert len(env.hl.requests_for(method="PATCH")) == 100
        assert len(env.hl.requests_for(path="/clusters/prod/apis/apps/v1")) == 1  # discovery: single-flight


async def test_cut_watch_streams_are_resumed_or_relisted(env: Env) -> None:
    await env.create("resourcepatches", "team-a", "before", {"cluster": "prod", "target": target("web"),
                                                            "patch": {"spec": {"replicas": 2}}, "credentials": CREDS})
    await env.wait_status("resourcepatches", "team-a", "before", phase="Applied")
    for expire in (False, True):  # resumed from the last resourceVersion; then 410 Gone: a fresh list
        assert env.kube.cut_watches(expire=expire) > 0
        name = f"after-{'relist' if expire else 'resume'}"
        await env.create("resourcepatches", "team-a", name, {"cluster": "prod", "target": target("web"),
                                                            "patch": {"metadata": {"labels": {name: "1"}}},
                                                            "credentials": CREDS})
        await env.wait_status("resourcepatches", "team-a", name, phase="Applied", within=15)
    await env.patch_spec("resourcepatches", "team-a", "before", {"patch": {"spec": {"replicas": 4}}})
    await env.wait_status("resourcepatches", "team-a", "before", phase="Applied", observedGeneration=2, within=15)
