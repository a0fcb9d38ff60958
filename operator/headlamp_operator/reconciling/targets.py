"""Resolving a PortForward's target: a service to a Running and Ready pod, a port name to a number.

Everything is read through Headlamp's cluster proxy with the resource's own credentials, so the
operator sees exactly what that user may see.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from headlamp_operator.headlamp import errors, paths, resources
from headlamp_operator.headlamp.client import Backend
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


def _pod_ready(pod: Mapping[str, Any]) -> bool:
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
    if port.isdigit():
        return port
    wanted: str | int = port
    if service is not None:
        for entry in (service.get("spec") or {}).get("ports") or ():
            if entry.get("name") == port:
                wanted = entry.get("targetPort", entry.get("port"))
                break
    if isinstance(wanted, int):
        return str(wanted)
    number = _container_port(pod, str(wanted))
    if number is None:
        raise PortNotFound(f"port {port!r} is declared by neither the service nor the pod's containers")
    return str(number)


async def resolve(backend: Backend, spec: Mapping[str, Any], *, namespace: str, cluster: str,
                  credentials: Credentials) -> Target:
    """The pod and container port a PortForward spec points at, read through the backend's proxy."""
    target_ns = spec.get("namespace") or namespace
    target_port = str(spec.get("targetPort"))
    pod_path = paths.object_path(group_name="", version_name="v1", plural_name="pods", namespace_name=target_ns)
    if spec.get("pod"):
        pod = await resources.get_object(backend, f"{pod_path}/{paths.segment(paths.name(spec['pod']))}",
                                         cluster=cluster, credentials=credentials)
        return Target(namespace=target_ns, pod=spec["pod"],
                      target_port=_resolve_port(target_port, service=None, pod=pod))
    service_ns = spec.get("serviceNamespace") or target_ns
    service_name = str(spec.get("service"))
    service = await resources.get_object(
        backend, paths.object_path(group_name="", version_name="v1", plural_name="services",
                                   namespace_name=service_ns, object_name=service_name),
        cluster=cluster, credentials=credentials)
    selector = (service.get("spec") or {}).get("selector") or {}
    if not selector:
        raise NoReadyPod(f"service {service_ns}/{service_name} has no selector: no pods to forward to")
    label_selector = ",".join(f"{key}={value}" for key, value in sorted(selector.items()))
    listing = await resources.get_object(backend, pod_path, cluster=cluster, credentials=credentials,
                                         query={"labelSelector": label_selector})
    if not isinstance(listing, Mapping):
        raise errors.InvalidResponseError("OK - the pod list is not an object", status=200, cluster=cluster)
    ready = sorted((p for p in listing.get("items") or () if _pod_ready(p)),
                   key=lambda p: (p.get("metadata") or {}).get("name", ""))
    if not ready:
        raise NoReadyPod(f"no Running and Ready pod behind service {service_ns}/{service_name}")
    pod = ready[0]
    return Target(namespace=target_ns, pod=pod["metadata"]["name"],
                  target_port=_resolve_port(target_port, service=service, pod=pod),
                  service=service_name, service_namespace=service_ns)
