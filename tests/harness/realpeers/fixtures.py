"""The real-peer harness, for tests marked ``realpeers``: the world the plugin
(:mod:`tests.harness.realpeers.plugin`) brought up; the e2e harness's fixtures (``headlamp``, ``ns``) run against it.

Without ``REAL_PEERS`` (plain ``make test``) every test marked ``realpeers`` is skipped at collection with one line.
"""
from __future__ import annotations

import pytest

from headlamp_operator_testing.realpeers.world import World
from tests.harness.realpeers.plugin import WORLD_KEY

SKIP_REASON = ("real-peer suite: run `make test-real` (builds kube-apiserver, etcd and kwok from Go modules, "
               "needs Go 1.26+)")


def skip_unless_running(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the tests marked ``realpeers`` without a world; with one, those needing the emulator when the real
    headlamp-server is in use, and order the checks over the whole run last."""
    if config.stash.get(WORLD_KEY, None) is None:
        skip = pytest.mark.skip(reason=SKIP_REASON)
        for item in items:
            if item.get_closest_marker("realpeers") is not None:
                item.add_marker(skip)
        return
    world = config.stash[WORLD_KEY]
    if world.headlamp_server is not None:  # the real backend has no emulator knobs: those tests say so
        for item in items:
            marker = item.get_closest_marker("emulator_only")
            if marker is not None:
                reason = marker.args[0] if marker.args else "needs the Headlamp emulator"
                item.add_marker(pytest.mark.skip(reason=f"emulator only ({reason}): HEADLAMP_SERVER is set"))
    # Checks over the whole run (the operator's log) go last, after the e2e scenarios too.
    items.sort(key=lambda item: item.get_closest_marker("realpeers_last") is not None)


@pytest.fixture(scope="session")
def world(request: pytest.FixtureRequest) -> World:
    """The running world (control plane, installed product, Headlamp, the operator)."""
    found = request.config.stash.get(WORLD_KEY, None)
    if found is None:
        pytest.skip(SKIP_REASON)
    return found
