"""ResourcePatch handlers: thin kopf registrations around :mod:`headlamp_operator.reconciling.resourcepatch`.

Applied on create and on every spec change (kopf's last-handled configuration also catches a change made while the
operator was down); never on a mere restart. Re-applying on ``reapplyInterval``, retries, and a resource blocked on
its credentials tried again when a Secret changes are the scheduler's (:mod:`headlamp_operator.scheduling.patches`).
"""
from __future__ import annotations

import functools
from typing import Any

import kopf

from headlamp_operator import crds, handlers, metrics
from headlamp_operator.scheduling import gate, patches
from headlamp_operator.scheduling import state as rt
from headlamp_operator.status import report


async def reconcile(runtime: rt.Runtime, body: kopf.Body, patch: kopf.Patch, retry: int) -> None:
    """Create or spec change: apply the patch now; a transient outcome is retried by the scheduler."""
    patches.start(runtime)
    uid = str(body["metadata"]["uid"])
    patches.retries(runtime).cancel(uid)  # the handler takes the resource over from a retry scheduled before
    spec = patches.parse(runtime, body)
    versions = await gate.secret_versions(runtime, body)
    with metrics.RECONCILE_SECONDS.labels("ResourcePatch").time(), handlers.started():
        result = await patches.apply(runtime, body, spec, attempt=retry)
    gate.remember(runtime, body, result, versions=versions)
    new = report.status_update(body, result, events=runtime.events,
                               time_field="lastAppliedTime" if result.outcome.ready else None)
    if new is not None:
        patch.status.update(new)
    patches.track(runtime, body, spec, patch.get("status") or {})
    patches.follow_up(runtime, uid, result, attempt=retry)
    handlers.conclude(result)


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

    @kopf.on.cleanup(registry=registry, id="resourcepatch-scheduler")
    async def stop_scheduler(**_: Any) -> None:
        if runtime.scheduler is not None:
            runtime.scheduler.cancel()
