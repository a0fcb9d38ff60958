"""``cluster_request``: Headlamp frontend's ``clusterRequest`` (docs/headlamp-backend.md#headlamps-frontend), for
requests proxied to a cluster's Kubernetes API.

It adds the bearer token, returns the JSON result, and on a 401 that carried a credential runs the
seed's logout (``set-token`` with ``null``, that credential's cookies and discovery dropped) before
raising: the request layer never reloads anything or retries on its own; callers decide.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from headlamp_operator.headlamp import auth, errors
from headlamp_operator.headlamp.backend import Backend
from headlamp_operator.structs import ANONYMOUS, Credentials

logger = logging.getLogger("headlamp_operator.headlamp")


async def cluster_request(backend: Backend, path: str, *, cluster: str, method: str = "GET",
                          body: Any = None, headers: Mapping[str, str] | None = None,
                          credentials: Credentials = ANONYMOUS, query: Mapping[str, str] | None = None,
                          is_json: bool = True,
                          auto_logout_on_auth_error: bool = True) -> Any:
    """A proxied Kubernetes API request: the JSON result (or the raw :class:`Response` if not ``is_json``).

    A 401 on a request that carried a credential logs that credential out as Headlamp's frontend does
    (``set-token`` with ``null``, its cookies and cached discovery dropped), then raises.
    """
    sent = dict(headers or {})
    if credentials.token is not None:
        sent["Authorization"] = f"Bearer {credentials.token}"
    data = None if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
    try:
        response = await backend.cluster_fetch(path, cluster=cluster, method=method, headers=sent,
                                       body=data, query=query, credentials=credentials)
    except errors.UnauthorizedError:
        if auto_logout_on_auth_error and not credentials.anonymous:
            logger.warning("logging out of cluster %r after a 401 on %s %s", cluster, method, path)
            await auth.logout(backend, cluster, credentials=credentials)
        raise
    return response.json() if is_json else response
