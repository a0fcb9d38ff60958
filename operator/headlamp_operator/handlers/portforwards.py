"""PortForward handlers: thin kopf registrations around :mod:`headlamp_operator.reconciling.portforward`.

Reconciled on create, on spec changes and on a retry request; released on deletion. Health checks
(docs/portforward.md#health-and-self-healing: heal a lost or stopped forward, retry a Failed one when its Secret
changes) are done by ONE pass for all PortForwards (:mod:`headlamp_operator.scheduling.forwardpass`), not by a kopf
timer per resource; a transient outcome, a handler's too, is retried by the PortForwards' retries
(:mod:`headlamp_operator.scheduling.healing` says how a forward is healed).
"""
from __future__ import annotations

import functools
import logging
from typing import Any

import kopf

from headlamp_operator import crds, handlers, metrics
from headlamp_operator.headlamp import errors
from headlamp_operator.kube import objects
from headlamp_operator.reconciling import portforward, specs
from headlamp_operator.scheduling import forwardpass, forwards, gate
from headlamp_operator.scheduling import state as rt
from headlamp_operator.status import outcomes, report
from headlamp_operator.status import render as status_module
from headlamp_operator.status.outcomes import Result


def finalized(body: kopf.Body, **_: Any) -> bool:
    """The release handler's filter: only a forward that carries the finalizer is released.

    It keeps kopf from adding the finalizer in an event cycle of its own (kopf adds it for a delete
    handler whose filter matches, and removes it for one whose filter does not): the first reconcile
    adds it (:func:`forwards.finalize`), and kopf removes it once the release succeeded.
    """
    return objects.has_finalizer(body, crds.FINALIZER)


async def reconcile(runtime: rt.Runtime, body: kopf.Body, patch: kopf.Patch, retry: int) -> None:
    """Create, spec change, or a retry request: the finalizer first, then bring the forward to the desired state.

    The handler takes the resource over from a retry scheduled before; its own transient outcome is
    retried by the scheduler, with the delay its message says (kopf's handler retries are for errors).
    """
    if not await forwards.finalize(runtime, body):
        return  # deleted meanwhile: nothing to start, nothing to report
    forwardpass.start(runtime)
    uid = str(body["metadata"]["uid"])
    forwards.retries(runtime).cancel(uid)
    runtime.restarts.pop(uid, None)
    spec = specs.portforward(body.get("spec") or {})
    versions = await gate.secret_versions(runtime, body)
    with metrics.RECONCILE_SECONDS.labels("PortForward").time(), handlers.started():
        ctx = await forwards.context(runtime, body, spec, moved=forwards.moved(runtime, uid, spec))
        # A retry reads the target anew: what the shared resolution said did not do (Resolutions).
        result = ctx if isinstance(ctx, Result) else await portforward.run(ctx, attempt=retry, fresh=retry > 0)
    gate.remember(runtime, body, result, versions=versions)
    new = report.status_update(body, result, events=runtime.events, time_field="lastSyncTime")
    if new is not None:
        patch.status.update(new)
    forwards.track(runtime, body, spec, status=patch.get("status") or {})
    forwards.follow_up(runtime, uid, result, attempt=retry)
    handlers.conclude(result)


async def release(runtime: rt.Runtime, body: kopf.Body, logger: logging.Logger | kopf.Logger, *,
                  retry: int = 0) -> None:
    """Deletion: stop, delete or orphan the forward; give up after the finalizer timeout."""
    spec = specs.portforward(body.get("spec") or {})
    uid = body["metadata"]["uid"]
    runtime.forwards.pop(uid)  # no health checks or retries while it goes
    if runtime.forward_retries is not None:
        runtime.forward_retries.cancel(uid)
    if isinstance(spec, list) or spec.deletion_policy == "Orphan":
        return  # an invalid spec never started a forward; an orphan is left running
    with handlers.started():
        ctx = await forwards.context(runtime, body, spec)
    if isinstance(ctx, Result):  # credentials gone: the forward cannot be reached as its user
        runtime.events.record(body, type="Warning", reason="Orphaned", action="Delete",
                              message=f"the forward may be orphaned: {ctx.outcome.message}")
        return
    try:
        message = await portforward.release(ctx)
    except errors.ApiError as e:
        since = status_module.parse_timestamp(body["metadata"].get("deletionTimestamp"))
        waited = (status_module.now() - since).total_seconds() if since else 0.0
        if e.transient and waited < runtime.settings.reconcile.finalizer_timeout:
            # capped at a minute: a deletion should notice a returning backend soon
            delay = min(outcomes.delay(runtime.settings.reconcile, retry, retry_after=e.retry_after), 60.0)
            raise kopf.TemporaryError(f"releasing forward {ctx.id}: {e}", delay=delay) from None
        message = f"gave up releasing forward {ctx.id} after {waited:.0f}s: {e}; it may be orphaned"
        runtime.events.record(body, type="Warning", reason="Orphaned", action="Delete", message=message)
        return
    logger.info(message)


def register(registry: kopf.OperatorRegistry, runtime: rt.Runtime) -> None:
    """Register the PortForward handlers on ``registry`` with the runtime's intervals."""
    resource = (crds.GROUP, crds.VERSION, crds.PORTFORWARD.plural)

    handlers.register_reconcile(registry, resource, id="reconcile",
                                reconcile=functools.partial(reconcile, runtime))

    @kopf.on.delete(*resource, registry=registry, id="release", when=finalized)
    async def pf_release(body: kopf.Body, logger: kopf.Logger, retry: int, **_: Any) -> None:
        await release(runtime, body, logger, retry=retry)

    def current(body: kopf.Body, **_: Any) -> bool:
        return not report.stale(body)

    # After a restart the scheduler learns of every other resource here; nothing is written but a
    # missing finalizer (taken off by hand: kopf used to put it back on the next event).
    @kopf.on.resume(*resource, registry=registry, id="track", when=current)
    async def pf_track(body: kopf.Body, **_: Any) -> None:
        if await forwards.finalize(runtime, body):
            forwardpass.start(runtime)
            forwards.track(runtime, body, specs.portforward(body.get("spec") or {}))
            if (body.get("status") or {}).get("phase") == "Pending":  # its retry was lost with the last process
                forwards.retries(runtime).schedule(str(body["metadata"]["uid"]), attempt=0, delay=0.0)

    @kopf.on.cleanup(registry=registry, id="portforward-scheduler")
    async def stop_scheduler(**_: Any) -> None:
        if runtime.forward_scheduler is not None:
            runtime.forward_scheduler.cancel()


