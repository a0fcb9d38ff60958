"""Logging in to Kubernetes once, through the official client, for kopf and for our Secret reader alike."""
from __future__ import annotations

from typing import Any

import kopf
from kubernetes import client


def register(registry: kopf.OperatorRegistry) -> None:
    """kopf's login via the ``kubernetes`` client: in-cluster service account, else ``$KUBECONFIG``."""

    @kopf.on.login(registry=registry)
    def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
        info = kopf.login_via_client(**kwargs)
        # The Secret reader's CoreV1Api imports hundreds of pydantic models: about a second of CPU.
        # Paid here, before kopf watches anything, it does not stall the first burst of reconciles.
        client.CoreV1Api  # noqa: B018
        return info
