"""A PortForward's finalizer: put on by its first reconcile before the forward starts; never on one going away."""
from __future__ import annotations

import kmock
import kopf

from headlamp_operator import crds
from headlamp_operator.kube import api as kubeapi
from headlamp_operator.kube import objects
from headlamp_operator_testing.kubernetes import KubernetesEmulator
from tests.harness.memory import GROUP, VERSION, Env

SPEC = {"cluster": "prod", "pod": "grafana-0", "namespace": "monitoring", "targetPort": 3000,
        "credentials": {"tokenSecretRef": {"name": "viewer"}}}
PATH = objects.resource_path(GROUP, VERSION, "portforwards", "team-a", "pf")


async def test_the_finalizer_is_on_before_the_forward_starts_and_written_once(env: Env) -> None:
    at_start: list[list[str]] = []
    notify = env.hl.table.notify

    async def starting() -> None:  # the backend begins a start: what does the API show of the resource then?
        obj = env.get("portforwards", "team-a", "pf") or {}
        at_start.append(list(obj.get("metadata", {}).get("finalizers") or []))
        if notify is not None:
            await notify()

    env.hl.table.notify = starting
    await env.create("portforwards", "team-a", "pf", SPEC)
    await env.wait_status("portforwards", "team-a", "pf", phase="Running")
    assert at_start == [[crds.FINALIZER]]
    metadata_writes = [r for r in env.kube.answered if r.url.path == PATH and str(r.method).upper().endswith("PATCH")]
    assert len(metadata_writes) == 1  # the finalizer, by the reconcile; kopf adds none of its own

    await env.delete("portforwards", "team-a", "pf")  # and kopf still releases it, then takes it off
    await env.wait_gone("portforwards", "team-a", "pf")
    assert env.hl.requests_for(method="DELETE", path="/clusters/prod/portforward")


Kube = tuple[KubernetesEmulator, kmock.Server]


async def test_no_finalizer_goes_on_a_resource_being_deleted_or_gone(kube: Kube) -> None:
    emulator, server = kube
    emulator.create_object("", "v1", "namespaces", None, {"metadata": {"name": "team-a"}})
    held = {"metadata": {"name": "pf", "namespace": "team-a", "finalizers": ["example.com/hold"]}, "spec": SPEC}
    emulator.create_object(GROUP, VERSION, "portforwards", "team-a", held)
    stale = emulator.get_object(GROUP, VERSION, "portforwards", "team-a", "pf")
    assert stale is not None
    api = kubeapi.KubeApi(lambda: kopf.ConnectionInfo(server=str(server.url).rstrip("/")))
    try:
        await api.request("DELETE", PATH)  # held by the other finalizer: deletionTimestamp set, still there
        # the handler's body still shows no deletion: the API server's refusal is what says "going"
        assert not await objects.add_finalizer(api, PATH, stale, crds.FINALIZER)
        gone = {**stale, "metadata": {**stale["metadata"], "name": "gone"}}
        gone_path = objects.resource_path(GROUP, VERSION, "portforwards", "team-a", "gone")
        assert not await objects.add_finalizer(api, gone_path, gone, crds.FINALIZER)
    finally:
        await api.close()
    after = emulator.get_object(GROUP, VERSION, "portforwards", "team-a", "pf")
    assert after is not None and after["metadata"]["finalizers"] == ["example.com/hold"]
