"""ResourcePatch handlers: thin kopf registrations around :mod:`headlamp_operator.reconciling.resourcepatch`.

Applied on create and on every spec change (kopf's last-handled configuration also catches a change made while the
operator was down); never on a mere restart. Restored on deletion when ``revertOnDelete`` asks (the one case that
carries a finalizer). Re-applying on ``reapplyInterval``, retries, and a resource blocked on
its credentials tried again when a Secret changes are the scheduler's (:mod:`headlamp_operator.scheduling.patches`).
"""
from __future__ import annotations

import functools
import logging
from typing import Any

import kopf

from headlamp_operator import crds, handlers, metrics
from headlamp_operator.headlamp import errors
from headlamp_operator.kube import objects
from headlamp_operator.scheduling import gate, patches
from headlamp_operator.scheduling import state as rt
from headlamp_operator.status import outcomes, render, report
from headlamp_operator.status.outcomes import Result


def reverting(body: kopf.Body, **_: Any) -> bool:
    """The undo handler's filter: a ResourcePatch with ``revertOnDelete`` that carries the finalizer.

    So kopf never adds the finalizer itself (the first reconcile does, before the first record:
    :func:`patches.finalize`), and takes it off a ResourcePatch whose ``revertOnDelete`` was turned off:
    only a ResourcePatch with ``revertOnDelete`` ever blocks its deletion (docs/resourcepatch.md#undo).
    """
    return objects.has_finalizer(body, crds.FINALIZER) and (body.get("spec") or {}).get("revertOnDelete") is True


async def reconcile(runtime: rt.Runtime, body: kopf.Body, patch: kopf.Patch, retry: int) -> None:
    """Create or spec change: apply the patch now; a transient outcome is retried by the scheduler."""
    patches.start(runtime)
    uid = str(body["metadata"]["uid"])
    patches.retries(runtime).cancel(uid)  # the handler takes the resource over from a retry scheduled before
    spec = patches.parse(runtime, body)
    if not isinstance(spec, list) and spec.revert_on_delete and not await patches.finalize(runtime, body):
        return  # deleted meanwhile: nothing may be recorded that no undo would ever restore
    versions = await gate.secret_versions(runtime, body)
    with metrics.RECONCILE_SECONDS.labels("ResourcePatch").time(), handlers.started():
        result = await patches.apply(runtime, body, spec, attempt=retry)
    gate.remember(runtime, body, result, versions=versions)
    new = report.status_update(body, result, events=runtime.events, time_field=patches.time_field(result))
    if new is not None:
        patch.status.update(new)
    patches.track(runtime, body, spec, patch.get("status") or {})
    patches.follow_up(runtime, uid, result, attempt=retry)
    handlers.conclude(result)


async def undo(runtime: rt.Runtime, body: kopf.Body, patch: kopf.Patch, logger: logging.Logger | kopf.Logger, *,
               retry: int) -> None:
    """Deletion with ``revertOnDelete``: restore what the patch set; retried whatever failed (an unreachable backend,
    a token refused while it is being rotated, a spec being fixed), until the finalizer timeout; then the resource
    goes with a ``RevertFailed`` Warning (docs/resourcepatch.md#undo-specrevertondelete).

    While it is retried, the status says why and when the next attempt comes.
    """
    try:
        with handlers.started():
            message = await patches.undo(runtime, body)
    except (errors.ApiError, patches.Undone) as e:
        since = render.parse_timestamp(body["metadata"].get("deletionTimestamp"))
        waited = (render.now() - since).total_seconds() if since else 0.0
        timeout = runtime.settings.reconcile.finalizer_timeout
        final = isinstance(e, patches.Undone) and e.final
        text = str(e) if isinstance(e, patches.Undone) else f"restoring what the patch set: {outcomes.describe(e)}"
        if not final and waited < timeout:
            # capped at a minute, as a PortForward's release: a deletion should notice a returning backend soon
            retry_after = e.retry_after if isinstance(e, errors.ApiError) else None
            delay = min(outcomes.delay(runtime.settings.reconcile, retry, retry_after=retry_after), 60.0)
            waiting = Result(outcome=render.Outcome(
                phase="Pending", reason=outcomes.reason_for(e) if isinstance(e, errors.ApiError) else "Pending",
                message=f"deleting: {text}; attempt {retry + 1}, retrying in {delay:g}s, for up to {timeout:g}s "
                        f"after the deletion (then the target keeps the patched values)"))
            if (new := report.status_update(body, waiting, events=runtime.events)) is not None:
                patch.status.update(new)
            raise kopf.TemporaryError(text, delay=delay) from None
        runtime.events.record(body, type="Warning", reason="RevertFailed", action="Delete",
                              message=(f"gave up after {waited:.0f}s: " if not final else "") +
                              f"{text}; the target keeps the patched values")
        return
    logger.info(message)


def register(registry: kopf.OperatorRegistry, runtime: rt.Runtime) -> None:
    """Register the ResourcePatch handlers and the scheduler on ``registry``."""
    resource = (crds.GROUP, crds.VERSION, crds.RESOURCEPATCH.plural)

    # A restart re-applies nothing, except a resource whose last outcome was never recorded.
    handlers.register_reconcile(registry, resource, id="apply", reconcile=functools.partial(reconcile, runtime))

    def current(body: kopf.Body, **_: Any) -> bool:
        return not report.stale(body)

    # After a restart the scheduler learns of every other resource here; nothing is written.
    @kopf.on.resume(*resource, registry=registry, id="track", when=current)
    async def rp_track(body: kopf.Body, **_: Any) -> None:
        patches.start(runtime)
        patches.track(runtime, body, patches.parse(runtime, body))
        if (body.get("status") or {}).get("phase") == "Pending":  # its retry was lost with the last process
            patches.retries(runtime).schedule(str(body["metadata"]["uid"]), attempt=0, delay=0.0)

    @kopf.on.delete(*resource, registry=registry, id="revert", when=reverting)
    async def rp_revert(body: kopf.Body, patch: kopf.Patch, logger: kopf.Logger, retry: int, **_: Any) -> None:
        await undo(runtime, body, patch, logger, retry=retry)

    @kopf.on.cleanup(registry=registry, id="resourcepatch-scheduler")
    async def stop_scheduler(**_: Any) -> None:
        if runtime.scheduler is not None:
            runtime.scheduler.cancel()
