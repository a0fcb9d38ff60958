"""Leader election on the real kube-apiserver: replicas started together, exactly one acts; SIGKILL, the other
takes over (issue 12: no split brain).

The Lease is taken and renewed only by writes carrying the resourceVersion the replica read, and here the
real API server judges those preconditions. Each round starts two replicas at the same instant, as a
Deployment's rollout does, and looks at what each one did: the one holding the Lease applies the
ResourcePatch, the other one's metrics show no reconcile at all; then the holder is SIGKILLed and the
other one holds the Lease and applies the next one.
"""
from __future__ import annotations

import contextlib
import json
import os
import pathlib
import signal
import subprocess
import urllib.request
from collections.abc import Iterator

import pytest

from headlamp_operator_testing.process import operator_command
from headlamp_operator_testing.realpeers.controlplane import free_ports
from headlamp_operator_testing.realpeers.world import CLUSTER, OPERATOR_NAMESPACE, World, wait_for

pytestmark = pytest.mark.realpeers

ROUNDS = 3
LEASE = "headlamp-operator"
NAMESPACE = "realpeers-ha"


def lease_holder(world: World) -> str:
    done = world.cp.kubectl("-n", OPERATOR_NAMESPACE, "get", "lease", LEASE, "-o", "json", check=False)
    if done.returncode != 0:
        return ""
    return str((json.loads(done.stdout).get("spec") or {}).get("holderIdentity") or "")


def reconciles(port: int) -> float:
    """How many ResourcePatch reconciles a replica counted (its /metrics)."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith('headlamp_operator_reconciles_total{kind="ResourcePatch"'))


def answers(port: int) -> bool:
    """Whether a replica serves /metrics yet (it does from its start, before the election)."""
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).close()
    except OSError:
        return False
    return True


def ready(world: World, name: str) -> bool:
    done = world.cp.kubectl("-n", NAMESPACE, "get", "resourcepatch", name, "-o", "json", check=False)
    if done.returncode != 0:
        return False
    conditions = (json.loads(done.stdout).get("status") or {}).get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def resourcepatch(world: World, name: str) -> None:
    world.cp.kubectl("apply", "-f", "-", input=json.dumps({
        "apiVersion": "headlamp-operator.dev/v1alpha1", "kind": "ResourcePatch",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {"cluster": CLUSTER, "patch": {"data": {name: "applied"}},
                 "target": {"apiVersion": "v1", "kind": "ConfigMap", "name": "ha-target", "namespace": NAMESPACE}}}))


@pytest.fixture(scope="module")
def quiet_world(world: World) -> Iterator[World]:
    """The world without its own operator (it would hold the same Lease); given back afterwards."""
    world.stop_operator()
    world.cp.kubectl("create", "namespace", NAMESPACE)
    world.cp.kubectl("-n", NAMESPACE, "create", "configmap", "ha-target")
    try:
        yield world
    finally:
        world.cp.kubectl("delete", "namespace", NAMESPACE, "--wait=false", check=False)
        world.start_operator()


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_replicas_started_together_one_acts_and_the_other_takes_over_after_sigkill(
        quiet_world: World, tmp_path: pathlib.Path, round_: int) -> None:
    world = quiet_world
    wait_for(lambda: lease_holder(world) == "", within=30, what="the Lease free (released by the last holder)",
             log=lambda: world.cp.kubectl("-n", OPERATOR_NAMESPACE, "get", "lease", "-o", "yaml").stdout)
    names = (f"replica-a{round_}", f"replica-b{round_}")
    ports = dict(zip(names, free_ports(2), strict=True))
    logs = {name: tmp_path / f"{name}.log" for name in names}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEADLAMP_", "KUBECONFIG"))}
    env.update({"KUBECONFIG": str(world.operator_kubeconfig), "HEADLAMP_URL": world.headlamp_url,
                "HEADLAMP_ALLOW_ANONYMOUS": "true", "POD_NAMESPACE": OPERATOR_NAMESPACE, "PYTHONUNBUFFERED": "1"})
    replicas: dict[str, subprocess.Popen[bytes]] = {}
    with contextlib.ExitStack() as stack:
        for name in names:  # both at once, as a rollout starts them
            out = stack.enter_context(logs[name].open("wb"))
            replicas[name] = subprocess.Popen(
                [*operator_command(), "run", "--all-namespaces", "--lease-duration=3", f"--metrics-port={ports[name]}"],
                env={**env, "POD_ID": name}, stdout=out, stderr=subprocess.STDOUT)
        try:
            def log(name: str) -> str:
                return logs[name].read_text(errors="replace")

            wait_for(lambda: all(answers(ports[name]) for name in names), within=60, what="both replicas up",
                     log=lambda: log(names[0]) + log(names[1]))
            wait_for(lambda: lease_holder(world) in names, within=60, what="one replica holding the Lease",
                     log=lambda: log(names[0]) + log(names[1]))
            first = f"first-{round_}"
            resourcepatch(world, first)
            wait_for(lambda: ready(world, first), within=60, what=f"{first} Ready",
                     log=lambda: log(names[0]) + log(names[1]))
            active = lease_holder(world)
            standby = names[1] if active == names[0] else names[0]
            assert reconciles(ports[active]) >= 1
            assert reconciles(ports[standby]) == 0, log(standby)  # the standby never acted
            assert "this replica acts" in log(active) and "this replica acts" not in log(standby)
            assert f"[ResourcePatch {NAMESPACE}/{first}]" not in log(standby)

            replicas[active].send_signal(signal.SIGKILL)
            replicas[active].wait(timeout=10)
            second = f"second-{round_}"
            resourcepatch(world, second)
            wait_for(lambda: ready(world, second), within=60, what=f"{second} Ready after the takeover",
                     log=lambda: log(standby))
            assert lease_holder(world) == standby
            assert reconciles(ports[standby]) >= 1
            assert "this replica acts" in log(standby)
        finally:
            for process in replicas.values():
                if process.poll() is None:
                    process.terminate()
            for process in replicas.values():
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
