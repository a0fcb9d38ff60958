"""GitOps health on objects read back from the real API server: kstatus, Flux's CEL checks, Argo CD's Lua script.

kstatus is ``sigs.k8s.io/cli-utils/pkg/kstatus`` itself (``peers/kstatus``, built from its Go module);
the Flux ``healthCheckExprs`` are read from docs/gitops.md and evaluated with cel-python as Flux's
``StatusEvaluator`` does (:mod:`headlamp_operator_testing.flux`); the Argo CD script is
``docs/argocd-health.lua`` run by Lua 5.1 (lupa's ``lua51``, the version Argo CD embeds). All must agree
with the phase the operator wrote, and none may call Current a resource with no status yet, or one whose
status is of an older generation (the operator stopped while the spec changed).
"""
from __future__ import annotations

import asyncio
import json
import subprocess
from typing import Any

import lupa.lua51 as lua51
import pytest

from headlamp_operator_testing import flux
from headlamp_operator_testing.realpeers.controlplane import peers_build
from headlamp_operator_testing.realpeers.world import ROOT, World
from tests.harness.e2e.cluster import Namespace
from tests.install.gitops import flux_health_checks

pytestmark = pytest.mark.realpeers

EXPECTED = {  # phase -> (kstatus, Flux's healthCheckExprs, Argo CD)
    "Running": ("Current", "Current", "Healthy"),
    "Stopped": ("Current", "Current", "Healthy"),
    "Applied": ("Current", "Current", "Healthy"),
    "Pending": ("InProgress", "InProgress", "Progressing"),
    "Failed": ("Failed", "Failed", "Degraded"),
}


def kstatus(objects: list[dict[str, Any]]) -> dict[str, str]:
    binary = peers_build().peer_dir("kstatus") / "kstatus"
    done = subprocess.run([str(binary)], input=json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}),
                          capture_output=True, text=True, check=True, timeout=30)
    return {json.loads(line)["name"]: json.loads(line)["status"] for line in done.stdout.splitlines()}


def argocd(obj: dict[str, Any]) -> str:
    """The Argo CD health status the script gives, with the object as Argo CD hands it over (nested tables)."""
    runtime = lua51.LuaRuntime(unpack_returned_tuples=True)
    runtime.globals().obj = runtime.table_from(obj, recursive=True)
    health = runtime.execute((ROOT / "docs" / "argocd-health.lua").read_text())
    return str(health["status"])


async def test_kstatus_flux_and_argocd_agree_with_every_phase(world: World, ns: Namespace) -> None:
    pod = await ns.echo()
    await ns.deployment("web")
    viewer = await ns.viewer_secret()
    cluster = ns.config.cluster
    target = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "namespace": ns.name}
    await ns.create("portforwards", "running", {"cluster": cluster, "pod": pod, "namespace": ns.name,
                                                "targetPort": 8080, "credentials": viewer})
    await ns.create("portforwards", "stopped", {"cluster": cluster, "pod": pod, "namespace": ns.name,
                                                "targetPort": 8080, "state": "Stopped", "credentials": viewer})
    await ns.service("no-pods")  # a Service that selects no pod: "not ready yet", Pending
    await ns.create("portforwards", "pending", {"cluster": cluster, "service": "no-pods", "namespace": ns.name,
                                                "targetPort": 80, "credentials": viewer})
    await ns.create("resourcepatches", "applied", {"cluster": cluster, "target": target,
                                                   "patch": {"metadata": {"labels": {"a": "b"}}},
                                                   "credentials": viewer})
    await ns.create("resourcepatches", "failed", {"cluster": cluster, "target": target, "patch": {},
                                                  "credentials": {"tokenSecretRef": {"name": "no-such-secret"}}})
    phases = {"running": "Running", "stopped": "Stopped", "pending": "Pending", "applied": "Applied",
              "failed": "Failed"}
    objects = []
    for name, phase in phases.items():
        plural = "resourcepatches" if phase in ("Applied", "Failed") else "portforwards"
        await ns.wait_status(plural, name, phase=phase)
        obj = await ns.get(plural, name)
        assert obj is not None
        objects.append(obj)
    checks = flux_health_checks()
    unready = await objects_without_a_current_status(world, ns, target, viewer)
    found, later = kstatus(objects), kstatus(list(unready.values()))
    for obj in objects:
        name = obj["metadata"]["name"]
        expected_kstatus, expected_flux, expected_argo = EXPECTED[phases[name]]
        assert found[f"{ns.name}/{name}"] == expected_kstatus, (name, obj["status"])
        assert flux.health(obj, checks[obj["kind"]]) == expected_flux, (name, obj["status"])
        assert argocd(obj) == expected_argo, (name, obj["status"])
    fresh, stale = unready["fresh"], unready["stale"]
    assert "status" not in fresh and stale["status"]["observedGeneration"] < stale["metadata"]["generation"]
    assert later[f"{ns.name}/fresh"] == "Current"  # the gap docs/gitops.md names: kstatus alone calls it Current
    assert flux.health(fresh, checks["ResourcePatch"]) == "Unknown"  # Flux cannot evaluate: it keeps waiting
    assert argocd(fresh) == "Progressing"
    assert later[f"{ns.name}/applied"] == "InProgress" and argocd(stale) == "Progressing"
    assert flux.health(stale, checks["ResourcePatch"]) == "InProgress"
    assert flux.evaluate(checks["ResourcePatch"].current, stale) is False  # the expression alone says so too


async def objects_without_a_current_status(world: World, ns: Namespace, target: dict[str, Any],
                                           viewer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """With the operator stopped: a ResourcePatch created but never reconciled (``fresh``, no status), and
    ``applied`` with its spec changed (``stale``: status.observedGeneration one behind), as read back."""
    world.stop_operator()
    try:
        await ns.create("resourcepatches", "fresh", {"cluster": ns.config.cluster, "target": target,
                                                     "patch": {"metadata": {"labels": {"c": "d"}}},
                                                     "credentials": viewer})
        await ns.patch_spec("resourcepatches", "applied", {"patch": {"metadata": {"labels": {"a": "changed"}}}})
        fresh, stale = await ns.get("resourcepatches", "fresh"), await ns.get("resourcepatches", "applied")
    finally:
        await asyncio.to_thread(world.start_operator)
    assert fresh is not None and stale is not None
    return {"fresh": fresh, "stale": stale}
