"""Healing a PortForward from the backend's shared list (SPEC 3.1): what one health check concludes.

Plain functions over :mod:`~headlamp_operator.reconciling.portforward`: the scheduler in
``handlers/forwards.py`` calls :func:`check` for every Running (or healing) forward once per sync
interval, and writes the status it returns. A forward the backend no longer lists, or lists as
Stopped, is started again, restarts spaced by :class:`Backoff`; an adopted forward is only watched.
"""
from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from typing import Any

from headlamp_operator import status as status_module
from headlamp_operator.headlamp import errors
from headlamp_operator.reconciling import outcomes, portforward
from headlamp_operator.reconciling.outcomes import Result
from headlamp_operator.reconciling.specs import PortForwardSpec
from headlamp_operator.settings import ReconcileSettings
from headlamp_operator.status import Outcome


@dataclasses.dataclass(slots=True)
class Backoff:
    """How often healing one forward failed in a row, and when it may be tried again (monotonic seconds)."""

    attempt: int = 0
    not_before: float = 0.0

    @property
    def healing(self) -> bool:
        """Whether a heal is under way (it failed at least once and has not succeeded since)."""
        return self.attempt > 0

    def due(self) -> bool:
        """Whether the next attempt may be made now."""
        return time.monotonic() >= self.not_before

    def failed(self, settings: ReconcileSettings) -> None:
        """One more failure: the next attempt waits the exponential backoff of SPEC 6."""
        delay = outcomes.backoff(self.attempt, minimum=settings.backoff_min, maximum=settings.backoff_max)
        self.attempt, self.not_before = self.attempt + 1, time.monotonic() + delay

    def reset(self) -> None:
        """It runs again: the next failure starts the backoff anew."""
        self.attempt, self.not_before = 0, 0.0


@dataclasses.dataclass(frozen=True)
class Verdict:
    """What a health check concluded: the result to record, and whether it counts as a sync (``lastSyncTime``)."""

    result: Result
    synced: bool = True


def steady(spec: PortForwardSpec, status: Mapping[str, Any], *, uid: str, backoff: Backoff,
           by_id: Mapping[str, Mapping[str, Any]]) -> bool:
    """Whether the shared list shows the forward as it was last recorded (Running, the same local port).

    The fast path of a health check (issue 14): nothing to heal and nothing to write, so no credentials
    are loaded; an idle operator's work per forward and interval is this lookup.
    """
    if spec.state != "Running" or status.get("phase") != "Running" or backoff.healing:
        return False
    entry = by_id.get(spec.id or uid)
    return (entry is not None and entry.get("status") == "Running"
            and str(entry.get("port") or "") == str(status.get("port") or ""))


async def check(ctx: portforward.Context, *, status: Mapping[str, Any], backoff: Backoff) -> Verdict | None:
    """One health check of a forward that should run; None when nothing needs recording.

    The backend's list is shared by every forward of the cluster (one request per interval); a list
    asked for before this forward (re)started says nothing about it. ``ctx.lists`` must be set.
    """
    assert ctx.lists is not None, "a health check reads the shared per-cluster list"
    try:
        listing = await ctx.lists.listing(ctx.backend, ctx.cluster, credentials=ctx.credentials)
    except errors.ApiError as e:
        failure = outcomes.from_error(e, attempt=backoff.attempt, action="health check")
        backoff.failed(ctx.settings)
        return Verdict(Result(outcome=Outcome(phase="Pending", reason=failure.outcome.reason,
                                              message=failure.outcome.message), retry_in=1.0), synced=False)
    entry, problem = portforward.health(ctx, listing.by_id)
    synced = status_module.parse_timestamp(status.get("lastSyncTime"))
    if problem is not None and synced is not None and synced >= listing.fetched.replace(microsecond=0):
        return None  # the shared list was asked for before this forward (re)started: no verdict from it
    if entry is not None and problem is None:  # running: refresh what changed (a port after a restart)
        backoff.reset()
        outcome = portforward.running(ctx, entry, reason="Adopted" if ctx.adopting else "Started")
        if status.get("phase") != "Running" or outcome.fields.get("port") != status.get("port"):
            return Verdict(Result(outcome=outcome))
        return None
    if ctx.adopting:  # an adopted forward is only observed, never restarted; it may come back
        return Verdict(Result(outcome=Outcome(
            phase="Pending", reason="NotFound" if entry is None else "Stopped",
            message=f"adopted forward {ctx.id}: {problem}; watching for it", fields={"id": ctx.id})))
    result = await portforward.run(ctx, attempt=backoff.attempt, fresh=True)  # its pod may be gone: resolve anew
    if not result.outcome.ready:
        backoff.failed(ctx.settings)
        return Verdict(result)
    backoff.reset()
    outcome = result.outcome
    return Verdict(Result(outcome=Outcome(phase=outcome.phase, reason=outcome.reason,
                                          message=f"restarted ({problem}): {outcome.message}", fields=outcome.fields)))
