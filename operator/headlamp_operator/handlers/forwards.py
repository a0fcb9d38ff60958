"""A tracked PortForward's work outside kopf's handlers: its context, its retries, its outcomes recorded.

The health pass (:mod:`.forwardhealth`) and the retries (:mod:`~headlamp_operator.reconciling.retries`)
act between kopf's events; what they find is written here (:func:`record`), the status merge-patched
and, for a transient outcome, the next retry scheduled with the delay its message announces (docs/status.md#retries).
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from headlamp_operator import crds
from headlamp_operator.handlers import reporting, secretwatch
from headlamp_operator.handlers import runtime as rt
from headlamp_operator.handlers.statuses import StatusWriter
from headlamp_operator.reconciling import healing, outcomes, portforward, specs
from headlamp_operator.reconciling.outcomes import Result
from headlamp_operator.reconciling.retries import Retries, Retry

PLURAL = crds.PORTFORWARD.plural
logger = logging.getLogger("headlamp_operator.portforwards")


TARGET_FIELDS = ("pod", "service", "namespace", "service_namespace", "target_port", "port", "address")


def moved(runtime: rt.Runtime, uid: str, spec: specs.PortForwardSpec | list[str]) -> bool:
    """Whether ``spec`` changes what the forward last reconciled points at (docs/portforward.md#start: it is restarted).

    Known from the spec the operator last acted on; ``address`` is among the fields, though v0.45.0
    ignores it and never reports it, so only this comparison can tell that it changed.
    """
    before = runtime.forwards.get(uid)
    if before is None or not isinstance(before.spec, specs.PortForwardSpec) \
            or not isinstance(spec, specs.PortForwardSpec):
        return False
    return any(getattr(before.spec, field) != getattr(spec, field) for field in TARGET_FIELDS)


async def context(runtime: rt.Runtime, body: Mapping[str, Any], spec: specs.PortForwardSpec | list[str], *,
                  moved: bool = False) -> portforward.Context | Result:
    """What the reconciler needs, credentials loaded; or the result of failing it (InvalidSpec/Credentials)."""
    loaded = await secretwatch.prepare(runtime, spec, namespace=body["metadata"]["namespace"])
    if isinstance(loaded, Result):
        return loaded
    assert not isinstance(spec, list)  # prepare refused it otherwise
    status = body.get("status") or {}
    return portforward.Context(backend=runtime.open_backend, settings=runtime.settings.reconcile, spec=spec,
                               namespace=body["metadata"]["namespace"], uid=body["metadata"]["uid"],
                               credentials=loaded.credentials, resolutions=runtime.resolutions,
                               lists=runtime.lists, previous_port=str(status.get("port") or ""),
                               previous_pod=str(status.get("pod") or ""), moved=moved)


def retries(runtime: rt.Runtime) -> Retries:
    """The PortForwards' retries (made when the handlers are registered: :func:`setup`)."""
    assert runtime.forward_retries is not None, "the PortForward handlers are not registered"
    return runtime.forward_retries


def setup(runtime: rt.Runtime, write_status: StatusWriter) -> Retries:
    """Make the PortForwards' retries: each makes its attempt with :func:`retry` and records it."""
    settings = runtime.settings.reconcile

    async def run(uid: str, due: Retry) -> None:
        await retry(runtime, uid, due, write_status=write_status)

    runtime.forward_retries = Retries(run, backoff=lambda attempt: outcomes.delay(settings, attempt),
                                      name="PortForward")
    return runtime.forward_retries


def track(runtime: rt.Runtime, body: Mapping[str, Any], spec: specs.PortForwardSpec | list[str], *,
          status: Mapping[str, Any] | None = None) -> rt.TrackedForward:
    """Remember the resource as the health pass and the retries need it, ``status`` merged in."""
    tracked = rt.TrackedForward(spec=spec, body=rt.snapshot(body, status))
    runtime.forwards.put(str(body["metadata"]["uid"]), tracked)
    return tracked


def follow_up(runtime: rt.Runtime, uid: str, result: Result, *, attempt: int, check: bool = False) -> None:
    """Schedule the next attempt of a transient outcome, ``result.retry_in`` from now (what its message says)."""
    if result.retry_in is not None:
        retries(runtime).schedule(uid, attempt=attempt + 1, delay=result.retry_in, check=check)


async def record(runtime: rt.Runtime, uid: str, tracked: rt.TrackedForward, verdict: healing.Verdict, *,
                 write_status: StatusWriter, attempt: int) -> None:
    """Write what a look or a retry found (unless the resource changed meanwhile), and schedule its retry.

    Raises what the status write raised (the caller logs it; a retry's failure is retried again).
    """
    if runtime.forwards.get(uid) is not tracked:
        return  # the resource changed (or went) meanwhile: its handler has it
    result = verdict.result
    follow_up(runtime, uid, result, attempt=attempt, check=verdict.check)  # first: a failed write still has it
    new = reporting.status_update(tracked.body, result, events=runtime.events,
                                  time_field="lastSyncTime" if verdict.synced else None)
    if new is None:
        return
    metadata = tracked.body["metadata"]
    await write_status(PLURAL, metadata["namespace"], metadata["name"], new)
    if runtime.forwards.get(uid) is tracked:
        track(runtime, tracked.body, tracked.spec, status=new)


async def check(runtime: rt.Runtime, uid: str, ctx: portforward.Context, status: Mapping[str, Any], *,
                attempt: int = 0, since: float | None = None) -> healing.Verdict | None:
    """:func:`healing.check`, counting the forward's restarts in a row that did not last one health check."""
    verdict = await healing.check(ctx, status=status, attempt=attempt, since=since,
                                  restarts=runtime.restarts.get(uid, 0))
    if not isinstance(verdict, healing.Verdict):
        if verdict == healing.STEADY:
            runtime.restarts.pop(uid, None)  # it lasted a health check
        return None  # running as recorded, or nothing known of it yet: nothing to record
    if verdict.restarted:
        runtime.restarts[uid] = runtime.restarts.get(uid, 0) + 1
    return verdict


async def retry(runtime: rt.Runtime, uid: str, due: Retry, *, write_status: StatusWriter) -> None:
    """One retry of a forward's transient outcome: look at the list first (``due.check``), or bring it to its spec."""
    tracked = runtime.forwards.get(uid)
    if tracked is None:
        return
    body, spec = tracked.body, tracked.spec
    versions = await secretwatch.secret_versions(runtime, body)
    ctx = await context(runtime, body, spec)
    if isinstance(ctx, Result):
        verdict: healing.Verdict | None = healing.Verdict(ctx, synced=False)
    elif due.check and ctx.spec.state == "Running":
        verdict = await check(runtime, uid, ctx, body.get("status") or {}, attempt=due.attempt, since=due.due)
    else:
        # Its pod or its Service's pods may have changed: resolved anew, not from a shared read (Resolutions).
        verdict = healing.Verdict(await portforward.run(ctx, attempt=due.attempt, fresh=True))
    if verdict is None:
        return
    secretwatch.remember(runtime, body, verdict.result, versions=versions)
    await record(runtime, uid, tracked, verdict, write_status=write_status, attempt=due.attempt)
