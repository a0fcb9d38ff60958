"""Validation and percent-encoding of every value that becomes part of a backend URL.

A cluster name, namespace, name or id comes from a custom resource, that is from a user: it must
never be able to reach another backend route (``a/../b``, ``x?y``), so it is checked against a
strict pattern first and percent-encoded as one path segment anyway.
"""
from __future__ import annotations

import re
import urllib.parse

from headlamp_operator.headlamp.errors import InvalidArgument

# Headlamp cluster names come from kubeconfig context names: letters, digits and a few separators.
_CLUSTER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@+=-]{0,252}$")
_NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
# Object names: DNS subdomains for most kinds; a few kinds (RBAC) also allow ':' and '@'.
_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.:@]{0,251}[A-Za-z0-9])?$")
_ID = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,251}[A-Za-z0-9])?$")
_GROUP = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_VERSION = re.compile(r"^v[0-9]+((alpha|beta)[0-9]+)?$")
_PLURAL = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
_SUBRESOURCES = frozenset({"status", "scale"})


def _check(kind: str, value: str, pattern: re.Pattern[str]) -> str:
    if not isinstance(value, str) or not pattern.match(value) or ".." in value:
        shown = value if isinstance(value, str) and value.isprintable() and len(value) <= 80 else "<unprintable>"
        raise InvalidArgument(f"invalid {kind} {shown!r}: it must match {pattern.pattern}")
    return value


def segment(value: str) -> str:
    """Percent-encode one path segment: nothing in it can act as a separator."""
    return urllib.parse.quote(value, safe="")


def cluster(value: str) -> str:
    """A validated Headlamp cluster name."""
    return _check("cluster name", value, _CLUSTER)


def namespace(value: str) -> str:
    """A validated Kubernetes namespace (a DNS-1123 label)."""
    return _check("namespace", value, _NAMESPACE)


def name(value: str) -> str:
    """A validated Kubernetes object name."""
    return _check("name", value, _NAME)


def portforward_id(value: str) -> str:
    """A validated port-forward id (uuids, resource uids, or any simple token)."""
    return _check("port-forward id", value, _ID)


def group(value: str) -> str:
    """A validated API group ("" is the core group)."""
    return value if value == "" else _check("API group", value, _GROUP)


def version(value: str) -> str:
    """A validated API version such as ``v1`` or ``v1beta1``."""
    return _check("API version", value, _VERSION)


def plural(value: str) -> str:
    """A validated resource plural name (as discovery reported it)."""
    return _check("resource", value, _PLURAL)


def subresource(value: str) -> str:
    """One of the subresources a ResourcePatch may target."""
    if value not in _SUBRESOURCES:
        raise InvalidArgument(f"invalid subresource {value!r}: one of {sorted(_SUBRESOURCES)}")
    return value


def cluster_path(cluster_name: str, path: str) -> str:
    """``/clusters/{cluster}{path}``, the cluster validated and encoded; ``path`` is built by this module."""
    if not path.startswith("/"):
        raise InvalidArgument(f"a cluster path must start with '/': {path!r}")
    return f"/clusters/{segment(cluster(cluster_name))}{path}"


def api_path(*, group_name: str, version_name: str) -> str:
    """The discovery path of a group/version: ``/api/v1`` or ``/apis/{group}/{version}``."""
    if group(group_name) == "":
        return f"/api/{segment(version(version_name))}"
    return f"/apis/{segment(group_name)}/{segment(version(version_name))}"


def object_path(*, group_name: str, version_name: str, plural_name: str, namespace_name: str | None,
                object_name: str | None = None, subresource_name: str | None = None) -> str:
    """The Kubernetes API path of a collection or an object, every part validated and encoded."""
    path = api_path(group_name=group_name, version_name=version_name)
    if namespace_name is not None:
        path += f"/namespaces/{segment(namespace(namespace_name))}"
    path += f"/{segment(plural(plural_name))}"
    if object_name is not None:
        path += f"/{segment(name(object_name))}"
        if subresource_name:
            path += f"/{segment(subresource(subresource_name))}"
    elif subresource_name:
        raise InvalidArgument("a subresource needs an object name")
    return path


def split_api_version(api_version: str) -> tuple[str, str]:
    """``apps/v1`` -> (``apps``, ``v1``); ``v1`` -> (``""``, ``v1``); both parts validated."""
    group_name, _, version_name = api_version.rpartition("/")
    return group(group_name), version(version_name)
