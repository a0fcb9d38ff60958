"""Unknown clusters, unreadable kubeconfigs and the backend's own errors, as the real headlamp-server v0.45.0
answered them (docs/headlamp-backend.md#an-unknown-cluster, #dynamic-clusters), over real HTTP on loopback."""
import base64
from typing import Any

import aiohttp
import pytest

from headlamp_operator_testing.headlamp import HeadlampEmulator, KubeCluster
from tests.kit.headlamp.wire import FORWARD, GO_TEXT, assert_go_error, call, kubeconfig, listing, start

NOT_IN_CACHE = "failed to delete port forward failed to get portforward from cache: key not found"


async def test_an_unknown_cluster_is_the_context_stores_key_not_found(hl: HeadlampEmulator,
                                                                     http: aiohttp.ClientSession,
                                                                     prod: KubeCluster) -> None:
    response, body = await call(http, hl, "GET", "clusters/nowhere/api/v1/pods")
    assert_go_error(response, body, 404, "key not found")  # not the router's "404 page not found"
    response, body = await start(http, hl, cluster="nowhere", json={**FORWARD, "id": "pf-1"})
    assert_go_error(response, body, 500, "key not found")
    for flag in (True, False):
        response, body = await call(http, hl, "DELETE", "clusters/nowhere/portforward",
                                    json={"id": "pf-1", "stopOrDelete": flag})
        assert_go_error(response, body, 500, NOT_IN_CACHE)
    response, body = await call(http, hl, "POST", "clusters/nowhere/set-token", json={"token": "t"})
    assert (response.status, body) == (200, b"")  # the name is not checked
    assert await listing(http, hl, "nowhere") == []
    response, body = await call(http, hl, "GET", "clusters/nowhere/portforward", params={"id": "pf-1"})
    assert_go_error(response, body, 404, "no portforward running with id pf-1")
    assert hl.forwards == []  # refused before a forwarder existed: nothing kept


async def test_the_routers_404_is_for_paths_without_a_route(http: aiohttp.ClientSession) -> None:
    async with HeadlampEmulator(base_path="/headlamp") as hl:
        hl.add_cluster("prod")
        for url in (hl.url.with_path("/nowhere"), hl.url / "clusters/prod", hl.url / "clusters",
                    hl.url.with_path("/clusters/prod/api")):  # the last one misses the base path
            async with http.get(url) as response:
                assert_go_error(response, await response.read(), 404, "404 page not found")
        response, body = await call(http, hl, "GET", "clusters/nowhere/api/v1/pods")
        assert_go_error(response, body, 404, "key not found")
        response, _ = await call(http, hl, "GET", "clusters/prod/api")
        assert response.status == 200


async def test_a_dynamic_cluster_without_that_context_has_the_empty_context_key(
    hl: HeadlampEmulator, http: aiohttp.ClientSession, prod: KubeCluster
) -> None:
    headers = {"KUBECONFIG": kubeconfig([{"name": "alpha", "context": {"cluster": "prod", "user": "me"}}]),
               "X-HEADLAMP-USER-ID": "u1"}
    await start(http, hl, json={**FORWARD, "id": "pf-1"})  # a forward of the configured cluster prod
    response, body = await call(http, hl, "GET", "clusters/gamma/api/v1/pods", headers=headers)
    assert_go_error(response, body, 404, "key not found")
    response, body = await start(http, hl, cluster="gamma", json={**FORWARD, "id": "pf-2"}, headers=headers)
    assert_go_error(response, body, 500, "key not found")
    response, body = await call(http, hl, "DELETE", "clusters/gamma/portforward",
                                json={"id": "pf-1", "stopOrDelete": True}, headers=headers)
    assert_go_error(response, body, 500, NOT_IN_CACHE)
    # The empty context key is a prefix of every cache key: such a list is every forward of the backend.
    assert [(e["cluster"], e["id"]) for e in await listing(http, hl, "gamma", headers=headers)] == [("prod", "pf-1")]


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(("config", "message"), [
    ("%%%not-base64", "no contexts found in kubeconfig"),
    (_b64("contexts: [unclosed"), "no contexts found in kubeconfig"),
    (_b64("- just\n- a list\n"), "no contexts found in kubeconfig"),
    (_b64("apiVersion: v1\nkind: Config\ncontexts: []\n"), "no contexts found in kubeconfig"),
    (_b64("contexts:\n- name: alpha\n  context: {cluster: missing}\n"),
     "failed to load any valid contexts from kubeconfig"),
])
async def test_a_kubeconfig_the_backend_cannot_read_is_a_400(hl: HeadlampEmulator, http: aiohttp.ClientSession,
                                                             prod: KubeCluster, config: str, message: str) -> None:
    headers = {"KUBECONFIG": config, "X-HEADLAMP-USER-ID": "u1"}
    for method, path in (("GET", "clusters/alpha/api/v1/pods"), ("GET", "clusters/alpha/portforward/list"),
                         ("POST", "clusters/alpha/portforward")):
        response, body = await call(http, hl, method, path, headers=headers, json=FORWARD)
        assert_go_error(response, body, 400, message)


@pytest.mark.parametrize(("method", "path", "kwargs", "status"), [
    ("GET", "nowhere", {}, 404),
    ("GET", "clusters/nowhere/api", {}, 404),
    ("POST", "clusters/nowhere/portforward", {"json": FORWARD}, 500),
    ("POST", "clusters/prod/portforward", {"json": {"pod": "web-0"}}, 400),
    ("POST", "clusters/prod/portforward", {"json": {**FORWARD, "pod": "ghost"}}, 500),
    ("DELETE", "clusters/prod/portforward", {"json": {"id": "x"}}, 500),
    ("DELETE", "clusters/prod/portforward", {"data": b"{"}, 400),
    ("GET", "clusters/prod/portforward", {"params": {"id": "x"}}, 404),
    ("GET", "clusters/prod/portforward", {}, 400),
    ("POST", "clusters/prod/set-token", {"data": b"x"}, 400),
])
async def test_every_error_the_backend_makes_is_a_go_http_error(
    hl: HeadlampEmulator, http: aiohttp.ClientSession, prod: KubeCluster, method: str, path: str,
    kwargs: dict[str, Any], status: int,
) -> None:
    response, body = await call(http, hl, method, path, **kwargs)
    assert (response.status, response.headers["Content-Type"]) == (status, GO_TEXT)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert body.endswith(b"\n") and body.count(b"\n") == 1 and len(body) > 1
