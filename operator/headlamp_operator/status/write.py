"""The one write of a status outside kopf's patch: a merge patch of the status subresource.

kopf writes the status of the resources it is handling; the health pass, the re-apply pass and the
retries (:mod:`headlamp_operator.scheduling`) act between those moments, so they write it here.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from headlamp_operator.kube.api import KubeApi, KubeApiError
from headlamp_operator.kube.objects import resource_path


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
