"""Port-forwards as the real headlamp-server v0.45.0 keeps them (docs/headlamp-backend.md#routes,
#stop-and-delete; the recorded transcript): a missing pod, refused tokens, a deleted forward that comes back,
``GET ?id=`` of Stopped entries, and the list's prefix match; over real HTTP on loopback, against in-memory clusters."""
import asyncio
from typing import Any

import aiohttp
import pytest

from headlamp_operator_testing.headlamp import HeadlampEmulator, KubeCluster
from tests.kit.headlamp.wire import FORWARD, GO_TEXT, assert_go_error, call, kubeconfig, listing, login, start

PF = "clusters/prod/portforward"
NOT_IN_CACHE = "failed to delete port forward failed to get portforward from cache: key not found"
STOPPED = "Port forward stopped."
NO_POD = 'error upgrading connection: unable to upgrade connection: pods "ghost" not found'


def entries(listed: list[dict[str, str]]) -> list[tuple[str, str, str]]:
    return [(e["id"], e["status"], e["error"]) for e in listed]


# -- a pod that does not exist, a token the cluster refuses ------------------------------------------------

async def test_a_start_to_a_pod_that_does_not_exist_fails_at_once(hl: HeadlampEmulator, http: aiohttp.ClientSession,
                                                                   prod: KubeCluster) -> None:
    hl.ready_timeout = 60  # a pod not ready yet is waited for that long; a missing one is not waited for
    async with asyncio.timeout(10):
        response, body = await start(http, hl, json={**FORWARD, "id": "pf-1", "pod": "ghost"})
    assert_go_error(response, body, 500, NO_POD)
    assert entries(await listing(http, hl)) == [("pf-1", "Stopped", NO_POD)]
    response, _ = await call(http, hl, "GET", PF, params={"id": "pf-1"})
    assert response.status == 200
    async with asyncio.timeout(10):  # Stopped, not Running: the same id may start again (and fail again)
        response, body = await start(http, hl, json={**FORWARD, "id": "pf-1", "pod": "ghost"})
    assert_go_error(response, body, 500, NO_POD)


@pytest.mark.parametrize(("token", "message"), [
    ("revoked", "permission check failed: failed to check permissions: Unauthorized"),
    ("viewer", "permission check failed: access denied: insufficient permissions"),
])
async def test_a_start_with_a_refused_cookie_token(hl: HeadlampEmulator, http: aiohttp.ClientSession,
                                                   prod: KubeCluster, token: str, message: str) -> None:
    prod.refuse_token("revoked")  # the cluster does not accept it: the review itself is refused (401)
    prod.deny_portforward("viewer")  # no RBAC for create pods/portforward
    response, body = await start(http, hl, json={**FORWARD, "id": "pf-1"}, cookies=await login(http, hl, token))
    assert_go_error(response, body, 500, message)
    assert await listing(http, hl) == []  # refused before a forwarder existed: nothing kept


# -- stop, delete, and the delete that comes back (upstream #7389) ----------------------------------------

async def test_a_deleted_running_forward_comes_back_stopped_until_deleted_again(
    hl: HeadlampEmulator, http: aiohttp.ClientSession, prod: KubeCluster
) -> None:
    response, _ = await start(http, hl, json={**FORWARD, "id": "pf-1"})
    port = int((await response.json())["port"])
    response, body = await call(http, hl, "DELETE", PF, json={"id": "pf-1", "stopOrDelete": False})
    assert (response.status, response.headers["Content-Type"], body) == (200, GO_TEXT, b"stopped")
    assert entries(await listing(http, hl)) == [("pf-1", "Stopped", STOPPED)]  # at once
    response, _ = await call(http, hl, "GET", PF, params={"id": "pf-1"})
    assert response.status == 200
    with pytest.raises(OSError):  # closed all the same
        await asyncio.open_connection("127.0.0.1", port)
    response, body = await call(http, hl, "DELETE", PF, json={"id": "pf-1", "stopOrDelete": False})
    assert (response.status, body) == (200, b"stopped")
    assert await listing(http, hl) == []  # the second delete is for good
    response, body = await call(http, hl, "GET", PF, params={"id": "pf-1"})
    assert_go_error(response, body, 404, "no portforward running with id pf-1")
    response, body = await call(http, hl, "DELETE", PF, json={"id": "pf-1", "stopOrDelete": False})
    assert_go_error(response, body, 500, NOT_IN_CACHE)


@pytest.mark.parametrize(("payload", "stop"), [
    ({"stopOrDelete": True}, True),
    ({"stopOrDelete": True, "action": "stop"}, True),  # what the operator sends to stop
    ({"StopOrDelete": True}, True),  # Go matches JSON keys case-insensitively
    ({"stopOrDelete": False}, False),
    ({"stopOrDelete": False, "action": "delete"}, False),  # what the operator sends to delete
    ({}, False),  # no flag: false, a delete
    ({"action": "stop"}, False),  # v0.45.0 ignores "action"
    ({"stopOrDelete": None, "action": "delete"}, False),
])
async def test_v045_reads_the_flag_alone(hl: HeadlampEmulator, http: aiohttp.ClientSession, prod: KubeCluster,
                                         payload: dict[str, Any], stop: bool) -> None:
    await start(http, hl, json={**FORWARD, "id": "pf-1"})
    for _ in range(2):  # the first leaves it Stopped either way; only a second tells a stop from a delete
        response, body = await call(http, hl, "DELETE", PF, json={"id": "pf-1", **payload})
        assert (response.status, response.headers["Content-Type"], body) == (200, GO_TEXT, b"stopped")
        listed = entries(await listing(http, hl))
        assert listed in ([("pf-1", "Stopped", STOPPED)], [])
    assert listed == ([("pf-1", "Stopped", STOPPED)] if stop else [])


async def test_a_forward_stopped_by_its_pod_keeps_its_error_and_is_deleted_at_once(
    hl: HeadlampEmulator, http: aiohttp.ClientSession, prod: KubeCluster
) -> None:
    await start(http, hl, json={**FORWARD, "id": "pf-1"})
    prod.kill_pod("default", "web-0")
    error = "Pod default/web-0 check failed: pod is not running"
    response, body = await call(http, hl, "DELETE", PF, json={"id": "pf-1", "stopOrDelete": True})
    assert (response.status, body) == (200, b"stopped")
    assert entries(await listing(http, hl)) == [("pf-1", "Stopped", error)]  # its forwarding had ended already
    await call(http, hl, "DELETE", PF, json={"id": "pf-1", "stopOrDelete": False})
    assert await listing(http, hl) == []


@pytest.mark.parametrize(("payload", "message"), [
    (b"", "EOF"),
    (b'{"id": "pf-1"', "unexpected EOF"),
    (b'{"stopOrDelete": true}', "invalid request, id is required"),
    (b'{"id": "", "stopOrDelete": true}', "invalid request, id is required"),
    (b'{"id": 5}',
     "json: cannot unmarshal number into Go struct field stopOrDeletePortForwardRequest.id of type string"),
    (b'{"id": "pf-1", "stopOrDelete": "yes"}',
     "json: cannot unmarshal string into Go struct field stopOrDeletePortForwardRequest.stopOrDelete of type bool"),
    (b"[]", "json: cannot unmarshal array into Go value of type portforward.stopOrDeletePortForwardRequest"),
])
async def test_a_stop_body_v045_cannot_read(hl: HeadlampEmulator, http: aiohttp.ClientSession, prod: KubeCluster,
                                            payload: bytes, message: str) -> None:
    await start(http, hl, json={**FORWARD, "id": "pf-1"})
    response, body = await call(http, hl, "DELETE", PF, data=payload)
    assert_go_error(response, body, 400, message)
    assert entries(await listing(http, hl)) == [("pf-1", "Running", "")]


# -- GET ?id= and the list ---------------------------------------------------------------------------------

async def test_get_by_id_answers_200_for_stopped_entries(hl: HeadlampEmulator, http: aiohttp.ClientSession,
                                                         prod: KubeCluster) -> None:
    await start(http, hl, json={**FORWARD, "id": "pf-1", "service": "web"})
    await call(http, hl, "DELETE", PF, json={"id": "pf-1", "stopOrDelete": True})
    response, _ = await call(http, hl, "GET", PF, params={"id": "pf-1"})
    assert (response.status, await response.json()) == (200, {
        "id": "pf-1", "pod": "web-0", "service": "web", "cluster": "prod", "namespace": "default"})  # no status
    response, body = await call(http, hl, "GET", PF)
    assert_go_error(response, body, 400, "id is required")


async def test_the_list_is_a_prefix_match_on_the_cache_key(hl: HeadlampEmulator, http: aiohttp.ClientSession,
                                                           prod: KubeCluster) -> None:
    for name in ("prod-eu", "dev"):
        hl.add_cluster(name).add_pod("default", "web-0")
    for cluster in ("prod", "prod-eu", "dev"):
        response, _ = await start(http, hl, cluster=cluster, json={**FORWARD, "id": f"{cluster}-pf"})
        assert response.status == 200

    async def listed(cluster: str, **kwargs: Any) -> list[tuple[str, str]]:
        return sorted((e["cluster"], e["id"]) for e in await listing(http, hl, cluster, **kwargs))

    assert await listed("prod") == [("prod", "prod-pf"), ("prod-eu", "prod-eu-pf")]
    assert await listed("prod-eu") == [("prod-eu", "prod-eu-pf")]
    assert await listed("pro") == [("prod", "prod-pf"), ("prod-eu", "prod-eu-pf")]  # an unknown cluster too
    assert await listed("dev") == [("dev", "dev-pf")]
    assert await listed("prodprod") == [("prod", "prod-pf")]  # the key is the context key followed by the id
    response, _ = await call(http, hl, "POST", "clusters/prod/portforward/list")
    assert response.status == 200  # the list's route takes any method
    # A dynamic cluster is keyed by its name, NUL and the user id: a list without the user id lists every user's.
    config = kubeconfig([{"name": "alpha", "context": {"cluster": "prod", "user": "me"}}])
    for user in ("alice", "bob"):
        await start(http, hl, cluster="alpha", json={**FORWARD, "id": f"{user}-pf"},
                    headers={"KUBECONFIG": config, "X-HEADLAMP-USER-ID": user})
    assert await listed("alpha", headers={"KUBECONFIG": config}) == [("alpha", "alice-pf"), ("alpha", "bob-pf")]
    assert await listed("alpha", headers={"KUBECONFIG": config, "X-HEADLAMP-USER-ID": "alice"}) == [
        ("alpha", "alice-pf")]
