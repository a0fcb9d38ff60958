"""Resolving a PortForward's target: a service to a Running and Ready pod, a port name to a number.

Everything is read through Headlamp's cluster proxy with the resource's own credentials, so the
operator sees exactly what that user may see.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from headlamp_operator.headlamp import errors, paths, resources
from headlamp_operator.headlamp.backend import Backend
from headlamp_operator.headlamp.cache import FlightCache
from headlamp_operator.reconciling.specs import PortForwardSpec
from headlamp_operator.settings import MAX_CACHED
from headlamp_operator.structs import Credentials


@dataclasses.dataclass(frozen=True, kw_only=True)
class Target:
    """Where a forward goes: the pod, its namespace, the container port, and the service if any."""

    namespace: str
    pod: str
    target_port: str
    service: str = ""
    service_namespace: str = ""


class NoReadyPod(Exception):
    """A service has no Running and Ready pod right now (transient: pods come and go)."""


class PortNotFound(Exception):
    """A named port is not declared by the service or the pod (permanent until the spec changes)."""


ResolutionKey = tuple[str, str, str, str]  # (cluster, credentials.key, namespace, service)


class Resolutions:
    """Resolved services (the Service and its pods), shared by every forward to it for ``ttl`` seconds.

    A burst of forwards to one service reads it once (a single-flight :class:`FlightCache`); 10 s covers a burst
    of a few thousand resources, so the two reads per Service are not repeated within it. Only a first attempt
    is answered from a shared read: every path that acts on a failure reads anew (``fresh``): a retry (of a
    Pending forward whose Service had no Ready pod, of a start the backend refused) and healing a forward whose
    pod died. So an old resolution costs at most one failed start, never a forward stuck on a stale pod list. A
    failed read is not kept: the forwards waiting on it share its error, the next one reads again. Dropped on
    ``X-Reload``, on a logout and when the credential is retired.
    """

    def __init__(self, *, ttl: float = 10.0, max_size: int = MAX_CACHED) -> None:
        self._cache: FlightCache[ResolutionKey, tuple[Any, Any]] = FlightCache(
            ttl=ttl, failure_ttl=0, max_size=max_size)

    @property
    def ttl(self) -> float:
        """How long, in seconds from the read, a resolution is shared."""
        return self._cache.ttl

    def drop(self) -> None:
        """Forget every resolution (the backend sent ``X-Reload``)."""
        self._cache.clear()

    def forget(self, cluster: str | None, key: str) -> None:
        """Forget the resolutions made with one credential at one cluster (a logout), or at all (``None``)."""
        self._cache.discard_where(lambda found: found[1] == key and cluster in (None, found[0]))

    async def read(self, backend: Backend, cluster: str, *, namespace: str, service: str, pod_path: str,
                   credentials: Credentials, fresh: bool = False) -> tuple[Any, Any]:
        """The Service and the list of its pods (by its selector), as recently as ``ttl`` seconds ago."""
        return await self._cache.get(
            (cluster, credentials.key, namespace, service),
            lambda: _read_service(backend, cluster, namespace=namespace, service=service, pod_path=pod_path,
                                  credentials=credentials),
            fresh=fresh)


async def _read_service(backend: Backend, cluster: str, *, namespace: str, service: str, pod_path: str,
                        credentials: Credentials) -> tuple[Any, Any]:
    found = await resources.get_object(
        backend, paths.object_path(group_name="", version_name="v1", plural_name="services",
                                   namespace_name=namespace, object_name=service),
        cluster=cluster, credentials=credentials)
    selector = (found.get("spec") or {}).get("selector") or {} if isinstance(found, Mapping) else {}
    if not selector:
        return found, None
    label_selector = ",".join(f"{key}={value}" for key, value in sorted(selector.items()))
    listing = await resources.get_object(backend, pod_path, cluster=cluster, credentials=credentials,
                                         query={"labelSelector": label_selector})
    return found, listing


def pod_ready(pod: Mapping[str, Any]) -> bool:
    """Running, Ready and not being deleted: a pod a forward can serve (a service's pods are chosen among these)."""
    status = pod.get("status") or {}
    if status.get("phase") != "Running" or (pod.get("metadata") or {}).get("deletionTimestamp"):
        return False
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or ())


def _container_port(pod: Mapping[str, Any], name: str) -> int | None:
    for container in (pod.get("spec") or {}).get("containers") or ():
        for port in container.get("ports") or ():
            if port.get("name") == name and isinstance(port.get("containerPort"), int):
                return int(port["containerPort"])
    return None


def _resolve_port(port: str, *, service: Mapping[str, Any] | None, pod: Mapping[str, Any]) -> str:
    """The container port ``port`` means, by kubectl's rules for ``port-forward`` (docs/portforward.md#start).

    For a service: a name is a service port name (its ``targetPort``, which may itself be a container
    port name) or else a container port name; a number equal to a service ``port`` maps to that
    port's ``targetPort``; any other number is a container port. For a pod: a name is a container
    port name, a number is used as given. Raises :class:`PortNotFound` for a name nobody declares.
    """
    wanted: str | int = int(port) if port.isdigit() else port
    if service is not None:
        for entry in (service.get("spec") or {}).get("ports") or ():
            if entry.get("name" if isinstance(wanted, str) else "port") == wanted:
                wanted = entry.get("targetPort", entry.get("port"))
                break
    if isinstance(wanted, int) or str(wanted).isdigit():
        return str(wanted)
    number = _container_port(pod, str(wanted))
    if number is None:
        where = "neither the service nor the pod's containers" if service is not None else "no container of the pod"
        raise PortNotFound(f"port {port!r} is declared by {where}")
    return str(number)


async def resolve(backend: Backend, spec: PortForwardSpec, *, namespace: str, credentials: Credentials,
                  resolutions: Resolutions | None = None, fresh: bool = False) -> Target:
    """The pod and container port a PortForward spec points at, read through the backend's proxy."""
    cluster = spec.cluster
    target_ns = spec.namespace or namespace
    target_port = spec.target_port
    pod_path = paths.object_path(group_name="", version_name="v1", plural_name="pods", namespace_name=target_ns)
    if spec.pod:
        pod_name = paths.name(spec.pod)
        if target_port.isdigit():  # nothing to resolve: the backend checks that the pod exists and is ready
            return Target(namespace=target_ns, pod=pod_name, target_port=target_port)
        pod = await resources.get_object(backend, f"{pod_path}/{paths.segment(pod_name)}",
                                         cluster=cluster, credentials=credentials)
        return Target(namespace=target_ns, pod=pod_name,
                      target_port=_resolve_port(target_port, service=None, pod=pod))
    service_ns = spec.service_namespace or target_ns
    service_name = paths.name(spec.service)
    # A Service selects pods of its own namespace only: they are listed there, and forwarded to there.
    pod_path = paths.object_path(group_name="", version_name="v1", plural_name="pods", namespace_name=service_ns)
    reader = resolutions or Resolutions(ttl=0)
    service, listing = await reader.read(backend, cluster, namespace=service_ns, service=service_name,
                                         pod_path=pod_path, credentials=credentials, fresh=fresh)
    if listing is None:
        raise NoReadyPod(f"service {service_ns}/{service_name} has no selector: no pods to forward to")
    if not isinstance(listing, Mapping) or not isinstance(service, Mapping):
        raise errors.InvalidResponseError("OK - the pod list is not an object", status=200, cluster=cluster)
    ready = sorted((p for p in listing.get("items") or () if pod_ready(p)),
                   key=lambda p: (p.get("metadata") or {}).get("name", ""))
    if not ready:
        raise NoReadyPod(f"no Running and Ready pod behind service {service_ns}/{service_name}")
    pod = ready[0]
    return Target(namespace=service_ns, pod=pod["metadata"]["name"],
                  target_port=_resolve_port(target_port, service=service, pod=pod),
                  service=service_name, service_namespace=service_ns)
