"""Logging in to Kubernetes once, for kopf and for the operator's own calls alike (:mod:`headlamp_operator.kubeapi`)."""
from __future__ import annotations

from typing import Any

import kopf

from headlamp_operator import kubeapi


def register(registry: kopf.OperatorRegistry) -> None:
    """kopf's login: in-cluster service account, else ``$KUBECONFIG`` (see :func:`kubeapi.connect`)."""

    @kopf.on.login(registry=registry, id="login")
    def login(**_: Any) -> kopf.ConnectionInfo:
        return kubeapi.connect()
