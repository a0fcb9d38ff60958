"""The real-peer suite's pytest plugin: ``pytest -p tests.harness.realpeers.plugin -m "realpeers or e2e"``.

``make test-real`` runs exactly that, with ``REAL_PEERS=1``, after ``python3 peers/build.py``. At
``pytest_configure`` the plugin brings up the :class:`~headlamp_operator_testing.realpeers.world.World` (real control
plane, the product installed, Headlamp) and points the e2e scenarios (marked ``e2e``) at it through the ``E2E_*``
variables, so the e2e scenarios run on the real peers unchanged; at the end it takes it all down.

A missing toolchain or peer is an error here, never a skip: a run that asked for the real peers and
did not get them must not pass. Without ``REAL_PEERS`` the suite's own tests skip with one line
(plain ``make test``).
"""
from __future__ import annotations

import os
import pathlib
import shutil
import tempfile

import pytest

from headlamp_operator_testing.realpeers.controlplane import peers_build
from headlamp_operator_testing.realpeers.world import World

WORLD_KEY = pytest.StashKey[World]()


def pytest_configure(config: pytest.Config) -> None:
    if not os.environ.get("REAL_PEERS"):
        return
    if shutil.which("go") is None:
        raise pytest.UsageError("real-peer suite: no `go` on PATH; the peers are built from Go modules (Go 1.26+)")
    peers = peers_build()
    missing = [name for name in peers.PEERS
               if not all((peers.peer_dir(name) / binary).is_file() for binary, _ in peers.PEERS[name].packages)]
    if missing:
        raise pytest.UsageError(f"real-peer suite: peers not built: {', '.join(missing)}; run `python3 peers/build.py`")
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="headlamp-operator-realpeers-"))
    world = World(workdir)
    try:
        world.start()
    except BaseException:
        world.stop()
        raise
    config.stash[WORLD_KEY] = world
    os.environ.update(world.e2e_environ())
    # The scenarios' own `kubectl` (kubectl wait) is the one built with the API server, not whatever is installed.
    os.environ["PATH"] = f"{world.cp.binary('kubectl').parent}{os.pathsep}{os.environ.get('PATH', '')}"
    versions = ", ".join(f"{name} {version}" for name, version in sorted(world.cp.versions.items()))
    print(f"\nreal peers: {versions}; {world.headlamp_description}; work folder {workdir}", flush=True)


def pytest_report_header(config: pytest.Config) -> str | None:
    world = config.stash.get(WORLD_KEY, None)
    if world is None:
        return None
    return ("real peers: " + ", ".join(f"{name} {version}" for name, version in sorted(world.cp.versions.items()))
            + f"; {world.headlamp_description}")


def pytest_unconfigure(config: pytest.Config) -> None:
    world = config.stash.get(WORLD_KEY, None)
    if world is not None:
        world.stop()
        if not os.environ.get("REAL_PEERS_KEEP"):
            shutil.rmtree(world.workdir, ignore_errors=True)
