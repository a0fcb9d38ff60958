"""What a forward points at and the local port it keeps: a moved target, a Service in another namespace, a
pod recreated under its name, a port number mapped to its target, a taken port named.

Each kind of fault was found by trying a public bug report on the product; a test names its kind, the handed
input first, then inputs of the same kind of our own making.
"""
from __future__ import annotations

import socket

from headlamp_operator_testing.kopf_harness import wait_until
from headlamp_operator_testing.process import free_port, held_port
from tests.harness.memory import Env

CREDS = {"tokenSecretRef": {"name": "viewer"}}
PF, RP = "portforwards", "resourcepatches"




def starts(env: Env) -> list[dict[str, str]]:
    return [r.json for r in env.hl.requests_for(method="POST", path="/clusters/prod/portforward")]


# 1. A spec change of a Running forward is applied, not "adopted" ------------------------------------

async def test_kind1_a_running_forward_moved_to_another_pod_and_port(env: Env) -> None:
    first, second = free_port(), free_port()
    await env.create(PF, "team-a", "move-me", {"cluster": "prod", "pod": "grafana-1", "namespace": "monitoring",
                                               "targetPort": 3000, "port": first, "credentials": CREDS})
    running = await env.wait_status(PF, "team-a", "move-me", phase="Running")
    await env.patch_spec(PF, "team-a", "move-me", {"pod": "redis-0", "targetPort": 6379, "port": second})
    moved = await env.wait_status(PF, "team-a", "move-me", phase="Running", observedGeneration=2)
    assert moved["pod"] == "redis-0" and moved["port"] == str(second)
    assert moved["reason"] == "Started"
    assert moved["message"] == f"forwarding localhost:{second} -> monitoring/redis-0:6379"
    [forward] = env.hl.forwards_for("prod")  # the old one was deleted first: one forward, the new one
    assert (forward.id, forward.pod, forward.port, forward.target_port) == (running["id"], "redis-0", str(second),
                                                                            "6379")
    with socket.socket() as sock:  # the old local port is free again
        sock.bind(("127.0.0.1", first))


async def test_kind1_a_service_forward_changed_to_a_pod_keeps_its_port(env: Env) -> None:
    await env.create(PF, "team-a", "svc", {"cluster": "prod", "service": "grafana", "namespace": "monitoring",
                                           "targetPort": "http", "credentials": CREDS})
    before = await env.wait_status(PF, "team-a", "svc", phase="Running")
    await env.patch_spec(PF, "team-a", "svc", {"service": None, "pod": "redis-0", "targetPort": 6379})
    after = await env.wait_status(PF, "team-a", "svc", phase="Running", observedGeneration=2)
    assert after["pod"] == "redis-0" and after["reason"] == "Started"
    assert after["port"] == before["port"]
    assert [(f.pod, f.target_port) for f in env.hl.forwards_for("prod")] == [("redis-0", "6379")]


async def test_kind1_an_unchanged_forward_of_our_id_is_still_adopted(env: Env) -> None:
    """The other side of the rule: a 409 for our id is adoption when what runs is what the spec asks."""
    await env.create(PF, "team-a", "same", {"cluster": "prod", "pod": "redis-0", "namespace": "monitoring",
                                            "targetPort": 6379, "id": "fixed", "credentials": CREDS})
    await env.wait_status(PF, "team-a", "same", phase="Running", reason="Started")
    await env.create(PF, "team-b", "twin", {"cluster": "prod", "pod": "redis-0", "namespace": "monitoring",
                                            "targetPort": 6379, "id": "fixed", "credentials": CREDS})
    twin = await env.wait_status(PF, "team-b", "twin", phase="Running")
    assert twin["reason"] == "Adopted"
    assert len(env.hl.forwards_for("prod")) == 1


# 2. A Service's pods are listed, and forwarded to, in the Service's namespace ------------------------

async def test_kind2_service_in_another_namespace(env: Env) -> None:
    await env.create(PF, "team-a", "grafana-other-ns", {"cluster": "prod", "service": "grafana",
                                                        "serviceNamespace": "monitoring", "targetPort": "http",
                                                        "credentials": CREDS})
    status = await env.wait_status(PF, "team-a", "grafana-other-ns", phase="Running")
    assert status["message"].endswith("-> monitoring/grafana-0:3000")
    [start] = starts(env)
    assert (start["namespace"], start["pod"], start["serviceNamespace"]) == ("monitoring", "grafana-0", "monitoring")
    listed = [r.path for r in env.hl.requests_for(method="GET") if r.path.endswith("/pods")]
    assert listed and all(path == "/clusters/prod/api/v1/namespaces/monitoring/pods" for path in listed)


async def test_kind2_namespace_and_service_namespace_both_set_and_different(env: Env) -> None:
    await env.create(PF, "team-a", "both", {"cluster": "prod", "service": "grafana", "namespace": "team-b",
                                            "serviceNamespace": "monitoring", "targetPort": "http",
                                            "credentials": CREDS})
    status = await env.wait_status(PF, "team-a", "both", phase="Running")
    assert status["message"].endswith("-> monitoring/grafana-0:3000")


# 3. Headlamp's "not ready yet" answers are transient, on creation and on healing ----------------------

async def test_kind3_a_statefulset_pod_recreated_under_its_name_is_healed(env: Env) -> None:
    prod = env.hl.clusters["prod"]
    await env.create(PF, "team-a", "sts-member", {"cluster": "prod", "pod": "grafana-1", "namespace": "monitoring",
                                                  "targetPort": 3000, "credentials": CREDS})
    await env.wait_status(PF, "team-a", "sts-member", phase="Running")
    prod.kill_pod("monitoring", "grafana-1")  # the healing start answers "timeout waiting for portforward..."
    pending = await env.wait_status(PF, "team-a", "sts-member", phase="Pending")
    assert "timeout waiting for portforward to be ready" in pending["message"]
    assert pending["reason"] == "Pending"
    prod.add_pod("monitoring", "grafana-1", labels={"app": "grafana"},
                 ports=[{"name": "web", "containerPort": 3000}])  # back under the same name
    back = await env.wait_status(PF, "team-a", "sts-member", phase="Running", within=20)
    assert back["pod"] == "grafana-1"
    phases = [e["reason"] for e in env.events("sts-member")]
    assert "BackendError" not in phases


async def test_kind3_a_retry_reads_the_service_anew_though_a_burst_shares_its_resolution(env: Env) -> None:
    # Resolutions are shared for seconds (a burst reads a Service once); a retry is there because what
    # was read did not do, so it must not be answered from that same stale read.
    prod = env.hl.clusters["prod"]
    prod.add_service("monitoring", "late", ports=[{"name": "http", "port": 80, "targetPort": 8080}])
    prod.add_pod("monitoring", "late-0", labels={"app": "late"}, ready=False)
    await env.create(PF, "team-a", "late", {"cluster": "prod", "service": "late", "namespace": "monitoring",
                                            "targetPort": "http", "credentials": CREDS})
    pending = await env.wait_status(PF, "team-a", "late", phase="Pending")
    assert "no Running and Ready pod behind service monitoring/late" in pending["message"]
    prod.add_pod("monitoring", "late-0", labels={"app": "late"})  # now Ready
    running = await env.wait_status(PF, "team-a", "late", phase="Running", within=5)
    assert running["pod"] == "late-0"


async def test_kind3_a_stream_that_failed_while_starting_is_retried(env: Env) -> None:
    env.hl.fail_next(2, status=500, body="portforward failed: nil error received\n", method="POST",
                     path="/clusters/prod/portforward")
    await env.create(PF, "team-a", "flaky", {"cluster": "prod", "pod": "redis-0", "namespace": "monitoring",
                                             "targetPort": 6379, "credentials": CREDS})
    status = await env.wait_status(PF, "team-a", "flaky", phase="Running", within=20)
    assert status["reason"] == "Started"
    assert len(starts(env)) == 3


# 4. The local port is stable across restarts ------------------------------------------------------------

async def test_kind4_healing_keeps_the_local_port(env: Env) -> None:
    prod = env.hl.clusters["prod"]
    await env.create(PF, "team-a", "lb-by-name", {"cluster": "prod", "service": "grafana-lb",
                                                  "namespace": "monitoring", "targetPort": "http",
                                                  "credentials": CREDS})
    first = await env.wait_status(PF, "team-a", "lb-by-name", phase="Running")
    prod.kill_pod("monitoring", first["pod"], delete=True)
    healed = await env.wait_status(PF, "team-a", "lb-by-name", phase="Running", reason="Started",
                                   pod="grafana-1" if first["pod"] == "grafana-0" else "grafana-0", within=20)
    assert healed["port"] == first["port"]
    assert [s["port"] for s in starts(env)] == ["", first["port"]]


async def started_then_stopped(env: Env, name: str) -> dict[str, str]:
    """A forward to redis-0 that ran and is now Stopped; returns its status while it ran."""
    await env.create(PF, "team-a", name, {"cluster": "prod", "pod": "redis-0", "namespace": "monitoring",
                                          "targetPort": 6379, "credentials": CREDS})
    first = await env.wait_status(PF, "team-a", name, phase="Running")
    await env.patch_spec(PF, "team-a", name, {"state": "Stopped"})
    await env.wait_status(PF, "team-a", name, phase="Stopped")
    return first


async def test_kind4_stopped_then_running_and_a_backend_restart_keep_the_port(env: Env) -> None:
    first = await started_then_stopped(env, "keep")
    await env.patch_spec(PF, "team-a", "keep", {"state": "Running"})
    again = await env.wait_status(PF, "team-a", "keep", phase="Running", observedGeneration=3)
    assert again["port"] == first["port"]
    await env.hl.restart()
    await wait_until(lambda: len(starts(env)) == 3, within=20)
    restarted = await env.wait_status(PF, "team-a", "keep", phase="Running")
    assert restarted["port"] == first["port"]


async def test_kind4_a_taken_kept_port_gives_a_new_one_and_says_so(env: Env) -> None:
    first = await started_then_stopped(env, "taken")
    with held_port(int(first["port"])):  # on 127.0.0.1 and ::1: one of them free would do for the backend
        await env.patch_spec(PF, "team-a", "taken", {"state": "Running"})
        moved = await env.wait_status(PF, "team-a", "taken", phase="Running", observedGeneration=3)
    assert moved["port"] != first["port"]
    assert f"local port {first['port']} was taken" in moved["message"]


# 5. A service port number maps through the Service (kubectl's rule) --------------------------------------

async def test_kind5_service_port_number_maps_to_its_target_port(env: Env) -> None:
    await env.create(PF, "team-a", "lb-by-number", {"cluster": "prod", "service": "grafana-lb",
                                                    "namespace": "monitoring", "targetPort": 80, "credentials": CREDS})
    status = await env.wait_status(PF, "team-a", "lb-by-number", phase="Running")
    assert status["message"].endswith(":3000")
    assert starts(env)[0]["targetPort"] == "3000"


async def test_kind5_service_port_number_to_a_named_target_port_and_a_plain_container_port(env: Env) -> None:
    await env.create(PF, "team-a", "by-80", {"cluster": "prod", "service": "grafana", "namespace": "monitoring",
                                             "targetPort": 80, "credentials": CREDS})
    await env.create(PF, "team-a", "by-3000", {"cluster": "prod", "service": "grafana", "namespace": "monitoring",
                                               "targetPort": 3000, "credentials": CREDS})
    for name in ("by-80", "by-3000"):  # 80 -> "web" -> 3000; 3000 is no service port: a container port
        status = await env.wait_status(PF, "team-a", name, phase="Running")
        assert status["message"].endswith(":3000"), status


# 9. Messages that name the cause of a typo or a busy machine ---------------------------------------------

async def test_kind9_an_unknown_cluster_is_named_for_both_kinds(env: Env) -> None:
    await env.create(PF, "team-a", "typo-pf", {"cluster": "prod-eu", "service": "grafana", "namespace": "monitoring",
                                               "targetPort": "http", "credentials": CREDS})
    await env.create(PF, "team-a", "typo-pf-pod", {"cluster": "prod-eu", "pod": "redis-0", "namespace": "monitoring",
                                                   "targetPort": 6379, "credentials": CREDS})
    await env.create(RP, "team-a", "typo-rp", {
        "cluster": "prod-eu", "target": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                                         "namespace": "shop"}, "patch": {"spec": {"replicas": 2}},
        "credentials": CREDS})
    for plural, name in ((PF, "typo-pf"), (PF, "typo-pf-pod"), (RP, "typo-rp")):
        status = await env.wait_status(plural, "team-a", name, phase="Failed")
        assert status["reason"] == "NotFound", status
        assert status["message"].startswith("Headlamp knows no cluster 'prod-eu'") or \
            "Headlamp knows no cluster 'prod-eu'" in status["message"], status
        assert "cluster list" in status["message"]


async def test_kind9_a_taken_local_port_is_named(env: Env) -> None:
    with held_port() as taken:
        await env.create(PF, "team-a", "busy", {"cluster": "prod", "pod": "redis-0", "namespace": "monitoring",
                                                "targetPort": 6379, "port": taken, "credentials": CREDS})
        status = await env.wait_status(PF, "team-a", "busy", phase="Failed")
    assert status["reason"] == "Conflict"
    assert "local port is already in use on the Headlamp host" in status["message"]
    assert f"unable to listen on any of the requested ports: [{{{taken} 6379}}]" in status["message"]
