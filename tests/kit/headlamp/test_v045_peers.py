"""What the emulated v0.45.0 backend shows its peers: where a forward listens (127.0.0.1 and [::1]), the
``User-Agent`` and query an API server gets, and a cluster served by a real API server (upstream mode).

Upstream mode is driven here against a scripted API server over real HTTP (kmock's ``RawHandler``): the fast
suite has no kube-apiserver (the real-peer suite holds the emulator to a real one, ``make test-real``). The
scripted answers are the API server's documented ones (a Status ``pods "x" not found``, 401 ``Unauthorized``,
a SelfSubjectAccessReview's ``status``).
"""
import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import kmock
import pytest
import yarl

from headlamp_operator_testing.headlamp import HeadlampEmulator, KubeCluster
from headlamp_operator_testing.headlamp.identity import USER_AGENT
from headlamp_operator_testing.headlamp.localhost import Listeners
from headlamp_operator_testing.headlamp.upstream import UpstreamCluster
from headlamp_operator_testing.kubernetes.managedfields import manager_of

from .wire import DEPLOY, FORWARD, MERGE, assert_go_error, call, listing, login, start

SSAR = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


IPV6 = _has_ipv6_loopback()
needs_ipv6 = pytest.mark.skipif(not IPV6, reason="no IPv6 loopback here: forwards listen on 127.0.0.1 alone")


async def connects(host: str, port: int) -> bool:
    """Whether a TCP connection to host:port is accepted."""
    try:
        _, writer = await asyncio.open_connection(host, port)
    except OSError:
        return False
    writer.close()
    return True


@contextlib.contextmanager
def holding(host: str, port: int = 0) -> Iterator[int]:
    """Another process's listener on host:port (0: a free port) for the block; yields the port.

    A port that cannot be bound on ``::1`` (held already, or no IPv6 loopback) is not available to the
    emulator either: the block runs all the same.
    """
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        try:
            sock.bind((host, port))
            sock.listen()
            port = sock.getsockname()[1]
        except OSError:
            if port == 0:
                raise
        yield port
    finally:
        sock.close()


def listeners(hl: HeadlampEmulator, fid: str) -> Listeners:
    server = hl.forward(fid).server
    assert isinstance(server, Listeners)
    return server


# -- where a forward listens -------------------------------------------------------------------------------

@needs_ipv6
async def test_a_forward_listens_on_both_loopbacks_whatever_the_address(hl: HeadlampEmulator,
                                                                        http: aiohttp.ClientSession,
                                                                        prod: KubeCluster) -> None:
    response, _ = await start(http, hl, json={**FORWARD, "id": "pf-1", "address": "192.0.2.1"})
    echo = await response.json()
    assert "address" not in echo
    port = int(echo["port"])
    assert await connects("127.0.0.1", port) and await connects("::1", port)
    assert sorted(listeners(hl, "pf-1").hosts) == ["127.0.0.1", "::1"]


@needs_ipv6
async def test_a_port_held_on_127_0_0_1_alone_is_served_on_ipv6_alone(hl: HeadlampEmulator,
                                                                      http: aiohttp.ClientSession,
                                                                      prod: KubeCluster) -> None:
    with holding("127.0.0.1") as port:
        response, body = await start(http, hl, json={**FORWARD, "id": "pf-1", "port": str(port)})
        assert response.status == 200, body
        assert (await response.json())["port"] == str(port)
        assert listeners(hl, "pf-1").hosts == ["::1"]
        assert await connects("::1", port)


async def test_a_port_held_on_every_loopback_is_refused(hl: HeadlampEmulator, http: aiohttp.ClientSession,
                                                        prod: KubeCluster) -> None:
    with holding("127.0.0.1") as port, holding("::1", port):
        response, body = await start(http, hl, json={**FORWARD, "id": "pf-1", "port": str(port)})
    message = f"unable to listen on any of the requested ports: [{{{port} 3000}}]"
    assert_go_error(response, body, 500, message)
    assert [(e["id"], e["status"], e["error"]) for e in await listing(http, hl)] == [("pf-1", "Stopped", message)]


# -- the User-Agent and the field manager, in memory ----------------------------------------------------------

async def test_writes_are_managed_by_the_field_manager_else_by_headlamps_agent(
    hl: HeadlampEmulator, http: aiohttp.ClientSession, prod: KubeCluster
) -> None:
    """The API server sees Headlamp's ``User-Agent``, never the client's: managedFields name the request's
    ``?fieldManager=``, else what kube-apiserver makes of Headlamp's agent."""
    ours = {"User-Agent": "headlamp-operator/1.2.3", "Content-Type": MERGE}
    response, _ = await call(http, hl, "PATCH", DEPLOY, json={"spec": {"replicas": 3}}, headers=ours,
                             params={"fieldManager": "headlamp-operator"})
    assert managers(await response.json()) == {"headlamp-operator": {"f:spec": {"f:replicas": {}}}}
    response, _ = await call(http, hl, "PATCH", DEPLOY, json={"spec": {"replicas": 4}}, headers=ours)
    headlamp = manager_of(USER_AGENT)
    assert managers(await response.json()) == {headlamp: {"f:spec": {"f:replicas": {}}}}  # taken from the operator
    response, _ = await call(http, hl, "POST", "clusters/prod/api/v1/namespaces/default/configmaps",
                             json={"metadata": {"name": "cfg"}, "data": {"a": "1"}},
                             headers={"User-Agent": ours["User-Agent"]})
    assert managers(await response.json()) == {headlamp: {"f:data": {".": {}, "f:a": {}}}}
    writes = [r for r in prod.api.answered if r.method in ("PATCH", "POST")]
    assert [r.headers.get("User-Agent") for r in writes] == [USER_AGENT] * 3
    assert USER_AGENT.startswith("Headlamp 0.45.0 (") and headlamp == USER_AGENT.split("/")[0]


def managers(obj: dict[str, Any]) -> dict[str, Any]:
    """Who manages which fields of an object: manager -> FieldsV1."""
    return {entry["manager"]: entry["fieldsV1"] for entry in obj["metadata"].get("managedFields") or []}


# -- a cluster served by an API server (upstream mode) -------------------------------------------------------

@pytest.fixture
async def api() -> AsyncIterator[tuple[kmock.RawHandler, kmock.Server]]:
    async with kmock.RawHandler() as handler, kmock.Server(handler) as server:
        yield handler, server


@pytest.fixture
async def upstream(api: tuple[kmock.RawHandler, kmock.Server]) -> AsyncIterator[HeadlampEmulator]:
    _, server = api
    async with HeadlampEmulator(ready_timeout=60.0, monitor_interval=0.2) as hl:
        hl.add_upstream_cluster(UpstreamCluster("real", server=str(server.url), ca_data=None, token="backend-token",
                                                kubectl="kubectl-is-never-run-here"))
        yield hl


def k8s_status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}


async def test_upstream_a_pod_that_does_not_exist_fails_at_once(api: tuple[kmock.RawHandler, kmock.Server],
                                                                upstream: HeadlampEmulator,
                                                                http: aiohttp.ClientSession) -> None:
    handler, _ = api
    handler["post " + SSAR] << {"kind": "SelfSubjectAccessReview", "status": {"allowed": True}}
    handler["get /api/v1/namespaces/default/pods/ghost"] << 404 << k8s_status(404, "NotFound", 'pods "ghost" not found')
    async with asyncio.timeout(10):
        response, body = await start(http, upstream, cluster="real", json={**FORWARD, "id": "pf-1", "pod": "ghost"})
    message = 'error upgrading connection: unable to upgrade connection: pods "ghost" not found'
    assert_go_error(response, body, 500, message)
    assert [(e["id"], e["status"], e["error"]) for e in await listing(http, upstream, "real")] == [
        ("pf-1", "Stopped", message)]


@pytest.mark.parametrize(("answer", "message"), [
    ((401, k8s_status(401, "Unauthorized", "Unauthorized")),
     "permission check failed: failed to check permissions: Unauthorized"),
    ((201, {"kind": "SelfSubjectAccessReview", "status": {"allowed": False}}),
     "permission check failed: access denied: insufficient permissions"),
    ((201, {"kind": "SelfSubjectAccessReview", "status": {"allowed": False, "reason": "no rule for you"}}),
     "permission check failed: access denied: no rule for you"),
])
async def test_upstream_a_refused_cookie_token(api: tuple[kmock.RawHandler, kmock.Server], upstream: HeadlampEmulator,
                                              http: aiohttp.ClientSession, answer: tuple[int, dict[str, Any]],
                                              message: str) -> None:
    handler, _ = api
    handler["post " + SSAR] << answer[0] << answer[1]
    cookies = await login(http, upstream, "revoked-token", cluster="real")
    response, body = await start(http, upstream, cluster="real", json={**FORWARD, "id": "pf-1"}, cookies=cookies)
    assert_go_error(response, body, 500, message)
    [review] = [r for r in handler if r.url.path == SSAR]
    assert review.headers["Authorization"] == "Bearer revoked-token"  # the cookie's token, not the backend's
    assert review.data["spec"]["resourceAttributes"] == {"namespace": "default", "verb": "create", "resource": "pods",
                                                         "subresource": "portforward", "name": "web-0"}
    assert await listing(http, upstream, "real") == []


async def test_upstream_gets_headlamps_user_agent_and_the_query_as_sent(api: tuple[kmock.RawHandler, kmock.Server],
                                                                        upstream: HeadlampEmulator,
                                                                        http: aiohttp.ClientSession) -> None:
    handler, _ = api
    handler["patch /apis/apps/v1/namespaces/default/deployments/web"] << {"kind": "Deployment"}
    query = "fieldManager=headlamp-operator&labelSelector=a%3Db%2Cc%20in%20%28x%29&x=%2B"
    url = yarl.URL(f"{upstream.url}/clusters/real/apis/apps/v1/namespaces/default/deployments/web?{query}",
                   encoded=True)
    async with http.patch(url, json={}, headers={"User-Agent": "headlamp-operator/1.2.3",
                                                 "Content-Type": MERGE}) as response:
        assert response.status == 200
    [patch] = list(handler)
    assert (patch.url.raw_query_string, patch.headers["User-Agent"]) == (query, USER_AGENT)
    assert patch.headers["Content-Type"] == MERGE
