"""The operator's own writes to its resources, outside kopf's patch: a status, a finalizer.

kopf writes the status of the resources it is handling; the schedulers of
:mod:`headlamp_operator.handlers.portforwards` and :mod:`~headlamp_operator.handlers.resourcepatches` act
between those moments, so they merge-patch the status subresource themselves. A PortForward's
finalizer is put on by its first reconcile, before the forward is started (:func:`add_finalizer`).
"""
from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from typing import Any

from headlamp_operator.kubeapi import KubeApi, KubeApiError


def resource_path(group: str, version: str, plural: str, namespace: str, name: str) -> str:
    """The API path of one namespaced object of a custom resource, its parts escaped."""
    parts = "/".join(urllib.parse.quote(part, safe="") for part in (namespace, plural, name))
    return f"/apis/{group}/{version}/namespaces/{parts}"


class StatusWriter:
    """Merge-patches ``status`` of one of this operator's resources."""

    def __init__(self, api: KubeApi, group: str, version: str) -> None:
        self.api, self.group, self.version = api, group, version

    async def __call__(self, plural: str, namespace: str, name: str, status: Mapping[str, Any]) -> None:
        """Merge ``status`` into the resource's status; nothing when the resource is gone (404).

        Raises:
            KubeApiError: the API server refused the write (other than 404).
        """
        path = resource_path(self.group, self.version, plural, namespace, name)
        try:
            await self.api.merge_patch(f"{path}/status", {"status": dict(status)})
        except KubeApiError as e:
            if e.status != 404:  # deleted meanwhile: its status no longer matters
                raise


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
