"""Logging in to Kubernetes once, for kopf and the operator's own calls alike (:mod:`headlamp_operator.kube.login`)."""
from __future__ import annotations

from typing import Any

import kopf

from headlamp_operator.kube import login


def register(registry: kopf.OperatorRegistry) -> None:
    """kopf's login: in-cluster service account, else ``$KUBECONFIG`` (see :func:`login.connect`)."""

    @kopf.on.login(registry=registry, id="login")
    def kopf_login(**_: Any) -> kopf.ConnectionInfo:
        return login.connect()
