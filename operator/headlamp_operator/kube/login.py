"""Credentials for the Kubernetes API, found as kopf's own login functions find them.

The pod's service account, else ``$KUBECONFIG`` / ``~/.kube/config``. kopf's plain kubeconfig login
reads tokens, client certificates and basic auth; a kubeconfig whose user runs an exec plugin (EKS,
GKE) needs the official client: with ``headlamp-operator[kubernetes]`` installed, kopf's login through
it is used for such a user. The same credentials serve kopf (the operator's login handler,
:mod:`headlamp_operator.handlers.login`) and the operator's own client (:class:`~headlamp_operator.kube.api.KubeApi`).
"""
from __future__ import annotations

import functools
import logging

import kopf

logger = logging.getLogger("headlamp_operator.kube.login")


@functools.cache
def _warn_no_credentials() -> None:
    """Once per process: kopf's login and this client each connect (and again after a 401)."""
    logger.warning("the kubeconfig's user has no token, certificate or password: connecting without; if it "
                   "uses an exec plugin or auth provider, install headlamp-operator[kubernetes]")


def connect() -> kopf.ConnectionInfo:
    """Credentials for the API server, as kopf's own login functions find them (see the module's docstring).

    The service account first, then the kubeconfig. A kubeconfig user with neither token, certificate
    nor password either needs none (``kubectl proxy``, a local test server) or authenticates through a
    plugin: then kopf's login through the official client is used if it is installed; if not, a
    warning says so and the connection goes without credentials.

    Raises:
        kopf.LoginError: neither a service account nor a kubeconfig is there.
    """
    settings = kopf.OperatorSettings()
    info = kopf.login_with_service_account(settings=settings) or kopf.login_with_kubeconfig(settings=settings)
    if info is None:
        raise kopf.LoginError("no credentials for the Kubernetes API: neither a service account nor a kubeconfig")
    if info.token or info.username or info.certificate_path or info.certificate_data:
        return info
    try:
        import kubernetes  # noqa: F401  (an optional dependency: it runs kubeconfig exec plugins)
    except ImportError:
        _warn_no_credentials()
        return info
    return kopf.login_via_client(logger=logger, settings=settings) or info
