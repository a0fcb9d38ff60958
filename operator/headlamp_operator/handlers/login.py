"""Logging in to Kubernetes once, through the official client, for kopf and for our Secret reader alike."""
from __future__ import annotations

from typing import Any

import kopf


def register(registry: kopf.OperatorRegistry) -> None:
    """kopf's login via the ``kubernetes`` client: in-cluster service account, else ``$KUBECONFIG``."""

    @kopf.on.login(registry=registry, id="login")
    def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
        return kopf.login_via_client(**kwargs)
