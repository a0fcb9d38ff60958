"""Writing a resource's status outside a kopf handler (the schedulers), with the operator's own client.

kopf writes the status of the resources it is handling; the schedulers of
:mod:`headlamp_operator.handlers.portforwards` and :mod:`~headlamp_operator.handlers.resourcepatches` act
between those moments, so they merge-patch the status subresource themselves.
"""
from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from typing import Any

from headlamp_operator.kubeapi import KubeApi, KubeApiError


class StatusWriter:
    """Merge-patches ``status`` of one of this operator's resources."""

    def __init__(self, api: KubeApi, group: str, version: str) -> None:
        self.api, self.group, self.version = api, group, version

    async def __call__(self, plural: str, namespace: str, name: str, status: Mapping[str, Any]) -> None:
        """Merge ``status`` into the resource's status; nothing when the resource is gone (404).

        Raises:
            KubeApiError: the API server refused the write (other than 404).
        """
        path = "/".join(urllib.parse.quote(part, safe="") for part in (namespace, plural, name))
        try:
            await self.api.merge_patch(f"/apis/{self.group}/{self.version}/namespaces/{path}/status",
                                       {"status": dict(status)})
        except KubeApiError as e:
            if e.status != 404:  # deleted meanwhile: its status no longer matters
                raise
