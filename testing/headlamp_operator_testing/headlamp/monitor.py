"""The backend's pod monitor of a running forward: v0.45.0 stops it; upstream #7273 reconnects a service-backed one.

v0.45.0 (``monitorPodAndManagePortForward`` in ``backend/pkg/portforward/handler.go``) checks the forward's pod
every 5 seconds and, once it is not Running, marks the forward ``Stopped`` with ``Pod {ns}/{pod} check failed:
{error}``; it never restarts it (docs/headlamp-backend.md#routes). The in-memory clusters run that check on
every write instead (:meth:`ForwardTable.on_change <.forwardtable.ForwardTable.on_change>`); a real API
server's forward is polled here (:func:`watch_upstream`).

Upstream #7273 (docs/headlamp-backend.md#upstream-changes-in-flight; its diff's ``handlePodCheck``,
``attemptReconnect``, ``resolveServicePod``): a forward started with ``service`` whose pod stops is listed
``Reconnecting`` (error empty) while its forwarder is closed, then up to 3 tries, after 5, 10 and 20 s, each
resolving the Service to the first ready pod of its EndpointSlices (``kubernetes.io/service-name`` label) and
forwarding the same local port to it. A try that succeeds lists the forward ``Running`` again with ``pod`` and
``namespace`` of the new pod; a try that finds no ready pod, or cannot forward, leaves it ``Reconnecting``;
after the third, it is ``Stopped`` with the error v0.45.0 would have written. A stop or delete meanwhile ends
the tries (the emulator's :class:`Forward` cancels its monitor task on close). Pod-only forwards still stop.
The delays are the emulator's ``reconnect_delays`` knob, so that tests need not wait 35 s.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from . import localhost
from .forwards import Forward, ForwardError
from .upstream import RealForward, UpstreamCluster

logger = logging.getLogger(__name__)

RECONNECTING = "Reconnecting"
RECONNECT_DELAYS = (5.0, 10.0, 20.0)  # #7273's attemptReconnect: 3 tries, after these many seconds

Server = localhost.Listeners | RealForward
Notify = Callable[[], Awaitable[None]]


def stopped_pod_error(forward: Forward, problem: str) -> str:
    """What the monitor writes into a forward whose pod stopped (v0.45.0 and #7273 alike)."""
    return f"Pod {forward.namespace}/{forward.pod} check failed: {problem}"


def begin_reconnect(forward: Forward, problem: str, *, delays: Sequence[float], notify: Notify,
                    find: Callable[[], Awaitable[tuple[str, str] | None]],
                    listen: Callable[[str, str], Awaitable[Server]],
                    then: Callable[[Forward], None] | None = None) -> None:
    """#7273: close the forward's forwarder, list it ``Reconnecting``, and try to move it (a task of its own).

    ``find`` resolves the Service to a ready pod; ``listen`` forwards the same local port to it; ``then`` runs
    once it forwards again (a real forward's monitor starts anew).
    """
    if forward.server is not None:
        forward.server.close()
        forward.server = None
    forward.status, forward.error, forward.forwarding = RECONNECTING, "", False
    forward.reconnects += 1
    forward.monitor = asyncio.ensure_future(_reconnect(forward, stopped_pod_error(forward, problem), delays=delays,
                                                       notify=notify, find=find, listen=listen, then=then))


async def _reconnect(forward: Forward, failure: str, *, delays: Sequence[float], notify: Notify,
                     find: Callable[[], Awaitable[tuple[str, str] | None]],
                     listen: Callable[[str, str], Awaitable[Server]],
                     then: Callable[[Forward], None] | None) -> None:
    for delay in delays:
        await asyncio.sleep(delay)
        found = await find()
        if found is None:
            continue
        try:
            server = await listen(*found)
        except (ForwardError, OSError, RuntimeError, TimeoutError) as exc:
            logger.info("forward %s: a reconnect try to %s/%s failed: %s", forward.id, *found, exc)
            continue
        forward.namespace, forward.pod = found
        forward.server, forward.status, forward.error, forward.forwarding = server, "Running", "", True
        forward.monitor = None
        if then is not None:
            then(forward)
        await notify()
        return
    forward.status, forward.error, forward.monitor = "Stopped", failure, None
    await notify()


async def watch_upstream(forward: Forward, upstream: UpstreamCluster, *, interval: float, reconnects: bool,
                         delays: Sequence[float], notify: Notify, ready_timeout: float) -> None:
    """Headlamp's pod monitor for a real forward: Stopped, with the error, once the pod or the stream ends;
    under #7273 (``reconnects``) a service-backed one is moved to a ready pod of its Service instead."""
    while forward.status == "Running":
        await asyncio.sleep(interval)
        process = forward.server
        ended = process if isinstance(process, RealForward) and not process.running else None
        found = await upstream.pod_problem(forward.token, forward.namespace, forward.pod)
        if found is None and ended is None:
            continue
        if found is None or not (reconnects and forward.service):
            # the stream's end is stored as client-go said it (forwardPortsAsync), a pod's as the monitor words it
            forward.close(error=ended.error() if ended is not None else stopped_pod_error(forward, found.message
                                                                                          if found else ""))
            await notify()
            return
        problem = found.message

        async def find() -> tuple[str, str] | None:
            return await upstream.ready_endpoint(forward.token, forward.service_namespace or forward.namespace,
                                                 forward.service)

        async def listen(namespace: str, pod: str) -> Server:
            return await upstream.start_forward(token=forward.token, namespace=namespace, pod=pod,
                                                target_port=forward.target_port, port=forward.port,
                                                ready_timeout=ready_timeout)

        def again(moved: Forward) -> None:
            moved.monitor = asyncio.ensure_future(watch_upstream(
                moved, upstream, interval=interval, reconnects=reconnects, delays=delays, notify=notify,
                ready_timeout=ready_timeout))

        begin_reconnect(forward, problem, delays=delays, notify=notify, find=find, listen=listen, then=again)
        await notify()
        return
