"""ResourcePatch handlers: thin kopf registrations around :mod:`headlamp_operator.reconciling.resourcepatch`.

Applied on create and on every spec change (kopf's last-handled configuration also catches a
change made while the operator was down); never on a mere restart. Re-applying on
``reapplyInterval`` and retrying a resource blocked on its credentials when a Secret changes are
done by ONE scheduler for all ResourcePatches (:func:`schedule`), not by a kopf timer per resource:
kopf puts a finalizer on every resource with a timer, and a ResourcePatch never carries one (SPEC 3.2),
so that deleting it is never blocked, even while the operator is down.
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
from headlamp_operator.reconciling import resourcepatch, specs
from headlamp_operator.reconciling.outcomes import Result

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


def track(runtime: rt.Runtime, body: Mapping[str, Any], spec: specs.ResourcePatchSpec | list[str],
          status: Mapping[str, Any] | None = None) -> rt.TrackedPatch:
    """Remember the resource as the scheduler needs it (spec, generation, status), ``status`` merged in.

    The first call starts the scheduler.
    """
    if runtime.scheduler is None or runtime.scheduler.done():
        runtime.scheduler = asyncio.create_task(schedule(runtime, StatusWriter(runtime.kube, rt.GROUP, rt.VERSION)))
    tracked = rt.TrackedPatch(spec=spec, body=rt.snapshot(body, status))
    runtime.patches[str(body["metadata"]["uid"])] = tracked
    return tracked


async def reconcile(runtime: rt.Runtime, body: kopf.Body, patch: kopf.Patch, retry: int) -> None:
    """Create or spec change: apply the patch now."""
    spec = _parse(runtime, body)
    with metrics.RECONCILE_SECONDS.labels("ResourcePatch").time():
        result = await _apply(runtime, body, spec, attempt=retry)
    await secretwatch.remember(runtime, body, result)
    reporting.write(body, patch, result, events=runtime.events,
                    time_field="lastAppliedTime" if result.outcome.ready else None)
    track(runtime, body, spec, patch.get("status") or {})
    reporting.conclude(result)


async def due(runtime: rt.Runtime, tracked: rt.TrackedPatch) -> tuple[Result, str | None] | None:
    """The scheduler's work for one resource now: re-apply when ``reapplyInterval`` has passed, retry a
    Failed one whose Secret changed; returns the result and the status time field, or None (nothing due)."""
    body, spec = tracked.body, tracked.spec
    current = body.get("status") or {}
    if current.get("phase") == "Failed":
        if specs.credentials(body.get("spec") or {}) and await secretwatch.secrets_changed(runtime, body):
            result = await _apply(runtime, body, spec, attempt=0)
            await secretwatch.remember(runtime, body, result)
            return result, "lastAppliedTime" if result.outcome.ready else None
        return None
    if current.get("phase") != "Applied" or isinstance(spec, list) or spec.reapply_interval is None:
        return None  # pending resources are retried by kopf's handler retries
    last = status_module.parse_timestamp(current.get("lastAppliedTime"))
    if last is not None and (status_module.now() - last).total_seconds() < spec.reapply_interval:
        return None
    result = await _apply(runtime, body, spec, attempt=0)
    return result, "lastAppliedTime" if result.outcome.ready else None


async def schedule(runtime: rt.Runtime, write_status: StatusWriter) -> None:
    """Every ``HEADLAMP_SYNC_INTERVAL`` seconds, do what is due for each known ResourcePatch; runs until cancelled."""
    while True:
        await asyncio.sleep(runtime.settings.reconcile.sync_interval)
        for uid, tracked in list(runtime.patches.items()):
            metadata = tracked.body["metadata"]
            try:
                work = await due(runtime, tracked)
                if work is None or runtime.patches.get(uid) is not tracked:
                    continue  # nothing due, or the resource changed (or went) meanwhile: its handler has it
                result, time_field = work
                new = reporting.status_update(tracked.body, result, events=runtime.events, time_field=time_field)
                if new is not None:
                    await write_status(PLURAL, metadata["namespace"], metadata["name"], new)
                    if runtime.patches.get(uid) is tracked:
                        track(runtime, tracked.body, tracked.spec, new)
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
        track(runtime, body, _parse(runtime, body))

    @kopf.on.cleanup(registry=registry, id="resourcepatch-scheduler")
    async def stop_scheduler(**_: Any) -> None:
        if runtime.scheduler is not None:
            runtime.scheduler.cancel()
