"""The emulated backend's port-forward cache: start, stop, delete, list, and the pod monitor.

Modelled on v0.45.0's ``backend/pkg/portforward`` (docs/headlamp-backend.md#routes, #stop-and-delete):

- The cache is one flat map, keyed by the context key followed by the id (``PORT_FORWARD_{context}{id}``
  upstream). A get, stop or delete looks that exact key up; the list takes every key that STARTS with the
  context key, so ``/clusters/prod/portforward/list`` also lists the forwards of ``prod-eu`` (and of any
  cluster whose name plus forward id starts with ``prod``), and a dynamic cluster's forwards under a list
  without its user id. Entries come in insertion order here; the backend's order is a map's (none).
- A start that fails once its forwarder exists (the pod is missing, not ready in time, the port taken)
  leaves the forward in the list, ``Stopped``, with that error.
- A Running forward has a goroutine in ``ForwardPorts``; closing the forward (stop OR delete) ends it, and it
  stores the forward again, ``Stopped`` with error ``Port forward stopped.``: so a deleted Running forward is
  listed again at once (upstream issue #7389) and only a second delete removes it.

What the contract (:mod:`.contracts`) changes here: #7389 and #7273 take the ghost away (#7273 the goroutine's
store altogether: a stop leaves no ``Port forward stopped.``); #7273 reconnects a service-backed forward whose pod
stops (:mod:`.monitor`), and a start of an id being reconnected is not refused (v0.45.0's 409 is for ``Running``
only): the emulator then ends the reconnect and counts the start in ``starts_while_reconnecting``.
"""
from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable, Sequence

import aiohttp

from headlamp_operator_testing.kubernetes import KubeCluster, WatchEvent

from . import localhost, memory, monitor
from .contracts import Contract
from .forwards import STOPPED_ERROR, Forward, ForwardError, cache_key_of, parse_ports, validate_start
from .sessions import ContextKey
from .upstream import PodProblem, RealForward, UpstreamCluster

NOT_IN_CACHE = "failed to delete port forward failed to get portforward from cache: key not found"
NOT_READY = "timeout waiting for portforward to be ready"


def _refuse_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.close()


def missing_pod(message: str) -> str:
    """client-go's error when the API server refuses the port-forward upgrade (the pod does not exist)."""
    return f"error upgrading connection: unable to upgrade connection: {message}"


class ForwardTable:
    """The backend's port-forward cache, keyed by context key + id."""

    def __init__(self, *, notify: Callable[[], Awaitable[None]] | None = None, contract: Contract | None = None,
                 reconnect_delays: Sequence[float] = monitor.RECONNECT_DELAYS,
                 apis: memory.InMemoryApis | None = None) -> None:
        self.notify = notify  # called when a start begins, so that waiters see "starting"
        self.apis = apis if apis is not None else memory.InMemoryApis()  # the in-memory clusters' API servers
        self.contract = contract or Contract()  # the emulator keeps it in step with its own
        self.reconnect_delays = tuple(reconnect_delays)  # #7273's 5, 10, 20 s (a knob: tests shrink them)
        self.entries: dict[str, Forward] = {}  # context key + id -> forward
        self.starting: set[str] = set()  # context key + NUL + id of the starts under way
        self.generation = 0  # bumped by forget_all(), so that starts under way end up nowhere
        self.starts_while_reconnecting: list[str] = []  # ids a client started while the backend reconnected them

    def all(self) -> list[Forward]:
        """Every forward of every context."""
        return list(self.entries.values())

    def of(self, key: ContextKey) -> dict[str, Forward]:
        """The forwards started for exactly one context (cluster name, user id), by id."""
        return {f.id: f for f in self.entries.values() if (f.cluster, f.user_id) == key}

    def get(self, context: str, fid: str) -> Forward | None:
        """The forward a get, stop or delete of that context key finds for that id (Stopped ones too)."""
        return self.entries.get(context + fid)

    def listing(self, context: str) -> list[Forward]:
        """What ``portforward/list`` answers for that context key: every entry whose key starts with it."""
        return [forward for key, forward in self.entries.items() if key.startswith(context)]

    def _store(self, forward: Forward) -> None:
        self.entries[forward.context + forward.id] = forward

    async def _open(
        self, key: ContextKey, context: str, request: dict[str, str], address: str, *, token: str | None,
        backing: KubeCluster | UpstreamCluster | None, denial: Callable[[], Awaitable[str | None]],
        listen: Callable[[Forward], Awaitable[localhost.Listeners | RealForward]],
    ) -> Forward:
        """v0.45.0's start sequence: the 409s, the checks, then the forwarder, whose failure leaves it Stopped."""
        fid = request["id"] or str(uuid.uuid4())
        existing = self.get(context, fid)
        if existing is not None and existing.status == "Running":
            raise ForwardError(409, "portforward with this ID is already running")
        if existing is not None and existing.status == monitor.RECONNECTING:  # #7273: not refused
            self.starts_while_reconnecting.append(fid)
            existing.close()
        flight = f"{context}\x00{fid}"
        if flight in self.starting:
            raise ForwardError(409, "portforward with this ID is already starting")
        self.starting.add(flight)
        generation = self.generation
        try:
            validate_start(request)
            port = request["port"] or str(localhost.free_port())
            if self.notify is not None:
                await self.notify()
            problem = await denial()  # the context lookup, then the permission check
            if problem is not None:
                raise ForwardError(500, problem)
            parse_ports(port, request["targetPort"])  # the forwarder is made: a port NAME is refused here
            forward = Forward(id=fid, cluster=key[0], user_id=key[1], context=context,
                              namespace=request["namespace"], pod=request["pod"], service=request["service"],
                              service_namespace=request["serviceNamespace"], target_port=request["targetPort"],
                              port=port, address=address, token=token, backing=backing)
            try:
                server = await listen(forward)
            except ForwardError as exc:
                if generation == self.generation:  # kept, Stopped, with the error (handlePortForwardError)
                    forward.close(error=exc.message)
                    self._store(forward)
                raise
            if generation != self.generation:  # the backend restarted meanwhile: this start ends nowhere
                server.close()
                raise ForwardError(500, NOT_READY)
            forward.server, forward.forwarding = server, True
            self._store(forward)
            return forward
        finally:
            self.starting.discard(flight)

    async def start(
        self, key: ContextKey, request: dict[str, str], *, backing: KubeCluster | None, token: str | None,
        start_delay: float = 0.0, ready_timeout: float = 0.0, context: str | None = None,
        refusal: str | None = None, address: str = "",
    ) -> Forward:
        """Start a forward to an in-memory cluster as the backend does, or raise the backend's error for it.

        The checks are requests to the cluster's API server (:mod:`.memory`); the pod is waited for up to
        ``ready_timeout`` seconds (after ``start_delay``, a slow start). ``backing=None`` with ``refusal``: the
        backend cannot start it (unknown context, unreachable API server) and answers ``refusal`` after its
        checks. ``context`` defaults to ``key``'s context key.
        """
        pod: list[PodProblem | None] = []  # what the pod check found, once the permission check passed

        async def denial() -> str | None:
            if backing is None:
                return refusal or "key not found"
            denied, problem = await self.apis.check_start(backing, token, request["namespace"], request["pod"])
            pod.append(problem)
            return denied

        async def listen(forward: Forward) -> localhost.Listeners:
            assert backing is not None
            api = await self.apis.of(backing)
            problem = pod[0]
            if problem is not None and problem.missing:  # the upgrade fails at once
                raise ForwardError(500, missing_pod(problem.message))
            if start_delay > 0:
                await asyncio.sleep(start_delay)  # the knob: a backend slow to start forwards
                problem = await api.pod_problem(token, forward.namespace, forward.pod)
            if problem is not None:
                try:
                    async with asyncio.timeout(ready_timeout):
                        await memory.wait_running(api, token, forward.namespace, forward.pod)
                except (TimeoutError, aiohttp.ClientError):
                    raise ForwardError(500, NOT_READY) from None
            try:
                return await localhost.listen(_refuse_connection, int(forward.port))
            except (OSError, ValueError):  # client-go's ForwardPorts error, which the backend answers with
                raise ForwardError(500, localhost.listen_error(forward.port, forward.target_port)) from None

        context = cache_key_of(key) if context is None else context
        return await self._open(key, context, request, address, token=token, backing=backing, denial=denial,
                                listen=listen)

    async def start_upstream(
        self, key: ContextKey, request: dict[str, str], *, upstream: UpstreamCluster, token: str | None,
        ready_timeout: float, monitor_interval: float, context: str | None = None, address: str = "",
    ) -> Forward:
        """Start a real forward through a real API server (see :mod:`.upstream`), or raise the backend's error."""
        async def listen(forward: Forward) -> RealForward:
            try:
                async with asyncio.timeout(ready_timeout):
                    problem = await upstream.pod_problem(token, forward.namespace, forward.pod)
                    if problem is not None and problem.missing:  # the upgrade fails at once
                        raise ForwardError(500, missing_pod(problem.message))
                    while problem is not None:  # polling a real API server (a watch: a second client for one wait)
                        await asyncio.sleep(min(1.0, monitor_interval))
                        problem = await upstream.pod_problem(token, forward.namespace, forward.pod)
                    return await upstream.start_forward(
                        token=token, namespace=forward.namespace, pod=forward.pod, target_port=forward.target_port,
                        port=forward.port, ready_timeout=ready_timeout)
            except TimeoutError:
                raise ForwardError(500, NOT_READY) from None
            except RuntimeError as exc:  # client-go's ForwardPorts error, as the backend passes it on
                raise ForwardError(500, str(exc)) from None

        async def denial() -> str | None:
            return await upstream.portforward_denial(token, request["namespace"], request["pod"])

        context = cache_key_of(key) if context is None else context
        forward = await self._open(key, context, request, address, token=token, backing=upstream, denial=denial,
                                   listen=listen)
        forward.monitor = asyncio.ensure_future(monitor.watch_upstream(
            forward, upstream, interval=monitor_interval, reconnects=self.contract.reconnects,
            delays=self.reconnect_delays, notify=self._notify, ready_timeout=ready_timeout))
        return forward

    async def _notify(self) -> None:
        if self.notify is not None:
            await self.notify()

    def stop(self, context: str, fid: str, *, stop: bool) -> None:
        """``stop=True`` stops (the entry stays, Stopped); False deletes the entry.

        A forward still forwarding comes back Stopped with ``Port forward stopped.`` after either (its
        ``ForwardPorts`` goroutine stores it once more as it ends), unless the contract says otherwise:
        #7389 stores it only when still there (a stop), #7273 not at all (:mod:`.contracts`).
        """
        forward = self.get(context, fid)
        if forward is None:
            raise ForwardError(500, NOT_IN_CACHE)
        forwarding = forward.forwarding
        forward.close()
        if not stop:
            del self.entries[context + fid]
        if forwarding and self.contract.stores_closed_forwards and (stop or self.contract.ghost_after_delete):
            forward.error = forward.error or STOPPED_ERROR
            self._store(forward)

    def on_change(self, cluster: KubeCluster, event: WatchEvent) -> None:
        """The backend's pod monitor, run at once on every write of an in-memory cluster: forwards to a pod
        that stopped running stop (or, under #7273, a service-backed one is reconnected: :mod:`.monitor`)."""
        if (event.resource.group, event.resource.plural) != ("", "pods"):
            return
        name = event.object["metadata"]["name"]
        for forward in self.all():
            if (forward.backing is cluster and forward.status == "Running"
                    and (forward.namespace, forward.pod) == (event.namespace, name)):
                problem = memory.pod_problem_of(event)
                if problem is None:
                    continue
                if self.contract.reconnects and forward.service:
                    self._reconnect(cluster, forward, problem)
                else:
                    forward.close(error=monitor.stopped_pod_error(forward, problem))

    def _reconnect(self, cluster: KubeCluster, forward: Forward, problem: str) -> None:
        """#7273 for an in-memory forward: the ready pod its Service's EndpointSlices would list (:mod:`.memory`)."""
        async def find() -> tuple[str, str] | None:
            api = await self.apis.of(cluster)
            return await memory.ready_pod(api, forward.token, forward.service_namespace or forward.namespace,
                                          forward.service)

        async def listen(namespace: str, pod: str) -> localhost.Listeners:
            return await localhost.listen(_refuse_connection, int(forward.port))

        monitor.begin_reconnect(forward, problem, delays=self.reconnect_delays, notify=self._notify, find=find,
                                listen=listen)

    def forget_all(self) -> None:
        """A backend restart: every forward closed and forgotten."""
        self.generation += 1
        for forward in self.all():
            with contextlib.suppress(Exception):
                forward.close()
        self.entries.clear()
        self.starting.clear()
