"""The Headlamp backend emulator, spoken to over plain HTTP as docs/headlamp-backend.md describes it."""
import asyncio
import base64
import time
import uuid
from typing import Any

import aiohttp
import pytest
import yaml

from headlamp_operator_testing.headlamp import Fault, HeadlampEmulator, KubeCluster

from .wire import (
    DEPLOY,
    FORWARD,
    GO_TEXT,
    JSON_PATCH,
    MERGE,
    STRATEGIC,
    assert_go_error,
    assert_status,
    call,
    cookies_of,
    kubeconfig,
    listing,
    login,
    start,
)

# -- set-token and session cookies ----------------------------------------------------------------

async def test_set_token_sets_cookie_with_exact_attributes(hl: HeadlampEmulator, http: aiohttp.ClientSession,
                                                           prod: KubeCluster) -> None:
    response, body = await call(http, hl, "POST", "clusters/prod/set-token", json={"token": "tkn"})
    assert (response.status, body) == (200, b"")
    assert response.headers.getall("Set-Cookie") == [
        "headlamp-auth-prod.0=tkn; Path=/clusters/prod; Max-Age=86400; HttpOnly; SameSite=Strict"]
    assert hl.session_tokens("prod") == {"tkn"}


async def test_long_token_is_chunked_by_3800(hl: HeadlampEmulator, http: aiohttp.ClientSession,
                                             prod: KubeCluster) -> None:
    token = "".join(chr(ord("a") + i % 26) for i in range(9000))
    response, _ = await call(http, hl, "POST", "clusters/prod/set-token", json={"token": token})
    headers = response.headers.getall("Set-Cookie")
    assert [h.split("=", 1)[0] for h in headers] == [f"headlamp-auth-prod.{i}" for i in range(3)]
    assert all(h.endswith("; Path=/clusters/prod; Max-Age=86400; HttpOnly; SameSite=Strict") for h in headers)
    cookies = cookies_of(response)
    assert [len(cookies[f"headlamp-auth-prod.{i}"]) for i in range(3)] == [3800, 3800, 1400]
    # The emulator reassembles the chunks the client sends back.
    response, _ = await start(http, hl, cookies=cookies)
    assert response.status == 200
    assert hl.forwards[0].token == token


async def test_cookie_names_use_the_sanitized_cluster(http: aiohttp.ClientSession) -> None:
    name = "arn:aws:eks.eu-west-1@" + "x" * 60
    async with HeadlampEmulator(session_ttl=60) as hl:
        response, _ = await call(http, hl, "POST", f"clusters/{name}/set-token", json={"token": "t"})
    sanitized = ("arnawseks" + "eu-west-1" + "x" * 60)[:50]
    assert response.headers.getall("Set-Cookie") == [
        f"headlamp-auth-{sanitized}.0=t; Path=/clusters/{name}; Max-Age=60; HttpOnly; SameSite=Strict"]


@pytest.mark.parametrize("cleared", [None, ""])
async def test_null_or_empty_token_clears_every_chunk(hl: HeadlampEmulator, http: aiohttp.ClientSession,
                                                      prod: KubeCluster, cleared: str | None) -> None:
    cookies = await login(http, hl, "t" * 5000)
    assert hl.session_tokens("prod") == {"t" * 5000}
    response, body = await call(http, hl, "POST", "clusters/prod/set-token", json={"token": cleared},
                                cookies=cookies)
    assert (response.status, body) == (200, b"")
    assert response.headers.getall("Set-Cookie") == [  # Go writes Max-Age=0 for the backend's -1
        f"headlamp-auth-prod.{i}=; Path=/clusters/prod; Max-Age=0; HttpOnly; SameSite=Strict" for i in (0, 1)]
    assert hl.session_tokens("prod") == set()


async def test_shorter_token_clears_every_chunk_then_sets_its_own(hl: HeadlampEmulator, http: aiohttp.ClientSession,
                                                                  prod: KubeCluster) -> None:
    cookies = await login(http, hl, "t" * 5000)
    response, _ = await call(http, hl, "POST", "clusters/prod/set-token", json={"token": "short"}, cookies=cookies)
    assert [h.split(";")[:3] for h in response.headers.getall("Set-Cookie")] == [
        ["headlamp-auth-prod.0=", " Path=/clusters/prod", " Max-Age=0"],
        ["headlamp-auth-prod.1=", " Path=/clusters/prod", " Max-Age=0"],
        ["headlamp-auth-prod.0=short", " Path=/clusters/prod", " Max-Age=86400"]]


@pytest.mark.parametrize("payload", [b"not json", b"", b'{"token": 5}', b"[]"])
async def test_set_token_rejects_bad_json(hl: HeadlampEmulator, http: aiohttp.ClientSession,
                                          payload: bytes) -> None:
    response, body = await call(http, hl, "POST", "clusters/prod/set-token", data=payload)
    assert_go_error(response, body, 400, "Invalid JSON")
    assert "Set-Cookie" not in response.headers


async def test_a_real_cookie_jar_round_trips_the_session(hl: HeadlampEmulator, prod: KubeCluster) -> None:
    hl.add_cluster("other")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
        async with browser.post(hl.url / "clusters/prod/set-token", json={"token": "jar-token"}) as r:
            assert r.status == 200
        async with browser.post(hl.url / "clusters/prod/portforward", json=FORWARD) as r:
            assert r.status == 200
        async with browser.get(hl.url / "clusters/other/api") as r:
            assert r.status == 200
    assert hl.forwards[0].token == "jar-token"
    assert hl.requests_for(cluster="other")[0].cookies == {}  # Path=/clusters/prod keeps it to prod


# -- port-forwards --------------------------------------------------------------------------------

async def test_start_echoes_the_request_with_id_and_port_filled(hl: HeadlampEmulator, http: aiohttp.ClientSession,
                                                                prod: KubeCluster) -> None:
    payload = {**FORWARD, "id": "", "service": "web", "serviceNamespace": "default", "port": "",
               "address": "127.0.0.1"}
    response, _ = await start(http, hl, json=payload, headers={"Authorization": "Bearer not-for-forwards"})
    assert (response.status, response.headers["Content-Type"]) == (200, "application/json")
    echo = await response.json()
    assert set(echo) == {"id", "namespace", "pod", "service", "serviceNamespace", "targetPort", "port"}
    assert uuid.UUID(echo["id"]).version == 4
    assert {k: echo[k] for k in ("namespace", "pod", "service", "serviceNamespace", "targetPort")} == {
        "namespace": "default", "pod": "web-0", "service": "web", "serviceNamespace": "default", "targetPort": "3000"}
    assert 0 < int(echo["port"]) < 65536
    _, writer = await asyncio.open_connection("127.0.0.1", int(echo["port"]))  # really listening
    writer.close()
    [forward] = hl.forwards
    assert (forward.id, forward.port, forward.status, forward.address) == (echo["id"], echo["port"], "Running",
                                                                          "127.0.0.1")
    assert forward.token is None  # the Authorization header is not used for port-forwards


async def test_start_keeps_the_given_id(hl: HeadlampEmulator, http: aiohttp.ClientSession,
                                        prod: KubeCluster) -> None:
    response, _ = await start(http, hl, json={**FORWARD, "id": "pf-1"})
    assert (await response.json())["id"] == "pf-1"
    assert [f.id for f in hl.forwards_for("prod")] == ["pf-1"]


@pytest.mark.parametrize(("payload", "message"), [
    ({"pod": "web-0", "targetPort": "3000"}, "namespace is required"),
    ({"namespace": "default", "targetPort": "3000"}, "pod name is required"),
    ({"namespace": "default", "pod": "web-0"}, "targetPort is required"),
])
async def test_start_requires_namespace_pod_and_target_port(hl: HeadlampEmulator, http: aiohttp.ClientSession,
                                                            prod: KubeCluster, payload: Any, message: str) -> None:
    response, body = await start(http, hl, json=payload)
    assert_go_error(response, body, 400, message)
    assert hl.forwards == []


@pytest.mark.parametrize("payload", [b"{nope", b"", b'{"namespace": "default", "pod": "web-0", "targetPort": 3000}'])
async def test_start_rejects_bad_payloads(hl: HeadlampEmulator, http: aiohttp.ClientSession, prod: KubeCluster,
                                          payload: bytes) -> None:
    response, body = await start(http, hl, json=None, data=payload)
    assert (response.status, response.headers["Content-Type"]) == (400, GO_TEXT)
    assert body.startswith(b"failed to marshal port forward payload ")


async def test_start_of_a_running_id_conflicts(hl: HeadlampEmulator, http: aiohttp.ClientSession,
                                               prod: KubeCluster) -> None:
    first, _ = await start(http, hl, json={**FORWARD, "id": "pf-1"})
    assert first.status == 200
    response, body = await start(http, hl, json={**FORWARD, "id": "pf-1"})
    assert_go_error(response, body, 409, "portforward with this ID is already running")


async def test_start_of_an_id_being_started_conflicts(hl: HeadlampEmulator, http: aiohttp.ClientSession,
                                                      prod: KubeCluster) -> None:
    hl.start_delay = 0.2
    slow = asyncio.create_task(start(http, hl, json={**FORWARD, "id": "pf-1"}))
    await hl.wait_until(lambda: bool(hl.table.starting))
    response, body = await start(http, hl, json={**FORWARD, "id": "pf-1"})
    assert_go_error(response, body, 409, "portforward with this ID is already starting")
    first, _ = await slow
    assert first.status == 200
    assert [f.status for f in hl.forwards] == ["Running"]


async def test_stop_keeps_the_entry_stopped_and_it_may_start_again(
    hl: HeadlampEmulator, http: aiohttp.ClientSession, prod: KubeCluster
) -> None:
    response, _ = await start(http, hl, json={**FORWARD, "id": "pf-1"})
    port = int((await response.json())["port"])
    response, body = await call(http, hl, "DELETE", "clusters/prod/portforward",
                                json={"id": "pf-1", "stopOrDelete": True})
    assert (response.status, body) == (200, b"stopped")
    [entry] = await listing(http, hl)
    assert (entry["id"], entry["status"]) == ("pf-1", "Stopped")
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", port)
    again, _ = await start(http, hl, json={**FORWARD, "id": "pf-1"})
    assert again.status == 200
    assert [(e["id"], e["status"]) for e in await listing(http, hl)] == [("pf-1", "Running")]


async def test_delete_of_a_stopped_forward_removes_the_entry(hl: HeadlampEmulator, http: aiohttp.ClientSession,
                                                             prod: KubeCluster) -> None:
    """A Stopped forward is deleted at once (a Running one comes back first: see test_headlamp_recorded)."""
    await start(http, hl, json={**FORWARD, "id": "pf-1"})
    await start(http, hl, json={**FORWARD, "id": "pf-2"})
    await call(http, hl, "DELETE", "clusters/prod/portforward", json={"id": "pf-1", "stopOrDelete": True})
    response, body = await call(http, hl, "DELETE", "clusters/prod/portforward",
                                json={"id": "pf-1", "stopOrDelete": False})
    assert (response.status, body) == (200, b"stopped")
    assert [e["id"] for e in await listing(http, hl)] == ["pf-2"]


async def test_stop_of_an_unknown_id_is_a_500(hl: HeadlampEmulator, http: aiohttp.ClientSession,
                                              prod: KubeCluster) -> None:
    response, body = await call(http, hl, "DELETE", "clusters/prod/portforward",
                                json={"id": "nope", "stopOrDelete": True})
    assert (response.status, response.headers["Content-Type"]) == (500, GO_TEXT)
    assert body.startswith(b"failed to delete port forward failed to get portforward from cache: ")


async def test_get_by_id(hl: HeadlampEmulator, http: aiohttp.ClientSession, prod: KubeCluster) -> None:
    await start(http, hl, json={**FORWARD, "id": "pf-1", "service": "web"})
    response, _ = await call(http, hl, "GET", "clusters/prod/portforward", params={"id": "pf-1"})
    assert (response.status, await response.json()) == (200, {
        "id": "pf-1", "pod": "web-0", "service": "web", "cluster": "prod", "namespace": "default"})
    response, body = await call(http, hl, "GET", "clusters/prod/portforward", params={"id": "pf-9"})
    assert_go_error(response, body, 404, "no portforward running with id pf-9")


async def test_list_shows_every_field(hl: HeadlampEmulator, http: aiohttp.ClientSession, prod: KubeCluster) -> None:
    assert await listing(http, hl) == []
    response, _ = await start(http, hl, json={**FORWARD, "id": "pf-1", "service": "web", "serviceNamespace": "default"})
    port = (await response.json())["port"]
    assert await listing(http, hl) == [{
        "id": "pf-1", "pod": "web-0", "service": "web", "serviceNamespace": "default", "namespace": "default",
        "cluster": "prod", "port": port, "targetPort": "3000", "status": "Running", "error": ""}]


async def test_start_on_an_unknown_cluster_is_a_500(hl: HeadlampEmulator, http: aiohttp.ClientSession) -> None:
    response, body = await start(http, hl, cluster="nowhere")
    assert_go_error(response, body, 500, "key not found")


async def test_start_denied_for_the_cookie_token(hl: HeadlampEmulator, http: aiohttp.ClientSession,
                                                 prod: KubeCluster) -> None:
    prod.deny_portforward("viewer")
    cookies = await login(http, hl, "viewer")
    response, body = await start(http, hl, cookies=cookies)
    assert (response.status, response.headers["Content-Type"]) == (500, GO_TEXT)
    assert body.startswith(b"permission check failed: access denied: ")
    assert b"viewer" not in body
    # The same token in an Authorization header is not looked at: the backend's identity is allowed.
    response, _ = await start(http, hl, headers={"Authorization": "Bearer viewer"})
    assert response.status == 200
    assert [f.token for f in hl.forwards] == [None]


@pytest.mark.parametrize("phase", ["Pending", "Failed"])
async def test_start_to_a_pod_not_running_times_out(hl: HeadlampEmulator, http: aiohttp.ClientSession,
                                                    prod: KubeCluster, phase: str) -> None:
    prod.add_pod("default", "web-1", phase=phase)
    response, body = await start(http, hl, json={**FORWARD, "id": "pf-1", "pod": "web-1"})
    assert_go_error(response, body, 500, "timeout waiting for portforward to be ready")
    # A start that fails once its forwarder exists leaves the forward listed, Stopped, with that error.
    assert [(e["id"], e["status"], e["error"]) for e in await listing(http, hl)] == [
        ("pf-1", "Stopped", "timeout waiting for portforward to be ready")]


async def test_start_waits_for_the_pod_within_the_ready_timeout(hl: HeadlampEmulator, http: aiohttp.ClientSession,
                                                                prod: KubeCluster) -> None:
    hl.ready_timeout = 5
    prod.add_pod("default", "web-1", phase="Pending")
    waiting = asyncio.create_task(start(http, hl, json={**FORWARD, "pod": "web-1"}))
    await hl.wait_until(lambda: bool(hl.table.starting))
    prod.add_pod("default", "web-1", phase="Running")
    response, _ = await waiting
    assert response.status == 200


@pytest.mark.parametrize(("delete", "error"), [
    (False, "Pod default/web-0 check failed: pod is not running"),
    (True, 'Pod default/web-0 check failed: pods "web-0" not found'),
])
async def test_killed_pod_stops_its_forwards(hl: HeadlampEmulator, http: aiohttp.ClientSession, prod: KubeCluster,
                                             delete: bool, error: str) -> None:
    prod.add_pod("default", "web-1", labels={"app": "web"})
    await start(http, hl, json={**FORWARD, "id": "pf-0"})
    await start(http, hl, json={**FORWARD, "id": "pf-1", "pod": "web-1"})
    prod.kill_pod("default", "web-0", delete=delete)
    assert [(e["id"], e["status"], e["error"]) for e in await listing(http, hl)] == [
        ("pf-0", "Stopped", error), ("pf-1", "Running", "")]
    prod.add_pod("default", "web-0")  # the backend never restarts it
    assert [e["status"] for e in await listing(http, hl)] == ["Stopped", "Running"]


# -- backend token --------------------------------------------------------------------------------

@pytest.mark.parametrize("headers", [{}, {"X-HEADLAMP_BACKEND-TOKEN": "wrong"}])
async def test_backend_token_is_required(http: aiohttp.ClientSession, headers: dict[str, str]) -> None:
    async with HeadlampEmulator(backend_token="bt") as hl:
        hl.add_cluster("prod")
        for method, path in [("POST", "clusters/prod/set-token"), ("GET", "clusters/prod/portforward/list"),
                             ("GET", "clusters/prod/api/v1/pods")]:
            response, body = await call(http, hl, method, path, json={"token": "t"}, headers=headers)
            assert_go_error(response, body, 403, "access denied")
        response, _ = await call(http, hl, "GET", "clusters/prod/api/v1/pods",
                                 headers={"X-HEADLAMP_BACKEND-TOKEN": "bt"})
        assert response.status == 200


async def test_backend_token_must_come_exactly_once(http: aiohttp.ClientSession) -> None:
    async with HeadlampEmulator(backend_token="bt") as hl:
        hl.add_cluster("prod")
        twice = [("X-HEADLAMP_BACKEND-TOKEN", "bt"), ("X-HEADLAMP_BACKEND-TOKEN", "bt")]
        response, body = await call(http, hl, "GET", "clusters/prod/api", headers=twice)
        assert_go_error(response, body, 403, "access denied")
        assert hl.requests[0].headers.getall("x-headlamp_backend-token") == ["bt", "bt"]


# -- dynamic clusters -----------------------------------------------------------------------------

async def test_dynamic_cluster_is_picked_by_context_name_or_custom_name(
    hl: HeadlampEmulator, http: aiohttp.ClientSession, prod: KubeCluster
) -> None:
    config = kubeconfig([
        {"name": "alpha", "context": {"cluster": "prod", "user": "me"}},
        {"name": "ctx-2", "context": {"cluster": "prod", "user": "me", "extensions": [
            {"name": "headlamp_info", "extension": {"customName": "beta"}}]}},
    ])
    headers = {"KUBECONFIG": config, "X-HEADLAMP-USER-ID": "u1"}
    for name in ("alpha", "beta"):
        response, _ = await call(http, hl, "GET", f"clusters/{name}/api/v1/namespaces/default/pods", headers=headers)
        assert response.status == 200
        assert [p["metadata"]["name"] for p in (await response.json())["items"]] == ["web-0"]
    response, body = await call(http, hl, "GET", "clusters/gamma/api/v1/pods", headers=headers)
    assert_go_error(response, body, 404, "key not found")  # no context of that name: the empty context key
    response, body = await call(http, hl, "GET", "clusters/ctx-2/api/v1/pods", headers=headers)
    assert_go_error(response, body, 404, "key not found")  # a custom name replaces the context's name


@pytest.mark.parametrize("config", ["%%%not-base64", base64.b64encode(b"contexts: [unclosed").decode()])
async def test_undecodable_kubeconfig_is_a_400(hl: HeadlampEmulator, http: aiohttp.ClientSession,
                                               prod: KubeCluster, config: str) -> None:
    response, body = await call(http, hl, "GET", "clusters/alpha/api/v1/pods",
                                headers={"KUBECONFIG": config, "X-HEADLAMP-USER-ID": "u1"})
    assert_go_error(response, body, 400, "no contexts found in kubeconfig")


async def test_dynamic_clusters_of_two_users_do_not_share_forwards(
    hl: HeadlampEmulator, http: aiohttp.ClientSession, prod: KubeCluster
) -> None:
    config = kubeconfig([{"name": "alpha", "context": {"cluster": "prod", "user": "me"}}])
    alice = {"KUBECONFIG": config, "X-HEADLAMP-USER-ID": "alice"}
    bob = {"KUBECONFIG": config, "X-HEADLAMP-USER-ID": "bob"}
    response, _ = await start(http, hl, cluster="alpha", json={**FORWARD, "id": "pf-1"}, headers=alice)
    assert response.status == 200
    assert [e["id"] for e in await listing(http, hl, "alpha", headers=alice)] == ["pf-1"]
    assert await listing(http, hl, "alpha", headers=bob) == []
    response, _ = await start(http, hl, cluster="alpha", json={**FORWARD, "id": "pf-1"}, headers=bob)
    assert response.status == 200  # no "already running": another user's context
    assert sorted((f.user_id, f.token) for f in hl.forwards) == [("alice", "kube-token"), ("bob", "kube-token")]
    assert hl.forwards_for("alpha", user_id="alice")[0].cluster == "alpha"


async def test_dynamic_cluster_uses_the_kubeconfig_token(hl: HeadlampEmulator, http: aiohttp.ClientSession,
                                                         prod: KubeCluster) -> None:
    prod.refuse_token("kube-token")
    headers = {"KUBECONFIG": kubeconfig([{"name": "alpha", "context": {"cluster": "prod", "user": "me"}}]),
               "X-HEADLAMP-USER-ID": "u1"}
    response, _ = await call(http, hl, "GET", "clusters/alpha/api/v1/pods", headers=headers)
    assert_status(response, await response.json(), 401, "Unauthorized")
    response, _ = await call(http, hl, "GET", "clusters/alpha/api/v1/pods",
                             headers={**headers, "Authorization": "Bearer fine"})
    assert response.status == 200


# -- the Kubernetes API ---------------------------------------------------------------------------

async def test_discovery(hl: HeadlampEmulator, http: aiohttp.ClientSession, prod: KubeCluster) -> None:
    _, body = await call(http, hl, "GET", "clusters/prod/api")
    assert yaml.safe_load(body)["versions"] == ["v1"]
    response, _ = await call(http, hl, "GET", "clusters/prod/api/v1")
    core = {r["name"]: r for r in (await response.json())["resources"]}
    assert {"pods", "services", "namespaces", "configmaps", "secrets"} <= set(core)
    assert (core["pods"]["namespaced"], core["pods"]["kind"]) == (True, "Pod")
    assert core["namespaces"]["namespaced"] is False
    assert {"get", "list", "patch"} <= set(core["services"]["verbs"])
    response, _ = await call(http, hl, "GET", "clusters/prod/apis")
    assert "apps" in [g["name"] for g in (await response.json())["groups"]]
    response, _ = await call(http, hl, "GET", "clusters/prod/apis/apps/v1")
    apps = {r["name"]: r for r in (await response.json())["resources"]}
    assert apps["deployments"]["kind"] == "Deployment"
    assert (apps["deployments/scale"]["group"], apps["deployments/scale"]["kind"]) == ("autoscaling", "Scale")
    assert "patch" in apps["deployments/status"]["verbs"]


async def test_get_and_list(hl: HeadlampEmulator, http: aiohttp.ClientSession, prod: KubeCluster) -> None:
    prod.add_pod("other", "db-0", labels={"app": "db"})
    response, _ = await call(http, hl, "GET", "clusters/prod/api/v1/namespaces/default/services/web")
    service = await response.json()
    assert service["spec"]["ports"] == [{"protocol": "TCP", "name": "http", "port": 80, "targetPort": "web"}]
    assert service["metadata"]["uid"] == prod.get("services", "default", "web")["metadata"]["uid"]
    response, _ = await call(http, hl, "GET", "clusters/prod/api/v1/pods", params={"labelSelector": "app in (db)"})
    assert [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in (await response.json())["items"]] == [
        ("other", "db-0")]
    response, _ = await call(http, hl, "GET", "clusters/prod/api/v1/namespaces")
    namespaces = await response.json()
    assert (namespaces["kind"], [n["metadata"]["name"] for n in namespaces["items"]]) == (
        "NamespaceList", ["default", "kube-system", "other"])


async def test_merge_patch(hl: HeadlampEmulator, http: aiohttp.ClientSession, prod: KubeCluster) -> None:
    before = dict(prod.get("deployments", "default", "web")["metadata"])
    response, _ = await call(http, hl, "PATCH", DEPLOY, data=b'{"spec": {"replicas": 5}, "metadata": '
                             b'{"labels": {"app": null, "tier": "front"}}}', headers={"Content-Type": MERGE})
    doc = await response.json()
    assert response.status == 200
    assert (doc["spec"]["replicas"], doc["metadata"]["labels"]) == (5, {"tier": "front"})
    assert doc["metadata"]["uid"] == before["uid"]
    assert int(doc["metadata"]["resourceVersion"]) > int(before["resourceVersion"])
    assert doc["metadata"]["generation"] == before["generation"] + 1
    assert prod.get("deployments", "default", "web")["spec"]["replicas"] == 5


async def test_json_patch(hl: HeadlampEmulator, http: aiohttp.ClientSession, prod: KubeCluster) -> None:
    ops = [{"op": "test", "path": "/spec/replicas", "value": 2},
           {"op": "replace", "path": "/spec/replicas", "value": 3},
           {"op": "add", "path": "/metadata/annotations", "value": {"a/b": "c"}}]
    response, _ = await call(http, hl, "PATCH", DEPLOY, json=ops, headers={"Content-Type": JSON_PATCH})
    doc = await response.json()
    assert (response.status, doc["spec"]["replicas"], doc["metadata"]["annotations"]) == (200, 3, {"a/b": "c"})


async def test_strategic_merge_patch_replaces_lists(hl: HeadlampEmulator, http: aiohttp.ClientSession,
                                                    prod: KubeCluster) -> None:
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:2"}]}}}}
    response, _ = await call(http, hl, "PATCH", DEPLOY, json=patch, headers={"Content-Type": STRATEGIC})
    assert response.status == 200
    assert (await response.json())["spec"]["template"]["spec"]["containers"] == [{"name": "web", "image": "nginx:2"}]


async def test_scale_subresource(hl: HeadlampEmulator, http: aiohttp.ClientSession, prod: KubeCluster) -> None:
    response, _ = await call(http, hl, "GET", DEPLOY + "/scale")
    scale = await response.json()
    assert (scale["kind"], scale["apiVersion"], scale["spec"], scale["status"]["selector"]) == (
        "Scale", "autoscaling/v1", {"replicas": 2}, "app=web")
    response, _ = await call(http, hl, "PATCH", DEPLOY + "/scale", json={"spec": {"replicas": 7}},
                             headers={"Content-Type": MERGE})
    assert (response.status, (await response.json())["spec"]) == (200, {"replicas": 7})
    assert prod.get("deployments", "default", "web")["spec"]["replicas"] == 7
    response, _ = await call(http, hl, "PATCH", DEPLOY + "/scale", json={"spec": {"replicas": -1}},
                             headers={"Content-Type": MERGE})
    assert_status(response, await response.json(), 422, "Invalid")


async def test_status_subresource_patches_only_the_status(hl: HeadlampEmulator, http: aiohttp.ClientSession,
                                                          prod: KubeCluster) -> None:
    patch = {"spec": {"replicas": 9}, "status": {"readyReplicas": 0}}
    response, _ = await call(http, hl, "PATCH", DEPLOY + "/status", json=patch, headers={"Content-Type": MERGE})
    doc = await response.json()
    assert (response.status, doc["spec"]["replicas"], doc["status"]["readyReplicas"]) == (200, 2, 0)
    response, _ = await call(http, hl, "PATCH", DEPLOY, json={"status": {"readyReplicas": 5}},
                             headers={"Content-Type": MERGE})
    assert (await response.json())["status"]["readyReplicas"] == 0  # the main resource ignores status


@pytest.mark.parametrize(("method", "path", "content_type", "payload", "code", "reason"), [
    ("GET", "clusters/prod/api/v1/namespaces/default/pods/nope", None, None, 404, "NotFound"),
    ("GET", "clusters/prod/apis/apps/v1/namespaces/default/jobs", None, None, 404, "NotFound"),
    ("PATCH", "clusters/prod/apis/apps/v1/namespaces/default/deployments/nope", MERGE, b"{}", 404, "NotFound"),
    ("PATCH", DEPLOY, "application/yaml", b"{}", 415, "UnsupportedMediaType"),
    ("PATCH", DEPLOY, JSON_PATCH, b'[{"op": "test", "path": "/spec/replicas", "value": 3}]', 422, "Invalid"),
    ("PATCH", DEPLOY, JSON_PATCH, b'[{"op": "remove", "path": "/spec/nothing"}]', 422, "Invalid"),
    ("PATCH", DEPLOY, MERGE, b"{not json", 400, "BadRequest"),
])
async def test_kubernetes_errors_are_status_json(
    hl: HeadlampEmulator, http: aiohttp.ClientSession, prod: KubeCluster,
    method: str, path: str, content_type: str | None, payload: bytes | None, code: int, reason: str,
) -> None:
    before = prod.get("deployments", "default", "web")["metadata"]["resourceVersion"]
    headers = {"Content-Type": content_type} if content_type else {}
    response, body = await call(http, hl, method, path, data=payload, headers=headers)
    assert_status(response, yaml.safe_load(body), code, reason)
    assert prod.get("deployments", "default", "web")["metadata"]["resourceVersion"] == before  # nothing written


@pytest.mark.parametrize("path", ["clusters/prod/apis/monitoring.coreos.com/v1",
                                  "clusters/prod/apis/monitoring.coreos.com/v1/namespaces/default/servicemonitors/x"])
async def test_a_group_version_not_served_is_the_api_servers_plain_404(
        hl: HeadlampEmulator, http: aiohttp.ClientSession, prod: KubeCluster, path: str) -> None:
    """A CRD not installed: the API server's mux answers ``404 page not found`` in plain text, not a Status
    (docs/headlamp-backend.md#errors, the recorded answers: the same text as Headlamp's router)."""
    response, body = await call(http, hl, "GET", path)
    assert (response.status, body, response.headers["Content-Type"]) == (
        404, b"404 page not found\n", "text/plain; charset=utf-8")


async def test_create_replace_delete(hl: HeadlampEmulator, http: aiohttp.ClientSession, prod: KubeCluster) -> None:
    cms = "clusters/prod/api/v1/namespaces/default/configmaps"
    created, _ = await call(http, hl, "POST", cms, json={"metadata": {"name": "cfg"}, "data": {"a": "1"}})
    doc = await created.json()
    assert (created.status, doc["kind"], doc["apiVersion"]) == (201, "ConfigMap", "v1")
    again, _ = await call(http, hl, "POST", cms, json={"metadata": {"name": "cfg"}})
    assert_status(again, await again.json(), 409, "AlreadyExists")
    stale = {**doc, "metadata": {**doc["metadata"], "resourceVersion": "1"}, "data": {"a": "2"}}
    conflict, _ = await call(http, hl, "PUT", cms + "/cfg", json=stale)
    assert_status(conflict, await conflict.json(), 409, "Conflict")
    replaced, _ = await call(http, hl, "PUT", cms + "/cfg", json={**doc, "data": {"a": "3"}})
    assert (replaced.status, (await replaced.json())["data"]) == (200, {"a": "3"})
    deleted, _ = await call(http, hl, "DELETE", cms + "/cfg")
    assert deleted.status == 200
    assert prod.get("configmaps", "default", "cfg") is None
    prod.add_configmap("default", "seen")
    watch, body = await call(http, hl, "GET", cms, params={"watch": "true", "timeoutSeconds": "0"})
    assert watch.status == 200
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in map(yaml.safe_load, body.splitlines())] == [
        ("ADDED", "seen")]


async def test_pod_deleted_through_the_api_stops_its_forwards(
    hl: HeadlampEmulator, http: aiohttp.ClientSession, prod: KubeCluster
) -> None:
    await start(http, hl, json={**FORWARD, "id": "pf-0"})
    response, _ = await call(http, hl, "DELETE", "clusters/prod/api/v1/namespaces/default/pods/web-0")
    assert response.status == 200
    assert [(f.status, f.error) for f in hl.forwards] == [
        ("Stopped", 'Pod default/web-0 check failed: pods "web-0" not found')]


async def test_refused_and_forbidden_tokens(hl: HeadlampEmulator, http: aiohttp.ClientSession,
                                            prod: KubeCluster) -> None:
    prod.refuse_token("expired")
    prod.forbid_token("viewer", verbs=["patch"])
    pods = "clusters/prod/api/v1/namespaces/default/pods"
    response, _ = await call(http, hl, "GET", pods, headers={"Authorization": "Bearer expired"})
    assert_status(response, await response.json(), 401, "Unauthorized")
    cookies = await login(http, hl, "expired")  # cookies are the fallback
    response, _ = await call(http, hl, "GET", pods, cookies=cookies)
    assert_status(response, await response.json(), 401, "Unauthorized")
    response, _ = await call(http, hl, "GET", pods, headers={"Authorization": "Bearer viewer"})
    assert response.status == 200
    response, _ = await call(http, hl, "PATCH", DEPLOY, json={}, headers={"Authorization": "Bearer viewer",
                                                                         "Content-Type": MERGE})
    doc = await response.json()
    assert_status(response, doc, 403, "Forbidden")
    assert "viewer" not in doc["message"]
    response, _ = await call(http, hl, "GET", pods)  # no token: the backend's own identity
    assert response.status == 200


# -- lifecycle and fault knobs --------------------------------------------------------------------

async def test_stop_listening_refuses_connections_until_listening_again(
    hl: HeadlampEmulator, http: aiohttp.ClientSession, prod: KubeCluster
) -> None:
    url = hl.url
    await hl.stop_listening()
    with pytest.raises(aiohttp.ClientConnectorError):
        await call(http, hl, "GET", "clusters/prod/api")
    await hl.start_listening()
    assert hl.url == url
    response, _ = await call(http, hl, "GET", "clusters/prod/api")
    assert response.status == 200


async def test_restart_forgets_forwards_and_sessions(http: aiohttp.ClientSession) -> None:
    async with HeadlampEmulator(stale_session_status=None) as hl:
        prod = hl.add_cluster("prod")
        prod.add_pod("default", "web-0")
        cookies = await login(http, hl, "t")
        await start(http, hl, json={**FORWARD, "id": "pf-1"}, cookies=cookies)
        assert [f.token for f in hl.forwards] == ["t"]
        await hl.restart()
        assert await listing(http, hl) == []
        response, _ = await start(http, hl, json={**FORWARD, "id": "pf-1"}, cookies=cookies)
        assert response.status == 200  # not "already running": the old forward is gone
        assert [f.token for f in hl.forwards] == ["t"]  # the cookies ARE the token: v0.45.0 keeps no session
        assert hl.session_tokens("prod") == set()
        hl.stale_session_status = 401  # the knob: a backend that refuses cookies no live session set
        response, body = await call(http, hl, "GET", "clusters/prod/api", cookies=cookies)
        assert_go_error(response, body, 401, "unauthorized")


async def test_reload_header(hl: HeadlampEmulator, http: aiohttp.ClientSession, prod: KubeCluster) -> None:
    response, _ = await call(http, hl, "GET", "clusters/prod/api")
    assert "X-Reload" not in response.headers
    hl.reload = True
    for path in ["clusters/prod/api", "clusters/prod/portforward/list", "clusters/prod/api/v1/pods/nope", "x"]:
        response, _ = await call(http, hl, "GET", path)
        assert response.headers["X-Reload"] == "reload"


async def test_delay(hl: HeadlampEmulator, http: aiohttp.ClientSession, prod: KubeCluster) -> None:
    hl.delay = 0.2
    with pytest.raises(asyncio.TimeoutError):
        await call(http, hl, "GET", "clusters/prod/api", timeout=aiohttp.ClientTimeout(total=0.05))
    started = time.monotonic()
    response, _ = await call(http, hl, "GET", "clusters/prod/api")
    assert response.status == 200
    assert time.monotonic() - started >= 0.2


async def test_fail_next(hl: HeadlampEmulator, http: aiohttp.ClientSession, prod: KubeCluster) -> None:
    hl.fail_next(2, status=503, body="upstream down", retry_after=3, path="/clusters/prod/portforward*")
    response, _ = await call(http, hl, "GET", "clusters/prod/api")
    assert response.status == 200  # not matched by the path
    for _ in range(2):
        response, body = await call(http, hl, "GET", "clusters/prod/portforward/list")
        assert (response.status, body, response.headers["Retry-After"]) == (503, b"upstream down", "3")
    response, _ = await call(http, hl, "GET", "clusters/prod/portforward/list")
    assert response.status == 200
    assert [r.status for r in hl.requests] == [200, 503, 503, 200]


async def test_persistent_fault_with_a_huge_non_utf8_body(hl: HeadlampEmulator, http: aiohttp.ClientSession,
                                                          prod: KubeCluster) -> None:
    garbage = b"\xff\xfe" * 2_000_000
    hl.fault = Fault(status=500, body=garbage, content_type="application/json")
    for _ in range(2):
        response, body = await call(http, hl, "GET", "clusters/prod/api")
        assert (response.status, response.headers["Content-Type"], body) == (500, "application/json", garbage)
    hl.fault = None
    response, _ = await call(http, hl, "GET", "clusters/prod/api")
    assert response.status == 200


async def test_disconnect_fault(hl: HeadlampEmulator, http: aiohttp.ClientSession, prod: KubeCluster) -> None:
    hl.fail_next(1, disconnect=True)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await start(http, hl)
    assert (hl.requests[0].status, hl.requests[0].dropped) == (None, True)


async def test_max_in_flight_per_cluster(hl: HeadlampEmulator, http: aiohttp.ClientSession, prod: KubeCluster) -> None:
    hl.add_cluster("dev")
    hl.hold()
    calls = [asyncio.create_task(call(http, hl, "GET", f"clusters/{c}/api")) for c in ["prod"] * 5 + ["dev"] * 2]
    await hl.wait_until(lambda: hl.in_flight["prod"] == 5 and hl.in_flight["dev"] == 2)
    hl.release()
    assert [r.status for r, _ in await asyncio.gather(*calls)] == [200] * 7
    assert (hl.max_in_flight["prod"], hl.max_in_flight["dev"], hl.in_flight["prod"]) == (5, 2, 0)


async def test_request_log(hl: HeadlampEmulator, http: aiohttp.ClientSession, prod: KubeCluster) -> None:
    await call(http, hl, "POST", "clusters/prod/portforward", params={"x": "1"}, json=FORWARD,
               headers={"X-Custom": "v"}, cookies={"a": "b"})
    await call(http, hl, "GET", "clusters/prod/api/v1/namespaces/my ns/pods")
    first, second = hl.requests
    assert (first.method, first.path, first.query, first.cluster, first.status) == (
        "POST", "/clusters/prod/portforward", {"x": "1"}, "prod", 200)
    assert (first.headers["x-custom"], first.cookies, first.json) == ("v", {"a": "b"}, FORWARD)
    assert first.body.startswith(b"{")
    assert (second.path, second.raw_path, second.json, second.body) == (
        "/clusters/prod/api/v1/namespaces/my ns/pods", "/clusters/prod/api/v1/namespaces/my%20ns/pods", None, b"")
    assert first.time <= second.time
    assert hl.requests_for(method="get", cluster="prod") == [second]
    assert hl.requests_for(path="/clusters/prod/portforward") == [first]
    hl.clear_requests()
    assert (hl.requests, hl.max_in_flight["prod"]) == ([], 0)


async def test_base_path(http: aiohttp.ClientSession) -> None:
    async with HeadlampEmulator(base_path="/headlamp/") as hl:
        hl.add_cluster("prod")
        assert hl.url.path == "/headlamp"
        response, _ = await call(http, hl, "POST", "clusters/prod/set-token", json={"token": "t"})
        assert "Path=/headlamp/clusters/prod;" in response.headers["Set-Cookie"]
        async with http.get(hl.url.with_path("/clusters/prod/api")) as outside:
            assert outside.status == 404


async def test_a_patch_body_over_one_mib_reaches_the_cluster(hl: HeadlampEmulator, http: aiohttp.ClientSession,
                                                            prod: KubeCluster) -> None:
    """Found by the real-peer suite: aiohttp's default 1 MiB body limit answered 413 where headlamp-server's
    Go proxy passes the body on."""
    prod.add_configmap("default", "big")
    patch = {"data": {"blob": "x" * (1024 * 1024 + 1)}}
    async with http.patch(f"{hl.url}/clusters/prod/api/v1/namespaces/default/configmaps/big", json=patch,
                          headers={"Content-Type": "application/merge-patch+json"}) as response:
        assert response.status == 200, await response.text()
    assert prod.get("configmaps", "default", "big")["data"]["blob"] == patch["data"]["blob"]


async def test_the_request_log_gets_a_line_per_answered_request(hl: HeadlampEmulator, prod: KubeCluster,
                                                                 http: aiohttp.ClientSession, tmp_path: Any) -> None:
    """``-request-log``: what another process (the benchmark) counts the backend's requests from."""
    import json

    from headlamp_operator_testing.headlamp.__main__ import _logger

    path = tmp_path / "requests.jsonl"
    with path.open("a") as file:
        hl.on_answered.append(_logger(file))
        started = time.monotonic()
        async with http.get(f"{hl.url}/clusters/prod/portforward/list") as answer:
            assert answer.status == 200
        async with http.get(f"{hl.url}/nowhere") as answer:
            assert answer.status == 404
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(line["method"], line["path"], line["status"]) for line in lines] == [
        ("GET", "/clusters/prod/portforward/list", 200), ("GET", "/nowhere", 404)]
    assert all(started <= line["time"] <= time.monotonic() for line in lines)
