"""Reconciling a PortForward: start, adopt, stop, release on deletion, and heal from the backend's list.

Plain async functions over the request layer: they take the spec and return a :class:`Result`;
kopf is the handlers' business. A forward's id is ``spec.id`` or the resource's uid, so a restart
of the operator (or a 409 for our own id) finds the same forward again instead of a duplicate.
"""
from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping
from typing import Any

from headlamp_operator.headlamp import errors, paths, portforward, resources
from headlamp_operator.headlamp.backend import Backend
from headlamp_operator.reconciling import targets
from headlamp_operator.reconciling.forwardlists import ForwardLists
from headlamp_operator.reconciling.specs import PortForwardSpec
from headlamp_operator.settings import ReconcileSettings
from headlamp_operator.status import outcomes
from headlamp_operator.status.outcomes import Result
from headlamp_operator.status.render import Outcome
from headlamp_operator.structs import Credentials


@dataclasses.dataclass(frozen=True, kw_only=True)
class Context:
    """One PortForward as the reconciler needs it."""

    backend: Backend
    settings: ReconcileSettings
    spec: PortForwardSpec
    namespace: str
    uid: str
    credentials: Credentials
    resolutions: targets.Resolutions | None = None  # shared service resolutions (None: none shared)
    lists: ForwardLists | None = None  # the shared per-cluster forward lists (None: ask the backend)
    previous_port: str = ""  # status.port: the local port to ask for again when spec.port is unset
    previous_pod: str = ""  # status.pod: the pod it last ran on (a pod that goes missing there was lost, not mistyped)
    # the spec changed what the forward points at (docs/portforward.md#start): a forward of our id is replaced
    moved: bool = False
    # the forward is moving off a pod that stopped serving: its own local port is waited for while the old
    # listener closes, never given up for another (docs/portforward.md#watching-pods)
    keep_port: bool = False
    unwatched: str = ""  # why its pods are not watched (a 403), said in its Running message; "" when they are

    @property
    def cluster(self) -> str:
        """The Headlamp cluster name."""
        return self.spec.cluster

    @property
    def id(self) -> str:
        """The backend's id of the forward: ``spec.id`` or this resource's uid."""
        return self.spec.id or self.uid

    @property
    def adopting(self) -> bool:
        """An existing forward (started elsewhere) managed by id alone."""
        return self.spec.adopting


# where v0.45.0 listens: client-go's listener, on 127.0.0.1 and ::1 (docs/headlamp-backend.md#routes)
LISTENER = "localhost"


def host_port(host: str, port: object) -> str:
    """``host:port``, an IPv6 host in brackets (``[::1]:8080``), as URLs and ``kubectl`` print them."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def running(ctx: Context, entry: Mapping[str, Any], *, reason: str) -> Outcome:
    """The Running outcome for a forward as the backend describes it: every word from its answer.

    Where it listens is the answer's ``address`` when a backend reports one; v0.45.0 reports none and
    ignores the one it is sent, its listener being client-go's on ``localhost``, so a ``spec.address``
    is said to be ignored rather than printed as if it were true (kubernetes/kubernetes#57828).
    """
    reported = str(entry.get("address") or "")
    message = (f"forwarding {host_port(reported or LISTENER, entry.get('port', '?'))} -> "
               f"{entry.get('namespace', '?')}/{entry.get('pod', '?')}:{entry.get('targetPort', '?')}")
    if reason == "Adopted":
        message = "adopted existing forward: " + message.removeprefix("forwarding ")
    wanted = ctx.spec.address
    if wanted and wanted != LISTENER and wanted != reported:
        message += f" (spec.address {wanted} is ignored: this Headlamp listens on {reported or LISTENER} only)"
    if ctx.unwatched and not ctx.adopting:
        message += f"; {ctx.unwatched}"
    fields = {"id": ctx.id, "port": str(entry.get("port") or ""), "pod": str(entry.get("pod") or "")}
    return Outcome(phase="Running", reason=reason, message=message, fields=fields)


async def _adopt(ctx: Context, attempt: int) -> Result:
    """Observe the forward of ``spec.id``: Running as the backend lists it, or why not.

    An id the backend does not know is a mistake of the spec (Failed, NotFound), unless this resource
    adopted it before (``status.port`` is set): then it went away (a Headlamp restart, a delete in its
    UI) and may come back, so it is watched with backoff, as the health checks do (docs/portforward.md#adopting).
    """
    try:
        entry: Mapping[str, Any] = await portforward.get_port_forward(ctx.backend, ctx.cluster, ctx.id,
                                                                      credentials=ctx.credentials)
    except errors.ForwardNotFoundError as e:
        if not ctx.previous_port:
            raise
        return outcomes.retrying(f"adopted forward {ctx.id}: the backend no longer knows it ({e.message}); "
                                 "watching for it", reason="NotFound", settings=ctx.settings, attempt=attempt,
                                 fields={"id": ctx.id})
    if not entry.get("port") or not entry.get("targetPort"):  # GET ?id= answers fewer fields than the list
        if ctx.lists is not None:  # the shared list, if it already knows the forward (no extra request)
            listing = await ctx.lists.listing(ctx.backend, ctx.cluster, credentials=ctx.credentials)
            entry = listing.by_id.get(ctx.id, entry)
        else:
            listed = await portforward.list_port_forwards(ctx.backend, ctx.cluster, credentials=ctx.credentials)
            entry = next((e for e in listed if _ours(ctx, e)), entry)
    if entry.get("status") == "Stopped":
        detail = entry.get("error") or "stopped at the backend"
        return outcomes.retrying(f"adopted forward {ctx.id}: {detail}; watching for it (Headlamp does not restart "
                                 "it: start it again there, or give this resource a pod or service)", reason="Stopped",
                                 settings=ctx.settings, attempt=attempt, fields={"id": ctx.id})
    return Result(outcome=running(ctx, {**entry, "port": entry.get("port", "")}, reason="Adopted"))


def _ours(ctx: Context, entry: Mapping[str, Any]) -> bool:
    """Whether a listed forward is this one: its id, at its cluster (v0.45.0's list matches cluster prefixes)."""
    return entry.get("id") == ctx.id and str(entry.get("cluster") or ctx.cluster) == ctx.cluster


async def _stop_or_delete(ctx: Context, *, stop: bool) -> str | None:
    """Stop (``stop=True``) or delete the forward of our id: the backend's answer, or None when it did not know it."""
    try:
        return await portforward.stop_or_delete_port_forward(ctx.backend, ctx.cluster, ctx.id, stop=stop,
                                                             credentials=ctx.credentials)
    except errors.ForwardNotFoundError:
        return None


GHOST_WAITS = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6)  # seconds between looks for a deleted forward listed again (#7389)


async def listed(ctx: Context) -> Mapping[str, Any] | None:
    """This forward as the backend lists it now (a request of its own, not the shared list), or None."""
    listed = await portforward.list_port_forwards(ctx.backend, ctx.cluster, credentials=ctx.credentials)
    return next((e for e in listed if _ours(ctx, e)), None)


async def _delete(ctx: Context) -> bool:
    """Delete the forward of our id for good; False when the backend did not know it.

    v0.45.0 lists a forward deleted while it ran again, as Stopped (``Port forward stopped.``, upstream
    #7389, seen on the real server): the delete removes the entry and closes the forward, whose
    goroutine then stores it once more as it ends, a moment later (``forwardPortsAsync`` in
    ``backend/pkg/portforward/handler.go``). A second delete removes it for good. So a forward that was
    Running is looked for a few seconds after its delete (:data:`GHOST_WAITS`), and deleted again when
    it comes back; a Stopped one has no goroutine left to bring it back.

    Raises:
        errors.ApiError: the backend failed a delete or a list.
    """
    before = await listed(ctx)
    if await _stop_or_delete(ctx, stop=False) is None:
        return False
    if before is None or before.get("status") != "Running":
        return True
    for wait in GHOST_WAITS:
        await asyncio.sleep(wait)
        if await listed(ctx) is not None:
            await _stop_or_delete(ctx, stop=False)
            return True
    return True


PORT_WAITS = (0.05, 0.1, 0.2, 0.4, 0.8)  # seconds between starts on a moving forward's port, its old listener closing


async def _start_on_own_port(ctx: Context, target: targets.Target, port: str) -> Mapping[str, Any]:
    """Start on ``port``; a forward replacing its own (``keep_port``) tries the port again while the old one closes.

    v0.45.0 closes a deleted forward's listener as its goroutine ends, just after the delete's answer
    (``forwardPortsAsync`` in backend/pkg/portforward/handler.go): a start at once may find it still bound.

    Raises:
        errors.LocalPortInUseError: the port stayed taken (for :data:`PORT_WAITS`, when moving).
    """
    waits = list(PORT_WAITS) if ctx.keep_port and port else []
    while True:
        try:
            return await _start_once(ctx, target, port)
        except errors.LocalPortInUseError:
            if not waits:
                raise
            await asyncio.sleep(waits.pop(0))


async def _start_once(ctx: Context, target: targets.Target, port: str) -> Mapping[str, Any]:
    return await portforward.start_port_forward(
        ctx.backend, ctx.cluster, id=ctx.id, namespace=target.namespace, pod=target.pod,
        service=target.service, service_namespace=target.service_namespace, target_port=target.target_port,
        port=port, address=ctx.spec.address, credentials=ctx.credentials)


def _points_at(entry: Mapping[str, Any], target: targets.Target, port: str) -> bool:
    """Whether a forward the backend runs is the one the spec asks for (pod, namespace, ports)."""
    return (entry.get("namespace") == target.namespace and entry.get("pod") == target.pod
            and str(entry.get("targetPort")) == target.target_port and (not port or str(entry.get("port")) == port))


async def _pod_missing(ctx: Context, target: targets.Target) -> bool:
    """After a "not ready yet" answer for a pod forward, one read of the pod: whether it does not exist
    (docs/portforward.md#start)."""
    path = paths.object_path(group_name="", version_name="v1", plural_name="pods", namespace_name=target.namespace,
                             object_name=target.pod)
    try:
        await resources.get_object(ctx.backend, path, cluster=ctx.cluster, credentials=ctx.credentials)
    except errors.NotFoundError as e:
        return not isinstance(e, errors.UnknownClusterError | errors.NoRouteError)
    except errors.ApiError:
        return False  # not known to be missing: the "not ready yet" stands
    return False


def _no_pod(ctx: Context, target: targets.Target, error: errors.ApiError, *, attempt: int) -> Result:
    """A pod forward whose pod does not exist: a mistake of the spec (Failed), or a pod it ran on that is gone.

    A pod the forward last ran on may come back under its name (a StatefulSet recreates it): that is
    healed with backoff (docs/portforward.md#health-and-self-healing); any other missing pod is NotFound until the
    spec changes.
    """
    shown = f"{target.namespace}/{target.pod}"
    if target.pod == ctx.previous_pod:
        return outcomes.retrying(f"pod {shown} no longer exists; the forward is started again once it is back "
                                 f"[{error.message}]", reason="NotFound", settings=ctx.settings, attempt=attempt)
    return outcomes.invalid("NotFound", f"pod {shown} does not exist: check spec.pod and spec.namespace "
                                        f"[{error.message}]")


def _missing_target(ctx: Context, error: errors.NotFoundError, *, attempt: int) -> Result | None:
    """The outcome of a pod or Service that the API server says does not exist while resolving (None: another 404).

    Read to resolve a named port (a pod) or its pods (a Service); the message names where it was looked
    for, and a pod the forward ran on is healed with backoff, as after a start that names it (:func:`_no_pod`).
    """
    if isinstance(error, errors.UnknownClusterError | errors.PageNotFoundError):
        return None  # not the object's 404: the cluster, a route, or an API not served
    spec = ctx.spec
    namespace = spec.namespace or ctx.namespace
    if spec.pod:
        return _no_pod(ctx, targets.Target(namespace=namespace, pod=spec.pod, target_port=spec.target_port), error,
                       attempt=attempt)
    where = spec.service_namespace or namespace
    return outcomes.invalid("NotFound", f"service {where}/{spec.service} does not exist: check spec.service and "
                                        f"spec.serviceNamespace (or spec.namespace) [{error.message}]")


def _port_lost(ctx: Context, error: errors.ApiError, *, attempt: int) -> Result:
    """A local port the backend picked itself was taken before it listened on it: asking again gets another.

    v0.45.0 finds a free port by listening on port 0 and closing it, and listens on it later
    (``getFreePort``, backend/pkg/portforward/handler.go): in a burst another forward can take it
    meanwhile. Transient, unlike a port the spec names.
    """
    return outcomes.retrying(f"the local port Headlamp picked was taken before it listened on it: {error.message}",
                             reason="Conflict", settings=ctx.settings, attempt=attempt)


async def _start(ctx: Context, *, fresh: bool, attempt: int) -> Result:
    """Start the forward the spec asks for; a forward of our id that points elsewhere is deleted first.

    The local port is stable (docs/portforward.md#start): without ``spec.port`` the port this forward had before is
    asked for again, and only if it is taken does the backend pick a new one (the message says so).
    """
    try:
        target = await targets.resolve(ctx.backend, ctx.spec, namespace=ctx.namespace, credentials=ctx.credentials,
                                       resolutions=ctx.resolutions, fresh=fresh)
    except errors.NotFoundError as e:
        missing = _missing_target(ctx, e, attempt=attempt)
        if missing is None:
            raise
        return missing
    wanted = ctx.spec.port
    port = wanted or ctx.previous_port
    note = ""
    try:
        started = await _start_on_own_port(ctx, target, port)
    except errors.LocalPortInUseError as e:
        if wanted:
            raise  # the spec's own port: Conflict until it is free or the spec changes
        if not port:
            return _port_lost(ctx, e, attempt=attempt)
        try:
            started = await _start_once(ctx, target, "")
        except errors.LocalPortInUseError as again:
            return _port_lost(ctx, again, attempt=attempt)
        note = f" (local port {port} was taken: a new one was picked)"
    except errors.PodNotFoundError as e:
        return _no_pod(ctx, target, e, attempt=attempt)
    except errors.ForwardNotReadyError as e:
        if not target.service and await _pod_missing(ctx, target):
            return _no_pod(ctx, target, e, attempt=attempt)
        raise
    except errors.ForwardAlreadyRunningError:
        listed = await portforward.list_port_forwards(ctx.backend, ctx.cluster, credentials=ctx.credentials)
        entry = next((e for e in listed if _ours(ctx, e)), None)
        if entry is not None and not ctx.moved and _points_at(entry, target, wanted):
            # What runs is what the spec asks: ours (its id is this resource's uid), or one shared by spec.id.
            return Result(outcome=running(ctx, entry, reason="Adopted" if ctx.spec.id else "Started"))
        # Our id runs, pointing elsewhere (the spec changed, its pod died): delete it, then start what the spec
        # asks, on the port the deleted one is letting go of.
        await _stop_or_delete(ctx, stop=False)
        started = await _start_on_own_port(dataclasses.replace(ctx, keep_port=True), target, port)
    outcome = running(ctx, dict(started), reason="Started")
    return Result(outcome=dataclasses.replace(outcome, message=outcome.message + note))


async def run(ctx: Context, *, attempt: int = 0, fresh: bool = False) -> Result:
    """Bring the forward to ``spec.state``: Running (start or adopt) or Stopped; ``fresh``: re-resolve."""
    try:
        if ctx.spec.state == "Stopped":
            return await _stop(ctx)
        if ctx.adopting:
            return await _adopt(ctx, attempt)
        return await _start(ctx, fresh=fresh, attempt=attempt)
    except targets.NoReadyPod as e:
        return outcomes.retrying(str(e), reason="Pending", settings=ctx.settings, attempt=attempt)
    except targets.PortNotFound as e:
        return outcomes.invalid("InvalidSpec", str(e))
    except errors.ApiError as e:
        return outcomes.from_error(e, attempt=attempt, settings=ctx.settings)


async def move(ctx: Context, *, attempt: int = 0) -> Result:
    """Move a forward whose pod stopped serving (docs/portforward.md#watching-pods): the backend's forward of our id
    goes (until Headlamp's 5 s pod monitor notices, it forwards to the old pod), then the forward starts as the
    spec asks, resolved anew, on its own local port; a pod forward whose pod is gone waits for it (NotFound)."""
    try:
        await _stop_or_delete(ctx, stop=False)
    except errors.ApiError as e:
        return outcomes.from_error(e, attempt=attempt, settings=ctx.settings)
    return await run(dataclasses.replace(ctx, keep_port=True), attempt=attempt, fresh=True)


async def _stop(ctx: Context) -> Result:
    """Stop the forward, and say what the backend said it did (a stop never deletes: docs/portforward.md#stop)."""
    answer = await _stop_or_delete(ctx, stop=True)
    if answer is None:
        message = f"forward {ctx.id} is stopped: Headlamp has none of that id (never started, or forgotten)"
    elif answer == portforward.DELETED:  # a backend that did not stop it as asked: say so, never "stopped"
        message = f"forward {ctx.id} was deleted, not stopped: the backend answered {answer!r} to a stop"
    else:
        message = f"forward {ctx.id} is stopped"
    # status.port is kept: starting again asks for the same local port (docs/portforward.md#start)
    return Result(outcome=Outcome(phase="Stopped", reason="Stopped", message=message, fields={"id": ctx.id}))


async def release(ctx: Context) -> str:
    """What deleting the resource does to the forward (``deletionPolicy``); raises on failure to retry."""
    policy = ctx.spec.deletion_policy
    if policy == "Orphan":
        return f"forward {ctx.id} left running (deletionPolicy Orphan)"
    if policy == "Delete":
        return f"forward {ctx.id} deleted" if await _delete(ctx) else f"forward {ctx.id} was already gone"
    answer = await _stop_or_delete(ctx, stop=True)
    if answer is None:
        return f"forward {ctx.id} was already gone"
    if answer == portforward.DELETED:
        return f"forward {ctx.id} was deleted, not stopped: the backend answered {answer!r} to a stop"
    return f"forward {ctx.id} stopped"


def health(ctx: Context, by_id: Mapping[str, Mapping[str, Any]]) -> tuple[Mapping[str, Any] | None, str | None]:
    """The backend's entry for this forward and, if it is not running, why (from the shared list, by id)."""
    entry = by_id.get(ctx.id)
    if entry is None:
        return None, "the backend no longer lists the forward (restarted?)"
    if entry.get("status") == "Stopped":
        return entry, f"the backend reports the forward Stopped: {entry.get('error') or 'no reason given'}"
    return entry, None
