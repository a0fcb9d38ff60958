"""ResourcePatches whose answers only a real API server gives: subresources, 415, 403, dynamic clusters.

Every assertion about a target reads it back from the real API server.
"""
from __future__ import annotations

import base64
import json
import secrets
from typing import Any

import pytest

from headlamp_operator_testing.realpeers.world import World
from tests.harness.e2e.cluster import Namespace, eventually

pytestmark = pytest.mark.realpeers

RP = "resourcepatches"
GROUP = "realpeers.example.com"
WIDGETS = f"widgets.{GROUP}"


def widget_crd() -> dict[str, Any]:
    """A namespaced custom resource with a status subresource (custom resources refuse strategic merge)."""
    schema = {"type": "object", "properties": {
        "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": WIDGETS},
            "spec": {"group": GROUP, "scope": "Namespaced",
                     "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                     "versions": [{"name": "v1", "served": True, "storage": True,
                                   "subresources": {"status": {}}, "schema": {"openAPIV3Schema": schema}}]}}


def widget(world: World, ns: Namespace, name: str) -> dict[str, Any]:
    world.cp.kubectl("apply", "-f", "-", input=json.dumps(widget_crd()))
    world.cp.kubectl("wait", "--for=condition=Established", f"crd/{WIDGETS}", "--timeout=30s")
    body = {"apiVersion": f"{GROUP}/v1", "kind": "Widget", "metadata": {"name": name, "namespace": ns.name},
            "spec": {"size": 1}}
    world.cp.kubectl("apply", "-f", "-", input=json.dumps(body))
    return read_widget(world, ns, name)


def read_widget(world: World, ns: Namespace, name: str) -> dict[str, Any]:
    return dict(json.loads(world.cp.kubectl("-n", ns.name, "get", WIDGETS, name, "-o", "json").stdout))


async def admin_credentials(world: World, ns: Namespace) -> dict[str, Any]:
    await ns.put_secret("admin", token=world.cp.admin_token)
    return {"tokenSecretRef": {"name": "admin"}}


def widget_target(ns: Namespace, name: str) -> dict[str, str]:
    return {"apiVersion": f"{GROUP}/v1", "kind": "Widget", "name": name, "namespace": ns.name}


async def test_the_status_subresource_of_a_custom_resource(world: World, ns: Namespace) -> None:
    before = widget(world, ns, "w")
    await ns.create(RP, "status", {"cluster": ns.config.cluster, "target": widget_target(ns, "w"),
                                   "subresource": "status", "patch": {"status": {"healthy": True}},
                                   "credentials": await admin_credentials(world, ns)})
    status = await ns.wait_status(RP, "status", phase="Applied")
    after = read_widget(world, ns, "w")
    assert after["status"] == {"healthy": True}
    assert after["metadata"]["generation"] == before["metadata"]["generation"]  # status writes keep the generation
    assert status["target"]["resourceVersion"] == after["metadata"]["resourceVersion"]


async def test_a_strategic_patch_on_a_custom_resource_fails_with_the_real_415(world: World, ns: Namespace) -> None:
    widget(world, ns, "w")
    await ns.create(RP, "strategic", {"cluster": ns.config.cluster, "target": widget_target(ns, "w"),
                                      "patchType": "strategic", "patch": {"spec": {"size": 2}},
                                      "credentials": await admin_credentials(world, ns)})
    status = await ns.wait_status(RP, "strategic", phase="Failed")
    assert "415" in status["message"] or "Unsupported Media Type" in status["message"], status
    assert read_widget(world, ns, "w")["spec"] == {"size": 1}


async def test_a_token_without_rbac_is_forbidden(world: World, ns: Namespace) -> None:
    await ns.deployment("web")
    world.cp.kubectl("-n", ns.name, "create", "serviceaccount", "nobody")
    token = world.cp.kubectl("-n", ns.name, "create", "token", "nobody").stdout.strip()
    await ns.put_secret("nobody", token=token)
    await ns.create(RP, "forbidden", {"cluster": ns.config.cluster,
                                      "target": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                                                 "namespace": ns.name},
                                      "patch": {"spec": {"replicas": 3}},
                                      "credentials": {"tokenSecretRef": {"name": "nobody"}}})
    status = await ns.wait_status(RP, "forbidden", phase="Failed")
    assert status["reason"] == "Forbidden", status
    assert token not in json.dumps(status)
    assert await ns.replicas("web") == 1


async def test_a_dynamic_cluster_from_a_kubeconfig_secret(world: World, ns: Namespace) -> None:
    await ns.deployment("web")
    ca = base64.b64encode(world.cp.ca_file.read_bytes()).decode()
    name = f"dyn-{secrets.token_hex(3)}"
    kubeconfig = {"apiVersion": "v1", "kind": "Config", "current-context": name,
                  "clusters": [{"name": name, "cluster": {"server": world.cp.server,
                                                           "certificate-authority-data": ca}}],
                  "users": [{"name": "viewer", "user": {"token": await ns.token()}}],
                  "contexts": [{"name": name, "context": {"cluster": name, "user": "viewer"}}]}
    await ns.put_secret("kubeconfig", kubeconfig=json.dumps(kubeconfig) + "\n")
    await ns.create(RP, "dynamic", {"cluster": name,
                                    "target": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                                               "namespace": ns.name},
                                    "patch": {"spec": {"replicas": 2}},
                                    "credentials": {"kubeconfigSecretRef": {"name": "kubeconfig"}}})
    await ns.wait_status(RP, "dynamic", phase="Applied")
    await eventually(lambda: ns.replicas("web"), lambda n: n == 2, within=ns.within,
                     what="the Deployment patched through the dynamic cluster")
