"""A Kubernetes watch through the emulated Headlamp's cluster proxy: the list, then the changes as they happen."""
from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest

from headlamp_operator.headlamp import errors, paths, watch
from headlamp_operator.headlamp.backend import Backend
from headlamp_operator.structs import Credentials
from headlamp_operator_testing.headlamp import HeadlampEmulator
from tests.headlamp.conftest import TOKEN_A

PODS = paths.object_path(group_name="", version_name="v1", plural_name="pods", namespace_name="monitoring")


async def _next(events: Any, within: float = 5.0) -> tuple[str, Mapping[str, Any]]:
    result: tuple[str, Mapping[str, Any]] = await asyncio.wait_for(anext(events), within)
    return result


async def test_a_watch_streams_the_pods_then_each_change_as_it_happens(hl: HeadlampEmulator, backend: Backend,
                                                                       alice: Credentials) -> None:
    cluster = hl.clusters["prod"]
    events = watch.watch_objects(backend, PODS, cluster="prod", resource_version="", credentials=alice)
    try:
        kind, obj = await _next(events)  # from now: the pods that exist first
        assert (kind, obj["metadata"]["name"]) == ("ADDED", "grafana-0")
        version = obj["metadata"]["resourceVersion"]
        cluster.add_pod("monitoring", "grafana-1", labels={"app": "grafana"})
        kind, obj = await _next(events)  # the stream is open before its next event: nothing is read whole
        assert (kind, obj["metadata"]["name"]) == ("ADDED", "grafana-1")
        cluster.kill_pod("monitoring", "grafana-0", delete=True)
        seen = [await _next(events)]
        while seen[-1][0] != "DELETED":
            seen.append(await _next(events))
        assert seen[-1][1]["metadata"]["name"] == "grafana-0"
    finally:
        await events.aclose()
    again = watch.watch_objects(backend, PODS, cluster="prod", resource_version=version, credentials=alice)
    try:  # made again from a resourceVersion: what came after it, nothing before
        kind, obj = await _next(again)
        assert (kind, obj["metadata"]["name"]) == ("ADDED", "grafana-1")
    finally:
        await again.aclose()


async def test_a_refused_watch_raises_the_api_servers_403(hl: HeadlampEmulator, backend: Backend,
                                                          alice: Credentials) -> None:
    hl.clusters["prod"].forbid_token(TOKEN_A, verbs=["watch"])
    events = watch.watch_objects(backend, PODS, cluster="prod", resource_version="1", credentials=alice)
    with pytest.raises(errors.ForbiddenError) as caught:
        await _next(events)
    assert "watch" in caught.value.message


async def test_a_too_old_resource_version_raises_gone(hl: HeadlampEmulator, backend: Backend,
                                                      alice: Credentials) -> None:
    hl.clusters["prod"].api.state.changes.history_limit = 2
    for i in range(5):
        hl.clusters["prod"].add_pod("monitoring", f"filler-{i}")
    events = watch.watch_objects(backend, PODS, cluster="prod", resource_version="1", credentials=alice)
    with pytest.raises(errors.GoneError):
        await _next(events)
