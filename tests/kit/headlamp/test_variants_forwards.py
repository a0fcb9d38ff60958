"""The port-forward variants of the emulator: upstream pull requests #6153, #7389, #7273 and #7258 applied to v0.45.0
(docs/headlamp-backend.md#upstream-changes-in-flight), spoken to over real HTTP on loopback."""
import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from headlamp_operator_testing.headlamp import Contract, ContractError, HeadlampEmulator, KubeCluster
from tests.kit.headlamp.wire import FORWARD, assert_go_error, call, listing, login, start

PF = "clusters/prod/portforward"
STOPPED = "Port forward stopped."
SERVICE_FORWARD = {**FORWARD, "service": "web", "serviceNamespace": "default"}
FAST = (0.05, 0.05, 0.05)  # #7273's 5, 10, 20 s, shrunk


def entries(listed: list[dict[str, str]]) -> list[tuple[str, str, str]]:
    return sorted((e["id"], e["status"], e["error"]) for e in listed)


async def listens(port: str) -> bool:
    """Whether something accepts connections on 127.0.0.1:port."""
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", int(port))
    except OSError:
        return False
    writer.close()
    return True


def seed(hl: HeadlampEmulator) -> KubeCluster:
    """Cluster prod: Service default/web over pods web-0 and web-1, and a pod db-0 of no Service."""
    prod = hl.add_cluster("prod")
    prod.add_service("default", "web", selector={"app": "web"},
                     ports=[{"name": "http", "port": 80, "targetPort": 3000}])
    for name in ("web-0", "web-1"):
        prod.add_pod("default", name, labels={"app": "web"}, ports=[{"containerPort": 3000}])
    prod.add_pod("default", "db-0", labels={"app": "db"}, ports=[{"containerPort": 5432}])
    return prod


@contextlib.asynccontextmanager
async def emulator(contract: str, **knobs: object) -> AsyncIterator[tuple[HeadlampEmulator, KubeCluster]]:
    async with HeadlampEmulator(contract=contract, **knobs) as hl:  # type: ignore[arg-type]
        yield hl, seed(hl)


# -- the contract itself ----------------------------------------------------------------------------------

def test_contracts_parse_repeated_or_comma_separated_and_refuse_what_is_unknown() -> None:
    assert str(Contract.parse(None)) == str(Contract.parse("v0.45.0")) == "v0.45.0"
    assert Contract.parse(["pr7273,pr7020", "v0.45.0", " pr6153 "]).prs == {"pr6153", "pr7020", "pr7273"}
    assert str(Contract.parse("pr7273,pr6153")) == "v0.45.0+pr6153+pr7273"
    with pytest.raises(ContractError, match="unknown contract pr1"):
        Contract.parse("pr1")
    with pytest.raises(ContractError, match="pick one"):
        Contract.parse("pr6801,pr7352")


async def test_stop_contract_is_the_pr6153_part_of_the_contract() -> None:
    async with HeadlampEmulator(stop_contract="action", contract="pr7020") as hl:
        assert hl.contract.prs == {"pr6153", "pr7020"}
        hl.stop_contract = "stopOrDelete"
        assert (hl.contract.prs, hl.stop_contract) == ({"pr7020"}, "stopOrDelete")


# -- #6153: stop and delete by action -----------------------------------------------------------------------

@pytest.mark.parametrize(("payload", "message"), [
    ({"id": "pf-1", "stopOrDelete": True}, 'invalid request, action must be "stop" or "delete"'),
    ({"id": "pf-1", "action": "halt"}, 'invalid request, action must be "stop" or "delete"'),
    ({"action": "stop"}, "invalid request, id is required"),
    ({"id": 5, "action": "stop"},
     "json: cannot unmarshal number into Go struct field stopOrDeletePortForwardRequest.id of type string"),
])
async def test_pr6153_refuses_a_body_without_an_action(http: aiohttp.ClientSession, payload: object,
                                                       message: str) -> None:
    async with emulator("pr6153") as (hl, _):
        await start(http, hl, json={**FORWARD, "id": "pf-1"})
        response, body = await call(http, hl, "DELETE", PF, json=payload)
        assert_go_error(response, body, 400, message)
        assert entries(await listing(http, hl)) == [("pf-1", "Running", "")]


async def test_pr6153_stops_and_deletes_by_action_and_says_which(http: aiohttp.ClientSession) -> None:
    async with emulator("pr6153") as (hl, _):
        for fid in ("pf-1", "pf-2"):
            await start(http, hl, json={**FORWARD, "id": fid})
        response, body = await call(http, hl, "DELETE", PF, json={"id": "pf-1", "action": "stop"})
        assert (response.status, body) == (200, b"stopped")
        response, body = await call(http, hl, "DELETE", PF, json={"id": "pf-2", "action": "delete"})
        assert (response.status, body) == (200, b"deleted")
        # #6153 leaves forwardPortsAsync as it was: the deleted Running forward is listed again (the #7389 ghost)
        assert entries(await listing(http, hl)) == [("pf-1", "Stopped", STOPPED), ("pf-2", "Stopped", STOPPED)]
        response, body = await call(http, hl, "DELETE", PF, json={"id": "pf-2", "action": "delete"})
        assert (response.status, body) == (200, b"deleted")
        assert entries(await listing(http, hl)) == [("pf-1", "Stopped", STOPPED)]
        response, body = await call(http, hl, "DELETE", PF, json={"id": "pf-2", "action": "delete"})
        assert_go_error(response, body, 500,
                        "failed to delete port forward: failed to get portforward from cache: key not found")


# -- #7389: no ghost after a delete ------------------------------------------------------------------------

@pytest.mark.parametrize("contract", ["pr7389", "pr6153,pr7389"])
async def test_pr7389_a_deleted_forward_stays_deleted(http: aiohttp.ClientSession, contract: str) -> None:
    async with emulator(contract) as (hl, _):
        for fid in ("pf-1", "pf-2"):
            await start(http, hl, json={**FORWARD, "id": fid})
        await call(http, hl, "DELETE", PF, json={"id": "pf-1", "stopOrDelete": True, "action": "stop"})
        await call(http, hl, "DELETE", PF, json={"id": "pf-2", "stopOrDelete": False, "action": "delete"})
        assert entries(await listing(http, hl)) == [("pf-1", "Stopped", STOPPED)]  # a stop is still a stop
        response, _ = await call(http, hl, "GET", PF, params={"id": "pf-2"})
        assert response.status == 404


# -- #7273: the backend reconnects a service-backed forward itself ------------------------------------------

async def test_pr7273_moves_a_service_forward_to_another_ready_pod_on_the_same_port(
        http: aiohttp.ClientSession) -> None:
    async with emulator("pr7273", reconnect_delays=(0.2, 0.2, 0.2)) as (hl, prod):
        response, _ = await start(http, hl, json={**SERVICE_FORWARD, "id": "pf-1", "pod": "web-0"})
        port = (await response.json())["port"]
        began = time.monotonic()
        prod.kill_pod("default", "web-0")
        [entry] = await listing(http, hl)
        assert (entry["status"], entry["error"], entry["pod"]) == ("Reconnecting", "", "web-0")
        assert not await listens(port)  # its forwarder is closed meanwhile
        await hl.wait_until(lambda: hl.forward("pf-1").status != "Reconnecting", timeout=5)
        assert time.monotonic() - began >= 0.2  # the first try waits its delay
        [entry] = await listing(http, hl)
        assert (entry["status"], entry["error"], entry["pod"], entry["namespace"], entry["port"]) == (
            "Running", "", "web-1", "default", port)
        assert await listens(port)
        assert hl.forward("pf-1").reconnects == 1
        prod.kill_pod("default", "web-1", delete=True)  # and again, from the pod it was moved to
        assert hl.forward("pf-1").status == "Reconnecting"


async def test_pr7273_stops_a_forward_after_three_tries_without_a_ready_pod(http: aiohttp.ClientSession) -> None:
    async with emulator("pr7273", reconnect_delays=(0.1, 0.2, 0.3)) as (hl, prod):
        await start(http, hl, json={**SERVICE_FORWARD, "id": "pf-1", "pod": "web-0"})
        prod.kill_pod("default", "web-1")
        began = time.monotonic()
        prod.kill_pod("default", "web-0")
        await hl.wait_until(lambda: hl.forward("pf-1").status == "Stopped", timeout=5)
        assert time.monotonic() - began >= 0.6  # the three delays
        assert entries(await listing(http, hl)) == [
            ("pf-1", "Stopped", "Pod default/web-0 check failed: pod is not running")]


async def test_pr7273_still_stops_a_pod_only_forward(http: aiohttp.ClientSession) -> None:
    async with emulator("pr7273", reconnect_delays=FAST) as (hl, prod):
        await start(http, hl, json={**FORWARD, "id": "pf-1"})
        prod.kill_pod("default", "web-0")
        assert entries(await listing(http, hl)) == [
            ("pf-1", "Stopped", "Pod default/web-0 check failed: pod is not running")]
        assert hl.forward("pf-1").reconnects == 0


async def test_pr7273_a_stop_ends_the_reconnect_and_leaves_no_stopped_message(http: aiohttp.ClientSession) -> None:
    async with emulator("pr7273", reconnect_delays=(0.2, 0.2, 0.2)) as (hl, prod):
        await start(http, hl, json={**SERVICE_FORWARD, "id": "pf-1", "pod": "web-0"})
        await start(http, hl, json={**FORWARD, "id": "pf-2", "pod": "db-0"})
        prod.kill_pod("default", "web-0")
        reconnect = hl.forward("pf-1").monitor
        assert reconnect is not None
        await call(http, hl, "DELETE", PF, json={"id": "pf-1", "stopOrDelete": True})
        await asyncio.wait([reconnect], timeout=5)
        assert reconnect.cancelled()
        await call(http, hl, "DELETE", PF, json={"id": "pf-2", "stopOrDelete": False})
        # #7273 takes forwardPortsAsync's store away: no "Port forward stopped.", and no ghost after a delete
        assert entries(await listing(http, hl)) == [("pf-1", "Stopped", "")]


async def test_pr7273_a_start_while_reconnecting_is_not_refused_and_is_counted(http: aiohttp.ClientSession) -> None:
    async with emulator("pr7273", reconnect_delays=(30, 30, 30)) as (hl, prod):
        await start(http, hl, json={**SERVICE_FORWARD, "id": "pf-1", "pod": "web-0"})
        prod.kill_pod("default", "web-0")
        response, _ = await start(http, hl, json={**SERVICE_FORWARD, "id": "pf-1", "pod": "web-1"})
        assert response.status == 200  # v0.45.0's 409 is for Running forwards only
        assert hl.table.starts_while_reconnecting == ["pf-1"]
        assert entries(await listing(http, hl)) == [("pf-1", "Running", "")]


async def test_pr7273_the_start_reads_the_bearer_header_before_the_cookies(http: aiohttp.ClientSession) -> None:
    async with emulator("pr7273") as (hl, _):
        cookies = await login(http, hl, "cookie-token")
        await start(http, hl, json={**FORWARD, "id": "pf-1"}, headers={"Authorization": "Bearer header-token"},
                    cookies=cookies)
        await start(http, hl, json={**FORWARD, "id": "pf-2"}, cookies=cookies)
        assert (hl.forward("pf-1").token, hl.forward("pf-2").token) == ("header-token", "cookie-token")
    async with emulator("v0.45.0") as (hl, _):
        await start(http, hl, json={**FORWARD, "id": "pf-1"}, headers={"Authorization": "Bearer header-token"})
        assert hl.forward("pf-1").token is None  # v0.45.0: the backend's own identity


def test_pr7273_waits_5_10_and_20_seconds_unless_told_otherwise() -> None:
    assert HeadlampEmulator(contract="pr7273").table.reconnect_delays == (5.0, 10.0, 20.0)


# -- #7258 as written: the monitor ends with the start request ----------------------------------------------

async def test_pr7258_every_forward_is_stopped_right_after_its_start(http: aiohttp.ClientSession) -> None:
    async with emulator("pr7258") as (hl, _):
        response, _ = await start(http, hl, json={**SERVICE_FORWARD, "id": "pf-1", "port": ""})
        assert response.status == 200  # the start itself succeeds
        port = (await response.json())["port"]
        assert entries(await listing(http, hl)) == [("pf-1", "Stopped", "request context canceled")]
        assert not await listens(port)
        response, _ = await start(http, hl, json={**SERVICE_FORWARD, "id": "pf-1", "port": port})
        assert response.status == 200  # Stopped, so not "already running": and Stopped again at once
        assert entries(await listing(http, hl)) == [("pf-1", "Stopped", "request context canceled")]
        await call(http, hl, "DELETE", PF, json={"id": "pf-1", "stopOrDelete": False})
        assert await listing(http, hl) == []  # nothing was forwarding: nothing to come back


async def test_pr7258_wins_over_pr7273s_reconnect(http: aiohttp.ClientSession) -> None:
    async with emulator("pr7258,pr7273", reconnect_delays=FAST) as (hl, prod):
        await start(http, hl, json={**SERVICE_FORWARD, "id": "pf-1"})
        prod.kill_pod("default", "web-0")
        assert entries(await listing(http, hl)) == [("pf-1", "Stopped", "request context canceled")]
        assert hl.forward("pf-1").reconnects == 0
