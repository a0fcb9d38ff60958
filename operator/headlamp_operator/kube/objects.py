"""The operator's own resources as Kubernetes objects: their API paths, and the finalizer a PortForward carries.

A PortForward's finalizer is put on by its first reconcile, before the forward is started
(:func:`add_finalizer`), not by kopf in an event cycle of its own.
"""
from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from typing import Any

from headlamp_operator.kube.api import KubeApi, KubeApiError


def resource_path(group: str, version: str, plural: str, namespace: str, name: str) -> str:
    """The API path of one namespaced object of a custom resource, its parts escaped."""
    parts = "/".join(urllib.parse.quote(part, safe="") for part in (namespace, plural, name))
    return f"/apis/{group}/{version}/namespaces/{parts}"


def has_finalizer(body: Mapping[str, Any], finalizer: str) -> bool:
    """Whether the object carries ``finalizer``."""
    return finalizer in ((body.get("metadata") or {}).get("finalizers") or ())


async def add_finalizer(api: KubeApi, path: str, body: Mapping[str, Any], finalizer: str) -> bool:
    """Put ``finalizer`` on the object at ``path`` unless ``body`` shows it; False when the object is gone or going.

    kopf adds its finalizer in an event cycle of its own and calls the handlers on the next event,
    one write and one watch round trip later; a forward's first reconcile adds it itself, then starts
    the forward in the same cycle (a PortForward Ready sooner, by a kopf cycle). The
    patch is kopf's own (``finalizers.block_deletion``): the list as read, ours appended, as a merge
    patch. The API server refuses a new finalizer on an object being deleted (422, "no new finalizers
    can be added if the object is being deleted", ``ValidateObjectMetaUpdate``), and a deleted one is
    404: then nothing may be started that would need releasing.

    Raises:
        KubeApiError: any other refusal (kopf retries the handler).
        KubeUnreachable: no answer.
    """
    if has_finalizer(body, finalizer):
        return True
    metadata = body.get("metadata") or {}
    if metadata.get("deletionTimestamp"):
        return False
    finalizers = [*(metadata.get("finalizers") or ()), finalizer]
    try:
        await api.merge_patch(path, {"metadata": {"finalizers": finalizers}})
    except KubeApiError as e:
        if e.status == 404 or (e.status == 422 and "being deleted" in e.message):
            return False
        raise
    return True
