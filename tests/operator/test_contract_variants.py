"""The product against each contract variant of the Headlamp emulator (issue 23, section 4).

Open pull requests of kubernetes-sigs/headlamp change what the backend says
(docs/headlamp-backend.md#upstream-changes-in-flight; the emulator's ``contract``,
:mod:`headlamp_operator_testing.headlamp.contracts`). The operator must keep working with each, without asking which
it faces: the same scenarios run against every variant, then each variant's own claim is checked as what the emulator
saw: #7273, a backend that reconnects a forward itself is never fought; #7020, a burst of PortForwards sharing one
token stays under the set-token limit; #7352 (and #6801), a cluster name over 50 characters works, the cookie names
being the backend's; #7258, a forward the backend keeps stopping is reported, not restarted in a tight loop.
"""
from __future__ import annotations

import asyncio
import contextlib
import itertools
import time

import pytest

from headlamp_operator.scheduling import healing
from headlamp_operator_testing import scenery
from headlamp_operator_testing.headlamp import HeadlampEmulator
from headlamp_operator_testing.headlamp.sessions import sanitize
from headlamp_operator_testing.kopf_harness import wait_until
from tests.harness.memory import SYNC, TOKEN_A, Env, OperatorFactory

PF, RP = "portforwards", "resourcepatches"
CREDS = {"tokenSecretRef": {"name": "viewer"}}
SERVICE = {"cluster": "prod", "service": "grafana", "namespace": "monitoring", "targetPort": "http",
           "credentials": CREDS}
POD = {"cluster": "prod", "pod": "redis-0", "namespace": "monitoring", "targetPort": 6379, "credentials": CREDS}
TARGET = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "namespace": "shop"}
# #7273's 5, 10 and 20 s, shrunk: still longer than two health checks, so that the operator sees the forward
# Reconnecting (when it does not, see test_pr7273_a_reconnect_between_two_health_checks_is_noticed)
RECONNECT = (2.5 * SYNC, 2.5 * SYNC, 2.5 * SYNC)

VARIANTS = [pytest.param({"contract": name, "reconnect_delays": RECONNECT}, id=name)
            for name in ("v0.45.0", "pr6153", "pr7273", "pr7389", "pr7020", "pr7352", "pr7258",
                         "pr6153,pr7273,pr7389,pr7020,pr7352")]


def listed(env: Env, fid: str) -> str | None:
    """The status the emulator keeps for a forward id, None when it keeps none."""
    return next((f.status for f in env.hl.forwards if f.id == fid), None)


def starts(env: Env, fid: str | None = None, cluster: str = "prod") -> list[float]:
    """When the operator asked the emulator to start a forward (of that id), on the monotonic clock."""
    return [r.time for r in env.hl.requests_for(method="POST", path=f"/clusters/{cluster}/portforward")
            if fid is None or (r.json or {}).get("id") == fid]


async def wait_listed(env: Env, fid: str, status: str | None, *, within: float = 10.0) -> None:
    await wait_until(lambda: listed(env, fid) == status, within=within,
                     message=f"forward {fid} listed {status} (listed {listed(env, fid)})")


# -- the scenarios, against every variant ---------------------------------------------------------------------

@pytest.mark.parametrize("hl", VARIANTS, indirect=True)
async def test_the_scenarios_hold_against_each_variant(env: Env) -> None:
    """Service and pod forwards started, stopped and started again, healed, deleted with each deletionPolicy, and a
    ResourcePatch applied. Under #7258 no forward stays Running at the backend: what can hold there is checked."""
    keeps_running = not env.hl.contract.monitor_tied_to_request
    names = {"svc": {**SERVICE, "deletionPolicy": "Delete"}, "pod": {**POD, "deletionPolicy": "Stop"},
             "orphan": {**POD, "deletionPolicy": "Orphan"}}
    for name, spec in names.items():
        await env.create(PF, "team-a", name, spec)
    await env.create(RP, "team-a", "scale", {"cluster": "prod", "target": TARGET, "patch": {"spec": {"replicas": 3}},
                                             "credentials": CREDS})
    await env.wait_status(RP, "team-a", "scale", phase="Applied")
    assert env.hl.clusters["prod"].get("deployments", "shop", "web")["spec"]["replicas"] == 3
    ids = {}
    for name in names:
        status = await wait_until(lambda name=name: (s := env.status(PF, "team-a", name)).get("id") and s,
                                  within=10, message=f"{name} started")
        ids[name] = status["id"]
    if keeps_running:
        for name in names:
            running = await env.wait_status(PF, "team-a", name, phase="Running")
            assert listed(env, ids[name]) == "Running" and env.hl.forward(ids[name]).port == running["port"]
        first = env.status(PF, "team-a", "svc")
        # stopped, and started again on the same local port
        await env.patch_spec(PF, "team-a", "svc", {"state": "Stopped"})
        await env.wait_status(PF, "team-a", "svc", phase="Stopped")
        assert listed(env, ids["svc"]) == "Stopped"
        await env.patch_spec(PF, "team-a", "svc", {"state": "Running"})
        again = await env.wait_status(PF, "team-a", "svc", phase="Running")
        assert (again["port"], listed(env, ids["svc"])) == (first["port"], "Running")
        # healed after its pod dies: by the operator, or by the backend itself (#7273)
        assert again["pod"] == "grafana-0"
        env.hl.clusters["prod"].kill_pod("monitoring", "grafana-0")
        healed = await env.wait_status(PF, "team-a", "svc", phase="Running", pod="grafana-1", within=15)
        assert healed["port"] == first["port"]
        await wait_listed(env, ids["svc"], "Running")
        assert env.hl.forward(ids["svc"]).pod == "grafana-1"
    else:  # #7258: started, then Stopped by the backend at once: reported (the claim's own test counts the starts)
        for name in names:
            await wait_listed(env, ids[name], "Stopped")
        assert env.hl.forward(ids["svc"]).error == "request context canceled"
    for name in names:
        await env.delete(PF, "team-a", name)
    for name in names:
        await env.wait_gone(PF, "team-a", name, within=15)
    assert listed(env, ids["svc"]) is None  # Delete: nothing listed (the v0.45.0 ghost deleted again)
    assert listed(env, ids["pod"]) == "Stopped"  # Stop
    assert listed(env, ids["orphan"]) == ("Running" if keeps_running else "Stopped")  # Orphan: as the backend has it
    assert env.hl.errors == []


# -- #7273: the backend reconnects a service forward itself ---------------------------------------------------

@pytest.mark.parametrize("hl", [{"contract": "pr7273", "reconnect_delays": RECONNECT}], indirect=True)
async def test_pr7273_the_operator_leaves_a_reconnect_to_the_backend(env: Env) -> None:
    """No start of the operator's own while the backend lists the forward Reconnecting; the status says what the
    backend does, then names the new pod, on the same local port."""
    await env.create(PF, "team-a", "svc", SERVICE)
    first = await env.wait_status(PF, "team-a", "svc", phase="Running", pod="grafana-0")
    before = len(starts(env))
    env.hl.clusters["prod"].kill_pod("monitoring", "grafana-0")
    # (the pod watch may say first that the pod is Failed: then it finds the backend reconnecting, and leaves it)
    said = f"Headlamp is reconnecting forward {first['id']} to a pod of its service itself (its pod went away): " \
           "left to it, not started again meanwhile"
    pending = await wait_until(lambda: (found := env.status(PF, "team-a", "svc")).get("message", "").startswith(said)
                               and found, within=10, message="the status says the backend reconnects it")
    assert (pending["phase"], pending["reason"]) == ("Pending", "Pending")
    moved = await env.wait_status(PF, "team-a", "svc", phase="Running", pod="grafana-1", within=15)
    assert (moved["port"], moved["id"]) == (first["port"], first["id"])
    assert len(starts(env)) == before and env.hl.table.starts_while_reconnecting == []
    forward = env.hl.forward(first["id"])
    assert (forward.status, forward.pod, forward.port, forward.reconnects) == ("Running", "grafana-1",
                                                                               first["port"], 1)


@pytest.mark.parametrize("hl", [{"contract": "pr7273", "reconnect_delays": (SYNC, SYNC, SYNC)}], indirect=True)
async def test_pr7273_once_the_backend_gives_up_the_operator_heals(env: Env) -> None:
    """Three tries without a ready pod: the backend stops the forward; then the operator starts it again itself,
    once its Service has a ready pod, and never while the backend was still trying. (Its health pass does: this
    credential may not watch pods. The emulator's monitor reconnects on the pod's change itself, before any
    watch event, where #7273's polls every 5 s: docs/portforward.md#watching-pods.)"""
    env.hl.clusters["prod"].forbid_token(TOKEN_A, verbs=["watch"])
    await env.create(PF, "team-a", "svc", SERVICE)
    first = await env.wait_status(PF, "team-a", "svc", phase="Running", pod="grafana-0")
    before = len(starts(env))
    prod = env.hl.clusters["prod"]
    prod.kill_pod("monitoring", "grafana-1")
    prod.kill_pod("monitoring", "grafana-0")
    began = time.monotonic()
    await wait_listed(env, first["id"], "Stopped", within=15)
    gave_up = time.monotonic()
    assert [t for t in starts(env) if began <= t < gave_up] == []  # none while Reconnecting
    await env.wait_status(PF, "team-a", "svc", phase="Pending")  # no ready pod: the operator waits with backoff
    prod.add_pod("monitoring", "grafana-1", labels={"app": "grafana"}, ports=[{"name": "web", "containerPort": 3000}])
    healed = await env.wait_status(PF, "team-a", "svc", phase="Running", pod="grafana-1", within=15)
    assert healed["port"] == first["port"] and len(starts(env)) > before
    assert env.hl.table.starts_while_reconnecting == []


@pytest.mark.parametrize("hl", [{"contract": "pr7273", "reconnect_delays": (0.0, 0.0, 0.0)}], indirect=True)
async def test_pr7273_a_reconnect_between_two_health_checks_is_noticed(env: Env) -> None:
    await env.create(PF, "team-a", "svc", SERVICE)
    first = await env.wait_status(PF, "team-a", "svc", phase="Running", pod="grafana-0")
    env.hl.hold()  # no answer while the backend reconnects: the operator's lists never see it Reconnecting
    try:
        env.hl.clusters["prod"].kill_pod("monitoring", "grafana-0")
        await wait_until(lambda: env.hl.forward(first["id"]).pod == "grafana-1", within=5, message="reconnected")
        assert env.hl.forward(first["id"]).status == "Running"
    finally:
        env.hl.release()
    lists = len(env.hl.requests_for(path="/clusters/prod/portforward/list"))
    await wait_until(lambda: len(env.hl.requests_for(path="/clusters/prod/portforward/list")) >= lists + 3,
                     within=10 * SYNC, message="three more health checks")
    assert env.status(PF, "team-a", "svc")["pod"] == "grafana-1"


# -- #7020: set-token limited to 5 a second per address, burst 10 ---------------------------------------------

BURST = 1000  # PortForwards sharing one token Secret
BURST_PORTS = 20000  # their local ports from here on: under Linux's ephemeral range (32768-60999), which the
# backend's own picks come from; 1,000 picks there met once a port another start had just picked (a race of the
# backend's, v0.45.0's getFreePort too: see test_a_port_the_backend_picked_itself_and_lost_is_picked_again)


@pytest.mark.parametrize("hl", ["pr7020"], indirect=True)
async def test_pr7020_a_burst_sharing_one_token_stays_under_the_set_token_limit(env: Env) -> None:
    """One address, one token: the session is reused, so a burst of PortForwards costs a set-token or so, never a 429,
    and every one of them gets Ready."""
    began = time.monotonic()
    for first in range(0, BURST, 100):
        await asyncio.gather(*(env.create(PF, "team-a", f"burst-{i}", {**POD, "port": BURST_PORTS + i})
                               for i in range(first, first + 100)))
    created = time.monotonic()

    def ready() -> bool:
        return all(env.status(PF, "team-a", f"burst-{i}").get("phase") == "Running" for i in range(BURST))
    await wait_until(ready, within=300, interval=0.5, message=f"{BURST} PortForwards Running")
    done = time.monotonic()
    set_tokens = env.hl.requests_for(method="POST", path="/clusters/prod/set-token")
    refused = [r for r in set_tokens if r.status == 429]
    print(f"\n#7020 burst: {BURST} PortForwards created in {created - began:.1f} s, all Running "
          f"{done - began:.1f} s after the first; {len(set_tokens)} set-token requests, {len(refused)} answered 429; "
          f"{len(starts(env))} starts")
    assert (len(refused), env.hl.set_token_limiter.refused) == (0, 0)
    assert 1 <= len(set_tokens) <= env.hl.set_token_limiter.burst
    assert {f.token for f in env.hl.forwards} == {TOKEN_A}


async def test_a_port_the_backend_picked_itself_and_lost_is_picked_again(env: Env) -> None:
    env.hl.fail_next(1, status=500, body="unable to listen on any of the requested ports: [{45817 6379}]\n",
                     method="POST", path="/clusters/prod/portforward")
    await env.create(PF, "team-a", "race", POD)  # no spec.port: the backend picks one
    settled = await wait_until(lambda: env.status(PF, "team-a", "race").get("phase") in ("Running", "Failed"),
                               within=10, message="the forward Running or Failed")
    assert settled and env.status(PF, "team-a", "race")["phase"] == "Running", env.status(PF, "team-a", "race")


# -- #7352 and #6801: cluster names over 50 characters ---------------------------------------------------------

LONG = "arn:aws:eks:eu-west-1:123456789012:cluster.platform-production-platform-production-eu"


@pytest.mark.parametrize("hl", ["v0.45.0", "pr7352", "pr6801"], indirect=True)
async def test_pr7352_a_cluster_name_over_50_characters_works(env: Env) -> None:
    """The operator keeps the cookies set-token sent in a jar and sends them back as they are: it never builds cookie
    names, so the backend's naming of long clusters (cut at 50, or cut and hashed) makes no difference to it."""
    scenery.seed_cluster(env.hl, LONG)
    await env.create(PF, "team-a", "long", {**POD, "cluster": LONG})
    await env.create(RP, "team-a", "long", {"cluster": LONG, "target": TARGET, "patch": {"spec": {"replicas": 2}},
                                            "credentials": CREDS})
    running = await env.wait_status(PF, "team-a", "long", phase="Running")
    await env.wait_status(RP, "team-a", "long", phase="Applied")
    assert env.hl.clusters[LONG].get("deployments", "shop", "web")["spec"]["replicas"] == 2
    assert env.hl.forward(running["id"]).token == TOKEN_A  # the start carried the session cookie the backend named
    [start] = [r for r in env.hl.requests if r.method == "POST" and r.path.endswith("/portforward")]
    assert set(start.cookies) == {f"headlamp-auth-{sanitize(LONG, env.hl.contract.cookie_scheme)}.0"}


# -- #7258 as written: every forward Stopped right after its start ----------------------------------------------

WINDOW = 16.0  # seconds over which the starts are counted
SYNC_7258 = 0.5  # the health checks' interval in this test: a tight loop would start the forward this often


def starts_allowed(window: float, *, sync: float, backoff_min: float, backoff_max: float, tolerated: int) -> int:
    """How many starts a forward the backend stops at once may get within ``window`` seconds: its start, ``tolerated``
    restarts a health check apart, then each next one after the backoff, growing (healing.RESTARTS_TOLERATED); the
    most there can be, a health check finding it Stopped just after each of these starts."""
    clock, count, attempt = 0.0, 1, 0
    while True:
        clock += sync if count <= tolerated else min(backoff_min * 2 ** attempt, backoff_max)
        attempt += count > tolerated
        if clock > window:
            return count
        count += 1


async def test_pr7258_a_forward_the_backend_keeps_stopping_is_not_restarted_in_a_tight_loop(
        start_operator: OperatorFactory, hl: HeadlampEmulator) -> None:
    """Three restarts that did not last a health check, then each next one after the backoff, growing, and the status
    says why: the starts within a window stay under what that schedule allows (a tight loop: one per health check)."""
    hl.contract = "pr7258"
    backoff = {"backoff_min": 0.2, "backoff_max": 8.0}
    async with start_operator(sync_interval=SYNC_7258, **backoff) as env:
        await env.put_secret("team-a", "viewer", token=TOKEN_A)
        await env.create(PF, "team-a", "flaky", POD)
        await wait_until(lambda: starts(env), within=10, message="the first start")
        first = starts(env)[0]
        allowed = starts_allowed(WINDOW, sync=SYNC_7258, tolerated=healing.RESTARTS_TOLERATED, **backoff)
        with contextlib.suppress(TimeoutError):  # the window passes with no more starts than allowed
            await wait_until(lambda: len(starts(env)) > allowed, within=WINDOW - (time.monotonic() - first),
                             interval=0.1, message=f"more than {allowed} starts")
        counted = [t for t in starts(env) if t - first <= WINDOW]
        events = [e["message"] for e in env.events("flaky") if e["reason"] == "Stopped"]
    print(f"\n#7258: {len(counted)} starts in {counted[-1] - counted[0]:.1f} s (allowed in {WINDOW:g} s: {allowed}; "
          f"a tight loop: {WINDOW / SYNC_7258:.0f}); gaps "
          + ", ".join(f"{b - a:.2f}" for a, b in itertools.pairwise(counted)))
    assert len(counted) <= allowed
    assert any(f"after each of its last {healing.RESTARTS_TOLERATED} starts (the backend reports the forward "
               "Stopped: request context canceled); started again after a backoff" in message for message in events)
