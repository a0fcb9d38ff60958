"""Who answered a plain ``404 page not found`` under ``/clusters/{cluster}`` (docs/headlamp-backend.md#errors).

The same text comes from Headlamp's router (a route it lacks: a base path missing from ``HEADLAMP_URL``,
another release), from the API server (a group/version it does not serve: a CRD not installed) and, for
v0.45.0's ``key not found``, from an unknown cluster: one look at the cluster (:func:`probe`, kept
:data:`~headlamp_operator.headlamp.backend.PROBE_TTL` seconds by the :class:`Backend`) tells them apart.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from headlamp_operator.headlamp import errors, paths


class Backend(Protocol):
    """What a look at a cluster needs of :class:`~headlamp_operator.headlamp.backend.Backend` (which calls it)."""

    @property
    def shown_url(self) -> str:
        """The backend's URL as a message may show it."""

    async def fetch(self, path: str, *, headers: Mapping[str, str] | None = None,
                    cluster: str | None = None) -> Any:
        """Send one request; raise its :class:`errors.ApiError`."""

    async def probed(self, key: tuple[str, str | None], load: Callable[[], Awaitable[str]]) -> str:
        """What a look found, kept a while."""

SERVED, UNKNOWN, NO_ROUTE = "served", "unknown", "no route"  # what :func:`probe` finds


async def probe(backend: Backend, cluster: str, headers: Mapping[str, str]) -> str:
    """Whether Headlamp knows ``cluster``: ``GET /clusters/{cluster}/version``, the cluster's API server's version.

    Any answer of the API server (2xx, or its own 401/403) says the cluster is known; v0.45.0's 404
    ``key not found`` says it is not; a plain ``404 page not found`` says no ``/clusters/`` route is
    there at all (Headlamp behind a base path that ``HEADLAMP_URL`` lacks).

    Raises:
        errors.ApiError: the look itself failed otherwise (unreachable, timed out, 5xx): that error
            says more than the 404 did, and a transient one is retried.
    """
    sent = {key: value for key, value in headers.items() if key.lower() != "authorization"}
    try:
        await backend.fetch(paths.cluster_path(cluster, "/version"), headers=sent, cluster=cluster)
    except (errors.UnauthorizedError, errors.ForbiddenError):
        return SERVED
    except errors.UnknownClusterError:
        return UNKNOWN
    except errors.PageNotFoundError:
        return NO_ROUTE
    return SERVED


async def who_answered(backend: Backend, error: errors.PageNotFoundError, *, method: str, path: str,
                       cluster: str, headers: Mapping[str, str]) -> errors.ApiError:
    """Who answered a plain ``404 page not found``, as an error that says it and what to do
    (docs/headlamp-backend.md#errors).

    The cluster is looked at once per ``PROBE_TTL`` seconds (:func:`probe`); then the 404 is the API
    server's for a group/version it does not serve (a Kubernetes API path of a known cluster), Headlamp's
    router for a route it lacks, or an unknown cluster.
    """
    key = (cluster, headers.get("X-HEADLAMP-USER-ID"))
    try:
        found = await backend.probed(key, lambda: probe(backend, cluster, headers))
    except errors.ApiError as e:
        return e
    where = backend.shown_url
    if found == UNKNOWN:
        return errors.UnknownClusterError(error.message, status=404, cluster=cluster)
    parts = path.split("?", 1)[0].strip("/").split("/")
    if found == SERVED and parts[0] in ("api", "apis") and len(parts) >= 2:
        served = parts[1] if parts[0] == "api" else "/".join(parts[1:3])
        return errors.ApiNotServedError(f"Not Found - the cluster serves no {served} (is its CRD installed?)",
                                        status=404, cluster=cluster)
    return errors.NoRouteError(
        f"Not Found - Headlamp at {where} has no route {method} {paths.cluster_path(cluster, path)} "
        f"(does HEADLAMP_URL miss a base path? is it another Headlamp release?)", status=404, cluster=cluster)
