"""The in-memory Kubernetes API (kmock's emulator, completed) against kube-apiserver, on the same requests.

One script of operations on a custom resource with a status subresource runs against both servers
over HTTP; what each answer shows (generation, whether the resourceVersion moved, the status, the
deletion, the watch events seen when resuming from a resourceVersion, error codes) is reduced to the
same observations and compared field by field. The emulator is fixed where they differ.
"""
from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import kmock
import pytest

from headlamp_operator_testing.kubernetes import KubernetesEmulator
from headlamp_operator_testing.realpeers.world import World

pytestmark = pytest.mark.realpeers

GROUP, VERSION, PLURAL = "differential.example.com", "v1", "gadgets"
MERGE, JSON_PATCH, STRATEGIC = ("application/merge-patch+json", "application/json-patch+json",
                                "application/strategic-merge-patch+json")


def crd() -> dict[str, Any]:
    schema = {"type": "object", "properties": {
        "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{PLURAL}.{GROUP}"},
            "spec": {"group": GROUP, "scope": "Namespaced",
                     "names": {"plural": PLURAL, "singular": "gadget", "kind": "Gadget"},
                     "versions": [{"name": VERSION, "served": True, "storage": True,
                                   "subresources": {"status": {}}, "schema": {"openAPIV3Schema": schema}}]}}


class Api:
    """A JSON client for one server (the emulator or kube-apiserver)."""

    def __init__(self, session: aiohttp.ClientSession, base: str, namespace: str) -> None:
        self.session, self.base = session, base.rstrip("/")
        self.collection = f"{self.base}/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{PLURAL}"

    async def call(self, method: str, path: str = "", body: Any = None, *,
                   content_type: str = "application/json") -> tuple[int, dict[str, Any]]:
        data = json.dumps(body) if body is not None else None
        async with self.session.request(method, self.collection + path, data=data,
                                        headers={"Content-Type": content_type, "Accept": "application/json"}) as r:
            text = await r.text()
            return r.status, (json.loads(text) if text.strip().startswith("{") else {"text": text})


async def script(api: Api) -> dict[str, Any]:
    """The operations, and what each showed; the same for both servers when the emulator is faithful."""
    seen: dict[str, Any] = {}
    code, created = await api.call("POST", "", {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Gadget",
                                                 "metadata": {"name": "g"}, "spec": {"size": 1},
                                                 "status": {"ignored": True}})
    meta = created["metadata"]
    seen["create"] = {"code": code, "generation": meta.get("generation"), "has_uid": bool(meta.get("uid")),
                      "has_rv": bool(meta.get("resourceVersion")), "status": created.get("status")}
    rv = meta["resourceVersion"]

    async def step(name: str, method: str, path: str, body: Any, content_type: str = MERGE) -> dict[str, Any]:
        nonlocal rv
        code, obj = await api.call(method, path, body, content_type=content_type)
        m = obj.get("metadata") or {}
        seen[name] = {"code": code, "generation": m.get("generation"), "rv_moved": m.get("resourceVersion") != rv,
                      "spec": obj.get("spec"), "status": obj.get("status"),
                      "deleting": bool(m.get("deletionTimestamp")), "finalizers": m.get("finalizers"),
                      "kind": obj.get("kind"), "reason": obj.get("reason")}
        if code < 300 and m.get("resourceVersion"):
            rv = m["resourceVersion"]
        return obj

    watch_from = rv
    await step("spec", "PATCH", "/g", {"spec": {"size": 2}})
    await step("status-subresource", "PATCH", "/g/status", {"status": {"healthy": True}})
    await step("status-via-main", "PATCH", "/g", {"status": {"healthy": False}})
    await step("noop", "PATCH", "/g", {"spec": {"size": 2}})
    await step("json-patch", "PATCH", "/g", [{"op": "replace", "path": "/spec/size", "value": 3}], JSON_PATCH)
    await step("json-test-fails", "PATCH", "/g", [{"op": "test", "path": "/spec/size", "value": 99}], JSON_PATCH)
    # a ResourcePatch's preview (dryRun=All) and its guarded undo (docs/resourcepatch.md)
    await step("dry-run", "PATCH", "/g?dryRun=All", {"spec": {"size": 10}})
    await step("after-dry-run", "GET", "/g", None)
    await step("dry-run-json-test-fails", "PATCH", "/g?dryRun=All",
               [{"op": "test", "path": "/spec/size", "value": 99}], JSON_PATCH)
    await step("guarded-undo", "PATCH", "/g", [{"op": "test", "path": "/spec/size", "value": 3},
                                               {"op": "replace", "path": "/spec/size", "value": 1},
                                               {"op": "add", "path": "/spec/extra", "value": {"a": 1}}], JSON_PATCH)
    await step("guarded-remove", "PATCH", "/g", [{"op": "test", "path": "/spec/extra", "value": {"a": 1}},
                                                 {"op": "remove", "path": "/spec/extra"}], JSON_PATCH)
    await step("strategic", "PATCH", "/g", {"spec": {"size": 4}}, STRATEGIC)
    await step("finalizer", "PATCH", "/g", {"metadata": {"finalizers": ["example.com/hold"]}})
    await step("delete", "DELETE", "/g", None)
    await step("spec-while-deleting", "PATCH", "/g", {"spec": {"size": 5}})
    await step("release", "PATCH", "/g", {"metadata": {"finalizers": None}})
    code, _ = await api.call("GET", "/g")
    seen["gone"] = code
    code, _ = await api.call("GET", "/missing")
    seen["get-missing"] = code
    seen["watch-resumed"] = await watch_types(api, watch_from)
    return seen


async def watch_types(api: Api, since: str, *, quiet: float = 2.0) -> list[tuple[str, Any]]:
    """The (type, generation) of the watch events after resourceVersion ``since``, until ``quiet`` s pass quietly."""
    events: list[tuple[str, Any]] = []
    url = f"{api.collection}?watch=true&resourceVersion={since}&allowWatchBookmarks=false"
    async with api.session.get(url) as response:
        while True:
            try:
                line = await asyncio.wait_for(response.content.readline(), quiet)
            except TimeoutError:
                return events
            if not line:
                return events
            if line.strip():
                event = json.loads(line)
                events.append((event["type"], event["object"]["metadata"].get("generation")))


@pytest.fixture
async def emulator_api() -> AsyncIterator[Api]:
    async with KubernetesEmulator() as emulator:
        emulator.register_crd(crd())
        async with kmock.Server(emulator) as server, aiohttp.ClientSession() as session:
            yield Api(session, str(server.url), "default")


@pytest.fixture
async def real_api(world: World) -> AsyncIterator[Api]:
    world.cp.kubectl("apply", "-f", "-", input=json.dumps(crd()))
    world.cp.kubectl("wait", "--for=condition=Established", f"crd/{PLURAL}.{GROUP}", "--timeout=30s")
    world.cp.kubectl("create", "namespace", "differential", check=False)
    context = ssl.create_default_context(cafile=str(world.cp.ca_file))
    headers = {"Authorization": f"Bearer {world.cp.admin_token}"}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context), headers=headers) as session:
        yield Api(session, world.cp.server, "differential")


async def test_the_kubernetes_emulator_answers_as_kube_apiserver(emulator_api: Api, real_api: Api) -> None:
    real = await script(real_api)
    emulated = await script(emulator_api)
    differences = {step: {"kube-apiserver": real[step], "emulator": emulated.get(step)}
                   for step in real if real[step] != emulated.get(step)}
    assert not differences, json.dumps(differences, indent=1, sort_keys=True)
