"""Issue 22: the status tells the truth, and nothing waits without a retry (fast suite, both emulators).

Each test names the issue's section (the kind of fault); the handed input comes first, then inputs
of the same kind of our own making.
"""
from __future__ import annotations

import asyncio
import json
import re

import aiohttp

import headlamp_operator
from headlamp_operator.reconciling import portforward
from headlamp_operator_testing.kopf_harness import wait_until
from headlamp_operator_testing.process import free_port
from tests.harness.memory import TOKEN_A, Env, OperatorFactory

CREDS = {"tokenSecretRef": {"name": "viewer"}}
PF, RP = "portforwards", "resourcepatches"
TARGET = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "namespace": "shop"}
LABEL_PATCH = {"metadata": {"labels": {"pinned": "yes"}}}


def web_labels(env: Env) -> dict[str, str]:
    return dict(env.hl.clusters["prod"].get("deployments", "shop", "web")["metadata"].get("labels") or {})


def announced(message: str) -> float:
    """The delay a Pending message announces ("...; attempt N, retrying in 0.4s")."""
    found = re.search(r"retrying in ([0-9.]+)s$", message)
    assert found is not None, message
    return float(found.group(1))


# 1. Work the operator's own schedulers start is never left waiting (influxdata/sinker#159) ------------

async def test_s1_a_reapply_that_meets_an_outage_is_retried_until_it_lands(start_operator: OperatorFactory) -> None:
    """The handed input: a re-apply meets an unreachable Headlamp; it is retried, and the label comes back."""
    async with start_operator(sync_interval=0.5, min_reapply_interval=1.0) as env:
        env.relax_crds()  # the CRD's 30 s minimum would make this test last minutes: 1 s here
        await env.put_secret("team-a", "viewer", token=TOKEN_A)
        await env.create(RP, "team-a", "keep-label", {"cluster": "prod", "target": TARGET, "patch": LABEL_PATCH,
                                                      "reapplyInterval": "1s", "credentials": CREDS})
        await env.wait_status(RP, "team-a", "keep-label", phase="Applied")
        await env.hl.stop_listening()  # Headlamp unreachable across the next scheduled re-apply
        pending = await env.wait_status(RP, "team-a", "keep-label", phase="Pending", reason="Unreachable")
        assert "attempt 1, retrying in" in pending["message"]
        env.hl.clusters["prod"].get("deployments", "shop", "web")["metadata"]["labels"].pop("pinned")  # by hand
        await env.hl.start_listening()
        await wait_until(lambda: web_labels(env).get("pinned") == "yes", within=10, message="the label re-applied")
        await env.wait_status(RP, "team-a", "keep-label", phase="Applied")


async def test_s1_every_retry_comes_when_its_message_says(start_operator: OperatorFactory) -> None:
    """The message, the real delay and the next attempt say one thing: 503s answered to a re-apply."""
    async with start_operator(sync_interval=0.5, min_reapply_interval=1.0, backoff_min=0.4, backoff_max=1.6) as env:
        env.relax_crds()
        await env.put_secret("team-a", "viewer", token=TOKEN_A)
        await env.create(RP, "team-a", "timed", {"cluster": "prod", "target": TARGET, "patch": LABEL_PATCH,
                                                 "reapplyInterval": "1s", "credentials": CREDS})
        await env.wait_status(RP, "team-a", "timed", phase="Applied")
        env.hl.clear_requests()
        env.hl.fail_next(4, status=503, method="PATCH")
        messages: list[str] = []

        def seen() -> bool:
            message = env.status(RP, "team-a", "timed").get("message", "")
            if "retrying in" in message and message not in messages:
                messages.append(message)
            return env.status(RP, "team-a", "timed").get("phase") == "Applied" and len(messages) == 4

        await wait_until(seen, within=20, message="four retries, then Applied")
        patches = [r.time for r in env.hl.requests_for(method="PATCH")]
        assert len(patches) == 5
        delays = [announced(m) for m in messages]
        assert delays == [0.4, 0.8, 1.6, 1.6]
        for delay, before, after in zip(delays, patches, patches[1:], strict=False):
            assert delay - 0.05 <= after - before <= delay + 0.6, (delays, patches)


async def test_s1_a_failed_patch_retried_for_its_secret_meets_an_outage(env: Env) -> None:
    """A Failed ResourcePatch retried because its Secret changed, whose retry meets a transient error."""
    await env.create(RP, "team-a", "late-secret", {"cluster": "prod", "target": TARGET, "patch": LABEL_PATCH,
                                                   "credentials": {"tokenSecretRef": {"name": "later"}}})
    await env.wait_status(RP, "team-a", "late-secret", phase="Failed", reason="InvalidCredentials")
    env.hl.fail_next(3, status=503, method="PATCH")
    await env.put_secret("team-a", "later", token=TOKEN_A)
    await env.wait_status(RP, "team-a", "late-secret", phase="Pending", reason="BackendError", within=10)
    await env.wait_status(RP, "team-a", "late-secret", phase="Applied", within=15)
    assert web_labels(env).get("pinned") == "yes"


async def test_s1_a_failed_forward_retried_for_its_secret_meets_an_outage(env: Env) -> None:
    await env.create(PF, "team-a", "late-secret", {"cluster": "prod", "pod": "redis-0", "namespace": "monitoring",
                                                   "targetPort": 6379,
                                                   "credentials": {"tokenSecretRef": {"name": "later"}}})
    await env.wait_status(PF, "team-a", "late-secret", phase="Failed", reason="InvalidCredentials")
    await env.hl.stop_listening()
    await env.put_secret("team-a", "later", token=TOKEN_A)
    await env.wait_status(PF, "team-a", "late-secret", phase="Pending", reason="Unreachable", within=10)
    await env.hl.start_listening()
    await env.wait_status(PF, "team-a", "late-secret", phase="Running", within=15)


async def test_s1_a_heal_that_fails_is_retried_at_its_announced_delay(start_operator: OperatorFactory) -> None:
    """A heal's "retrying in 0.2s" is 0.2 s, not the next sync interval (3 s here)."""
    async with start_operator(sync_interval=3.0) as env:
        await env.put_secret("team-a", "viewer", token=TOKEN_A)
        prod = env.hl.clusters["prod"]
        await env.create(PF, "team-a", "heal", {"cluster": "prod", "pod": "grafana-1", "namespace": "monitoring",
                                                "targetPort": 3000, "credentials": CREDS})
        await env.wait_status(PF, "team-a", "heal", phase="Running")
        prod.kill_pod("monitoring", "grafana-1")
        pending = await env.wait_status(PF, "team-a", "heal", phase="Pending", within=10)
        assert announced(pending["message"]) < 1.0
        starts = env.hl.requests_for(method="POST", path="/clusters/prod/portforward")
        await wait_until(lambda: len(env.hl.requests_for(method="POST", path="/clusters/prod/portforward"))
                         >= len(starts) + 3, within=2.5, message="three retries within one sync interval")
        prod.add_pod("monitoring", "grafana-1", labels={"app": "grafana"},
                     ports=[{"name": "web", "containerPort": 3000}])
        await env.wait_status(PF, "team-a", "heal", phase="Running", within=10)


async def test_s1_a_pending_left_by_the_last_process_is_retried_after_a_restart(
        start_operator: OperatorFactory) -> None:
    async with start_operator(backoff_min=30.0, backoff_max=60.0) as env:
        await env.put_secret("team-a", "viewer", token=TOKEN_A)
        env.hl.fail_next(1, status=503, method="PATCH")
        await env.create(RP, "team-a", "across", {"cluster": "prod", "target": TARGET, "patch": LABEL_PATCH,
                                                  "credentials": CREDS})
        await env.wait_status(RP, "team-a", "across", phase="Pending")  # its retry is 30 s away
    async with start_operator() as env:  # the retry went with the process: the next one makes it
        await env.wait_status(RP, "team-a", "across", phase="Applied", within=10)
        assert web_labels(env).get("pinned") == "yes"



async def test_s1_an_adopted_forward_gone_across_a_restart_is_watched_not_failed(
        start_operator: OperatorFactory) -> None:
    """Found by the soak: a Pending left by the health checks met the adopt path after a restart, whose 404 made
    it Failed for good; an id this resource adopted before is watched with backoff until it is back."""
    async with start_operator() as env:
        await env.put_secret("team-a", "viewer", token=TOKEN_A)
        await start_in_ui(env, "ui-forward")
        await env.create(PF, "team-a", "adopted", {"cluster": "prod", "id": "ui-forward", "credentials": CREDS})
        await env.wait_status(PF, "team-a", "adopted", phase="Running", reason="Adopted")
        await env.hl.restart()  # forwards forgotten
        await env.wait_status(PF, "team-a", "adopted", phase="Pending", reason="NotFound")
    async with start_operator() as env:
        env.hl.clear_requests()
        await env.hl.wait_until(lambda: bool(env.hl.requests_for(method="GET", path="/clusters/prod/portforward")),
                                timeout=10)  # the retry the restart gave it has looked
        await env.hl.wait_until(lambda: all(r.status is not None for r in env.hl.requests), timeout=10)
        watched = await env.wait_status(PF, "team-a", "adopted", phase="Pending", reason="NotFound")
        assert "watching for it" in watched["message"]
        await start_in_ui(env, "ui-forward")
        await env.wait_status(PF, "team-a", "adopted", phase="Running", reason="Adopted", within=15)
        assert env.status(PF, "team-a", "adopted")["phase"] != "Failed"


async def test_s1_a_secret_rotated_during_a_slow_refusal_is_noticed(start_operator: OperatorFactory) -> None:
    """Found by the soak: the Secret versions a failure happened with were read after the request, so a token
    made good while a refusal was on its way was taken for the refused one, and nothing retried it."""
    async with start_operator(backend={"request_timeout": 30.0}) as env:
        prod = env.hl.clusters["prod"]
        await env.put_secret("team-a", "rotating", token="refused-token-0123")
        prod.refuse_token("refused-token-0123")
        env.hl.hold()  # the attempt with the refused token is in flight ...
        await env.create(RP, "team-a", "rotating", {"cluster": "prod", "target": TARGET, "patch": LABEL_PATCH,
                                                    "credentials": {"tokenSecretRef": {"name": "rotating"}}})
        await env.hl.wait_until(lambda: any(env.hl.in_flight.values()), timeout=10)
        await env.put_secret("team-a", "rotating", token=TOKEN_A)  # ... while the Secret gets a good token
        await asyncio.sleep(env.runtime.read_secret.ttl + 0.5)  # the fault: a refusal slower than the Secret cache
        env.hl.release()  # refused (Failed, Unauthorized), then retried: its Secret changed since the attempt began
        await env.wait_status(RP, "team-a", "rotating", phase="Applied", within=10)
        await wait_until(lambda: ("Warning", "Unauthorized") in [(e["type"], e["reason"])
                                                                 for e in env.events("rotating")],
                         within=5, message="the refusal was reported before the retry")


async def start_in_ui(env: Env, forward_id: str) -> None:
    """Start a forward as Headlamp's UI would, straight at the backend (no credentials: the backend's own)."""
    async with aiohttp.ClientSession() as session, session.post(
            f"{env.hl.url}/clusters/prod/portforward",
            json={"id": forward_id, "namespace": "monitoring", "pod": "grafana-0", "targetPort": "3000"}) as answer:
        assert answer.status == 200, await answer.text()

# 3. The message says where a forward really listens (kubernetes/kubernetes#57828) ---------------------

ECHO = {"cluster": "prod", "service": "grafana", "namespace": "monitoring", "targetPort": "http", "credentials": CREDS}


async def test_s3_an_address_the_backend_ignores_is_said_to_be_ignored(env: Env) -> None:
    """The handed input: ``address: 0.0.0.0``; v0.45.0 listens on localhost and says nothing of an address."""
    port = free_port()
    await env.create(PF, "team-a", "echo-any-address", {**ECHO, "address": "0.0.0.0", "port": port})
    status = await env.wait_status(PF, "team-a", "echo-any-address", phase="Running")
    assert status["message"] == (f"forwarding localhost:{port} -> monitoring/grafana-0:3000 "
                                 "(spec.address 0.0.0.0 is ignored: this Headlamp listens on localhost only)")
    [start] = env.hl.requests_for(method="POST", path="/clusters/prod/portforward")
    assert start.json["address"] == "0.0.0.0"  # sent as the frontend sends it


async def test_s3_a_changed_address_restarts_the_forward(env: Env) -> None:
    await env.create(PF, "team-a", "moving-address", {**ECHO, "address": "127.0.0.1"})
    before = await env.wait_status(PF, "team-a", "moving-address", phase="Running")
    env.hl.clear_requests()
    await env.patch_spec(PF, "team-a", "moving-address", {"address": "::1"})
    after = await env.wait_status(PF, "team-a", "moving-address", phase="Running", observedGeneration=2)
    assert after["reason"] == "Started"  # not "Adopted": the forward was started anew for the new spec
    assert [(r.method, (r.json or {}).get("address")) for r in env.hl.requests
            if r.path == "/clusters/prod/portforward"] == [("POST", "::1"), ("DELETE", None), ("POST", "::1")]
    assert after["port"] == before["port"]  # the local port is stable (docs/portforward.md#portforward, spec.port)
    assert after["message"].endswith("(spec.address ::1 is ignored: this Headlamp listens on localhost only)")


def test_s3_addresses_print_as_host_port_with_ipv6_in_brackets() -> None:
    assert portforward.host_port("::1", 40463) == "[::1]:40463"
    assert portforward.host_port("127.0.0.1", 40463) == "127.0.0.1:40463"
    assert portforward.host_port("localhost", "8080") == "localhost:8080"


# 4. A stop never deletes, whichever contract the backend speaks (kubernetes-sigs/headlamp#6069) --------

async def test_s4_a_stop_after_a_rollback_and_restart_still_stops(env: Env) -> None:
    """The handed input: #6153's contract first, then v0.45.0 again after a restart (no X-Reload)."""
    await env.create(PF, "team-a", "rolled", {"cluster": "prod", "pod": "redis-0", "namespace": "monitoring",
                                              "targetPort": 6379, "credentials": CREDS})
    running = await env.wait_status(PF, "team-a", "rolled", phase="Running")
    for contract, state in (("action", "Stopped"), ("action", "Running"), ("stopOrDelete", None)):
        env.hl.stop_contract = contract
        if state is None:  # rolled back to v0.45.0: restarted, forwards forgotten; the heal starts it again
            await env.hl.restart()
            await wait_until(lambda: any(f.status == "Running" for f in env.hl.forwards_for("prod")), within=10,
                             message="healed after the restart")
            state = "Stopped"
        await env.patch_spec(PF, "team-a", "rolled", {"state": state})
        await env.wait_status(PF, "team-a", "rolled", phase="Running" if state == "Running" else "Stopped")
        if state == "Stopped":
            assert env.hl.forward(running["id"]).status == "Stopped"  # still there: stopped, not deleted
            assert env.status(PF, "team-a", "rolled")["message"] == f"forward {running['id']} is stopped"


async def test_s4_a_backend_that_deleted_instead_of_stopping_is_reported_so(env: Env) -> None:
    await env.create(PF, "team-a", "told", {"cluster": "prod", "pod": "redis-0", "namespace": "monitoring",
                                            "targetPort": 6379, "credentials": CREDS})
    running = await env.wait_status(PF, "team-a", "told", phase="Running")
    env.hl.fail_next(1, status=200, body="deleted", method="DELETE", path="/clusters/prod/portforward")
    await env.patch_spec(PF, "team-a", "told", {"state": "Stopped"})
    stopped = await env.wait_status(PF, "team-a", "told", phase="Stopped")
    assert stopped["message"] == (f"forward {running['id']} was deleted, not stopped: "
                                  "the backend answered 'deleted' to a stop")


# 5. A 404 is read by who answered it (kubernetes-sigs/headlamp#6069) -----------------------------------

async def test_s5_a_route_headlamp_lacks_is_not_blamed_on_spec_cluster(env: Env) -> None:
    env.hl.fail_next(1, status=404, body="404 page not found", method="POST", path="/clusters/prod/portforward")
    await env.create(PF, "team-a", "no-route", {"cluster": "prod", "pod": "redis-0", "namespace": "monitoring",
                                                "targetPort": 6379, "credentials": CREDS})
    failed = await env.wait_status(PF, "team-a", "no-route", phase="Failed", reason="NotFound")
    assert f"Headlamp at {env.hl.url} has no route POST /clusters/prod/portforward" in failed["message"]
    assert "does HEADLAMP_URL miss a base path?" in failed["message"]
    assert "spec.cluster" not in failed["message"]


async def test_s5_an_unknown_cluster_on_a_proxied_request_is_named(env: Env) -> None:
    """v0.45.0 answers 404 ``key not found`` (not the router's text) for a cluster it does not know."""
    await env.create(RP, "team-a", "typo", {"cluster": "prdo", "target": TARGET, "patch": LABEL_PATCH,
                                            "credentials": CREDS})
    failed = await env.wait_status(RP, "team-a", "typo", phase="Failed", reason="NotFound")
    assert failed["message"].startswith("patching Deployment web: Headlamp knows no cluster 'prdo'")


# 6. A missing pod is NotFound, an expired token Unauthorized --------------------------------------------

async def test_s6_a_pod_that_does_not_exist_is_not_found_at_once(env: Env) -> None:
    """The handed input, answered as the real v0.45.0 answers it (docs/headlamp-backend.md#errors)."""
    env.hl.fail_next(1, status=500, body='error upgrading connection: unable to upgrade connection: '
                                         'pods "echo-0" not found', method="POST", path="/clusters/prod/portforward")
    await env.create(PF, "team-a", "no-such-pod", {"cluster": "prod", "pod": "echo-0", "namespace": "monitoring",
                                                   "targetPort": 8080, "credentials": CREDS})
    failed = await env.wait_status(PF, "team-a", "no-such-pod", phase="Failed", reason="NotFound")
    assert failed["message"].startswith("pod monitoring/echo-0 does not exist: check spec.pod and spec.namespace")


async def test_s6_after_not_ready_yet_one_read_tells_a_missing_pod(env: Env) -> None:
    """A backend that answers "not ready yet" for a pod that does not exist (the emulator did): one read of the
    pod says which it is, instead of a Pending for good."""
    env.hl.fail_next(1, status=500, body="timeout waiting for portforward to be ready", method="POST",
                     path="/clusters/prod/portforward")
    await env.create(PF, "team-a", "typo", {"cluster": "prod", "pod": "echo-0", "namespace": "monitoring",
                                            "targetPort": 8080, "credentials": CREDS})
    failed = await env.wait_status(PF, "team-a", "typo", phase="Failed", reason="NotFound")
    assert "pod monitoring/echo-0 does not exist" in failed["message"]
    assert env.hl.requests_for(method="GET", path="/clusters/prod/api/v1/namespaces/monitoring/pods/echo-0")


async def test_s6_a_revoked_token_is_unauthorized_and_retried_when_its_secret_changes(env: Env) -> None:
    env.hl.fail_next(1, status=500, body="permission check failed: failed to check permissions: Unauthorized",
                     method="POST", path="/clusters/prod/portforward")
    await env.create(PF, "team-a", "revoked", {"cluster": "prod", "pod": "redis-0", "namespace": "monitoring",
                                               "targetPort": 6379, "credentials": CREDS})
    failed = await env.wait_status(PF, "team-a", "revoked", phase="Failed", reason="Unauthorized")
    assert "the token was refused" in failed["message"] and "RBAC" not in failed["message"]
    logouts = [r for r in env.hl.requests_for(method="POST", path="/clusters/prod/set-token")
               if r.json == {"token": None}]
    assert logouts  # logged out, as after a 401 (docs/credentials.md#logout-on-401)
    await env.put_secret("team-a", "viewer", token=TOKEN_A + "-new")
    await env.wait_status(PF, "team-a", "revoked", phase="Running", within=10)



async def test_s6_a_pod_forward_by_port_name_whose_pod_is_gone_is_healed_when_it_returns(env: Env) -> None:
    """Found by a new user: resolving a port name reads the pod, whose 404 was Failed for good, though a pod
    the forward ran on comes back under its name (a StatefulSet's); a pod never run on is named, Failed."""
    prod = env.hl.clusters["prod"]
    await env.create(PF, "team-a", "named", {"cluster": "prod", "pod": "grafana-1", "namespace": "monitoring",
                                             "targetPort": "web", "credentials": CREDS})
    await env.wait_status(PF, "team-a", "named", phase="Running")
    prod.kill_pod("monitoring", "grafana-1", delete=True)
    gone = await env.wait_status(PF, "team-a", "named", phase="Pending", reason="NotFound")
    assert gone["message"].startswith("pod monitoring/grafana-1 no longer exists; the forward is started again")
    prod.add_pod("monitoring", "grafana-1", labels={"app": "grafana"}, ports=[{"name": "web", "containerPort": 3000}])
    await env.wait_status(PF, "team-a", "named", phase="Running", within=15)
    await env.create(PF, "team-a", "typo", {"cluster": "prod", "pod": "grafan-0", "namespace": "monitoring",
                                            "targetPort": "web", "credentials": CREDS})
    typo = await env.wait_status(PF, "team-a", "typo", phase="Failed", reason="NotFound")
    assert typo["message"].startswith("pod monitoring/grafan-0 does not exist: check spec.pod and spec.namespace")


async def test_s6_a_service_that_does_not_exist_is_named_where_it_was_looked_for(env: Env) -> None:
    await env.create(PF, "team-a", "no-ns", {"cluster": "prod", "service": "grafana", "targetPort": "http",
                                             "credentials": CREDS})  # no namespace: looked for in team-a
    failed = await env.wait_status(PF, "team-a", "no-ns", phase="Failed", reason="NotFound")
    assert failed["message"].startswith("service team-a/grafana does not exist: check spec.service and "
                                        "spec.serviceNamespace (or spec.namespace)")


async def test_s6_a_port_name_no_container_of_a_pod_declares_says_so(env: Env) -> None:
    await env.create(PF, "team-a", "metrics", {"cluster": "prod", "pod": "grafana-0", "namespace": "monitoring",
                                               "targetPort": "metrics", "credentials": CREDS})
    failed = await env.wait_status(PF, "team-a", "metrics", phase="Failed", reason="InvalidSpec")
    assert failed["message"] == "port 'metrics' is declared by no container of the pod"  # there is no service

# 7. A patch whose target does not exist yet waits for it (kustomize#4379, kyverno#3504) ----------------

async def test_s7_a_patch_created_before_its_target_is_applied_once_it_exists(env: Env) -> None:
    """The handed input: the ConfigMap comes 3 s after the patch."""
    target = {"apiVersion": "v1", "kind": "ConfigMap", "name": "late-cm", "namespace": "shop"}
    await env.create(RP, "team-a", "early", {"cluster": "prod", "target": target, "patch": {"data": {"a": "1"}},
                                             "credentials": CREDS})
    pending = await env.wait_status(RP, "team-a", "early", phase="Pending", reason="NotFound")
    assert pending["message"].startswith("waiting for v1 ConfigMap shop/late-cm to exist, to patch it: ")
    assert announced(pending["message"]) > 0
    await asyncio.sleep(3)  # the GitOps sync creates the target a little later (the input, not a synchronisation)
    env.hl.clusters["prod"].add_configmap("shop", "late-cm")
    await env.wait_status(RP, "team-a", "early", phase="Applied", within=10)
    assert env.hl.clusters["prod"].get("configmaps", "shop", "late-cm")["data"] == {"a": "1"}


# 8. The operator's changes carry its name (podman-desktop#6186, helm/helm#9067) ------------------------

async def test_s8_every_patch_names_the_operator_and_every_request_says_who_sends_it(env: Env) -> None:
    await env.create(RP, "team-a", "named", {"cluster": "prod", "target": TARGET, "patch": LABEL_PATCH,
                                             "credentials": CREDS})
    await env.create(PF, "team-a", "named", {"cluster": "prod", "pod": "redis-0", "namespace": "monitoring",
                                             "targetPort": 6379, "credentials": CREDS})
    await env.wait_status(RP, "team-a", "named", phase="Applied")
    await env.wait_status(PF, "team-a", "named", phase="Running")
    [patch] = env.hl.requests_for(method="PATCH")
    assert patch.query == {"fieldManager": "headlamp-operator"}
    agents = {r.headers.get("User-Agent") for r in env.hl.requests}
    assert agents == {f"headlamp-operator/{headlamp_operator.version()}"}


async def test_s5_a_kind_the_cluster_does_not_serve_is_named_and_waited_for(env: Env) -> None:
    """The API server's plain ``404 page not found`` for a group/version it does not serve (a CRD not installed)
    is not an unknown cluster; a ResourcePatch waits for it (section 7)."""
    target = {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "name": "web", "namespace": "shop"}
    await env.create(RP, "team-a", "monitor", {"cluster": "prod", "target": target, "patch": LABEL_PATCH,
                                               "credentials": CREDS})
    pending = await env.wait_status(RP, "team-a", "monitor", phase="Pending", reason="NotFound")
    assert "the cluster serves no monitoring.coreos.com/v1 (is its CRD installed?)" in pending["message"]
    assert "spec.cluster" not in pending["message"]


async def test_s5_a_base_path_missing_from_headlamp_url_is_named(env: Env) -> None:
    env.hl.base_path = "/headlamp"  # Headlamp behind an ingress with -base-url /headlamp; HEADLAMP_URL lacks it
    await env.create(RP, "team-a", "no-base", {"cluster": "prod", "target": TARGET, "patch": LABEL_PATCH,
                                               "credentials": CREDS})
    failed = await env.wait_status(RP, "team-a", "no-base", phase="Failed", reason="NotFound")
    assert f"Headlamp at {str(env.hl.url).removesuffix('/headlamp')} has no route" in failed["message"]
    assert "does HEADLAMP_URL miss a base path?" in failed["message"]



# Backends that act on their own (docs/headlamp-backend.md#upstream-changes-in-flight) ----------------------

async def test_a_forward_the_backend_reconnects_itself_is_left_to_it(env: Env) -> None:
    """Upstream #7273: a service forward listed ``Reconnecting`` is being moved to another pod by the backend;
    the operator says so and does not fight it with a start of its own."""
    await env.create(PF, "team-a", "svc", ECHO)
    running = await env.wait_status(PF, "team-a", "svc", phase="Running")
    entry = {"id": running["id"], "pod": "grafana-0", "service": "grafana", "serviceNamespace": "monitoring",
             "namespace": "monitoring", "cluster": "prod", "port": running["port"], "targetPort": "3000",
             "status": "Reconnecting", "error": "pod grafana-0 is gone"}
    starts = len(env.hl.requests_for(method="POST", path="/clusters/prod/portforward"))
    env.hl.fail_next(3, status=200, body=json.dumps([entry]), content_type="application/json", method="GET",
                     path="/clusters/prod/portforward/list")
    pending = await env.wait_status(PF, "team-a", "svc", phase="Pending")
    assert pending["message"].startswith(f"Headlamp is reconnecting forward {running['id']} to a pod of its "
                                         "service itself (pod grafana-0 is gone): left to it")
    await env.wait_status(PF, "team-a", "svc", phase="Running", within=15)  # listed Running again
    assert len(env.hl.requests_for(method="POST", path="/clusters/prod/portforward")) == starts


async def test_a_forward_the_backend_keeps_stopping_is_reported_not_restarted_in_a_loop(env: Env) -> None:
    """Upstream #7258 as written would mark every forward Stopped right after its start: after three restarts
    that did not last a health check, each next one waits the backoff, and the status says why."""
    await env.create(PF, "team-a", "flaky", {"cluster": "prod", "pod": "redis-0", "namespace": "monitoring",
                                             "targetPort": 6379, "credentials": CREDS})
    await env.wait_status(PF, "team-a", "flaky", phase="Running")

    async def stop_every_forward() -> None:  # the backend's side: whatever runs is stopped
        while True:
            for forward in env.hl.forwards:
                if forward.status == "Running":
                    forward.close(error="Pod monitoring/redis-0 check failed: context canceled")
            await env.hl.wait_until(lambda: any(f.status == "Running" for f in env.hl.forwards), timeout=60)

    stopper = asyncio.create_task(stop_every_forward())
    try:
        reported = await env.wait_status(PF, "team-a", "flaky", phase="Pending", reason="Stopped", within=20)
        assert "after each of its last 3 starts" in reported["message"], reported
        assert announced(reported["message"]) > 0
    finally:
        stopper.cancel()
    await env.wait_status(PF, "team-a", "flaky", phase="Running", within=20)
