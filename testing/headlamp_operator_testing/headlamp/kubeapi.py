"""The HTTP face of :class:`KubeCluster`: discovery, GET/LIST, POST, PUT, PATCH, DELETE, subresources.

Errors are Kubernetes ``Status`` documents, as the API server sends them through Headlamp's proxy.
"""
from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from . import identity
from .kube import KubeCluster, ObjectKey, Write
from .patches import PatchError, apply_patch
from .records import go_error, json_response
from .resources import RESOURCES, Resource, SelectorError, discovery, fields_of, find, matches_selector, status

REASONS = {400: "BadRequest", 404: "NotFound", 409: "Conflict", 415: "UnsupportedMediaType", 422: "Invalid"}
VERBS = {("GET", False): "list", ("GET", True): "get", ("POST", False): "create", ("PATCH", True): "patch",
         ("PUT", True): "update", ("DELETE", True): "delete"}


@dataclasses.dataclass(frozen=True)
class Target:
    """What an API path names: a collection, an object, or an object's subresource."""

    resource: Resource
    namespace: str | None
    name: str | None
    sub: str | None


class ApiError(Exception):
    """Raised inside the handlers to answer with a Status document."""

    def __init__(self, code: int, message: str, *, reason: str | None = None,
                 details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.response = status(code, reason or REASONS.get(code, "InternalError"), message, details=details)


def about(r: Resource, name: str) -> dict[str, str]:
    """A Status' ``details`` naming an object, as apimachinery's NotFound, AlreadyExists and Conflict errors do:
    its name, its API group (left out for the core group) and its resource (plural) as ``kind``."""
    return {"name": name, **({"group": r.group} if r.group else {}), "kind": r.plural}


def parse_target(segments: list[str]) -> Target | None:
    """Parse ``api/v1/...`` or ``apis/{group}/{version}/...`` into a target, None if not served."""
    match segments:
        case ["api", "v1", *rest]:
            group, version = "", "v1"
        case ["apis", group, version, *rest]:
            pass
        case _:
            return None
    namespace = None
    if len(rest) >= 3 and rest[0] == "namespaces" and find(group, version, rest[2]):
        namespace, rest = rest[1], rest[2:]
    if not rest or len(rest) > 3 or not all(rest):
        return None
    resource = find(group, version, rest[0])
    name, sub = [*rest[1:], None, None][:2]
    if resource is None or (resource.namespaced is False and namespace is not None):
        return None
    if resource.namespaced and name is not None and namespace is None:
        return None
    if sub is not None and (sub not in resource.subresources or sub == "portforward"):
        return None
    return Target(resource, namespace, name, sub)


def _served(segments: list[str]) -> bool:
    """Whether the path is under a group/version the API server serves (``/api/v1``, ``/apis/{g}/{v}``)."""
    match segments:
        case ["api", "v1", *_]:
            return True
        case ["apis", group, version, *_]:
            return any((r.group, r.version) == (group, version) for r in RESOURCES)
    return False


def serve(
    cluster: KubeCluster, *, method: str, segments: list[str], query: Mapping[str, str], body: bytes,
    content_type: str, token: str | None,
) -> web.Response:
    """Answer one Kubernetes API request made with ``token`` (None: the backend's own identity)."""
    if (refused := cluster.authenticate(token)) is not None:
        return refused
    if method == "GET" and (document := discovery(segments)) is not None:
        return document
    target = parse_target(segments)
    if target is None and not _served(segments):
        # The API server's mux has no route for a group/version it does not serve (a CRD not installed):
        # a plain-text 404, the same text as Headlamp's router (HEADLAMP_CONTRACT.md, recorded answers).
        return go_error(404, "404 page not found")
    if target is None:
        return status(404, "NotFound", "the server could not find the requested resource")
    verb = VERBS.get((method, target.name is not None))
    if verb == "list" and query.get("watch") in ("1", "true"):
        verb = "watch"
    if verb is None:
        return status(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
    denied = cluster.authorize(token, verb, target.resource, sub=target.sub, namespace=target.namespace,
                               name=target.name)
    if denied is not None:
        return denied
    try:
        response = _dispatch(cluster, verb, target, query=query, body=body, content_type=content_type)
    except ApiError as exc:
        return exc.response
    except PatchError as exc:
        # go-restful refuses a PATCH media type before the API server's own check, whose message never shows:
        # a 415 with empty details (recorded: tests/headlamp/transcripts/headlamp-v0.45.0.json, proxy/patch-415).
        return status(exc.status, REASONS[exc.status], exc.message, details={} if exc.status == 415 else None)
    if verb in ("create", "update", "patch"):
        _record_write(cluster, verb, target, response, query)
    return response


def _record_write(cluster: KubeCluster, verb: str, target: Target, response: web.Response,
                  query: Mapping[str, str]) -> None:
    """Note the write and its field manager: ``?fieldManager=`` reaches the API server, the client's
    ``User-Agent`` does not (headlamp-server sends its own, :mod:`.identity`)."""
    name = target.name
    if name is None and isinstance(response.body, bytes):  # a create: the name is the created object's
        name = json.loads(response.body)["metadata"]["name"]
    key = ObjectKey(target.resource.plural, target.namespace, str(name))
    cluster.writes.append(Write(verb=verb, key=key, subresource=target.sub, user_agent=identity.USER_AGENT,
                                manager=query.get("fieldManager") or identity.manager_of(identity.USER_AGENT)))


def _dispatch(
    cluster: KubeCluster, verb: str, target: Target, *, query: Mapping[str, str], body: bytes, content_type: str,
) -> web.Response:
    r, ns, name = target.resource, target.namespace, target.name
    if verb == "watch":
        raise ApiError(405, "watch is not supported by the Headlamp emulator", reason="MethodNotAllowed")
    if verb == "list":
        return _list(cluster, target, query)
    if verb == "create":
        return _create(cluster, target, _json_object(body))
    assert name is not None
    current = cluster.get(r.plural, ns, name)
    if current is None:
        raise ApiError(404, f'{r.qualified} "{name}" not found', details=about(r, name))
    if verb == "get":
        return json_response(scale_of(current) if target.sub == "scale" else current)
    if verb == "delete":
        return json_response(cluster.delete(r.plural, ns, name))
    if verb == "patch":
        base = scale_of(current) if target.sub == "scale" else current
        return _write(cluster, target, current, apply_patch(content_type, base, body))
    return _write(cluster, target, current, _json_object(body))  # update (PUT)


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(body)
    except ValueError as exc:
        raise ApiError(400, f"couldn't get version/kind; json parse error: {exc}") from exc
    if not isinstance(doc, dict):
        raise ApiError(400, "the body of the request is not a JSON object")
    return doc


def _list(cluster: KubeCluster, target: Target, query: Mapping[str, str]) -> web.Response:
    r = target.resource
    try:
        items = [copy.deepcopy(o) for o in cluster.list(r.plural, target.namespace)
                 if matches_selector(query.get("labelSelector", ""), (o["metadata"].get("labels") or {}))
                 and matches_selector(query.get("fieldSelector", ""), fields_of(o))]
    except SelectorError as exc:
        raise ApiError(400, str(exc)) from exc
    for item in items:  # the API server leaves these out of list items
        item.pop("kind", None)
        item.pop("apiVersion", None)
    return json_response({"kind": f"{r.kind}List", "apiVersion": r.api_version,
                          "metadata": {"resourceVersion": str(cluster.resource_version)}, "items": items})


def _create(cluster: KubeCluster, target: Target, obj: dict[str, Any]) -> web.Response:
    r, meta = target.resource, obj.setdefault("metadata", {})
    if not isinstance(meta, dict) or not meta.get("name"):
        raise ApiError(422, f'{r.kind} "" is invalid: metadata.name: Required value: name is required')
    if meta.get("namespace", target.namespace) != target.namespace:
        raise ApiError(400, "the namespace of the provided object does not match the namespace sent on the request")
    if cluster.get(r.plural, target.namespace, meta["name"]) is not None:
        raise ApiError(409, f'{r.qualified} "{meta["name"]}" already exists', reason="AlreadyExists",
                       details=about(r, meta["name"]))
    obj.update(apiVersion=r.api_version, kind=r.kind)
    meta.pop("resourceVersion", None)
    if target.namespace is not None:
        meta["namespace"] = target.namespace
    return json_response(cluster.put(obj), status=201)


def scale_of(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The autoscaling/v1 Scale of a Deployment."""
    meta = obj["metadata"]
    labels = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return {
        "kind": "Scale", "apiVersion": "autoscaling/v1",
        "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                     if k in meta},
        "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 1)},
        "status": {"replicas": (obj.get("status") or {}).get("replicas", 0),
                   "selector": ",".join(f"{k}={v}" for k, v in sorted(labels.items()))},
    }


def _write(cluster: KubeCluster, target: Target, current: dict[str, Any], new: dict[str, Any]) -> web.Response:
    """Store a patched or replaced object (or its status, or its scale) after the API server's checks."""
    r, meta = target.resource, current["metadata"]
    sent_version = (new.get("metadata") or {}).get("resourceVersion")
    if sent_version not in (None, "", meta["resourceVersion"]):
        raise ApiError(409, f'Operation cannot be fulfilled on {r.qualified} "{meta["name"]}": the object has '
                            "been modified; please apply your changes to the latest version and try again",
                       details=about(r, meta["name"]))
    if target.sub == "scale":
        replicas = (new.get("spec") or {}).get("replicas")
        _check_replicas(r, meta["name"], replicas)
        result = copy.deepcopy(current)
        result.setdefault("spec", {})["replicas"] = replicas
        return json_response(scale_of(cluster.put(result)))
    if target.sub == "status":
        result = copy.deepcopy(current)
        result["status"] = new.get("status")
        if result["status"] is None:
            result.pop("status")
    else:
        new_meta = new.get("metadata")
        if not isinstance(new_meta, dict) or any(
            new_meta.get(k) != meta.get(k) for k in ("name", "namespace")
        ) or (new.get("kind"), new.get("apiVersion")) != (r.kind, r.api_version):
            raise ApiError(422, f'{r.kind} "{meta["name"]}" is invalid: metadata: the name, namespace, kind '
                                "and apiVersion of an object cannot be changed")
        result = copy.deepcopy(new)
        if "status" in r.subresources:  # the status subresource owns the status
            result.pop("status", None)
            if "status" in current:
                result["status"] = copy.deepcopy(current["status"])
        if r.kind == "Deployment":
            _check_replicas(r, meta["name"], (result.get("spec") or {}).get("replicas", 1))
    return json_response(cluster.put(result))


def _check_replicas(r: Resource, name: str, replicas: Any) -> None:
    if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 0:
        cause = f"Invalid value: {json.dumps(replicas)}: must be greater than or equal to 0"
        raise ApiError(422, f'{r.kind}.{r.group or "core"} "{name}" is invalid: spec.replicas: {cause}',
                       details={"name": name, "group": r.group, "kind": r.kind, "causes": [
                           {"reason": "FieldValueInvalid", "message": cause, "field": "spec.replicas"}]})
