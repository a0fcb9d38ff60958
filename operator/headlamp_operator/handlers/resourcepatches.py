"""ResourcePatch handlers: thin kopf registrations around :mod:`headlamp_operator.reconciling.resourcepatch`.

Applied on create and on every spec change (kopf's last-handled configuration also catches a
change made while the operator was down); never on a mere restart. A timer re-applies on
``reapplyInterval`` and retries resources blocked on their credentials when a Secret changes.
There is no deletion handler: deleting a ResourcePatch sends nothing and is never blocked.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import kopf

from headlamp_operator import status as status_module
from headlamp_operator.handlers import runtime as rt
from headlamp_operator.reconciling import resourcepatch, validation
from headlamp_operator.reconciling.outcomes import Result

PLURAL = "resourcepatches"


async def _apply(runtime: rt.Runtime, body: kopf.Body, *, attempt: int) -> Result:
    spec = body.get("spec") or {}
    problems = validation.resourcepatch_problems(spec, min_reapply=runtime.settings.reconcile.min_reapply_interval)
    loaded = await rt.prepare(runtime, body, problems)
    if isinstance(loaded, Result):
        return loaded
    ctx = resourcepatch.Context(backend=runtime.open_backend, settings=runtime.settings.reconcile, spec=spec,
                                namespace=body["metadata"]["namespace"], credentials=loaded.credentials,
                                previous_target=(body.get("status") or {}).get("target") or {})
    return await resourcepatch.apply(ctx, attempt=attempt)


async def reconcile(runtime: rt.Runtime, body: kopf.Body, patch: kopf.Patch, retry: int) -> None:
    """Create or spec change: apply the patch now."""
    result = await _apply(runtime, body, attempt=retry)
    await rt.remember(runtime, body, result)
    rt.write(body, patch, result, time_field="lastAppliedTime" if result.outcome.ready else None)
    rt.conclude(result)


def needs_timer(spec: Mapping[str, Any], status: Mapping[str, Any]) -> bool:
    """Only resources that re-apply, or wait for a Secret to change, get a timer (and kopf's finalizer)."""
    return bool(spec.get("reapplyInterval")) or (status.get("phase") == "Failed" and bool(spec.get("credentials")))


async def tick(runtime: rt.Runtime, body: kopf.Body, patch: kopf.Patch) -> None:
    """Re-apply when ``reapplyInterval`` has passed; retry a blocked resource when its Secret changed."""
    spec, current = body.get("spec") or {}, body.get("status") or {}
    if current.get("phase") == "Failed":
        if await rt.secrets_changed(runtime, body):
            result = await _apply(runtime, body, attempt=0)
            await rt.remember(runtime, body, result)
            rt.write(body, patch, result, time_field="lastAppliedTime" if result.outcome.ready else None)
        return
    if current.get("phase") != "Applied" or not spec.get("reapplyInterval"):
        return  # pending resources are retried by kopf's handler retries
    try:
        interval = validation.parse_duration(str(spec["reapplyInterval"]))
    except ValueError:
        return
    last = status_module.parse_timestamp(current.get("lastAppliedTime"))
    if last is not None and (status_module.now() - last).total_seconds() < interval:
        return
    result = await _apply(runtime, body, attempt=0)
    rt.write(body, patch, result, time_field="lastAppliedTime" if result.outcome.ready else None)


def register(registry: kopf.OperatorRegistry, runtime: rt.Runtime) -> None:
    """Register the ResourcePatch handlers on ``registry`` with the runtime's intervals."""
    resource = (rt.GROUP, rt.VERSION, PLURAL)

    # A restart re-applies nothing, except a resource whose last outcome was never recorded.
    @kopf.on.create(*resource, registry=registry, id="apply")
    @kopf.on.update(*resource, registry=registry, id="apply", field="spec")
    @kopf.on.resume(*resource, registry=registry, id="resume", when=rt.stale_filter)
    async def rp_apply(body: kopf.Body, patch: kopf.Patch, retry: int, **_: Any) -> None:
        await reconcile(runtime, body, patch, retry)

    def timer_wanted(spec: kopf.Spec, status: kopf.Status, **_: Any) -> bool:
        return needs_timer(spec, status)

    @kopf.timer(*resource, registry=registry, id="reapply", interval=runtime.settings.reconcile.sync_interval,
                when=timer_wanted)
    async def rp_tick(body: kopf.Body, patch: kopf.Patch, **_: Any) -> None:
        await tick(runtime, body, patch)
