"""Fixtures of the real-peer suite; the world itself is brought up by :mod:`tests.realpeers.plugin`.

Without ``REAL_PEERS`` (plain ``make test``) every test here is skipped at collection with one line.
The e2e suite's fixtures (``kube``, ``headlamp``, ``ns``) are shared: they run against the world.
"""
from __future__ import annotations

import os

import pytest

from tests.e2e.conftest import e2e, headlamp, kube, ns, operator_hint  # noqa: F401 (fixtures shared with e2e)

from .plugin import WORLD_KEY
from .world import World

SKIP_REASON = ("real-peer suite: run `make test-real` (builds kube-apiserver, etcd and kwok from Go modules, "
               "needs Go 1.26+)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = os.path.dirname(__file__)
    if config.stash.get(WORLD_KEY, None) is None:
        skip = pytest.mark.skip(reason=SKIP_REASON)
        for item in items:
            if str(item.path).startswith(here):
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
