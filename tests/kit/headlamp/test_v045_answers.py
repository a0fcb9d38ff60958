"""Answers the real headlamp-server v0.45.0 gave in its recorded transcript
(tests/kit/headlamp/transcripts/headlamp-v0.45.0.json), held over real HTTP: the Kubernetes API server's
Statuses as they came through the proxy, its version, the plugin list and its once-only ``X-Reload``, a
container port's name refused by a start, and a dynamic cluster stored under its bare name."""
from typing import Any

import aiohttp
import pytest

from headlamp_operator_testing.headlamp import HeadlampEmulator, KubeCluster
from tests.kit.headlamp.wire import DEPLOY, FORWARD, GO_TEXT, MERGE, assert_go_error, call, kubeconfig, listing, start

CM = "clusters/prod/api/v1/namespaces/default/configmaps"


async def status_of(http: aiohttp.ClientSession, hl: HeadlampEmulator, method: str, path: str,
                    **kwargs: Any) -> tuple[int, dict[str, Any]]:
    response, _ = await call(http, hl, method, path, **kwargs)
    doc: dict[str, Any] = await response.json()
    return response.status, {k: doc.get(k) for k in ("message", "reason", "details")}


async def test_statuses_name_the_object_as_the_api_server_does(hl: HeadlampEmulator, http: aiohttp.ClientSession,
                                                               prod: KubeCluster) -> None:
    prod.add_configmap("default", "settings")
    assert await status_of(http, hl, "GET", f"{CM}/nope") == (404, {
        "message": 'configmaps "nope" not found', "reason": "NotFound",
        "details": {"name": "nope", "kind": "configmaps"}})
    assert await status_of(http, hl, "GET", "clusters/prod/apis/apps/v1/namespaces/default/deployments/nope") == (
        404, {"message": 'deployments.apps "nope" not found', "reason": "NotFound",
              "details": {"name": "nope", "group": "apps", "kind": "deployments"}})
    assert await status_of(http, hl, "POST", CM, json={"metadata": {"name": "settings"}}) == (409, {
        "message": 'configmaps "settings" already exists', "reason": "AlreadyExists",
        "details": {"name": "settings", "kind": "configmaps"}})
    cause = "Invalid value: -1: must be greater than or equal to 0"
    assert await status_of(http, hl, "PATCH", DEPLOY, data=b'{"spec": {"replicas": -1}}',
                           headers={"Content-Type": MERGE}) == (422, {
        "message": f'Deployment.apps "web" is invalid: spec.replicas: {cause}', "reason": "Invalid",
        "details": {"name": "web", "group": "apps", "kind": "Deployment",
                    "causes": [{"reason": "FieldValueInvalid", "message": cause, "field": "spec.replicas"}]}})


@pytest.mark.parametrize("content_type", ["application/json", "application/yaml", "text/plain"])
async def test_a_patch_of_a_type_the_route_does_not_take_is_go_restfuls_415(
    hl: HeadlampEmulator, http: aiohttp.ClientSession, prod: KubeCluster, content_type: str
) -> None:
    assert await status_of(http, hl, "PATCH", DEPLOY, data=b"{}", headers={"Content-Type": content_type}) == (
        415, {"message": "415: Unsupported Media Type", "reason": "UnsupportedMediaType", "details": {}})


async def test_a_refusal_names_the_user_a_token_was_named_for(hl: HeadlampEmulator, http: aiohttp.ClientSession,
                                                              prod: KubeCluster) -> None:
    prod.forbid_token("viewer")
    prod.name_token("viewer", "system:serviceaccount:default:viewer")
    assert await status_of(http, hl, "GET", CM, headers={"Authorization": "Bearer viewer"}) == (403, {
        "message": 'configmaps is forbidden: User "system:serviceaccount:default:viewer" cannot list resource '
                   '"configmaps" in API group "" in the namespace "default"',
        "reason": "Forbidden", "details": {"kind": "configmaps"}})


async def test_the_version_is_the_real_peer_suites_api_server(hl: HeadlampEmulator, http: aiohttp.ClientSession,
                                                              prod: KubeCluster) -> None:
    response, _ = await call(http, hl, "GET", "clusters/prod/version")
    version = await response.json()
    assert (version["gitVersion"], version["major"], version["minor"], version["platform"]) == (
        "v1.36.3", "1", "36", "linux/amd64")


async def test_a_plugin_change_is_signalled_once_on_the_next_proxied_answer(
    hl: HeadlampEmulator, http: aiohttp.ClientSession, prod: KubeCluster
) -> None:
    async def reload_of(method: str, path: str) -> str | None:
        response, _ = await call(http, hl, method, path)
        return response.headers.get("X-Reload")

    hl.plugins.add("early")  # before the frontend listed the plugins: never signalled
    assert await reload_of("GET", "clusters/prod/version") is None
    response, _ = await call(http, hl, "GET", "plugins")
    assert (response.status, await response.json()) == (
        200, [{"path": "plugins/early", "type": "development", "name": "early"}])
    hl.plugins.add("late")
    for method, path in (("GET", "clusters/prod/portforward/list"), ("POST", "clusters/prod/set-token"),
                         ("GET", "clusters/nowhere/version"), ("GET", "plugins")):
        assert await reload_of(method, path) is None  # not on what the backend answers itself
    response, _ = await call(http, hl, "GET", "clusters/prod/api/v1/namespaces/default/pods/nope")
    assert (response.status, response.headers["X-Reload"]) == (404, "reload")  # an API server's error too
    assert response.headers["Access-Control-Expose-Headers"] == "X-Reload"
    assert await reload_of("GET", "clusters/prod/version") is None  # once


@pytest.mark.parametrize(("fields", "message"), [
    ({"targetPort": "web"},
     "error parsing remote port 'web': strconv.ParseUint: parsing \"web\": invalid syntax"),
    ({"targetPort": "70000"},
     "error parsing remote port '70000': strconv.ParseUint: parsing \"70000\": value out of range"),
    ({"targetPort": "0"}, "remote port must be > 0"),
    ({"port": "local"}, "error parsing local port 'local': strconv.ParseUint: parsing \"local\": invalid syntax"),
    ({"targetPort": "80:81"}, "invalid port format '0:80:81'"),
])
async def test_a_start_reads_its_ports_as_client_go_does(hl: HeadlampEmulator, http: aiohttp.ClientSession,
                                                         prod: KubeCluster, fields: dict[str, str],
                                                         message: str) -> None:
    if "port" not in fields:
        fields = {**fields, "port": "0"}
    response, body = await start(http, hl, json={**FORWARD, "id": "pf-1", **fields})
    assert_go_error(response, body, 500, "failed to initialize port forwarder: failed to create portforwarder: "
                    + message)
    assert await listing(http, hl) == []  # refused before the forward was stored


async def test_a_dynamic_cluster_without_a_user_id_is_stored_under_its_bare_name(
    hl: HeadlampEmulator, http: aiohttp.ClientSession, prod: KubeCluster
) -> None:
    config = kubeconfig([{"name": "alpha", "context": {"cluster": "prod", "user": "me"}}])
    response, body = await call(http, hl, "GET", "clusters/alpha/version")
    assert_go_error(response, body, 404, "key not found")
    response, _ = await call(http, hl, "GET", "clusters/alpha/version",
                             headers={"KUBECONFIG": config, "X-HEADLAMP-USER-ID": "u1"})
    assert response.status == 200
    response, _ = await call(http, hl, "GET", "clusters/alpha/version")
    assert response.status == 404  # a user's cluster is the user's
    response, _ = await call(http, hl, "GET", "clusters/alpha/version", headers={"KUBECONFIG": config})
    assert response.status == 200
    response, _ = await call(http, hl, "GET", "clusters/alpha/version")  # now every caller's, without KUBECONFIG
    assert (response.status, response.headers["Content-Type"]) == (200, "application/json")
    await hl.restart()
    response, _ = await call(http, hl, "GET", "clusters/alpha/version")
    assert (response.status, response.headers["Content-Type"]) == (404, GO_TEXT)
