"""Port-forwards of the emulated backend: start, stop, delete, list, and the pod monitor."""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from .kube import KubeCluster, ObjectKey
from .sessions import ContextKey
from .upstream import RealForward, UpstreamCluster

FIELDS = ("id", "namespace", "pod", "service", "serviceNamespace", "targetPort", "port", "address")
ECHOED = FIELDS[:-1]  # the backend echoes the request without its address


class ForwardError(Exception):
    """A port-forward call the backend refuses: answered as a plain-text Go error."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclasses.dataclass(kw_only=True)
class Forward:
    """One port-forward the backend keeps in its cache (Running, or Stopped but not deleted)."""

    id: str
    cluster: str
    user_id: str | None  # the X-HEADLAMP-USER-ID of a dynamic cluster, else None
    namespace: str
    pod: str
    service: str
    service_namespace: str
    target_port: str
    port: str
    address: str
    token: str | None  # the token it was started with (session cookies or kubeconfig), None: backend's own
    status: str = "Running"
    error: str = ""
    backing: KubeCluster | UpstreamCluster | None = dataclasses.field(default=None, repr=False, compare=False)
    server: asyncio.Server | RealForward | None = dataclasses.field(default=None, repr=False, compare=False)
    monitor: asyncio.Task[None] | None = dataclasses.field(default=None, repr=False, compare=False)

    def listing(self) -> dict[str, str]:
        """The entry as ``GET portforward/list`` shows it."""
        return {"id": self.id, "pod": self.pod, "service": self.service, "serviceNamespace": self.service_namespace,
                "namespace": self.namespace, "cluster": self.cluster, "port": self.port,
                "targetPort": self.target_port, "status": self.status, "error": self.error}

    def summary(self) -> dict[str, str]:
        """The entry as ``GET portforward?id=`` shows it."""
        return {"id": self.id, "pod": self.pod, "service": self.service, "cluster": self.cluster,
                "namespace": self.namespace}

    def close(self, *, error: str | None = None) -> None:
        """Close the local listener and mark the forward Stopped."""
        if self.server is not None:
            self.server.close()
            self.server = None
        if self.monitor is not None and self.monitor is not asyncio.current_task():
            self.monitor.cancel()
        self.monitor = None
        self.status = "Stopped"
        if error is not None:
            self.error = error


def _go_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else "string"


def parse_start(body: bytes) -> dict[str, str]:
    """Decode a start request as Go's encoding/json would into a struct of string fields."""
    try:
        doc = json.loads(body)
    except ValueError as exc:
        raise ForwardError(400, f"failed to marshal port forward payload {'EOF' if not body.strip() else exc}") from exc
    if not isinstance(doc, dict):
        raise ForwardError(400, "failed to marshal port forward payload json: cannot unmarshal "
                                f"{_go_type(doc)} into Go value of type portforward.portForwardRequest")
    fields = {name.lower(): name for name in FIELDS}  # Go matches JSON keys case-insensitively
    request = dict.fromkeys(FIELDS, "")
    for key, value in doc.items():
        name = fields.get(key.lower())
        if name is None or value is None:
            continue
        if not isinstance(value, str):
            raise ForwardError(400, "failed to marshal port forward payload json: cannot unmarshal "
                                    f"{_go_type(value)} into Go struct field portForwardRequest.{name} "
                                    "of type string")
        request[name] = value
    for name, what in (("namespace", "namespace"), ("pod", "pod name"), ("targetPort", "targetPort")):
        if not request[name]:
            raise ForwardError(400, f"{what} is required")
    return request


def _refuse_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.close()


class ForwardTable:
    """The backend's port-forward cache, keyed by context (cluster name, dynamic user id)."""

    def __init__(self, *, notify: Callable[[], Awaitable[None]] | None = None) -> None:
        self.notify = notify  # called when a start begins, so that waiters see "starting"
        self.by_context: dict[ContextKey, dict[str, Forward]] = {}
        self.starting: set[tuple[ContextKey, str]] = set()
        self.generation = 0  # bumped by forget_all(), so that starts under way end up nowhere

    def all(self) -> list[Forward]:
        """Every forward of every context."""
        return [f for table in self.by_context.values() for f in table.values()]

    def of(self, key: ContextKey) -> dict[str, Forward]:
        """The forwards of one context, by id."""
        return self.by_context.get(key, {})

    def _claim(self, key: ContextKey, request: dict[str, str]) -> str:
        """The id a start is for, marked as starting; the backend's 409s when it runs or starts already."""
        table = self.by_context.setdefault(key, {})
        fid = request["id"] or str(uuid.uuid4())
        existing = table.get(fid)
        if existing is not None and existing.status == "Running":
            raise ForwardError(409, "portforward with this ID is already running")
        if (key, fid) in self.starting:
            raise ForwardError(409, "portforward with this ID is already starting")
        self.starting.add((key, fid))
        return fid

    async def _open(self, key: ContextKey, request: dict[str, str], *, denial: Callable[[], Awaitable[str | None]],
                    listen: Callable[[], Awaitable[tuple[asyncio.Server | RealForward, str]]],
                    ) -> tuple[str, asyncio.Server | RealForward, str]:
        """The backend's start sequence: claim the id, check permission, open the forward; (id, listener, port)."""
        fid = self._claim(key, request)
        generation = self.generation
        try:
            if self.notify is not None:
                await self.notify()
            problem = await denial()
            if problem is not None:
                raise ForwardError(500, problem)
            server, port = await listen()
            if generation != self.generation:  # the backend restarted meanwhile: this start ends nowhere
                server.close()
                raise ForwardError(500, "timeout waiting for portforward to be ready")
        finally:
            self.starting.discard((key, fid))
        return fid, server, port

    async def start(
        self, key: ContextKey, request: dict[str, str], *, backing: KubeCluster, token: str | None,
        start_delay: float, ready_timeout: float,
    ) -> Forward:
        """Start a forward as the backend does, or raise the backend's error for it."""
        async def denial() -> str | None:
            return backing.portforward_denial(token, request["namespace"])

        async def listen() -> tuple[asyncio.Server, str]:
            if start_delay > 0:
                await asyncio.sleep(start_delay)
            await self._wait_for_pod(backing, request["namespace"], request["pod"], patience=ready_timeout)
            server = await self._listen(request["port"], request["targetPort"])
            return server, str(server.sockets[0].getsockname()[1])

        fid, server, port = await self._open(key, request, denial=denial, listen=listen)
        return self._record(key, fid, request, token=token, backing=backing, server=server, port=port)

    def _record(self, key: ContextKey, fid: str, request: dict[str, str], *, token: str | None,
                backing: KubeCluster | UpstreamCluster, server: asyncio.Server | RealForward, port: str) -> Forward:
        """Keep a started forward in the cache, as the start request described it."""
        forward = Forward(id=fid, cluster=key[0], user_id=key[1], namespace=request["namespace"],
                          pod=request["pod"], service=request["service"],
                          service_namespace=request["serviceNamespace"], target_port=request["targetPort"],
                          port=port, address=request["address"], token=token, backing=backing, server=server)
        self.by_context.setdefault(key, {})[fid] = forward
        return forward

    async def start_upstream(
        self, key: ContextKey, request: dict[str, str], *, upstream: UpstreamCluster, token: str | None,
        ready_timeout: float, monitor_interval: float,
    ) -> Forward:
        """Start a real forward through a real API server (see :mod:`.upstream`), or raise the backend's error."""
        async def listen() -> tuple[RealForward, str]:
            try:
                async with asyncio.timeout(ready_timeout):
                    # polling a real API server (a watch would be a second client for one wait)
                    while await upstream.pod_problem(token, request["namespace"], request["pod"]) is not None:  # noqa: ASYNC110
                        await asyncio.sleep(min(1.0, monitor_interval))
                    process = await upstream.start_forward(
                        token=token, namespace=request["namespace"], pod=request["pod"],
                        target_port=request["targetPort"], port=request["port"], ready_timeout=ready_timeout)
            except TimeoutError:
                raise ForwardError(500, "timeout waiting for portforward to be ready") from None
            except RuntimeError as exc:  # client-go's ForwardPorts error, as the backend passes it on
                raise ForwardError(500, str(exc)) from None
            return process, str(process.port)

        async def denial() -> str | None:
            return await upstream.portforward_denial(token, request["namespace"])

        fid, process, port = await self._open(key, request, denial=denial, listen=listen)
        forward = self._record(key, fid, request, token=token, backing=upstream, server=process, port=port)
        forward.monitor = asyncio.ensure_future(self._watch_upstream(forward, upstream, monitor_interval))
        return forward

    @staticmethod
    async def _watch_upstream(forward: Forward, upstream: UpstreamCluster, interval: float) -> None:
        """Headlamp's pod monitor for a real forward: Stopped, with the error, once the pod or the stream ends."""
        while forward.status == "Running":
            await asyncio.sleep(interval)
            process = forward.server
            if process is not None and not isinstance(process, asyncio.Server) and not process.running:
                forward.close(error=process.error())
                return
            problem = await upstream.pod_problem(forward.token, forward.namespace, forward.pod)
            if problem is not None:
                forward.close(error=f"Pod {forward.namespace}/{forward.pod} check failed: {problem}")
                return

    @staticmethod
    async def _wait_for_pod(backing: KubeCluster, namespace: str, pod: str, *, patience: float) -> None:
        changed = asyncio.Event()

        def _wake(cluster: KubeCluster, key: ObjectKey, obj: dict[str, Any] | None) -> None:
            changed.set()

        backing.listeners.append(_wake)
        try:
            async with asyncio.timeout(patience):
                while backing.pod_problem(namespace, pod) is not None:
                    changed.clear()
                    await changed.wait()
        except TimeoutError:
            raise ForwardError(500, "timeout waiting for portforward to be ready") from None
        finally:
            backing.listeners.remove(_wake)

    @staticmethod
    async def _listen(port: str, target_port: str) -> asyncio.Server:
        try:
            return await asyncio.start_server(_refuse_connection, "127.0.0.1", int(port) if port else 0)
        except (OSError, ValueError):  # client-go's ForwardPorts error, which the backend answers with
            raise ForwardError(500, f"unable to listen on any of the requested ports: [{{{port} {target_port}}}]") \
                from None

    def stop(self, key: ContextKey, fid: str, *, stop: bool) -> None:
        """``stopOrDelete: true`` stops (the entry stays, Stopped); false deletes the entry."""
        forward = self.of(key).get(fid)
        if forward is None:
            raise ForwardError(500, "failed to delete port forward failed to get portforward from cache: "
                                    "key not found")
        forward.close()
        if not stop:
            del self.by_context[key][fid]

    def on_change(self, cluster: KubeCluster, key: ObjectKey, obj: dict[str, Any] | None) -> None:
        """The backend's pod monitor, run at once on every write: forwards to a dead pod stop."""
        if key.resource != "pods":
            return
        for forward in self.all():
            if (forward.backing is cluster and forward.status == "Running"
                    and (forward.namespace, forward.pod) == (key.namespace, key.name)):
                problem = cluster.pod_problem(forward.namespace, forward.pod)
                if problem is not None:
                    forward.close(error=f"Pod {forward.namespace}/{forward.pod} check failed: {problem}")

    def forget_all(self) -> None:
        """A backend restart: every forward closed and forgotten."""
        self.generation += 1
        for forward in self.all():
            with contextlib.suppress(Exception):
                forward.close()
        self.by_context.clear()
        self.starting.clear()
