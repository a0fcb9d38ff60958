"""Kubernetes objects through the backend's proxy: Headlamp frontend's ``patch``
(docs/headlamp-backend.md#headlamps-frontend), API discovery, reads.

Discovery finds a kind's plural name and scope (``GET /api/v1`` or ``/apis/{group}/{version}``),
cached per (cluster, credential) in the :class:`Backend` and dropped on ``X-Reload``, on logout,
or when a request for the resource answers 404 (the resource may have been removed or renamed).
Concurrent callers share one request; a failed one is not kept (its waiters share its error, the
next caller asks again).
"""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any, Literal

from headlamp_operator.headlamp import errors, paths
from headlamp_operator.headlamp.backend import Backend
from headlamp_operator.headlamp.proxy import cluster_request
from headlamp_operator.structs import ANONYMOUS, Credentials

PatchType = Literal["merge", "json", "strategic"]

# managedFields name the operator (docs/headlamp-backend.md#what-the-operator-sends): the backend replaces the
# User-Agent
FIELD_MANAGER = "headlamp-operator"

CONTENT_TYPES: Mapping[str, str] = {
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
    "strategic": "application/strategic-merge-patch+json",
}


@dataclasses.dataclass(frozen=True, kw_only=True)
class ApiResource:
    """What discovery says of one kind: enough to build its URLs."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    subresources: frozenset[str]

    def path(self, *, namespace: str | None, name: str | None = None, subresource: str | None = None) -> str:
        """The API path of the collection or of one object (``namespace`` ignored for cluster-scoped kinds)."""
        return paths.object_path(group_name=self.group, version_name=self.version, plural_name=self.plural,
                                 namespace_name=namespace if self.namespaced else None,
                                 object_name=name, subresource_name=subresource)


def _parse_resources(group: str, version: str, answer: Any) -> dict[str, ApiResource]:
    if not isinstance(answer, dict) or not isinstance(answer.get("resources"), list):
        raise errors.InvalidResponseError("OK - the discovery answer is not an APIResourceList", status=200)
    subresources: dict[str, set[str]] = {}
    mains: list[dict[str, Any]] = []
    for item in answer["resources"]:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        main, _, sub = item["name"].partition("/")
        if sub:
            subresources.setdefault(main, set()).add(sub)
        else:
            mains.append(item)
    by_kind: dict[str, ApiResource] = {}
    for item in mains:
        kind = item.get("kind")
        if not isinstance(kind, str) or kind in by_kind:
            continue
        by_kind[kind] = ApiResource(group=group, version=version, kind=kind, plural=paths.plural(item["name"]),
                                    namespaced=bool(item.get("namespaced")),
                                    subresources=frozenset(subresources.get(item["name"], ())))
    return by_kind


async def discover(backend: Backend, cluster: str, *, api_version: str, kind: str,
                   credentials: Credentials = ANONYMOUS) -> ApiResource:
    """Find a kind's resource through the backend's proxy; :class:`errors.NotFoundError` if it has none."""
    group, version = paths.split_api_version(api_version)
    # Many resources of one cluster start at once: the first asks, the others wait for its answer.
    resources: dict[str, ApiResource] = await backend.discovered(
        cluster, credentials, api_version,
        lambda: _discover(backend, cluster, group=group, version=version, credentials=credentials))
    resource = resources.get(kind)
    if resource is None:
        raise errors.NotFoundError(f"Not Found - the cluster serves no kind {kind!r} in {api_version} "
                                   "(is the kind spelled right? is its CRD installed?)",
                                   cluster=cluster)
    return resource


async def _discover(backend: Backend, cluster: str, *, group: str, version: str,
                    credentials: Credentials) -> dict[str, ApiResource]:
    answer = await cluster_request(backend, paths.api_path(group_name=group, version_name=version),
                                   cluster=cluster, credentials=credentials)
    return _parse_resources(group, version, answer)


def forget_discovery(backend: Backend, cluster: str, *, api_version: str, credentials: Credentials) -> None:
    """Drop one group/version from the discovery cache (after a 404 on one of its resources)."""
    backend.forget_discovery(cluster, credentials.key, api_version)


async def patch(backend: Backend, path: str, body: Any, *, cluster: str, patch_type: PatchType = "merge",
                credentials: Credentials = ANONYMOUS, auto_logout_on_auth_error: bool = True,
                dry_run: bool = False) -> Any:
    """PATCH a Kubernetes object: serialise, pick the content type of ``patch_type``, return the new object.

    Every PATCH carries ``fieldManager=headlamp-operator``: the API server names the field manager after
    it (the real backend sends its own User-Agent, ``Headlamp <version>``, whatever the client's).
    ``dry_run``: ``dryRun=All``, the API server runs admission and validation, stores nothing, and answers
    the object as it would be (docs/resourcepatch.md#preview-specdryrun).
    """
    content_type = CONTENT_TYPES.get(patch_type)
    if content_type is None:
        raise errors.InvalidArgument(f"unknown patch type {patch_type!r}: one of {sorted(CONTENT_TYPES)}")
    return await cluster_request(backend, path, cluster=cluster, method="PATCH", body=json.dumps(body).encode(),
                                 headers={"Content-Type": content_type}, credentials=credentials,
                                 query={"fieldManager": FIELD_MANAGER} | ({"dryRun": "All"} if dry_run else {}),
                                 auto_logout_on_auth_error=auto_logout_on_auth_error)


async def get_object(backend: Backend, path: str, *, cluster: str,
                     credentials: Credentials = ANONYMOUS, query: Mapping[str, str] | None = None) -> Any:
    """GET one object or a list through the proxy (services, pods while resolving a forward's target)."""
    return await cluster_request(backend, path, cluster=cluster, credentials=credentials, query=query)
