"""Reconciling a PortForward: start, adopt, stop, release on deletion, and heal from the backend's list.

Plain async functions over the request layer: they take the spec and return a :class:`Result`;
kopf is the handlers' business. A forward's id is ``spec.id`` or the resource's uid, so a restart
of the operator (or a 409 for our own id) finds the same forward again instead of a duplicate.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from headlamp_operator.headlamp import errors, portforward
from headlamp_operator.headlamp.client import Backend
from headlamp_operator.reconciling import outcomes, targets
from headlamp_operator.reconciling.forwardlists import ForwardLists
from headlamp_operator.reconciling.outcomes import Result
from headlamp_operator.reconciling.specs import PortForwardSpec
from headlamp_operator.settings import ReconcileSettings
from headlamp_operator.status import Outcome
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


def running(ctx: Context, entry: Mapping[str, Any], *, reason: str) -> Outcome:
    """The Running outcome for a forward as the backend describes it."""
    address = ctx.spec.address or "127.0.0.1"
    message = (f"forwarding {address}:{entry.get('port', '?')} -> "
               f"{entry.get('namespace', '?')}/{entry.get('pod', '?')}:{entry.get('targetPort', '?')}")
    if reason == "Adopted":
        message = "adopted existing forward: " + message.removeprefix("forwarding ")
    fields = {"id": ctx.id, "port": str(entry.get("port") or ""), "pod": str(entry.get("pod") or "")}
    return Outcome(phase="Running", reason=reason, message=message, fields=fields)


async def _adopt(ctx: Context) -> Result:
    entry: Mapping[str, Any] = await portforward.get_port_forward(ctx.backend, ctx.cluster, ctx.id,
                                                                  credentials=ctx.credentials)
    if not entry.get("port") or not entry.get("targetPort"):  # GET ?id= answers fewer fields than the list
        if ctx.lists is not None:  # the shared list, if it already knows the forward (no extra request)
            listing = await ctx.lists.listing(ctx.backend, ctx.cluster, credentials=ctx.credentials)
            entry = listing.by_id.get(ctx.id, entry)
        else:
            listed = await portforward.list_port_forwards(ctx.backend, ctx.cluster, credentials=ctx.credentials)
            entry = next((e for e in listed if e.get("id") == ctx.id), entry)
    if entry.get("status") == "Stopped":
        detail = entry.get("error") or "stopped at the backend"
        return Result(outcome=Outcome(phase="Pending", reason="Stopped", message=f"adopted forward {ctx.id}: {detail}",
                                      fields={"id": ctx.id}), retry_in=ctx.settings.sync_interval)
    return Result(outcome=running(ctx, {**entry, "port": entry.get("port", "")}, reason="Adopted"))


async def _stop_or_delete(ctx: Context, *, stop: bool) -> bool:
    """Stop (``stop=True``) or delete the forward of our id; False when the backend did not know it."""
    try:
        await portforward.stop_or_delete_port_forward(ctx.backend, ctx.cluster, ctx.id, stop=stop,
                                                      credentials=ctx.credentials)
    except errors.ForwardNotFoundError:
        return False
    return True


async def _start_once(ctx: Context, target: targets.Target, port: str) -> Mapping[str, Any]:
    return await portforward.start_port_forward(
        ctx.backend, ctx.cluster, id=ctx.id, namespace=target.namespace, pod=target.pod,
        service=target.service, service_namespace=target.service_namespace, target_port=target.target_port,
        port=port, address=ctx.spec.address, credentials=ctx.credentials)


def _points_at(entry: Mapping[str, Any], target: targets.Target, port: str) -> bool:
    """Whether a forward the backend runs is the one the spec asks for (pod, namespace, ports)."""
    return (entry.get("namespace") == target.namespace and entry.get("pod") == target.pod
            and str(entry.get("targetPort")) == target.target_port and (not port or str(entry.get("port")) == port))


async def _start(ctx: Context, *, fresh: bool) -> Result:
    """Start the forward the spec asks for; a forward of our id that points elsewhere is deleted first.

    The local port is stable (SPEC 3.1): without ``spec.port`` the port this forward had before is
    asked for again, and only if it is taken does the backend pick a new one (the message says so).
    """
    target = await targets.resolve(ctx.backend, ctx.spec, namespace=ctx.namespace, credentials=ctx.credentials,
                                   resolutions=ctx.resolutions, fresh=fresh)
    wanted = ctx.spec.port
    port = wanted or ctx.previous_port
    note = ""
    try:
        started = await _start_once(ctx, target, port)
    except errors.LocalPortInUseError:
        if wanted or not port:
            raise
        started = await _start_once(ctx, target, "")
        note = f" (local port {port} was taken: a new one was picked)"
    except errors.ForwardAlreadyRunningError:
        listed = await portforward.list_port_forwards(ctx.backend, ctx.cluster, credentials=ctx.credentials)
        entry = next((e for e in listed if e.get("id") == ctx.id), None)
        if entry is not None and _points_at(entry, target, wanted):
            return Result(outcome=running(ctx, entry, reason="Adopted"))  # what runs is what the spec asks
        # Our id runs, pointing elsewhere (the spec changed): delete it, then start what the spec asks.
        await _stop_or_delete(ctx, stop=False)
        started = await _start_once(ctx, target, port)
    outcome = running(ctx, dict(started), reason="Started")
    return Result(outcome=dataclasses.replace(outcome, message=outcome.message + note))


async def run(ctx: Context, *, attempt: int = 0, fresh: bool = False) -> Result:
    """Bring the forward to ``spec.state``: Running (start or adopt) or Stopped; ``fresh``: re-resolve."""
    try:
        if ctx.spec.state == "Stopped":
            return await _stop(ctx)
        if ctx.adopting:
            return await _adopt(ctx)
        return await _start(ctx, fresh=fresh)
    except targets.NoReadyPod as e:
        delay = outcomes.backoff(attempt, minimum=ctx.settings.backoff_min, maximum=ctx.settings.backoff_max)
        return Result(outcome=Outcome(phase="Pending", reason="Pending",
                                      message=f"{e}; attempt {attempt + 1}, retrying in {delay:g}s"),
                      retry_in=delay)
    except targets.PortNotFound as e:
        return outcomes.invalid("InvalidSpec", str(e))
    except errors.ApiError as e:
        return outcomes.from_error(e, attempt=attempt, minimum=ctx.settings.backoff_min,
                                   maximum=ctx.settings.backoff_max)


async def _stop(ctx: Context) -> Result:
    await _stop_or_delete(ctx, stop=True)
    # status.port is kept: starting again asks for the same local port (SPEC 3.1)
    return Result(outcome=Outcome(phase="Stopped", reason="Stopped", message=f"forward {ctx.id} is stopped",
                                  fields={"id": ctx.id}))


async def release(ctx: Context) -> str:
    """What deleting the resource does to the forward (``deletionPolicy``); raises on failure to retry."""
    policy = ctx.spec.deletion_policy
    if policy == "Orphan":
        return f"forward {ctx.id} left running (deletionPolicy Orphan)"
    if not await _stop_or_delete(ctx, stop=policy == "Stop"):
        return f"forward {ctx.id} was already gone"
    return f"forward {ctx.id} {'stopped' if policy == 'Stop' else 'deleted'}"


def health(ctx: Context, by_id: Mapping[str, Mapping[str, Any]]) -> tuple[Mapping[str, Any] | None, str | None]:
    """The backend's entry for this forward and, if it is not running, why (from the shared list, by id)."""
    entry = by_id.get(ctx.id)
    if entry is None:
        return None, "the backend no longer lists the forward (restarted?)"
    if entry.get("status") == "Stopped":
        return entry, f"the backend reports the forward Stopped: {entry.get('error') or 'no reason given'}"
    return entry, None
