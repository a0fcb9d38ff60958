"""Reads that many resources share, each with its failure rule, against the Headlamp emulator over HTTP.

Service resolutions: one read for a burst, a failed read not kept. The per-cluster forward list:
one request per interval, a failed request standing for its interval (expiry itself is held by
the cache's own tests, with a clock moved by hand).
"""
from __future__ import annotations

import asyncio

import pytest

from headlamp_operator.headlamp import errors, portforward
from headlamp_operator.headlamp.backend import Backend
from headlamp_operator.reconciling import targets
from headlamp_operator.reconciling.forwardlists import ForwardLists
from headlamp_operator.reconciling.specs import PortForwardSpec
from headlamp_operator.structs import Credentials
from headlamp_operator_testing.headlamp import HeadlampEmulator

SERVICE_PATH = "/clusters/prod/api/v1/namespaces/monitoring/services/grafana"
LIST_PATH = "/clusters/prod/portforward/list"
SPEC = PortForwardSpec(cluster="prod", service="grafana", namespace="monitoring", target_port="http")


@pytest.fixture()
def service(hl: HeadlampEmulator) -> None:
    hl.clusters["prod"].add_service("monitoring", "grafana", selector={"app": "grafana"},
                                    ports=[{"name": "http", "port": 80, "targetPort": "web"}])


async def resolve_many(backend: Backend, resolutions: targets.Resolutions, alice: Credentials,
                       n: int) -> list[targets.Target | BaseException]:
    return await asyncio.gather(*(targets.resolve(backend, SPEC, namespace="monitoring", credentials=alice,
                                                  resolutions=resolutions) for _ in range(n)),
                                return_exceptions=True)


@pytest.mark.usefixtures("service")
async def test_a_burst_of_forwards_to_one_service_reads_it_once(hl: HeadlampEmulator, backend: Backend,
                                                                alice: Credentials) -> None:
    resolutions = targets.Resolutions(ttl=60)
    found = await resolve_many(backend, resolutions, alice, 10)
    assert {(t.pod, t.target_port) for t in found if isinstance(t, targets.Target)} == {("grafana-0", "3000")}
    assert len(hl.requests_for(path=SERVICE_PATH)) == 1
    await targets.resolve(backend, SPEC, namespace="monitoring", credentials=alice, resolutions=resolutions,
                          fresh=True)  # healing a forward whose pod died reads anew
    assert len(hl.requests_for(path=SERVICE_PATH)) == 2


@pytest.mark.usefixtures("service")
async def test_a_failed_resolution_reaches_its_waiters_and_is_not_kept(hl: HeadlampEmulator, backend: Backend,
                                                                       alice: Credentials) -> None:
    resolutions = targets.Resolutions(ttl=60)
    hl.fail_next(1, status=503, path=SERVICE_PATH)
    found = await resolve_many(backend, resolutions, alice, 5)
    assert [getattr(f, "status", f) for f in found] == [503] * 5
    assert all(isinstance(f, errors.ApiError) for f in found)
    assert len(hl.requests_for(path=SERVICE_PATH)) == 1
    target = await targets.resolve(backend, SPEC, namespace="monitoring", credentials=alice, resolutions=resolutions)
    assert target.pod == "grafana-0"
    assert len(hl.requests_for(path=SERVICE_PATH)) == 2


@pytest.mark.usefixtures("service")
async def test_a_logout_forgets_the_resolutions_of_that_credential(hl: HeadlampEmulator, backend: Backend,
                                                                   alice: Credentials, bob: Credentials) -> None:
    resolutions = targets.Resolutions(ttl=60)
    backend.on_forget(resolutions.forget)
    for who in (alice, bob):
        await targets.resolve(backend, SPEC, namespace="monitoring", credentials=who, resolutions=resolutions)
    backend.forget("prod", alice.key)
    for who in (alice, bob):
        await targets.resolve(backend, SPEC, namespace="monitoring", credentials=who, resolutions=resolutions)
    assert [r.headers["Authorization"].removeprefix("Bearer ") for r in hl.requests_for(path=SERVICE_PATH)] == [
        str(alice.token), str(bob.token), str(alice.token)]


async def test_one_list_request_per_interval_for_every_caller(hl: HeadlampEmulator, backend: Backend,
                                                              alice: Credentials, bob: Credentials) -> None:
    lists = ForwardLists(ttl=60)
    await portforward.start_port_forward(backend, "prod", id="pf-1", namespace="monitoring", pod="grafana-0",
                                         target_port="3000", credentials=alice)
    found = await asyncio.gather(*(lists.listing(backend, "prod", credentials=who) for who in (alice, bob) * 5))
    assert [set(listing.by_id) for listing in found] == [{"pf-1"}] * 10  # by id: one lookup per health check
    listing = await lists.listing(backend, "prod", credentials=alice)
    assert listing.by_id["pf-1"]["status"] == "Running" and listing.fetched.tzinfo is not None
    assert len(hl.requests_for(path=LIST_PATH)) == 1


async def test_a_failed_list_request_stands_for_its_interval(hl: HeadlampEmulator, backend: Backend,
                                                              alice: Credentials) -> None:
    lists = ForwardLists(ttl=60)
    hl.fail_next(1, status=503, path=LIST_PATH)
    for _ in range(3):  # a backend in trouble is asked once per interval, not once per resource
        with pytest.raises(errors.ApiError) as err:
            await lists.listing(backend, "prod", credentials=alice)
        assert err.value.status == 503
    assert len(hl.requests_for(path=LIST_PATH)) == 1
    lists.drop()  # X-Reload
    assert (await lists.listing(backend, "prod", credentials=alice)).by_id == {}
    assert len(hl.requests_for(path=LIST_PATH)) == 2


async def test_an_unchanged_list_is_not_parsed_again_and_a_changed_one_is(hl: HeadlampEmulator, backend: Backend,
                                                                          alice: Credentials) -> None:
    lists = ForwardLists(ttl=0)  # every call asks the backend
    await portforward.start_port_forward(backend, "prod", id="pf-1", namespace="monitoring", pod="grafana-0",
                                         target_port="3000", credentials=alice)
    first = await lists.listing(backend, "prod", credentials=alice)
    again = await lists.listing(backend, "prod", credentials=alice)
    assert again.by_id is first.by_id and again.fetched >= first.fetched  # the same bytes: the same entries
    await portforward.stop_or_delete_port_forward(backend, "prod", "pf-1", stop=True, credentials=alice)
    changed = await lists.listing(backend, "prod", credentials=alice)
    assert changed.by_id is not first.by_id and changed.by_id["pf-1"]["status"] == "Stopped"
    lists.drop()  # X-Reload: nothing of the old answers is reused
    assert (await lists.listing(backend, "prod", credentials=alice)).by_id is not changed.by_id
    assert len(hl.requests_for(path=LIST_PATH)) == 4


async def test_the_same_forwards_listed_in_another_order_are_the_same_listing(hl: HeadlampEmulator, backend: Backend,
                                                                              alice: Credentials) -> None:
    lists = ForwardLists(ttl=0)
    started = {}
    for id in ("pf-1", "pf-2"):
        started[id] = await portforward.start_port_forward(backend, "prod", id=id, namespace="monitoring",
                                                           pod="grafana-0", target_port="3000", credentials=alice)
    first = await lists.listing(backend, "prod", credentials=alice)
    await portforward.stop_or_delete_port_forward(backend, "prod", "pf-1", stop=False, credentials=alice)
    await portforward.start_port_forward(backend, "prod", id="pf-1", namespace="monitoring", pod="grafana-0",
                                         target_port="3000", port=started["pf-1"]["port"], credentials=alice)
    listed = await portforward.list_port_forwards(backend, "prod", credentials=alice)
    assert [entry["id"] for entry in listed] == ["pf-2", "pf-1"]  # the backend's order changed
    again = await lists.listing(backend, "prod", credentials=alice)
    assert again.by_id is first.by_id and list(again.by_id) == ["pf-1", "pf-2"]  # the entries did not
