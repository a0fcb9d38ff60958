"""How a lost forward is healed (docs/portforward.md#health-and-self-healing): every look at a PortForward that
should run, and what it concludes.

Two callers look: the health pass (:mod:`~headlamp_operator.scheduling.forwardpass`, every sync interval) calls
:func:`tick` for each forward the backend's shared list does not show as recorded (:func:`steady`), and a retry of a
transient outcome calls :func:`retry`. Both end in :func:`judge`: a forward the backend no longer lists, or lists as
Stopped, is started again (:func:`~headlamp_operator.reconciling.portforward.run`); one the backend is reconnecting
itself is left to it; an adopted forward is only watched; a forward the backend keeps stopping right after each start
is started again only after a backoff. A Failed forward is tried again when one of its Secrets changed
(:mod:`~headlamp_operator.scheduling.gate`). What a look concludes (:class:`Verdict`) is written by :func:`record`,
and whatever is transient comes back with ``retry_in``, the retry it schedules (docs/status.md#retries).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Literal

from headlamp_operator.headlamp import errors
from headlamp_operator.reconciling import portforward
from headlamp_operator.reconciling.specs import PortForwardSpec
from headlamp_operator.scheduling import forwards, gate, podwatch
from headlamp_operator.scheduling import state as rt
from headlamp_operator.scheduling.retries import Retry
from headlamp_operator.status import outcomes
from headlamp_operator.status import render as status_module
from headlamp_operator.status.outcomes import Result
from headlamp_operator.status.render import Outcome
from headlamp_operator.status.write import StatusWriter

RECONNECTING = "Reconnecting"  # upstream #7273: the backend moves a service forward to another pod itself
RESTARTS_TOLERATED = 3  # restarts in a row that did not last one health check, before they are spaced by backoff


@dataclasses.dataclass(frozen=True)
class Verdict:
    """What a health check concluded: the result to record, whether it counts as a sync (``lastSyncTime``),
    whether its retry (when transient) looks at the list again before acting (``check``), and whether the
    forward was started again (``restarted``: the caller counts restarts in a row)."""

    result: Result
    synced: bool = True
    check: bool = False
    restarted: bool = False


def steady(spec: PortForwardSpec, status: Mapping[str, Any], *, uid: str,
           by_id: Mapping[str, Mapping[str, Any]]) -> bool:
    """Whether the shared list shows the forward as it was last recorded (Running, the same local port and pod).

    The fast path of a health check: nothing to heal and nothing to write, so no credentials
    are loaded; an idle operator's work per forward and interval is this lookup. A forward with a
    retry scheduled is never steady: the caller leaves it to its retry.
    """
    if spec.state != "Running" or status.get("phase") != "Running":
        return False
    entry = by_id.get(spec.id or uid)
    return (entry is not None and entry.get("status") == "Running"
            and str(entry.get("port") or "") == str(status.get("port") or "")
            and str(entry.get("pod") or "") == str(status.get("pod") or ""))  # a backend may move it (#7273)


STEADY: Literal["steady"] = "steady"  # what check() says of a forward found running as recorded: nothing to record


def _moved_since(entry: Mapping[str, Any] | None, status: Mapping[str, Any]) -> bool:
    """Whether a listed entry names another pod or port than the status (a list older than a move says so)."""
    return entry is not None and (str(entry.get("pod") or "") != str(status.get("pod") or "")
                                  or str(entry.get("port") or "") != str(status.get("port") or ""))


def _unwatched_news(ctx: portforward.Context, message: str) -> bool:
    """Whether the message is wrong about the forward's pods being watched (:mod:`.podwatch`: said once)."""
    return ctx.unwatched not in message if ctx.unwatched else podwatch.UNWATCHED in message


def _left_to_backend(ctx: portforward.Context, entry: Mapping[str, Any], *, attempt: int) -> Verdict:
    """A forward the backend is reconnecting itself (upstream #7273): Pending, looked at again, never started."""
    return Verdict(outcomes.retrying(
        f"Headlamp is reconnecting forward {ctx.id} to a pod of its service itself "
        f"({entry.get('error') or 'its pod went away'}): left to it, not started again meanwhile",
        reason="Pending", settings=ctx.settings, attempt=attempt, fields={"id": ctx.id}), check=True)


async def judge(ctx: portforward.Context, *, status: Mapping[str, Any], attempt: int = 0,
                since: float | None = None, restarts: int = 0) -> Verdict | Literal["steady"] | None:
    """One health check of a forward that should run: what to record, :data:`STEADY` when it runs as recorded
    (nothing to record: it lasted), or None when the list says nothing of it yet.

    The backend's list is shared by every forward of the cluster (one request per interval); a list
    asked for before this forward (re)started says nothing about it. ``since`` (monotonic seconds):
    a retry's check wants a list newer than the failure it retries. ``ctx.lists`` must be set.

    A backend that reconnects a forward itself (``Reconnecting``, upstream #7273) is left to do it: the
    operator does not fight it with a start of its own. ``restarts`` counts this forward's restarts in
    a row that did not last one health check: past :data:`RESTARTS_TOLERATED` (a backend that stops
    every forward right after it starts, as upstream #7258 would as written), the next restart waits
    the backoff, and the status says why, instead of a restart every interval.
    """
    assert ctx.lists is not None, "a health check reads the shared per-cluster list"
    try:
        listing = await ctx.lists.listing(ctx.backend, ctx.cluster, credentials=ctx.credentials, since=since)
    except errors.ApiError as e:
        # A failed list says nothing of the forward: looked at again with backoff, never Failed for it.
        failure = outcomes.from_error(e, attempt=attempt, settings=ctx.settings, action="health check",
                                      transient=True)
        return Verdict(failure, synced=False, check=True)
    entry, problem = portforward.health(ctx, listing.by_id)
    synced = status_module.parse_timestamp(status.get("lastSyncTime"))
    older = since is None and synced is not None and synced >= listing.fetched.replace(microsecond=0)
    if older and (problem is not None or _moved_since(entry, status)):
        return None  # the shared list was asked for before this forward (re)started or moved: no verdict from it
    if entry is not None and entry.get("status") == RECONNECTING:
        return _left_to_backend(ctx, entry, attempt=attempt)
    if entry is not None and problem is None:  # running: refresh what changed (a port after a restart)
        outcome = portforward.running(ctx, entry, reason="Adopted" if ctx.adopting else "Started")
        if status.get("phase") != "Running" or outcome.fields.get("port") != status.get("port") \
                or outcome.fields.get("pod") != status.get("pod") \
                or _unwatched_news(ctx, str(status.get("message"))):
            return Verdict(Result(outcome=outcome))
        return STEADY
    if ctx.adopting:  # an adopted forward is only observed, never restarted; it may come back
        return Verdict(outcomes.retrying(f"adopted forward {ctx.id}: {problem}; watching for it (Headlamp does not "
                                         "restart it: start it again there, or give this resource a pod or service)",
                                         reason="NotFound" if entry is None else "Stopped", settings=ctx.settings,
                                         attempt=attempt, fields={"id": ctx.id}), check=True)
    if restarts >= RESTARTS_TOLERATED:
        return Verdict(outcomes.retrying(
            f"the backend stopped forward {ctx.id} after each of its last {restarts} starts ({problem}); "
            "started again after a backoff", reason="Stopped", settings=ctx.settings,
            attempt=restarts - RESTARTS_TOLERATED, fields={"id": ctx.id}), restarted=True)
    result = await portforward.run(ctx, attempt=attempt, fresh=True)  # its pod may be gone: resolve anew
    if not result.outcome.ready:
        return Verdict(result)
    outcome = result.outcome
    return Verdict(Result(outcome=Outcome(phase=outcome.phase, reason=outcome.reason,
                                          message=f"restarted ({problem}): {outcome.message}", fields=outcome.fields)),
                   restarted=True)


async def check(runtime: rt.Runtime, uid: str, ctx: portforward.Context, status: Mapping[str, Any], *,
                attempt: int = 0, since: float | None = None) -> Verdict | None:
    """:func:`judge`, counting the forward's restarts in a row that did not last one health check."""
    verdict = await judge(ctx, status=status, attempt=attempt, since=since, restarts=runtime.restarts.get(uid, 0))
    if not isinstance(verdict, Verdict):
        if verdict == STEADY:
            runtime.restarts.pop(uid, None)  # it lasted a health check
        return None  # running as recorded, or nothing known of it yet: nothing to record
    if verdict.restarted:
        runtime.restarts[uid] = runtime.restarts.get(uid, 0) + 1
    return verdict


async def tick(runtime: rt.Runtime, uid: str, tracked: rt.TrackedForward) -> Verdict | None:
    """The health pass's look at one forward: heal a lost or stopped forward, retry a Failed one whose Secret changed.

    Returns what to record, or None (nothing to record). A Pending forward is its retry's business; one
    without a retry (written before a restart) gets one.
    """
    body, spec = tracked.body, tracked.spec
    phase = (body.get("status") or {}).get("phase")
    retries = forwards.retries(runtime)
    if phase == "Failed":
        versions = await gate.secrets_changed(runtime, body)
        if versions is None:
            return None
        ctx = await forwards.context(runtime, body, spec)
        result = ctx if isinstance(ctx, Result) else await portforward.run(ctx, fresh=True)
        gate.remember(runtime, body, result, versions=versions)
        return Verdict(result)
    if retries.get(uid) is not None:
        return None  # its retry is due soon, or under way
    if phase == "Pending":  # a Pending without a retry: one written before a restart
        retries.schedule(uid, attempt=0, delay=0.0)
        return None
    if isinstance(spec, list) or spec.state != "Running" or phase != "Running":
        return None
    ctx = await forwards.context(runtime, body, spec)
    if isinstance(ctx, Result):
        return Verdict(ctx, synced=False)
    return await check(runtime, uid, ctx, body.get("status") or {})


async def record(runtime: rt.Runtime, uid: str, tracked: rt.TrackedForward, verdict: Verdict, *,
                 write_status: StatusWriter, attempt: int) -> None:
    """Write a verdict (:func:`forwards.record`), and schedule the retry of a transient one."""
    await forwards.record(runtime, uid, tracked, verdict.result, write_status=write_status, attempt=attempt,
                          synced=verdict.synced, check=verdict.check)


async def _moving(runtime: rt.Runtime, uid: str, tracked: rt.TrackedForward, ctx: portforward.Context, due: Retry, *,
                  write_status: StatusWriter) -> tuple[rt.TrackedForward, Verdict] | None:
    """Move a forward whose pod stopped serving (``due.cause``, from :mod:`.podwatch`): first its status says so
    (Pending, not Running on a dead pod), then :func:`portforward.move`. None: the resource changed meanwhile."""
    spec = ctx.spec
    where = f"{spec.service_namespace or spec.namespace or ctx.namespace}/{spec.service}"
    then = "it is started again once the pod is back" if spec.pod else \
        f"moving the forward to another Ready pod of service {where} on the same local port"
    pending = Result(outcome=Outcome(phase="Pending", reason="Pending", message=f"{due.cause}: {then}",
                                     fields={"id": ctx.id}))
    now = await forwards.record(runtime, uid, tracked, pending, write_status=write_status, attempt=due.attempt,
                                synced=False)
    if now is None:
        return None
    # A backend that moves a service forward itself (upstream #7273) is left to do it, as judge() does. A list of
    # its own, not the shared one: asked for before the move, that would be stale for the whole next pass.
    try:
        entry = await portforward.listed(ctx)
    except errors.ApiError as e:
        return now, Verdict(outcomes.from_error(e, attempt=due.attempt, settings=ctx.settings))
    if entry is not None and entry.get("status") == RECONNECTING:
        return now, _left_to_backend(ctx, entry, attempt=due.attempt)
    return now, Verdict(await portforward.move(ctx, attempt=due.attempt))


async def retry(runtime: rt.Runtime, uid: str, due: Retry, *, write_status: StatusWriter) -> None:
    """One retry of a forward's transient outcome: look at the list first (``due.check``), or bring it to its spec."""
    tracked = runtime.forwards.get(uid)
    if tracked is None:
        return
    body, spec = tracked.body, tracked.spec
    versions = await gate.secret_versions(runtime, body)
    ctx = await forwards.context(runtime, body, spec)
    if isinstance(ctx, Result):
        verdict: Verdict | None = Verdict(ctx, synced=False)
    elif due.cause and ctx.spec.state == "Running" and not ctx.adopting:
        moving = await _moving(runtime, uid, tracked, ctx, due, write_status=write_status)
        if moving is None:
            return
        tracked, verdict = moving
    elif due.check and ctx.spec.state == "Running":
        verdict = await check(runtime, uid, ctx, body.get("status") or {}, attempt=due.attempt, since=due.due)
    else:
        # Its pod or its Service's pods may have changed: resolved anew, not from a shared read (Resolutions).
        verdict = Verdict(await portforward.run(ctx, attempt=due.attempt, fresh=True))
    if verdict is None:
        return
    gate.remember(runtime, body, verdict.result, versions=versions)
    await record(runtime, uid, tracked, verdict, write_status=write_status, attempt=due.attempt)
