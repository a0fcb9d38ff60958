"""Port-forward requests and entries of the emulated backend: how v0.45.0 reads a start or a stop, and what
it keeps in its cache. The cache itself (start, stop, delete, list, the pod monitor) is :mod:`.forwardtable`.
"""
from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import Any

from headlamp_operator_testing.kubernetes import KubeCluster

from .localhost import Listeners
from .sessions import ContextKey
from .upstream import RealForward, UpstreamCluster

FIELDS = ("id", "namespace", "pod", "service", "serviceNamespace", "targetPort", "port")  # portForwardRequest
ECHOED = FIELDS  # the backend echoes its request struct, which has no address: it is neither echoed nor used
STOPPED_ERROR = "Port forward stopped."  # what ForwardPorts' goroutine writes when its forward is closed
STATELESS_SEP = "\x00"  # between the cluster name and the user id in a dynamic cluster's context key


class ForwardError(Exception):
    """A port-forward call the backend refuses: answered as a plain-text Go error."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def cache_key_of(key: ContextKey) -> str:
    """The backend's context key (``statelessContextKey``): the cluster name, plus NUL and the user id of a
    dynamic cluster; a dynamic cluster without a user id is keyed by its bare name."""
    name, user_id = key
    return name + STATELESS_SEP + user_id if user_id else name


@dataclasses.dataclass(kw_only=True)
class Forward:
    """One port-forward the backend keeps in its cache (Running, or Stopped but not deleted)."""

    id: str
    cluster: str  # the {cluster} of the start's URL
    user_id: str | None  # the X-HEADLAMP-USER-ID of a dynamic cluster, else None
    context: str  # the backend's context key: the cache holds this forward under context + id
    namespace: str
    pod: str
    service: str
    service_namespace: str
    target_port: str
    port: str
    address: str  # as the start sent it (v0.45.0 ignores it)
    token: str | None  # the token it was started with (session cookies or kubeconfig), None: backend's own
    status: str = "Running"
    error: str = ""
    # ForwardPorts still runs for it: when its listener is closed, that goroutine stores it again, Stopped.
    forwarding: bool = False
    reconnects: int = 0  # times the backend began to move it to another pod itself (#7273)
    backing: KubeCluster | UpstreamCluster | None = dataclasses.field(default=None, repr=False, compare=False)
    server: Listeners | RealForward | None = dataclasses.field(default=None, repr=False, compare=False)
    monitor: asyncio.Task[None] | None = dataclasses.field(default=None, repr=False, compare=False)

    def listing(self) -> dict[str, str]:
        """The entry as ``GET portforward/list`` shows it."""
        return {"id": self.id, "pod": self.pod, "service": self.service, "serviceNamespace": self.service_namespace,
                "namespace": self.namespace, "cluster": self.cluster, "port": self.port,
                "targetPort": self.target_port, "status": self.status, "error": self.error}

    def summary(self, cluster: str) -> dict[str, str]:
        """The entry as ``GET /clusters/{cluster}/portforward?id=`` shows it (the URL's cluster, no status)."""
        return {"id": self.id, "pod": self.pod, "service": self.service, "cluster": cluster,
                "namespace": self.namespace}

    def close(self, *, error: str | None = None) -> None:
        """Close the local listener and mark the forward Stopped (with ``error``, if given)."""
        if self.server is not None:
            self.server.close()
            self.server = None
        if self.monitor is not None and self.monitor is not asyncio.current_task():
            self.monitor.cancel()
        self.monitor = None
        self.forwarding = False
        self.status = "Stopped"
        if error is not None:
            self.error = error


# -- Go's encoding/json, as far as these two requests need it -------------------------------------------

def _go_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else "string"


def go_decode(body: bytes) -> Any:
    """The first JSON value of a body, as Go's ``json.Decoder.Decode`` reads it (what follows is ignored).

    Raises:
        ValueError: with Go's words for it (``EOF``, ``unexpected EOF``; a syntax error's text is close to Go's).
    """
    text = body.decode("utf-8", errors="replace").lstrip(" \t\r\n")
    if not text:
        raise ValueError("EOF")
    try:
        value, _ = json.JSONDecoder().raw_decode(text)
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text):
            raise ValueError("unexpected EOF") from None
        raise ValueError(f"invalid character '{text[exc.pos]}' looking for beginning of value") from None
    return value


def go_struct(doc: Any, struct: str, types: dict[str, type]) -> dict[str, Any]:
    """Decode a JSON value into a Go struct of these JSON fields (keys matched case-insensitively, null skipped).

    Raises:
        ValueError: Go's decoding error (the first type mismatch, as Go reports it once it is done).
    """
    if not isinstance(doc, dict):
        raise ValueError(f"json: cannot unmarshal {_go_type(doc)} into Go value of type portforward.{struct}")
    names = {name.lower(): name for name in types}
    fields: dict[str, Any] = {}
    mismatch: str | None = None
    for key, value in doc.items():
        name = names.get(key.lower())
        if name is None or value is None:
            continue
        if isinstance(value, types[name]):  # (a bool is no str, and a number no bool)
            fields[name] = value
        elif mismatch is None:
            mismatch = (f"json: cannot unmarshal {_go_type(value)} into Go struct field {struct}.{name} "
                        f"of type {_go_type(types[name]())}")
    if mismatch is not None:
        raise ValueError(mismatch)
    return fields


def parse_start(body: bytes) -> tuple[dict[str, str], str]:
    """Decode a start request as v0.45.0 does: its fields (each a string, "" when absent), and the address
    the client sent (kept for assertions only: the backend's struct has no such field)."""
    try:
        doc = go_decode(body)
        fields = go_struct(doc, "portForwardRequest", dict.fromkeys(FIELDS, str))
    except ValueError as exc:
        raise ForwardError(400, f"failed to marshal port forward payload {exc}") from None
    address = doc.get("address")
    return {name: fields.get(name, "") for name in FIELDS}, address if isinstance(address, str) else ""


def validate_start(request: dict[str, str]) -> None:
    """The backend's check of a start, made once the id is claimed (after the 409s)."""
    for name, what in (("namespace", "namespace"), ("pod", "pod name"), ("targetPort", "targetPort")):
        if not request[name]:
            raise ForwardError(400, f"{what} is required")


def _port_number(text: str) -> int:
    """Go's ``strconv.ParseUint(text, 10, 16)``, with its error's words."""
    if not text.isascii() or not text.isdigit():
        raise ValueError(f'strconv.ParseUint: parsing "{text}": invalid syntax')
    if int(text) > 0xFFFF:
        raise ValueError(f'strconv.ParseUint: parsing "{text}": value out of range')
    return int(text)


def parse_ports(port: str, target: str) -> tuple[int, int]:
    """The local and remote port of ``{port}:{targetPort}``, read as client-go's port-forwarder reads its
    port specification (``tools/portforward``: numbers only, so a container port's NAME is refused).

    v0.45.0 builds the forwarder after the permission check and before storing the forward, so the refusal
    is a 500 and leaves nothing in the list (recorded: tests/kit/headlamp/transcripts/headlamp-v0.45.0.json,
    ``start/named-target-port``).

    Raises:
        ForwardError: 500 ``failed to initialize port forwarder: failed to create portforwarder: ...``.
    """
    parts = f"{port}:{target}".split(":")
    try:
        if len(parts) != 2:
            raise ValueError(f"invalid port format '{port}:{target}'")
        local, remote = parts[0] or "0", parts[1]
        try:
            local_port = _port_number(local)
        except ValueError as exc:
            raise ValueError(f"error parsing local port '{local}': {exc}") from None
        try:
            remote_port = _port_number(remote)
        except ValueError as exc:
            raise ValueError(f"error parsing remote port '{remote}': {exc}") from None
        if remote_port == 0:
            raise ValueError("remote port must be > 0")
    except ValueError as exc:
        raise ForwardError(500, f"failed to initialize port forwarder: failed to create portforwarder: {exc}") from None
    return local_port, remote_port


def parse_stop(body: bytes) -> tuple[str, bool]:
    """Decode a stop or delete as v0.45.0 does (``stopOrDeletePortForwardRequest``): (id, stopOrDelete).

    v0.45.0 reads ``id`` and ``stopOrDelete`` only: an ``action`` is ignored, a missing flag is false (a delete).
    """
    try:
        fields = go_struct(go_decode(body), "stopOrDeletePortForwardRequest", {"id": str, "stopOrDelete": bool})
    except ValueError as exc:
        raise ForwardError(400, str(exc)) from None
    if not fields.get("id"):
        raise ForwardError(400, "invalid request, id is required")
    return str(fields["id"]), bool(fields.get("stopOrDelete", False))


def parse_stop_action(body: bytes) -> tuple[str, str]:
    """Decode a stop or delete as upstream #6153 does: (id, action), the action ``stop`` or ``delete``.

    Its ``stopOrDeletePortForwardRequest`` has ``id`` and ``action`` (no flag): a decoding error is Go's text,
    then ``Validate`` wants the id, then one of the two actions (``refs/pull/6153``, ``handler.go``).
    """
    try:
        fields = go_struct(go_decode(body), "stopOrDeletePortForwardRequest", {"id": str, "action": str})
    except ValueError as exc:
        raise ForwardError(400, str(exc)) from None
    if not fields.get("id"):
        raise ForwardError(400, "invalid request, id is required")
    if fields.get("action") not in ("stop", "delete"):
        raise ForwardError(400, 'invalid request, action must be "stop" or "delete"')
    return str(fields["id"]), str(fields["action"])
