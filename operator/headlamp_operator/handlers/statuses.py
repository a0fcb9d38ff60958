"""Writing a resource's status outside a kopf handler (the ResourcePatch scheduler), with the official client.

kopf writes the status of the resources it is handling; the scheduler of
:mod:`headlamp_operator.handlers.resourcepatches` acts between those moments, so it merge-patches the
status subresource itself, with the client kopf's login configured (as the Secret reader does).
"""
from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from kubernetes import client


class StatusWriter:
    """Merge-patches ``status`` of one of this operator's resources (in a thread: the client is synchronous)."""

    def __init__(self, group: str, version: str) -> None:
        self.group, self.version = group, version
        self._api: client.CustomObjectsApi | None = None

    def _patch(self, plural: str, namespace: str, name: str, status: Mapping[str, Any]) -> None:
        if self._api is None:  # after kopf's login has configured the client
            self._api = client.CustomObjectsApi()
        self._api.patch_namespaced_custom_object_status(self.group, self.version, namespace, plural, name,
                                                        {"status": dict(status)},
                                                        _content_type="application/merge-patch+json")

    async def __call__(self, plural: str, namespace: str, name: str, status: Mapping[str, Any]) -> None:
        """Merge ``status`` into the resource's status; raises the client's ``ApiException`` on failure."""
        await asyncio.to_thread(self._patch, plural, namespace, name, status)
