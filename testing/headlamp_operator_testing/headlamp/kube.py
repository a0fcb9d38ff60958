"""A small in-memory Kubernetes API behind one cluster of the emulated Headlamp backend.

It keeps objects with uid, resourceVersion and generation, knows which tokens it refuses or
forbids, and tells listeners (the port-forward monitor) about every write.
"""
from __future__ import annotations

import base64
import copy
import dataclasses
import datetime
import hashlib
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from aiohttp import web

from .resources import BY_KIND, BY_PLURAL, Resource, status


class ObjectKey(NamedTuple):
    """Where an object lives: ``cluster.objects["deployments", "default", "web"]``."""

    resource: str  # the plural name: pods, services, namespaces, configmaps, secrets, deployments
    namespace: str | None
    name: str


Listener = Callable[["KubeCluster", ObjectKey, "dict[str, Any] | None"], None]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Write:
    """One write through the proxied API, and the field manager kube-apiserver would record for it."""

    verb: str  # create, update or patch
    key: ObjectKey
    subresource: str | None
    manager: str  # the request's ?fieldManager=, else what the API server makes of the User-Agent
    user_agent: str  # the User-Agent that reached the API server: the backend's own, never the client's


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class KubeCluster:
    """One emulated cluster: objects, seeding helpers, and authentication knobs."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.objects: dict[ObjectKey, dict[str, Any]] = {}
        self.resource_version = 0
        self.refused_tokens: set[str | None] = set()  # -> 401 Unauthorized
        self.forbidden_tokens: dict[str | None, frozenset[str] | None] = {}  # -> 403 (verbs, None = all)
        self.portforward_denied: set[str | None] = set()  # -> port-forward permission check fails
        self.users: dict[str | None, str] = {}  # token -> the user name the API server knows it by
        self.writes: list[Write] = []  # every write through the proxied API, in order
        self.listeners: list[Listener] = []
        self.add_namespace("default")

    # -- storage ----------------------------------------------------------------------------------

    def get(self, resource: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        """The stored object (not a copy), or None."""
        return self.objects.get(ObjectKey(resource, namespace, name))

    def list(self, resource: str, namespace: str | None = None) -> list[dict[str, Any]]:
        """The stored objects of a resource, in one namespace or all, sorted by namespace and name."""
        keys = sorted((k for k in self.objects if k.resource == resource
                       and (namespace is None or k.namespace == namespace)),
                      key=lambda k: (k.namespace or "", k.name))
        return [self.objects[k] for k in keys]

    def key_of(self, obj: Mapping[str, Any]) -> ObjectKey:
        """The key of an object by its apiVersion, kind, namespace and name."""
        resource = BY_KIND.get((obj.get("apiVersion", ""), obj.get("kind", "")))
        if resource is None:
            raise ValueError(f"The emulator does not serve {obj.get('apiVersion')}/{obj.get('kind')}.")
        metadata = obj.get("metadata") or {}
        namespace = (metadata.get("namespace") or "default") if resource.namespaced else None
        return ObjectKey(resource.plural, namespace, metadata["name"])

    def put(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """Create or replace an object (uid and creation kept); bumps resourceVersion unless nothing changed."""
        key = self.key_of(obj)
        resource = BY_PLURAL[key.resource]
        new = copy.deepcopy(dict(obj))
        meta = new.setdefault("metadata", {})
        if key.namespace is not None:
            meta["namespace"] = key.namespace
            if self.get("namespaces", None, key.namespace) is None:
                self.add_namespace(key.namespace)
        old = self.objects.get(key)
        if old is None:
            meta["uid"] = meta.get("uid") or str(uuid.uuid4())
            meta["creationTimestamp"] = meta.get("creationTimestamp") or _now()
        else:
            meta["uid"], meta["creationTimestamp"] = old["metadata"]["uid"], old["metadata"]["creationTimestamp"]
        if resource.generational:
            previous = old["metadata"].get("generation", 1) if old else 0
            meta["generation"] = previous + (old is None or new.get("spec") != old.get("spec"))
        meta.pop("resourceVersion", None)
        if old is not None and {**old, "metadata": {k: v for k, v in old["metadata"].items()
                                                    if k != "resourceVersion"}} == new:
            return old
        self.resource_version += 1
        meta["resourceVersion"] = str(self.resource_version)
        self.objects[key] = new
        self._notify(key, new)
        return new

    def delete(self, resource: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        """Remove an object; returns it, or None if there was none."""
        key = ObjectKey(resource, namespace, name)
        obj = self.objects.pop(key, None)
        if obj is not None:
            self.resource_version += 1
            self._notify(key, None)
        return obj

    def _notify(self, key: ObjectKey, obj: dict[str, Any] | None) -> None:
        for listener in list(self.listeners):
            listener(self, key, obj)

    # -- seeding ----------------------------------------------------------------------------------

    def add_namespace(self, name: str, *, labels: Mapping[str, str] | None = None) -> dict[str, Any]:
        """Seed a namespace (namespaced seeds create theirs on demand)."""
        return self.put({"apiVersion": "v1", "kind": "Namespace",
                         "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name,
                                                               **(labels or {})}},
                         "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})

    def add_deployment(
        self, namespace: str, name: str, *, replicas: int = 1, labels: Mapping[str, str] | None = None,
        image: str = "nginx", ports: Sequence[Mapping[str, Any]] = (),
        status: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Seed a Deployment; its status says every replica is ready unless ``status`` is given."""
        labels = dict(labels or {"app": name})
        container: dict[str, Any] = {"name": name, "image": image}
        if ports:
            container["ports"] = [dict(p) for p in ports]
        ready = {"observedGeneration": 1, "replicas": replicas, "readyReplicas": replicas,
                 "availableReplicas": replicas, "updatedReplicas": replicas}
        return self.put({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}}},
            "status": dict(status) if status is not None else ready,
        })

    def add_service(
        self, namespace: str, name: str, *, selector: Mapping[str, str] | None = None,
        ports: Sequence[Mapping[str, Any]] = ({"name": "http", "port": 80, "targetPort": 80},),
        type: str = "ClusterIP",
    ) -> dict[str, Any]:
        """Seed a Service selecting pods by labels (``{"app": name}`` unless given)."""
        digest = hashlib.sha256(f"{namespace}/{name}".encode()).digest()
        return self.put({
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": namespace},
            "spec": {"type": type, "selector": dict(selector if selector is not None else {"app": name}),
                     "clusterIP": f"10.96.{digest[0]}.{digest[1] or 1}",
                     "ports": [{"protocol": "TCP", **p} for p in ports]},
            "status": {"loadBalancer": {}},
        })

    def add_pod(
        self, namespace: str, name: str, *, labels: Mapping[str, str] | None = None,
        ports: Sequence[Mapping[str, Any]] = (), phase: str = "Running", ready: bool = True,
    ) -> dict[str, Any]:
        """Seed a Pod with one container exposing ``ports`` (``[{"name": "web", "containerPort": 3000}]``)."""
        container: dict[str, Any] = {"name": "main", "image": "nginx"}
        if ports:
            container["ports"] = [{"protocol": "TCP", **p} for p in ports]
        condition = {"type": "Ready", "status": "True" if ready else "False"}
        return self.put({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": dict(labels or {})},
            "spec": {"containers": [container]},
            "status": {"phase": phase, "conditions": [condition], "podIP": "10.244.0.10"},
        })

    def add_configmap(self, namespace: str, name: str, *, data: Mapping[str, str] | None = None) -> dict[str, Any]:
        """Seed a ConfigMap."""
        return self.put({"apiVersion": "v1", "kind": "ConfigMap",
                         "metadata": {"name": name, "namespace": namespace}, "data": dict(data or {})})

    def add_secret(self, namespace: str, name: str, *, data: Mapping[str, str | bytes] | None = None,
                   type: str = "Opaque") -> dict[str, Any]:
        """Seed a Secret; ``data`` values are given plain and stored base64-encoded."""
        encoded = {k: base64.b64encode(v.encode() if isinstance(v, str) else v).decode()
                   for k, v in (data or {}).items()}
        return self.put({"apiVersion": "v1", "kind": "Secret", "type": type,
                         "metadata": {"name": name, "namespace": namespace}, "data": encoded})

    def kill_pod(self, namespace: str, name: str, *, delete: bool = False) -> None:
        """Make a pod fail (or ``delete`` it): forwards to it stop at once, as after the backend's monitor."""
        pod = self.get("pods", namespace, name)
        if pod is None:
            raise KeyError(f"No pod {namespace}/{name} in cluster {self.name!r}.")
        if delete:
            self.delete("pods", namespace, name)
            return
        pod = copy.deepcopy(pod)
        pod["status"].update(phase="Failed", conditions=[{"type": "Ready", "status": "False"}])
        self.put(pod)

    def pod_problem(self, namespace: str, name: str) -> str | None:
        """Why a pod cannot be forwarded to (missing or not Running), or None when it can."""
        pod = self.get("pods", namespace, name)
        if pod is None:
            return f'pods "{name}" not found'
        phase = (pod.get("status") or {}).get("phase")
        return None if phase == "Running" else "pod is not running"  # v0.45.0's checkIfPodIsRunning

    # -- authentication and authorization ---------------------------------------------------------

    def refuse_token(self, token: str | None) -> None:
        """Answer 401 Unauthorized to every request with that token (None: requests without one)."""
        self.refused_tokens.add(token)

    def forbid_token(self, token: str | None, *, verbs: Iterable[str] | None = None) -> None:
        """Answer 403 Forbidden to that token's requests (for these verbs only, if given)."""
        self.forbidden_tokens[token] = frozenset(verbs) if verbs is not None else None

    def deny_portforward(self, token: str | None) -> None:
        """Make the port-forward permission check fail for that token."""
        self.portforward_denied.add(token)

    def allow_token(self, token: str | None) -> None:
        """Undo refuse_token, forbid_token and deny_portforward for that token."""
        self.refused_tokens.discard(token)
        self.forbidden_tokens.pop(token, None)
        self.portforward_denied.discard(token)

    def name_token(self, token: str | None, user: str) -> None:
        """Say whose token it is: the API server names that user in its refusals
        (``system:serviceaccount:{namespace}:{name}`` for a ServiceAccount's token)."""
        self.users[token] = user

    def user_of(self, token: str | None) -> str:
        """The user name a token stands for (never the token itself): as named, else a made-up one."""
        if token in self.users:
            return self.users[token]
        if token is None:
            return "system:serviceaccount:headlamp:headlamp"
        return f"emulated-user-{hashlib.sha256(token.encode()).hexdigest()[:8]}"

    def authenticate(self, token: str | None) -> web.Response | None:
        """A 401 Status for a refused token, else None."""
        if token in self.refused_tokens:
            return status(401, "Unauthorized", "Unauthorized")
        return None

    def authorize(
        self, token: str | None, verb: str, resource: Resource, *, sub: str | None = None,
        namespace: str | None = None, name: str | None = None,
    ) -> web.Response | None:
        """A 403 Status when that token may not do ``verb`` on the resource, else None."""
        if token not in self.forbidden_tokens:
            return None
        verbs = self.forbidden_tokens[token]
        if verbs is not None and verb not in verbs:
            return None
        what = f'{resource.qualified} "{name}"' if name else resource.qualified
        where = f' in the namespace "{namespace}"' if namespace else " at the cluster scope"
        message = (f'{what} is forbidden: User "{self.user_of(token)}" cannot {verb} resource '
                   f'"{resource.plural}{"/" + sub if sub else ""}" in API group "{resource.group}"{where}')
        details = {"name": name, "group": resource.group, "kind": resource.plural}
        return status(403, "Forbidden", message, details={k: v for k, v in details.items() if v})

    def portforward_denial(self, token: str | None, namespace: str) -> str | None:
        """Why the backend's permission check (a SelfSubjectAccessReview) refuses a port-forward for that token,
        or None: in v0.45.0's words, the review's creation refused (401), or the review not allowed (RBAC's
        answer has no reason, so the backend's default one)."""
        if token in self.refused_tokens:
            return "permission check failed: failed to check permissions: Unauthorized"
        verbs = self.forbidden_tokens.get(token, frozenset())
        if token in self.portforward_denied or (token in self.forbidden_tokens
                                                and (verbs is None or "create" in verbs)):
            return "permission check failed: access denied: insufficient permissions"
        return None
