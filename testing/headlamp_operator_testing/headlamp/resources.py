"""The Kubernetes resource kinds the in-memory API knows, its discovery documents, and selectors."""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from .records import json_response

VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
SUBRESOURCE_VERBS = {
    "status": ["get", "patch", "update"],
    "scale": ["get", "patch", "update"],
    "portforward": ["create", "get"],
}


# What the in-memory API says it is: the kube-apiserver v1.36.3 the real-peer suite builds from Go modules
# (peers/build.py), whose /version the real headlamp-server passed on as recorded in
# tests/headlamp/transcripts/headlamp-v0.45.0.json (a module build has no commit or build date stamp).
VERSION = {"major": "1", "minor": "36", "emulationMajor": "1", "emulationMinor": "36", "minCompatibilityMajor": "1",
           "minCompatibilityMinor": "35", "gitVersion": "v1.36.3", "gitCommit": "$Format:%H$", "gitTreeState": "clean",
           "buildDate": "1970-01-01T00:00:00Z", "goVersion": "go1.26.8", "compiler": "gc", "platform": "linux/amd64"}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Resource:
    """One resource kind of the in-memory API."""

    group: str
    version: str
    plural: str
    singular: str
    kind: str
    namespaced: bool = True
    short_names: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    generational: bool = False  # whether metadata.generation tracks spec changes

    @property
    def api_version(self) -> str:
        """``v1`` or ``group/version``."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """``plural.group`` as the API server names it in messages (``deployments.apps``)."""
        return f"{self.plural}.{self.group}" if self.group else self.plural


RESOURCES = (
    Resource(group="", version="v1", plural="namespaces", singular="namespace", kind="Namespace",
             namespaced=False, short_names=("ns",), subresources=("status",)),
    Resource(group="", version="v1", plural="pods", singular="pod", kind="Pod", short_names=("po",),
             subresources=("status", "portforward")),
    Resource(group="", version="v1", plural="services", singular="service", kind="Service",
             short_names=("svc",), subresources=("status",)),
    Resource(group="", version="v1", plural="configmaps", singular="configmap", kind="ConfigMap",
             short_names=("cm",)),
    Resource(group="", version="v1", plural="secrets", singular="secret", kind="Secret"),
    Resource(group="apps", version="v1", plural="deployments", singular="deployment", kind="Deployment",
             short_names=("deploy",), subresources=("status", "scale"), generational=True),
)
BY_PLURAL = {r.plural: r for r in RESOURCES}
BY_KIND = {(r.api_version, r.kind): r for r in RESOURCES}


def find(group: str, version: str, plural: str) -> Resource | None:
    """The resource served at that group, version and plural name, if any."""
    resource = BY_PLURAL.get(plural)
    return resource if resource and (resource.group, resource.version) == (group, version) else None


def discovery(path: list[str]) -> web.Response | None:
    """Answer a discovery request (``/api``, ``/api/v1``, ``/apis``, ``/apis/apps[/v1]``, ``/version``)."""
    groups = sorted({r.group for r in RESOURCES if r.group})
    match path:
        case ["version"]:
            return json_response(VERSION)
        case ["api"]:
            return json_response({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}]})
        case ["apis"]:
            return json_response({"kind": "APIGroupList", "apiVersion": "v1",
                                  "groups": [_group(g) for g in groups]})
        case ["apis", group] if group in groups:
            return json_response({"kind": "APIGroup", "apiVersion": "v1", **_group(group)})
        case ["api", "v1"]:
            return json_response(_resource_list("", "v1"))
        case ["apis", group, "v1"] if group in groups:
            return json_response(_resource_list(group, "v1"))
    return None


def _group(group: str) -> dict[str, Any]:
    version = {"groupVersion": f"{group}/v1", "version": "v1"}
    return {"name": group, "versions": [version], "preferredVersion": version}


def _resource_list(group: str, version: str) -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    for r in RESOURCES:
        if (r.group, r.version) != (group, version):
            continue
        verbs = [v for v in VERBS if r.namespaced or v != "deletecollection"]
        items.append({"name": r.plural, "singularName": r.singular, "namespaced": r.namespaced,
                      "kind": r.kind, "verbs": verbs, **({"shortNames": list(r.short_names)}
                                                         if r.short_names else {})})
        for sub in r.subresources:
            item = {"name": f"{r.plural}/{sub}", "singularName": "", "namespaced": r.namespaced,
                    "kind": r.kind, "verbs": SUBRESOURCE_VERBS[sub]}
            if sub == "scale":
                item.update(group="autoscaling", version="v1", kind="Scale")
            elif sub == "portforward":
                item["kind"] = "PodPortForwardOptions"
            items.append(item)
    gv = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": items}


def status(code: int, reason: str, message: str, *, details: Mapping[str, Any] | None = None) -> web.Response:
    """A Kubernetes ``Status`` failure, as the API server answers errors."""
    doc: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                           "message": message, "reason": reason, "code": code}
    if details is not None:  # empty details are sent as {}
        doc["details"] = dict(details)
    return json_response(doc, status=code)


_REQUIREMENT = re.compile(
    r"^\s*(?P<neg>!)?\s*(?P<key>[A-Za-z0-9_./-]+)\s*"
    r"(?:(?P<op>==|=|!=)\s*(?P<value>[A-Za-z0-9_.-]*)|\s+(?P<setop>in|notin)\s*\((?P<values>[^)]*)\))?\s*$"
)


class SelectorError(ValueError):
    """A label or field selector that does not parse."""


def _requirements(selector: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in selector:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [p for p in [*parts, current] if p.strip()]


def matches_selector(selector: str, values: Mapping[str, str]) -> bool:
    """Whether labels (or fields) satisfy a selector: ``=``, ``==``, ``!=``, ``in``, ``notin``, ``key``, ``!key``."""
    for requirement in _requirements(selector):
        m = _REQUIREMENT.match(requirement)
        if m is None or (m["neg"] and (m["op"] or m["setop"])):
            raise SelectorError(f"unable to parse requirement: {requirement.strip()!r}")
        key, present = m["key"], m["key"] in values
        if m["neg"]:
            ok = not present
        elif m["op"] in ("=", "=="):
            ok = values.get(key) == m["value"]
        elif m["op"] == "!=":
            ok = values.get(key) != m["value"]
        elif m["setop"]:
            options = {v.strip() for v in m["values"].split(",")}
            ok = (values.get(key) in options) if m["setop"] == "in" else (values.get(key) not in options)
        else:
            ok = present
        if not ok:
            return False
    return True


def fields_of(obj: Mapping[str, Any]) -> dict[str, str]:
    """The fields a field selector may name: ``metadata.name``, ``metadata.namespace``, ``status.phase``."""
    metadata, status_ = obj.get("metadata", {}), obj.get("status") or {}
    fields = {"metadata.name": metadata.get("name", ""), "metadata.namespace": metadata.get("namespace", "")}
    if "phase" in status_:
        fields["status.phase"] = status_["phase"]
    return fields
