"""The operator as a separate process: SIGKILL mid-burst, two replicas with leader election, metrics."""
from __future__ import annotations

import asyncio
import collections
import pathlib
import re

import aiohttp
import kmock

from headlamp_operator_testing.headlamp import HeadlampEmulator
from headlamp_operator_testing.kopf_harness import wait_until
from headlamp_operator_testing.kubernetes import KubeClient, KubernetesEmulator, write_kubeconfig
from headlamp_operator_testing.process import free_port, operator_process
from tests.harness.memory import GROUP, TOKEN_A, VERSION

CREDS = {"tokenSecretRef": {"name": "viewer"}}
SERVICE = {"cluster": "prod", "service": "grafana", "namespace": "monitoring", "targetPort": "http",
           "credentials": CREDS}
RP = {"cluster": "prod", "target": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                                    "namespace": "shop"}, "patch": {"spec": {"replicas": 2}}, "credentials": CREDS}
ENV = {"HEADLAMP_SYNC_INTERVAL": "1", "HEADLAMP_REQUEST_TIMEOUT": "5"}


def body(kind: str, name: str, spec: dict[str, object]) -> dict[str, object]:
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": kind, "metadata": {"name": name, "namespace": "team-a"},
            "spec": spec}


def phases(kube: KubernetesEmulator, plural: str) -> collections.Counter[str]:
    return collections.Counter((o.get("status") or {}).get("phase", "-") for o in kube.list_objects(GROUP, VERSION,
                                                                                                      plural))


def watching(kube: KubernetesEmulator) -> bool:
    return all(kube.watching(GROUP, VERSION, plural) for plural in ("portforwards", "resourcepatches"))


async def prepare(kube: KubernetesEmulator, api: KubeClient) -> None:
    await api.create("", "v1", "namespaces", None, {"metadata": {"name": "team-a"}})
    await api.create("", "v1", "secrets", "team-a", {"metadata": {"name": "viewer"}, "stringData": {"token": TOKEN_A}})


async def test_sigkill_mid_burst_then_restart_converges_without_duplicates_or_lost_deletions(
        hl: HeadlampEmulator, kube: tuple[KubernetesEmulator, kmock.Server], tmp_path: pathlib.Path) -> None:
    emulator, server = kube
    url = str(server.url).rstrip("/")
    kubeconfig = write_kubeconfig(url, tmp_path / "kubeconfig")
    async with KubeClient(url) as api:
        await prepare(emulator, api)
        async with operator_process(kubeconfig=kubeconfig, headlamp_url=str(hl.url), workdir=tmp_path, name="first",
                                    env=ENV, ready=lambda: watching(emulator)) as first:
            burst = asyncio.gather(
                *(api.create(GROUP, VERSION, "portforwards", "team-a", body("PortForward", f"pf-{i}", SERVICE))
                  for i in range(30)),
                *(api.create(GROUP, VERSION, "resourcepatches", "team-a", body("ResourcePatch", f"rp-{i}", RP))
                  for i in range(30)))
            await wait_until(lambda: phases(emulator, "portforwards")["Running"] >= 5, within=30,
                             message="a few forwards running")
            first.kill()  # SIGKILL mid-burst: no cleanup, no finalizer handling
            await burst
        running = [o["metadata"]["name"] for o in emulator.list_objects(GROUP, VERSION, "portforwards")
                   if (o.get("status") or {}).get("phase") == "Running"][:5]
        for name in running:  # deleted while no operator runs: the finalizer must hold them
            await api.delete(GROUP, VERSION, "portforwards", "team-a", name)
        await api.delete(GROUP, VERSION, "resourcepatches", "team-a", "rp-0")
        assert all(emulator.get_object(GROUP, VERSION, "portforwards", "team-a", n) is not None for n in running)

        async with operator_process(kubeconfig=kubeconfig, headlamp_url=str(hl.url), workdir=tmp_path,
                                    name="second", env=ENV, ready=lambda: watching(emulator)) as second:
            def converged() -> bool:
                return (phases(emulator, "portforwards") == {"Running": 25}
                        and phases(emulator, "resourcepatches") == {"Applied": 29})
            try:
                await wait_until(converged, within=60, message="every resource converged after the restart")
            except TimeoutError:
                stuck = [o["metadata"] for o in emulator.list_objects(GROUP, VERSION, "portforwards")
                         if not o.get("status")]
                raise AssertionError(f"{phases(emulator, 'portforwards')} {phases(emulator, 'resourcepatches')}\n"
                                     f"{stuck}\n{second.log()[-3000:]}") from None
            remaining = {o["status"]["id"] for o in emulator.list_objects(GROUP, VERSION, "portforwards")}
            await wait_until(lambda: sorted(f.id for f in hl.forwards) == sorted(remaining), within=30,
                             message="exactly one forward per remaining resource")
    assert len(hl.forwards) == 25  # no duplicate forward: a 409 on our own id was adopted
    assert all(f.status == "Running" for f in hl.forwards)


async def test_two_replicas_one_active_and_takeover_after_sigkill(
        hl: HeadlampEmulator, kube: tuple[KubernetesEmulator, kmock.Server], tmp_path: pathlib.Path) -> None:
    emulator, server = kube
    emulator.create_object("", "v1", "namespaces", None, {"metadata": {"name": "headlamp-operator"}})  # the Lease's
    url = str(server.url).rstrip("/")
    kubeconfig = write_kubeconfig(url, tmp_path / "kubeconfig")
    metrics = {name: free_port() for name in ("one", "two")}
    async with KubeClient(url) as api, aiohttp.ClientSession() as http:
        await prepare(emulator, api)
        replicas = {}
        async with contextlib_stack() as stack:
            for name in ("one", "two"):
                replicas[name] = await stack.enter_async_context(operator_process(
                    kubeconfig=kubeconfig, headlamp_url=str(hl.url), workdir=tmp_path, name=name,
                    args=("--all-namespaces", "--lease-duration", "3", "--metrics-port", str(metrics[name])),
                    env={**ENV, "HEADLAMP_BACKSTAGE_TOKEN": f"replica-{name}"}, ready=lambda: watching(emulator)))
            # No waiting for anything to settle: a replica acts only once it holds the Lease, which
            # one write with a resourceVersion precondition gives to one replica at most.
            await api.create(GROUP, VERSION, "resourcepatches", "team-a", body("ResourcePatch", "first", RP))
            await wait_until(lambda: phases(emulator, "resourcepatches")["Applied"] == 1, within=30,
                             message="the first patch applied")
            senders = {r.headers.get("X-BACKSTAGE-TOKEN") for r in hl.requests}
            assert len(senders) == 1, senders  # only one replica acts
            active = senders.pop().removeprefix("replica-")
            passive = "two" if active == "one" else "one"

            # the resource gauges follow the watch: wait for the Applied status to reach the active replica
            deadline = asyncio.get_running_loop().time() + 10
            while True:
                async with http.get(f"http://127.0.0.1:{metrics[active]}/metrics") as response:
                    text = await response.text()
                if 'headlamp_operator_resources{kind="ResourcePatch",phase="Applied"} 1.0' in text \
                        or asyncio.get_running_loop().time() > deadline:
                    break
                await asyncio.sleep(0.05)
            assert re.search(r'headlamp_operator_backend_requests_total\{cluster="prod",method="PATCH",status="200"\}'
                             r" 1\.0", text), text[-2000:]
            assert 'headlamp_operator_reconciles_total{kind="ResourcePatch",result="Applied"} 1.0' in text
            assert 'headlamp_operator_resources{kind="ResourcePatch",phase="Applied"} 1.0' in text
            assert "headlamp_operator_backend_request_seconds_bucket" in text
            assert TOKEN_A not in text

            replicas[active].kill()
            hl.clear_requests()
            await api.create(GROUP, VERSION, "resourcepatches", "team-a", body("ResourcePatch", "second", RP))
            await wait_until(lambda: phases(emulator, "resourcepatches")["Applied"] == 2, within=30,
                             message="the other replica took over")
            assert {r.headers.get("X-BACKSTAGE-TOKEN") for r in hl.requests} == {f"replica-{passive}"}


def contextlib_stack():  # type: ignore[no-untyped-def]
    import contextlib
    return contextlib.AsyncExitStack()
