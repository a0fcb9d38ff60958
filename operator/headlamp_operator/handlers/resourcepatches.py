"""ResourcePatch handlers: thin kopf registrations around :mod:`headlamp_operator.reconciling.resourcepatch`.

Applied on create and on every spec change (kopf's last-handled configuration also catches a change made while the
operator was down); never on a mere restart. Re-applying on ``reapplyInterval`` and retrying a resource blocked on
its credentials when a Secret changes are done by ONE scheduler for all ResourcePatches (:func:`schedule`), and
every transient outcome, a handler's too, is retried by the ResourcePatches' :class:`Retries` with the delay its
message says (docs/status.md#retries); not by kopf timers per resource: kopf puts a finalizer on every resource with
a timer, and a ResourcePatch never carries one (docs/resourcepatch.md#when-it-is-applied), so that deleting it is
never blocked, even while the operator is down.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import kopf

from headlamp_operator import crds, metrics
from headlamp_operator import status as status_module
from headlamp_operator.handlers import reporting, secretwatch
from headlamp_operator.handlers import runtime as rt
from headlamp_operator.handlers.statuses import StatusWriter
from headlamp_operator.reconciling import outcomes, resourcepatch, specs
from headlamp_operator.reconciling.outcomes import Result
from headlamp_operator.reconciling.retries import Retries, Retry

PLURAL = crds.RESOURCEPATCH.plural
logger = logging.getLogger("headlamp_operator.resourcepatches")


def _parse(runtime: rt.Runtime, body: Mapping[str, Any]) -> specs.ResourcePatchSpec | list[str]:
    return specs.resourcepatch(body.get("spec") or {}, min_reapply=runtime.settings.reconcile.min_reapply_interval)


async def _apply(runtime: rt.Runtime, body: Mapping[str, Any], spec: specs.ResourcePatchSpec | list[str], *,
                 attempt: int) -> Result:
    loaded = await secretwatch.prepare(runtime, spec, namespace=body["metadata"]["namespace"])
    if isinstance(loaded, Result):
        return loaded
    assert not isinstance(spec, list)  # prepare refused it otherwise
    ctx = resourcepatch.Context(backend=runtime.open_backend, settings=runtime.settings.reconcile, spec=spec,
                                namespace=body["metadata"]["namespace"], credentials=loaded.credentials,
                                previous_target=(body.get("status") or {}).get("target") or {})
    return await resourcepatch.apply(ctx, attempt=attempt)


def retries(runtime: rt.Runtime) -> Retries:
    """The ResourcePatches' retries (made with the scheduler: :func:`start`)."""
    assert runtime.patch_retries is not None, "the ResourcePatch scheduler is not started"
    return runtime.patch_retries


def start(runtime: rt.Runtime) -> None:
    """Start the scheduler and the retries (once: the first handler to run starts them)."""
    if runtime.scheduler is None or runtime.scheduler.done():
        writer = StatusWriter(runtime.kube, rt.GROUP, rt.VERSION)
        settings = runtime.settings.reconcile

        async def run(uid: str, due: Retry) -> None:
            await retry(runtime, uid, due, write_status=writer)

        runtime.patch_retries = Retries(run, backoff=lambda attempt: outcomes.delay(settings, attempt),
                                        name="ResourcePatch")

        async def serve(retries: Retries) -> None:
            await asyncio.gather(schedule(runtime, writer), retries.serve())

        runtime.scheduler = asyncio.create_task(serve(runtime.patch_retries), name="ResourcePatch scheduler")


def track(runtime: rt.Runtime, body: Mapping[str, Any], spec: specs.ResourcePatchSpec | list[str],
          status: Mapping[str, Any] | None = None) -> rt.TrackedPatch:
    """Remember the resource as the scheduler needs it (spec, generation, status), ``status`` merged in."""
    tracked = rt.TrackedPatch(spec=spec, body=rt.snapshot(body, status))
    runtime.patches[str(body["metadata"]["uid"])] = tracked
    return tracked


def follow_up(runtime: rt.Runtime, uid: str, result: Result, *, attempt: int) -> None:
    """Schedule the next attempt of a transient outcome, ``result.retry_in`` from now (what its message says)."""
    if result.retry_in is not None:
        retries(runtime).schedule(uid, attempt=attempt + 1, delay=result.retry_in)


async def reconcile(runtime: rt.Runtime, body: kopf.Body, patch: kopf.Patch, retry: int) -> None:
    """Create or spec change: apply the patch now; a transient outcome is retried by the scheduler."""
    start(runtime)
    uid = str(body["metadata"]["uid"])
    retries(runtime).cancel(uid)  # the handler takes the resource over from a retry scheduled before
    spec = _parse(runtime, body)
    versions = await secretwatch.secret_versions(runtime, body)
    with metrics.RECONCILE_SECONDS.labels("ResourcePatch").time():
        result = await _apply(runtime, body, spec, attempt=retry)
    secretwatch.remember(runtime, body, result, versions=versions)
    reporting.write(body, patch, result, events=runtime.events,
                    time_field="lastAppliedTime" if result.outcome.ready else None)
    track(runtime, body, spec, patch.get("status") or {})
    follow_up(runtime, uid, result, attempt=retry)
    reporting.conclude(result)


async def record(runtime: rt.Runtime, uid: str, tracked: rt.TrackedPatch, result: Result, *,
                 write_status: StatusWriter, attempt: int) -> None:
    """Write what the scheduler or a retry got (unless the resource changed meanwhile), and schedule its retry.

    Raises what the status write raised (the caller logs it; a retry's failure is retried again).
    """
    if runtime.patches.get(uid) is not tracked:
        return  # the resource changed (or went) meanwhile: its handler has it
    follow_up(runtime, uid, result, attempt=attempt)  # first: a failed write still has its retry
    new = reporting.status_update(tracked.body, result, events=runtime.events,
                                  time_field="lastAppliedTime" if result.outcome.ready else None)
    if new is None:
        return
    metadata = tracked.body["metadata"]
    await write_status(PLURAL, metadata["namespace"], metadata["name"], new)
    if runtime.patches.get(uid) is tracked:
        track(runtime, tracked.body, tracked.spec, new)


async def retry(runtime: rt.Runtime, uid: str, due: Retry, *, write_status: StatusWriter) -> None:
    """One retry of a ResourcePatch's transient outcome: apply it again."""
    tracked = runtime.patches.get(uid)
    if tracked is None:
        return
    versions = await secretwatch.secret_versions(runtime, tracked.body)
    result = await _apply(runtime, tracked.body, tracked.spec, attempt=due.attempt)
    secretwatch.remember(runtime, tracked.body, result, versions=versions)
    await record(runtime, uid, tracked, result, write_status=write_status, attempt=due.attempt)


async def due(runtime: rt.Runtime, uid: str, tracked: rt.TrackedPatch) -> Result | None:
    """The scheduler's work for one resource now: re-apply when ``reapplyInterval`` has passed, retry a
    Failed one whose Secret changed; returns the result, or None (nothing due).

    A Pending resource has a retry scheduled (:func:`follow_up`); one without (written before a
    restart) gets one now.
    """
    body, spec = tracked.body, tracked.spec
    current = body.get("status") or {}
    phase = current.get("phase")
    if phase == "Failed":
        versions = await secretwatch.secrets_changed(runtime, body) if specs.credentials(body.get("spec") or {}) \
            else None
        if versions is None:
            return None
        result = await _apply(runtime, body, spec, attempt=0)
        secretwatch.remember(runtime, body, result, versions=versions)
        return result
    if retries(runtime).get(uid) is not None:
        return None  # its retry is due soon, or under way
    if phase == "Pending":
        retries(runtime).schedule(uid, attempt=0, delay=0.0)
        return None
    if phase != "Applied" or isinstance(spec, list) or spec.reapply_interval is None:
        return None
    last = status_module.parse_timestamp(current.get("lastAppliedTime"))
    if last is not None and (status_module.now() - last).total_seconds() < spec.reapply_interval:
        return None
    return await _apply(runtime, body, spec, attempt=0)


async def schedule(runtime: rt.Runtime, write_status: StatusWriter) -> None:
    """Every ``HEADLAMP_SYNC_INTERVAL`` seconds, do what is due for each known ResourcePatch; runs until cancelled."""
    while True:
        await asyncio.sleep(runtime.settings.reconcile.sync_interval)
        for uid, tracked in list(runtime.patches.items()):
            metadata = tracked.body["metadata"]
            try:
                result = await due(runtime, uid, tracked)
                if result is not None:
                    await record(runtime, uid, tracked, result, write_status=write_status, attempt=0)
            except Exception:  # one resource's trouble never stops the others' schedule
                logger.exception("ResourcePatch %s/%s: scheduled work failed", metadata["namespace"], metadata["name"])


def register(registry: kopf.OperatorRegistry, runtime: rt.Runtime) -> None:
    """Register the ResourcePatch handlers and the scheduler on ``registry``."""
    resource = (rt.GROUP, rt.VERSION, PLURAL)

    # A restart re-applies nothing, except a resource whose last outcome was never recorded.
    # Stacked decorators register bottom-up, and kopf's prematch, on every event, stops at the first
    # handler that matches: an unfiltered one first spares a filter's arguments being built each time.
    @kopf.on.resume(*resource, registry=registry, id="resume", when=reporting.stale_filter)
    @kopf.on.update(*resource, registry=registry, id="apply", field="spec")
    @kopf.on.create(*resource, registry=registry, id="apply")
    async def rp_apply(body: kopf.Body, patch: kopf.Patch, retry: int, **_: Any) -> None:
        await reconcile(runtime, body, patch, retry)

    # "Retry now": a new value of the requestedAt annotation applies at once, whatever the phase.
    @kopf.on.update(*resource, registry=registry, id="requested", field=reporting.REQUESTED_AT_FIELD)
    async def rp_requested(body: kopf.Body, patch: kopf.Patch, retry: int, **_: Any) -> None:
        reporting.handle_request(body, patch)
        await reconcile(runtime, body, patch, retry)

    def current(body: kopf.Body, **_: Any) -> bool:
        return not reporting.stale(body)

    # After a restart the scheduler learns of every other resource here; nothing is written.
    @kopf.on.resume(*resource, registry=registry, id="track", when=current)
    async def rp_track(body: kopf.Body, **_: Any) -> None:
        start(runtime)
        track(runtime, body, _parse(runtime, body))
        if (body.get("status") or {}).get("phase") == "Pending":  # its retry was lost with the last process
            retries(runtime).schedule(str(body["metadata"]["uid"]), attempt=0, delay=0.0)

    @kopf.on.cleanup(registry=registry, id="resourcepatch-scheduler")
    async def stop_scheduler(**_: Any) -> None:
        if runtime.scheduler is not None:
            runtime.scheduler.cancel()
