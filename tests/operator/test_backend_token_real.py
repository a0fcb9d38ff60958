"""Headlamp run with a backend token (``HEADLAMP_BACKEND_TOKEN``, the desktop app's setting).

The operator is restarted against the guarded Headlamp instance, first without the token (every
``/clusters/...`` request is refused with 403 ``access denied``), then with it.
"""
from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from headlamp_operator_testing.realpeers.world import BACKEND_TOKEN, World
from tests.harness.e2e.cluster import Namespace

pytestmark = pytest.mark.realpeers


@pytest.fixture
def guarded_operator(world: World) -> Iterator[World]:
    """The operator pointed at the guarded Headlamp for one test; the default operator again afterwards."""
    try:
        yield world
    finally:
        world.restart_operator()


async def test_without_the_backend_token_headlamp_refuses_and_with_it_the_patch_applies(
        guarded_operator: World, ns: Namespace) -> None:
    world = guarded_operator
    await ns.deployment("web")
    viewer = await ns.viewer_secret()
    await asyncio.to_thread(world.restart_operator, HEADLAMP_URL=world.guarded_url)
    target = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "namespace": ns.name}
    await ns.create("resourcepatches", "guarded", {"cluster": ns.config.cluster, "target": target,
                                                   "patch": {"spec": {"replicas": 2}}, "credentials": viewer})
    refused = await ns.wait_status("resourcepatches", "guarded", phase="Failed")
    assert refused["reason"] == "Forbidden", refused
    assert "access denied" in refused["message"], refused
    assert await ns.replicas("web") == 1

    await asyncio.to_thread(world.restart_operator, HEADLAMP_URL=world.guarded_url,
                            HEADLAMP_BACKEND_TOKEN=BACKEND_TOKEN)
    await ns.patch_spec("resourcepatches", "guarded", {"patch": {"spec": {"replicas": 3}}})
    await ns.wait_ready("resourcepatches", "guarded")
    assert await ns.replicas("web") == 3
    assert BACKEND_TOKEN not in str(await ns.status("resourcepatches", "guarded"))
