"""Kubernetes watches through Headlamp's cluster proxy: the objects of a collection now, then their changes as they
happen (docs/headlamp-backend.md#watches).

Headlamp's frontend watches over WebSockets; its proxy (``/clusters/{cluster}/{API path}``, Go's
``httputil.ReverseProxy``) passes the API server's chunked watch answer through as it comes, so a plain
``GET ...?watch=1`` works with the same headers and credentials as any proxied request (checked on the
real headlamp-server v0.45.0). :func:`watch_objects` gives the events, the objects that exist first, one JSON
object per line
(``{"type": "ADDED"|"MODIFIED"|"DELETED"|"BOOKMARK", "object": {...}}``); an ``ERROR`` event raises its
Status as the matching :class:`errors.StatusError` (410: :class:`errors.GoneError`, list again).
"""
from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

from headlamp_operator.headlamp import errors
from headlamp_operator.headlamp.backend import Backend
from headlamp_operator.structs import ANONYMOUS, Credentials

MAX_EVENT_SIZE = 4 * 1024 * 1024  # bytes: one watch event (one object); a longer line ends the stream


async def watch_objects(backend: Backend, path: str, *, cluster: str, resource_version: str,
                        credentials: Credentials = ANONYMOUS, timeout_seconds: int = 300,
                        query: Mapping[str, str] | None = None) -> AsyncIterator[tuple[str, Mapping[str, Any]]]:
    """The changes of a collection after ``resource_version``, as ``(type, object)``, until the server ends the watch.

    An empty ``resource_version`` starts from now, the objects that exist first (an ADDED event each, as the API
    server sends them for a watch without one): one request instead of a list and a watch.

    The API server ends it after ``timeout_seconds``; it sends a BOOKMARK (an object with only its
    ``resourceVersion``) about every minute, and the stream is taken as dead when silent for
    ``timeout_seconds`` more (kopf #1267: streams behind load balancers go silent). The credential's
    token goes as ``Authorization: Bearer``, as :func:`~headlamp_operator.headlamp.proxy.cluster_request` sends it.

    Raises:
        errors.GoneError: ``resource_version`` is too old (list again).
        errors.ApiError: the watch was refused (a 403: the credential may not watch), or failed.
    """
    sent = {"Authorization": f"Bearer {credentials.token}"} if credentials.token is not None else {}
    params = {**(query or {}), "watch": "1", "allowWatchBookmarks": "true", "timeoutSeconds": str(timeout_seconds)}
    if resource_version:
        params["resourceVersion"] = resource_version
    async with backend.stream(path, cluster=cluster, headers=sent, query=params, credentials=credentials,
                              read_timeout=timeout_seconds + 30.0) as answer:
        pending = bytearray()
        async for chunk in answer.content.iter_any():
            pending += chunk
            while (end := pending.find(b"\n")) >= 0:
                line = bytes(pending[:end])
                del pending[:end + 1]
                event = _event(line, backend=backend, cluster=cluster, credentials=credentials)
                if event is not None:
                    yield event
            if len(pending) > MAX_EVENT_SIZE:
                raise errors.InvalidResponseError("OK - a watch event too large", status=200, cluster=cluster)


def _event(line: bytes, *, backend: Backend, cluster: str,
           credentials: Credentials) -> tuple[str, Mapping[str, Any]] | None:
    """One line of a watch: its event, None for a blank line or one of no known shape; an ERROR raised."""
    if not line.strip():
        return None
    try:
        event = json.loads(line)
    except ValueError as e:
        raise errors.InvalidResponseError("OK - a watch event that is not JSON", status=200, cluster=cluster) from e
    kind, obj = (event.get("type"), event.get("object")) if isinstance(event, dict) else (None, None)
    if not isinstance(kind, str) or not isinstance(obj, Mapping):
        return None
    if kind == "ERROR":
        code = obj.get("code")
        raise errors.from_status(code if isinstance(code, int) else 500, str(obj.get("reason") or ""),
                                 json.dumps(obj).encode(), headers={}, secrets=backend.secrets_of(credentials),
                                 cluster=cluster)
    return kind, obj
