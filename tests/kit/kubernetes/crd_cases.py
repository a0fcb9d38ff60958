"""Requests that kube-apiserver refuses (or accepts, pruned and defaulted) for this project's two CRDs.

The same cases run against kube-apiserver (``tests/kit/kubernetes/test_crd_validation_differential_real.py``)
and against the in-memory API (``tests/kit/kubernetes/test_crd_validation.py``). Each answer is reduced to an
observation: the code and, for a refusal, the Status reason, its causes (field, reason, message) and
its message; for an acceptance, the object's spec (after pruning and defaulting) and the status the
write produced. kube-apiserver lists the causes of one refusal in Go map order, which changes from
one request to the next, so causes are sorted and a message that lists several is rebuilt in that
sorted order, after checking that it listed exactly its causes.

``crd_answers.json`` holds kube-apiserver v1.36's observations; the real-peer test checks it is still
what kube-apiserver answers (``CRD_ANSWERS_RECORD=1`` rewrites it from the real server).
"""
from __future__ import annotations

import asyncio
import dataclasses
import json
import pathlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

GROUP, VERSION = "headlamp-operator.dev", "v1alpha1"
WIDGETS = ("crd-validation.example.com", "v1", "Widget")  # schema features that our two CRDs do not use
GADGETS = ("crd-validation.example.com", "v1", "Gadget")  # a CRD that gains defaults after objects are stored
RESOURCES = {"portforwards": (GROUP, VERSION, "PortForward"), "resourcepatches": (GROUP, VERSION, "ResourcePatch"),
             "widgets": WIDGETS, "gadgets": GADGETS}
NAMESPACE = "crd-validation"
MERGE, JSON_PATCH = "application/merge-patch+json", "application/json-patch+json"
ANSWERS = pathlib.Path(__file__).with_name("crd_answers.json")
STORED = {  # the objects the update cases change (with dryRun=All: they stay as they are)
    "portforwards": {"cluster": "c1", "service": "web", "targetPort": "http", "state": "Stopped",
                     "deletionPolicy": "Orphan"},
    "resourcepatches": {"cluster": "c1", "target": {"apiVersion": "v1", "kind": "ConfigMap", "name": "x"},
                        "patch": {"data": {"a": "b"}}, "reapplyInterval": "5m"},
    "widgets": {"size": 1, "count": 5},
}


def _widget_schema() -> dict[str, Any]:
    integer, string = {"type": "integer"}, {"type": "string"}
    spec = {"type": "object", "x-kubernetes-validations": [
        {"rule": "self.size > 0"},
        {"rule": "self.size < 100", "messageExpression": "'size too big'"},
        {"rule": "!has(self.forbidden)", "reason": "FieldValueForbidden", "fieldPath": ".forbidden",
         "message": "forbidden is forbidden"}],
        "properties": {
            "size": {**integer, "format": "int32", "minimum": -5, "exclusiveMinimum": True, "multipleOf": 1},
            "ratio": {"type": "number", "maximum": 1.5, "exclusiveMaximum": True},
            "forbidden": string,
            "maybe": {**string, "nullable": True, "default": "dflt"},
            "tags": {"type": "array", "minItems": 1, "maxItems": 2, "x-kubernetes-list-type": "set",
                     "items": {**string, "maxLength": 3},
                     "x-kubernetes-validations": [{"rule": "self.all(t, t != 'bad')", "message": "no bad tags"}]},
            "labels": {"type": "object", "maxProperties": 1, "additionalProperties": {**integer, "minimum": 0}},
            "inner": {"type": "object", "default": {}, "properties": {"mode": {**string, "default": "fast"},
                                                                      "level": {**integer, "default": 3}}},
            "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True, "properties": {"known": integer}},
            "ios": {"x-kubernetes-int-or-string": True},
            "any": {"x-kubernetes-preserve-unknown-fields": True},
            "count": {**integer, "x-kubernetes-validations": [{"rule": "self >= oldSelf",
                                                                "message": "count may not go down"}]}}}
    return {"type": "object", "properties": {"spec": spec, "status": {"type": "object", "properties": {
        "n": integer}}}}


def widget_crd() -> dict[str, Any]:
    """A CRD whose schema uses what ours do not: formats, nullable, list types, messageExpression..."""
    group, version, kind = WIDGETS
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"widgets.{group}"},
            "spec": {"group": group, "scope": "Namespaced",
                     "names": {"kind": kind, "plural": "widgets", "singular": "widget", "listKind": "WidgetList"},
                     "versions": [{"name": version, "served": True, "storage": True, "subresources": {"status": {}},
                                   "schema": {"openAPIV3Schema": _widget_schema()}}]}}


def gadget_crd(*, defaults: bool) -> dict[str, Any]:
    """A CRD before (``defaults=False``) and after an upgrade that adds defaulted fields, as issue 26's
    ``spec.dryRun`` and ``spec.revertOnDelete`` were added to ResourcePatch's."""
    group, version, kind = GADGETS
    spec: dict[str, Any] = {"type": "object", "properties": {"size": {"type": "integer"}}}
    if defaults:
        spec["properties"] |= {"dryRun": {"type": "boolean", "default": False},
                               "inner": {"type": "object", "default": {},
                                         "properties": {"mode": {"type": "string", "default": "fast"}}}}
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"gadgets.{group}"},
            "spec": {"group": group, "scope": "Namespaced",
                     "names": {"kind": kind, "plural": "gadgets", "singular": "gadget", "listKind": "GadgetList"},
                     "versions": [{"name": version, "served": True, "storage": True, "subresources": {"status": {}},
                                   "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                                       "spec": spec, "status": {"type": "object", "properties": {
                                           "n": {"type": "integer"}}}}}}}]}}


PF = {"cluster": "c1", "service": "web", "targetPort": 8080}
RP = {"cluster": "c1", "target": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
      "patch": {"spec": {"replicas": 2}}}
COND = {"type": "Ready", "status": "True", "reason": "Started", "message": "",
        "lastTransitionTime": "2026-01-01T00:00:00Z"}


@dataclasses.dataclass(frozen=True)
class Case:
    """One request: a dry-run create (``body`` is the spec, or the whole object with ``whole``) or a
    dry-run patch of the stored object (``patch``), through ``/status`` with ``status``."""

    name: str
    plural: str
    body: Any = None
    patch: Any = None
    content_type: str = MERGE
    status: bool = False
    whole: bool = False
    put: Any = None  # a PUT of the stored object with these spec fields changed
    keep_rv: bool = True  # the PUT sends the stored object's resourceVersion


def obj(plural: str, name: str, spec: Any, **extra: Any) -> dict[str, Any]:
    """A manifest of one of the kinds."""
    group, version, kind = RESOURCES[plural]
    return {"apiVersion": f"{group}/{version}", "kind": kind, "metadata": {"name": name}, "spec": spec, **extra}


def _w(name: str, **spec: Any) -> Case:
    return Case(name, "widgets", spec)


def _pf(name: str, **spec: Any) -> Case:
    return Case(name, "portforwards", {**PF, **spec})


def _rp(name: str, **spec: Any) -> Case:
    return Case(name, "resourcepatches", {**RP, **spec})


CASES: tuple[Case, ...] = (
    # accepted: defaults applied, unknown fields and nulls dropped
    _pf("pf-minimal"),
    _pf("pf-every-field", pod=None, namespace="apps", serviceNamespace="apps", port=9000, address="127.0.0.1",
        id="my-id", state="Stopped", deletionPolicy="Stop", credentials={"tokenSecretRef": {"name": "tok"}}),
    Case("pf-unknown-fields-pruned", "portforwards", whole=True, body=obj(
        "portforwards", "pf-unknown-fields-pruned", {**PF, "bogus": 1, "credentials": {
            "tokenSecretRef": {"name": "tok", "namespace": "elsewhere"}}},
        extra={"x": 1}, status={"phase": "Running"})),
    _pf("pf-nulls-dropped", port=None, state=None, credentials=None),
    _pf("pf-integral-float", port=9000.0),
    Case("pf-adopt-by-id", "portforwards", {"cluster": "c1", "id": "existing"}),
    # refused by the schema
    _pf("pf-port-string", port="80"),
    _pf("pf-port-float", port=80.5),
    _pf("pf-port-too-big", port=70000),
    _pf("pf-port-zero", port=0),
    _pf("pf-state-unsupported", state="Paused"),
    _pf("pf-state-integer", state=3),
    _pf("pf-service-pattern", service="Web"),
    _pf("pf-service-too-long", service="a" * 70),
    _pf("pf-cluster-empty", cluster=""),
    _pf("pf-cluster-dots", cluster=".."),
    Case("pf-cluster-missing", "portforwards", {"service": "web", "targetPort": 80}),
    Case("pf-spec-missing", "portforwards", whole=True, body={
        "apiVersion": f"{GROUP}/{VERSION}", "kind": "PortForward", "metadata": {"name": "pf-spec-missing"}}),
    Case("pf-spec-string", "portforwards", "hello"),
    _pf("pf-target-port-quoted-number", targetPort="3000"),
    _pf("pf-target-port-too-big", targetPort=70000),
    _pf("pf-target-port-boolean", targetPort=True),
    _pf("pf-credentials-empty", credentials={}),
    _pf("pf-secret-ref-without-name", credentials={"tokenSecretRef": {"key": "k"}}),
    _pf("pf-secret-ref-string", credentials={"tokenSecretRef": "tok"}),
    Case("pf-several-errors", "portforwards", {"cluster": "", "service": "Web", "port": "x", "state": "X"}),
    Case("pf-bad-name", "portforwards", whole=True, body=obj("portforwards", "PF_bad", PF)),
    Case("pf-wrong-kind", "portforwards", whole=True, body={**obj("portforwards", "pf-wrong-kind", PF),
                                                              "kind": "Other"}),
    # refused by CEL rules
    _pf("pf-pod-and-service", pod="web-0"),
    Case("pf-nothing-to-forward", "portforwards", {"cluster": "c1"}),
    Case("pf-empty-id", "portforwards", {"cluster": "c1", "id": ""}),
    Case("pf-pod-without-target-port", "portforwards", {"cluster": "c1", "pod": "web-0"}),
    Case("pf-two-rules", "portforwards", {"cluster": "c1", "pod": "web-0", "service": "web"}),
    _rp("rp-minimal"),
    _rp("rp-json-patch", patchType="json", patch=[{"op": "replace", "path": "/spec/replicas", "value": 2}],
        subresource="scale", reapplyInterval="1h30m"),
    _rp("rp-reapply-10s", reapplyInterval="10s"),
    _rp("rp-reapply-29999ms", reapplyInterval="29999ms"),
    _rp("rp-reapply-not-a-duration", reapplyInterval="10x"),
    _rp("rp-subresource-unsupported", subresource="foo"),
    _rp("rp-patch-type-unsupported", patchType="apply"),
    _rp("rp-patch-null", patch=None),
    Case("rp-required-fields", "resourcepatches", {"cluster": "c1", "target": {"kind": "ConfigMap"}}),
    _rp("rp-target-pattern", target={"apiVersion": "apps/v1", "kind": "deployment", "name": "-web"}),
    # dryRun and revertOnDelete (issue 26): booleans defaulted to false (rp-minimal), and the CEL rule
    # that refuses to revert a strategic merge patch (it runs on the defaulted spec)
    _rp("rp-revert-strategic", revertOnDelete=True, patchType="strategic"),
    _rp("rp-revert-merge", revertOnDelete=True, patchType="merge"),
    _rp("rp-revert-default-patch-type", revertOnDelete=True),
    _rp("rp-revert-json-dry-run", revertOnDelete=True, dryRun=True, patchType="json",
        patch=[{"op": "replace", "path": "/spec/replicas", "value": 2}]),
    _rp("rp-strategic-without-revert", patchType="strategic", revertOnDelete=False),
    _rp("rp-strategic-revert-defaulted", patchType="strategic"),  # the rule reads the defaulted revertOnDelete
    _rp("rp-dry-run-string", dryRun="true"),
    _rp("rp-revert-number", revertOnDelete=1),
    _rp("rp-dry-run-and-revert-null-defaulted", dryRun=None, revertOnDelete=None),
    # updates of the stored objects
    Case("pf-cluster-changed", "portforwards", patch={"spec": {"cluster": "c2"}}),
    Case("pf-cluster-changed-json-patch", "portforwards", content_type=JSON_PATCH,
         patch=[{"op": "replace", "path": "/spec/cluster", "value": "c2"}]),
    Case("pf-cluster-removed", "portforwards", patch={"spec": {"cluster": None}}),
    Case("pf-pod-added", "portforwards", patch={"spec": {"pod": "web-0"}}),
    Case("pf-cluster-changed-and-pod-added", "portforwards", patch={"spec": {"cluster": "c2", "pod": "web-0"}}),
    Case("pf-cluster-changed-and-bad-state", "portforwards", patch={"spec": {"cluster": "c2", "state": "X"}}),
    Case("pf-update-unknown-field-pruned", "portforwards", patch={"spec": {"bogus": 1, "port": 8081}}),
    Case("pf-update-state-removed-defaulted", "portforwards", patch={"spec": {"state": None}}),
    Case("pf-status-phase-unsupported", "portforwards", status=True, patch={"status": {"phase": "Bogus"}}),
    Case("pf-status-duplicate-condition", "portforwards", status=True, patch={"status": {"conditions": [
        COND, {**COND, "status": "False"}]}}),
    Case("pf-status-bad-date", "portforwards", status=True, patch={"status": {"lastSyncTime": "yesterday"}}),
    Case("pf-status-condition-incomplete", "portforwards", status=True, patch={"status": {"conditions": [
        {"type": "Ready"}]}}),
    Case("pf-status-negative-generation", "portforwards", status=True, patch={"status": {"observedGeneration": -1}}),
    Case("pf-status-pruned", "portforwards", status=True, patch={"status": {
        "phase": "Pending", "junk": 1, "kopf": {"progress": {"x": {"retries": 1}}}, "conditions": [COND]}}),
    Case("pf-status-via-main-endpoint-ignored", "portforwards", patch={"status": {"phase": "Bogus"}}),
    Case("rp-cluster-changed", "resourcepatches", patch={"spec": {"cluster": "c2"}}),
    Case("rp-reapply-10s-on-update", "resourcepatches", patch={"spec": {"reapplyInterval": "10s"}}),
    Case("rp-reapply-cleared", "resourcepatches", patch={"spec": {"reapplyInterval": ""}}),
    Case("rp-revert-strategic-on-update", "resourcepatches",
         patch={"spec": {"revertOnDelete": True, "patchType": "strategic"}}),
    Case("rp-revert-on-update-then-strategic", "resourcepatches", content_type=JSON_PATCH, patch=[
        {"op": "replace", "path": "/spec/revertOnDelete", "value": True},
        {"op": "add", "path": "/spec/patchType", "value": "strategic"}]),
    Case("rp-dry-run-removed-defaulted", "resourcepatches", patch={"spec": {"dryRun": None}}),
    Case("rp-status-previewed", "resourcepatches", status=True, patch={"status": {
        "phase": "Previewed", "reason": "Previewed", "preview": [
            {"path": "/data/a", "before": '"b"', "after": '"c"'}, {"path": "/data/new", "after": '"x"'},
            {"path": "/data/big", "before": "[1048576 bytes, sha256:" + "0" * 64 + "]"}]}}),
    Case("rp-status-preview-too-long", "resourcepatches", status=True, patch={"status": {
        "preview": [{"path": f"/data/k{i}", "after": "1"} for i in range(1025)]}}),
    Case("rp-status-preview-without-path", "resourcepatches", status=True, patch={"status": {
        "preview": [{"before": "1"}]}}),
    Case("rp-status-revert", "resourcepatches", status=True, patch={"status": {
        "driftCorrections": 3, "lastDriftTime": "2026-01-01T00:00:00Z", "revert": {
            "patch": "sha256:" + "a" * 64, "complete": True, "secretName": "stored-revert",
            "target": {"apiVersion": "v1", "kind": "ConfigMap", "namespace": NAMESPACE, "name": "x",
                       "subresource": "", "uid": "0b6e3c9e-5f3a-4d55-9a51-1d2f0c1e7a10"},
            "paths": [{"path": "/data/a", "before": '"old"', "applied": "sha256:" + "b" * 64},
                      {"path": "/data/b"}]}}}),
    Case("rp-status-revert-bad-digests", "resourcepatches", status=True, patch={"status": {"revert": {
        "patch": "a" * 64, "paths": [{"path": "/data/a", "applied": "sha256:XYZ"}]}}}),
    Case("rp-status-drift-negative", "resourcepatches", status=True, patch={"status": {
        "driftCorrections": -1, "lastDriftTime": "yesterday"}}),
    Case("pf-put-cluster-changed", "portforwards", put={"cluster": "c2"}),
    Case("pf-put-port-string", "portforwards", put={"port": "x"}),
    Case("pf-put-without-resource-version", "portforwards", put={"port": 1}, keep_rv=False),
    # a schema with the features our CRDs do not use
    _w("w-defaults", size=1),
    _w("w-rule-without-message", size=0),
    _w("w-exclusive-minimum-and-rule", size=-5),
    _w("w-message-expression", size=200),
    _w("w-int32", size=3000000000),
    _w("w-reason-and-field-path", size=1, forbidden="x"),
    _w("w-exclusive-maximum", size=1, ratio=1.5),
    _w("w-number-type", size=1, ratio="x"),
    _w("w-nullable-keeps-null", size=1, maybe=None),
    _w("w-min-items", size=1, tags=[]),
    _w("w-max-items", size=1, tags=["a", "b", "c"]),
    _w("w-set-duplicate", size=1, tags=["a", "a"]),
    _w("w-item-too-long", size=1, tags=["abcd"]),
    _w("w-list-rule", size=1, tags=["bad"]),
    _w("w-item-type", size=1, tags=[1]),
    _w("w-max-properties", size=1, labels={"a": 1, "b": 2}),
    _w("w-additional-properties", size=1, labels={"a": -1}),
    _w("w-nested-defaults", size=1, inner={"level": 5}),
    _w("w-preserve-unknown-with-properties", size=1, free={"known": 1, "other": {"x": 1}}),
    _w("w-preserve-unknown-known-field", size=1, free={"known": "x"}),
    _w("w-int-or-string-float", size=1, ios=1.5),
    _w("w-anything", size=1, any=[1, {"a": None}]),
    _w("w-rule-on-missing-field"),
    Case("w-transition-rule", "widgets", patch={"spec": {"count": 4}}),
    Case("w-transition-rule-field-removed", "widgets", patch={"spec": {"count": None}}),
    Case("w-transition-passes-other-rule-fails", "widgets", patch={"spec": {"count": 6, "size": 0}}),
)


class Api:
    """The two kinds' collections on one server (kube-apiserver or the emulator), in :data:`NAMESPACE`."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session, self.base = session, base.rstrip("/")

    def url(self, plural: str, name: str = "", status: bool = False) -> str:
        group, version, _ = RESOURCES[plural]
        path = f"{self.base}/apis/{group}/{version}/namespaces/{NAMESPACE}/{plural}"
        return path + (f"/{name}" if name else "") + ("/status" if status else "")

    async def call(self, method: str, url: str, body: Any = None,
                   content_type: str = "application/json") -> tuple[int, dict[str, Any]]:
        data = None if body is None else json.dumps(body)
        async with self.session.request(method, url, data=data,
                                        headers={"Content-Type": content_type, "Accept": "application/json"}) as r:
            return r.status, await r.json(content_type=None)

    async def store(self) -> None:
        """Create the objects that the update cases patch (once; an existing one is kept)."""
        for plural, spec in STORED.items():
            code, answer = await self.call("POST", self.url(plural), obj(plural, "stored", spec))
            assert code in (201, 409), answer


def normalize_message(message: str, causes: list[dict[str, Any]]) -> str:
    """The message with its listed causes in sorted order (kube-apiserver's order is Go's random map order)."""
    parts = [f"{cause.get('field')}: {cause.get('message')}" for cause in causes]
    listed = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
    if not parts or not message.endswith(f" is invalid: {listed}"):
        return message  # not the usual shape: kept whole, so that a difference shows
    ordered = parts[0] if len(parts) == 1 else "[" + ", ".join(sorted(parts)) + "]"
    return message[:-len(listed)] + ordered


def observe(case: Case, code: int, answer: dict[str, Any]) -> dict[str, Any]:
    """What the answer shows, in a form that both servers' answers can be compared in."""
    if code >= 300:
        details = answer.get("details") or {}
        causes = list(details.get("causes") or [])
        return {"code": code, "status": answer.get("status"), "reason": answer.get("reason"),
                "message": normalize_message(str(answer.get("message")), causes),
                "details": {key: details.get(key) for key in ("name", "group", "kind")},
                "causes": sorted([c.get("field"), c.get("reason"), c.get("message")] for c in causes)}
    seen: dict[str, Any] = {"code": code, "spec": answer.get("spec")}
    if case.status:  # the fields the patch named (the rest of the status is the operator's, on a real cluster)
        status = answer.get("status") or {}
        seen["status"] = _project(status, case.patch["status"]) | {"junk": status.get("junk")}
    elif case.patch is None and case.put is None:
        seen["status"] = answer.get("status")
        seen["extra"] = answer.get("extra")
    return seen


def _project(value: Any, shape: Any) -> Any:
    """The parts of ``value`` that ``shape`` (a patch) names, down to its leaves."""
    if isinstance(shape, dict) and isinstance(value, dict):
        return {key: _project(value.get(key), sub) for key, sub in shape.items()}
    return value


async def run(api: Api) -> dict[str, dict[str, Any]]:
    """Every case against one server (after :meth:`Api.store`), observed."""
    seen: dict[str, dict[str, Any]] = {}
    for case in CASES:
        if case.put is not None:
            code, answer = await _put(api, case)
        elif case.patch is None:
            body = case.body if case.whole else obj(case.plural, case.name, case.body)
            code, answer = await api.call("POST", api.url(case.plural) + "?dryRun=All", body)
        else:
            code, answer = await api.call("PATCH", api.url(case.plural, "stored", case.status) + "?dryRun=All",
                                          case.patch, case.content_type)
        seen[case.name] = observe(case, code, answer)
    return seen


async def _put(api: Api, case: Case) -> tuple[int, dict[str, Any]]:
    """GET the stored object, change its spec, PUT it (again if a controller wrote it in between: 409)."""
    for _ in range(10):
        code, current = await api.call("GET", api.url(case.plural, "stored"))
        assert code == 200, current
        current["spec"].update(case.put)
        if not case.keep_rv:
            del current["metadata"]["resourceVersion"]
        code, answer = await api.call("PUT", api.url(case.plural, "stored") + "?dryRun=All", current)
        if code != 409:
            return code, answer
    return code, answer


async def read_after_new_defaults(api: Api, apply_crd: Callable[[dict[str, Any]], Awaitable[None]]) -> dict[str, Any]:
    """An object stored before its CRD gained defaults, read after: kube-apiserver defaults what it reads
    from etcd, so GET and LIST show the new defaults at the old resourceVersion (nothing was written). The
    first patch that sets what is already there is still a write (new resourceVersion, same generation):
    kube-apiserver compares the bytes it would store with etcd's, which lack the defaults; the next is not."""
    await apply_crd(gadget_crd(defaults=False))
    await api.call("DELETE", api.url("gadgets", "g"))  # a left-over of an earlier run, if any
    code, created = await api.call("POST", api.url("gadgets"), obj("gadgets", "g", {"size": 1}))
    assert code == 201, created
    before = created["metadata"]["resourceVersion"]
    await apply_crd(gadget_crd(defaults=True))
    deadline = time.monotonic() + 30
    while True:  # kube-apiserver serves the new schema a moment after the CRD's update
        code, got = await api.call("GET", api.url("gadgets", "g"))
        if "dryRun" in got.get("spec", {}) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    _, listed = await api.call("GET", api.url("gadgets"))
    _, patched = await api.call("PATCH", api.url("gadgets", "g"), {"spec": {"size": 1}}, MERGE)
    _, again = await api.call("PATCH", api.url("gadgets", "g"), {"spec": {"size": 1}}, MERGE)
    _, status = await api.call("PATCH", api.url("gadgets", "g", status=True), {"status": {"n": 1}}, MERGE)
    return {"created": created["spec"], "read": got["spec"], "listed": [item["spec"] for item in listed["items"]],
            "read at the stored resourceVersion": got["metadata"]["resourceVersion"] == before,
            "a patch changing nothing writes (etcd lacked the defaults)": patched["metadata"]["resourceVersion"]
            != before,
            "generation after it": patched["metadata"]["generation"],
            "the same patch again writes nothing": again["metadata"]["resourceVersion"]
            == patched["metadata"]["resourceVersion"],
            "a status write keeps the defaulted spec": status["spec"]}


READ_AFTER_NEW_DEFAULTS = {  # kube-apiserver v1.36's answer (the real-peer test checks it still is)
    "created": {"size": 1},
    "read": {"size": 1, "dryRun": False, "inner": {"mode": "fast"}},
    "listed": [{"size": 1, "dryRun": False, "inner": {"mode": "fast"}}],
    "read at the stored resourceVersion": True,
    "a patch changing nothing writes (etcd lacked the defaults)": True,
    "generation after it": 1,
    "the same patch again writes nothing": True,
    "a status write keeps the defaulted spec": {"size": 1, "dryRun": False, "inner": {"mode": "fast"}},
}


def recorded() -> dict[str, dict[str, Any]]:
    """kube-apiserver's observations, as recorded in :data:`ANSWERS`."""
    return dict(json.loads(ANSWERS.read_text())["answers"])


def record(answers: dict[str, dict[str, Any]], server: str) -> None:
    """Write kube-apiserver's observations to :data:`ANSWERS`."""
    document = {"server": server, "answers": answers}
    ANSWERS.write_text(json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
