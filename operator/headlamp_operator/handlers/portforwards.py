"""PortForward handlers: thin kopf registrations around :mod:`headlamp_operator.reconciling.portforward`."""
from __future__ import annotations

import logging
import time
from typing import Any

import kopf

from headlamp_operator import crds, metrics
from headlamp_operator import status as status_module
from headlamp_operator.handlers import runtime as rt
from headlamp_operator.headlamp import errors
from headlamp_operator.reconciling import outcomes, portforward, specs
from headlamp_operator.reconciling.outcomes import Result
from headlamp_operator.status import Outcome

PLURAL = crds.PORTFORWARD.plural


async def _context(runtime: rt.Runtime, body: kopf.Body) -> portforward.Context | Result:
    spec = specs.portforward(body.get("spec") or {})
    loaded = await rt.prepare(runtime, spec, namespace=body["metadata"]["namespace"])
    if isinstance(loaded, Result):
        return loaded
    assert not isinstance(spec, list)  # prepare refused it otherwise
    return portforward.Context(backend=runtime.open_backend, settings=runtime.settings.reconcile, spec=spec,
                               namespace=body["metadata"]["namespace"], uid=body["metadata"]["uid"],
                               credentials=loaded.credentials, resolutions=runtime.resolutions,
                               lists=runtime.lists, previous_port=str((body.get("status") or {}).get("port") or ""))


async def reconcile(runtime: rt.Runtime, body: kopf.Body, patch: kopf.Patch, retry: int) -> None:
    """Create, spec change, or a retry: bring the forward to the desired state."""
    with metrics.RECONCILE_SECONDS.labels("PortForward").time():
        ctx = await _context(runtime, body)
        result = ctx if isinstance(ctx, Result) else await portforward.run(ctx, attempt=retry)
    await rt.remember(runtime, body, result)
    runtime.healing.pop(body["metadata"]["uid"], None)
    rt.write(body, patch, result, time_field="lastSyncTime")
    rt.conclude(result)


async def release(runtime: rt.Runtime, body: kopf.Body, logger: logging.Logger | kopf.Logger, *,
                  retry: int = 0) -> None:
    """Deletion: stop, delete or orphan the forward; give up after the finalizer timeout."""
    spec = specs.portforward(body.get("spec") or {})
    uid = body["metadata"]["uid"]
    runtime.healing.pop(uid, None)
    runtime.blocked.pop(uid, None)
    if isinstance(spec, list) or spec.deletion_policy == "Orphan":
        return  # an invalid spec never started a forward; an orphan is left running
    ctx = await _context(runtime, body)
    if isinstance(ctx, Result):  # credentials gone: the forward cannot be reached as its user
        kopf.warn(body, reason="Orphaned", message=f"the forward may be orphaned: {ctx.outcome.message}")
        return
    try:
        message = await portforward.release(ctx)
    except errors.ApiError as e:
        since = status_module.parse_timestamp(body["metadata"].get("deletionTimestamp"))
        waited = (status_module.now() - since).total_seconds() if since else 0.0
        if e.transient and waited < runtime.settings.reconcile.finalizer_timeout:
            # capped at a minute: a deletion should notice a returning backend soon
            delay = outcomes.backoff(retry, minimum=runtime.settings.reconcile.backoff_min,
                                     maximum=min(runtime.settings.reconcile.backoff_max, 60.0),
                                     retry_after=e.retry_after)
            raise kopf.TemporaryError(f"releasing forward {ctx.id}: {e}", delay=delay) from None
        kopf.warn(body, reason="Orphaned",
                  message=f"gave up releasing forward {ctx.id} after {waited:.0f}s: {e}; it may be orphaned")
        return
    logger.info(message)


async def sync(runtime: rt.Runtime, body: kopf.Body, patch: kopf.Patch) -> None:
    """The periodic health check: heal lost or stopped forwards; retry blocked ones whose Secret changed.

    It reads only the shared per-cluster list (one request per cluster per interval) and writes
    only what changed; restarts of a forward are spaced by the backoff.
    """
    spec = specs.portforward(body.get("spec") or {})
    current: dict[str, Any] = dict(body.get("status") or {})
    uid = body["metadata"]["uid"]
    if current.get("phase") == "Failed":
        if await rt.secrets_changed(runtime, body):
            await _retry_after_secret_change(runtime, body, patch)
        return
    if isinstance(spec, list) or spec.state != "Running" or current.get("phase") not in ("Running", "Pending"):
        return
    if current.get("phase") == "Pending" and uid not in runtime.healing and not spec.adopting:
        return  # kopf's own retries of the create/update handler are under way
    attempt, not_before = runtime.healing.get(uid, (0, 0.0))
    if time.monotonic() < not_before:
        return  # backing off from the last attempt to heal it
    ctx = await _context(runtime, body)
    if isinstance(ctx, Result):
        rt.write(body, patch, ctx)
        return
    try:
        entries, fetched = await runtime.lists.listing(ctx.backend, ctx.cluster, credentials=ctx.credentials)
    except errors.ApiError as e:
        failure = outcomes.from_error(e, attempt=attempt, action="health check")
        _back_off(runtime, uid, attempt)
        rt.write(body, patch, Result(outcome=Outcome(phase="Pending", reason=failure.outcome.reason,
                                                     message=failure.outcome.message), retry_in=1.0))
        return
    entry, problem = portforward.health(ctx, entries)
    synced = status_module.parse_timestamp(current.get("lastSyncTime"))
    if problem is not None and synced is not None and synced >= fetched.replace(microsecond=0):
        return  # the shared list was asked for before this forward (re)started: no verdict from it
    if entry is not None and problem is None:  # running: refresh what changed (a port after a restart)
        runtime.healing.pop(uid, None)
        outcome = portforward.running(ctx, entry, reason="Adopted" if ctx.adopting else "Started")
        if current.get("phase") != "Running" or outcome.fields.get("port") != current.get("port"):
            rt.write(body, patch, Result(outcome=outcome), time_field="lastSyncTime")
        return
    if ctx.adopting:  # an adopted forward is only observed, never restarted; it may come back
        rt.write(body, patch, Result(outcome=Outcome(
            phase="Pending", reason="NotFound" if entry is None else "Stopped",
            message=f"adopted forward {ctx.id}: {problem}; watching for it", fields={"id": ctx.id})),
            time_field="lastSyncTime")
        return
    result = await portforward.run(ctx, attempt=attempt, fresh=True)  # its pod may be gone: resolve anew
    if result.outcome.ready:
        runtime.healing.pop(uid, None)
        outcome = result.outcome
        result = Result(outcome=Outcome(phase=outcome.phase, reason=outcome.reason,
                                        message=f"restarted ({problem}): {outcome.message}", fields=outcome.fields))
    else:
        _back_off(runtime, uid, attempt)
    rt.write(body, patch, result, time_field="lastSyncTime")


def _back_off(runtime: rt.Runtime, uid: str, attempt: int) -> None:
    delay = outcomes.backoff(attempt, minimum=runtime.settings.reconcile.backoff_min,
                             maximum=runtime.settings.reconcile.backoff_max)
    runtime.healing[uid] = (attempt + 1, time.monotonic() + delay)


async def _retry_after_secret_change(runtime: rt.Runtime, body: kopf.Body, patch: kopf.Patch) -> None:
    ctx = await _context(runtime, body)
    result = ctx if isinstance(ctx, Result) else await portforward.run(ctx)
    await rt.remember(runtime, body, result)
    rt.write(body, patch, result, time_field="lastSyncTime")


def register(registry: kopf.OperatorRegistry, runtime: rt.Runtime) -> None:
    """Register the PortForward handlers on ``registry`` with the runtime's intervals."""
    resource = (rt.GROUP, rt.VERSION, PLURAL)
    interval = runtime.settings.reconcile.sync_interval

    @kopf.on.create(*resource, registry=registry, id="reconcile")
    @kopf.on.update(*resource, registry=registry, id="reconcile", field="spec")
    @kopf.on.resume(*resource, registry=registry, id="resume", when=rt.stale_filter)
    async def pf_reconcile(body: kopf.Body, patch: kopf.Patch, retry: int, **_: Any) -> None:
        await reconcile(runtime, body, patch, retry)

    # "Retry now": a new value of the requestedAt annotation reconciles at once, whatever the phase.
    @kopf.on.update(*resource, registry=registry, id="requested", field=rt.REQUESTED_AT_FIELD)
    async def pf_requested(body: kopf.Body, patch: kopf.Patch, retry: int, **_: Any) -> None:
        rt.handle_request(body, patch)
        await reconcile(runtime, body, patch, retry)

    @kopf.on.delete(*resource, registry=registry, id="release")
    async def pf_release(body: kopf.Body, logger: kopf.Logger, retry: int, **_: Any) -> None:
        await release(runtime, body, logger, retry=retry)

    @kopf.timer(*resource, registry=registry, id="sync", interval=interval, initial_delay=interval,
                idle=None)
    async def pf_sync(body: kopf.Body, patch: kopf.Patch, **_: Any) -> None:
        await sync(runtime, body, patch)


