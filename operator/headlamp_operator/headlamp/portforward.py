"""The port-forward calls of the frontend (``startPortForward``, ``stopOrDeletePortForward``, list and get).

Every call carries the credential's session cookies: the backend reads the token for port-forwards
only from them. Mind the backend's inverted flag: ``stopOrDelete: true`` STOPS (the entry stays,
``Stopped``), ``false`` DELETES; here it is the keyword-only ``stop=True`` of the frontend's default
(docs/headlamp-backend.md#stop-and-delete).
"""
from __future__ import annotations

import dataclasses
import json
from typing import Any, TypedDict, cast

from headlamp_operator.headlamp import auth, errors, paths, wire
from headlamp_operator.headlamp.backend import Backend
from headlamp_operator.structs import ANONYMOUS, Credentials


class PortForwardStarted(TypedDict, total=False):
    """The backend's echo of a started forward (``address`` is not echoed)."""

    id: str
    namespace: str
    pod: str
    service: str
    serviceNamespace: str
    targetPort: str
    port: str
    cluster: str


class PortForwardEntry(TypedDict, total=False):
    """One forward as ``/portforward/list`` reports it; ``status`` is ``Running`` or ``Stopped``."""

    id: str
    pod: str
    service: str
    serviceNamespace: str
    namespace: str
    cluster: str
    port: str
    targetPort: str
    status: str
    error: str


async def _fetch(backend: Backend, path: str, *, cluster: str, method: str, body: Any,
                 credentials: Credentials, query: dict[str, str] | None = None) -> wire.Response:
    headers: dict[str, str] = {}
    cookie = await auth.session_cookies(backend, cluster, credentials=credentials)
    if cookie:
        headers["Cookie"] = cookie
    data = None if body is None else json.dumps(body).encode()
    return await backend.cluster_fetch(path, cluster=cluster, method=method, headers=headers,
                                     body=data, query=query, credentials=credentials)


async def start_port_forward(backend: Backend, cluster: str, *, namespace: str, pod: str, target_port: str,
                             service: str = "", service_namespace: str = "", port: str = "",
                             address: str = "", id: str = "",
                             credentials: Credentials = ANONYMOUS) -> PortForwardStarted:
    """Start (or restart, for a known id) a forward; the answer has ``id`` and ``port`` filled in."""
    paths.namespace(namespace)
    paths.name(pod)
    if service:
        paths.name(service)
    if service_namespace:
        paths.namespace(service_namespace)
    if id:
        paths.portforward_id(id)
    payload = {"id": id, "namespace": namespace, "pod": pod, "service": service,
               "serviceNamespace": service_namespace, "targetPort": str(target_port),
               "port": str(port) if port else "", "address": address}
    try:
        response = await _fetch(backend, "/portforward", cluster=cluster, method="POST", body=payload,
                                credentials=credentials)
    except errors.StatusError as e:
        error = errors.classify_start_error(e)
        if isinstance(error, errors.UnauthorizedError) and not credentials.anonymous:
            # The session's token was refused: logged out as after a proxied 401 (docs/credentials.md#logout-on-401).
            await auth.logout(backend, cluster, credentials=credentials)
        raise error from e
    answer = response.json()
    if not isinstance(answer, dict) or not isinstance(answer.get("id"), str):
        raise errors.InvalidResponseError(f"{response.reason} - unexpected port-forward answer",
                                          status=response.status, cluster=cluster)
    return cast(PortForwardStarted, answer)


STOPPED, DELETED = "stopped", "deleted"  # the answers: v0.45.0 says "stopped" for both; upstream #6153 tells them apart


async def stop_or_delete_port_forward(backend: Backend, cluster: str, id: str, *,
                                      stop: bool = True, credentials: Credentials = ANONYMOUS) -> str:
    """Stop (``stop=True``: kept as Stopped) or delete (``stop=False``) a forward; returns the answer's text.

    The body is one that both contracts (docs/headlamp-backend.md#stop-and-delete) read the same way: v0.45.0 decodes
    ``stopOrDelete`` (true stops, false deletes) and ignores ``action``; upstream #6153 reads ``action``
    and ignores the flag. Learning the contract from one answer instead (a 400 naming ``action``) once
    deleted a forward that was to be stopped, after Headlamp was rolled back and restarted
    (kubernetes-sigs/headlamp#6069): nothing learned outlives a backend restart, so nothing is learned.
    The answer is returned stripped: ``stopped`` (v0.45.0, for both; #6153 for a stop) or ``deleted``
    (#6153 for a delete); the caller reports what it says.

    Raises:
        errors.ForwardNotFoundError: the backend knows no forward of that id.
    """
    body = {"id": paths.portforward_id(id), "stopOrDelete": stop, "action": "stop" if stop else "delete"}
    try:
        response = await _fetch(backend, "/portforward", cluster=cluster, method="DELETE", body=body,
                                credentials=credentials)
    except errors.StatusError as e:
        raise errors.classify_forward_error(e) from e
    return response.text().strip()


@dataclasses.dataclass(frozen=True, slots=True)
class PortForwardList:
    """One ``/portforward/list`` answer: its entries, and the bytes they were read from."""

    entries: list[PortForwardEntry]
    body: bytes


async def list_port_forwards(backend: Backend, cluster: str, *,
                             credentials: Credentials = ANONYMOUS) -> list[PortForwardEntry]:
    """Every forward the backend knows for the cluster, Running or Stopped."""
    return (await read_port_forward_list(backend, cluster, credentials=credentials)).entries


async def read_port_forward_list(backend: Backend, cluster: str, *, credentials: Credentials = ANONYMOUS,
                                 previous: PortForwardList | None = None) -> PortForwardList:
    """:func:`list_port_forwards` with the answer's bytes; ``previous`` is returned as is if they are the same.

    The health checks ask for the list every interval, and an idle backend sends the same bytes each
    time: comparing them costs far less than parsing thousands of entries again.
    """
    response = await _fetch(backend, "/portforward/list", cluster=cluster, method="GET", body=None,
                            credentials=credentials)
    if previous is not None and previous.body == response.body:
        return previous
    answer = response.json()
    if answer is None:  # Go encodes an empty slice that was never allocated as null
        return PortForwardList(entries=[], body=response.body)
    if not isinstance(answer, list):
        raise errors.InvalidResponseError(f"{response.reason} - the port-forward list is not a list",
                                          status=response.status, cluster=cluster)
    return PortForwardList(entries=[cast(PortForwardEntry, entry) for entry in answer if isinstance(entry, dict)],
                           body=response.body)


async def get_port_forward(backend: Backend, cluster: str, id: str, *,
                           credentials: Credentials = ANONYMOUS) -> PortForwardEntry:
    """One forward by id; :class:`errors.ForwardNotFoundError` when the backend runs none with that id."""
    try:
        response = await _fetch(backend, "/portforward", cluster=cluster, method="GET", body=None,
                                query={"id": paths.portforward_id(id)}, credentials=credentials)
    except errors.StatusError as e:
        raise errors.classify_forward_error(e) from e
    answer = response.json()
    if not isinstance(answer, dict):
        raise errors.InvalidResponseError(f"{response.reason} - unexpected port-forward answer",
                                          status=response.status, cluster=cluster)
    return cast(PortForwardEntry, answer)
