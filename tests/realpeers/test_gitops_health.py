"""GitOps health on objects read back from the real API server: Flux's kstatus and Argo CD's Lua script.

kstatus is ``sigs.k8s.io/cli-utils/pkg/kstatus`` itself (``peers/kstatus``, built from its Go module);
the Argo CD script is ``docs/argocd-health.lua`` run by Lua 5.1 (lupa's ``lua51``, the version Argo CD
embeds). Both must agree with the phase the operator wrote.
"""
from __future__ import annotations

import json
import subprocess
from typing import Any

import lupa.lua51 as lua51

from tests.e2e.cluster import Namespace

from .controlplane import peers_build
from .world import ROOT, World

EXPECTED = {  # phase -> (kstatus, Argo CD)
    "Running": ("Current", "Healthy"),
    "Stopped": ("Current", "Healthy"),
    "Applied": ("Current", "Healthy"),
    "Pending": ("InProgress", "Progressing"),
    "Failed": ("Failed", "Degraded"),
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


async def test_kstatus_and_the_argocd_script_agree_with_every_phase(world: World, ns: Namespace) -> None:
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
    flux = kstatus(objects)
    for obj in objects:
        name = obj["metadata"]["name"]
        expected_flux, expected_argo = EXPECTED[phases[name]]
        assert flux[f"{ns.name}/{name}"] == expected_flux, (name, obj["status"])
        assert argocd(obj) == expected_argo, (name, obj["status"])
