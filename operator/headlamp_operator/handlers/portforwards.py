"""PortForward handlers: thin kopf registrations around :mod:`headlamp_operator.reconciling.portforward`.

Reconciled on create, on spec changes and on a retry request. Health checks (SPEC 3.1: heal a lost or
stopped forward, retry a Failed one when its Secret changes) are done by ONE scheduler for all
PortForwards (:func:`schedule`), not by a kopf timer per resource: the idle work is a pass over what
the operator knows, one list request per cluster and interval, and a write only where something changed.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

import kopf

from headlamp_operator import crds, metrics
from headlamp_operator import status as status_module
from headlamp_operator.handlers import reporting, secretwatch, statuses
from headlamp_operator.handlers import runtime as rt
from headlamp_operator.handlers.statuses import StatusWriter
from headlamp_operator.headlamp import errors
from headlamp_operator.reconciling import healing, outcomes, portforward, specs
from headlamp_operator.reconciling.outcomes import Result
from headlamp_operator.structs import ANONYMOUS

PLURAL = crds.PORTFORWARD.plural
logger = logging.getLogger("headlamp_operator.portforwards")


async def _context(runtime: rt.Runtime, body: Mapping[str, Any],
                   spec: specs.PortForwardSpec | list[str]) -> portforward.Context | Result:
    """What the reconciler needs, credentials loaded; or the result of failing it (InvalidSpec/Credentials)."""
    loaded = await secretwatch.prepare(runtime, spec, namespace=body["metadata"]["namespace"])
    if isinstance(loaded, Result):
        return loaded
    assert not isinstance(spec, list)  # prepare refused it otherwise
    return portforward.Context(backend=runtime.open_backend, settings=runtime.settings.reconcile, spec=spec,
                               namespace=body["metadata"]["namespace"], uid=body["metadata"]["uid"],
                               credentials=loaded.credentials, resolutions=runtime.resolutions,
                               lists=runtime.lists, previous_port=str((body.get("status") or {}).get("port") or ""))


FINALIZER = f"{rt.PREFIX}/finalizer"  # also kopf's settings.persistence.finalizer: kopf removes it after release


async def finalize(runtime: rt.Runtime, body: Mapping[str, Any]) -> bool:
    """Put the finalizer on (see :func:`statuses.add_finalizer`); False: the resource is gone or going."""
    metadata = body["metadata"]
    path = statuses.resource_path(rt.GROUP, rt.VERSION, PLURAL, metadata["namespace"], metadata["name"])
    return await statuses.add_finalizer(runtime.kube, path, body, FINALIZER)


def finalized(body: kopf.Body, **_: Any) -> bool:
    """The release handler's filter: only a forward that carries the finalizer is released.

    It keeps kopf from adding the finalizer in an event cycle of its own (kopf adds it for a delete
    handler whose filter matches, and removes it for one whose filter does not): the first reconcile
    adds it (:func:`finalize`), and kopf removes it once the release succeeded.
    """
    return statuses.has_finalizer(body, FINALIZER)


async def reconcile(runtime: rt.Runtime, body: kopf.Body, patch: kopf.Patch, retry: int) -> None:
    """Create, spec change, or a retry: the finalizer first, then bring the forward to the desired state."""
    if not await finalize(runtime, body):
        return  # deleted meanwhile: nothing to start, nothing to report
    spec = specs.portforward(body.get("spec") or {})
    with metrics.RECONCILE_SECONDS.labels("PortForward").time():
        ctx = await _context(runtime, body, spec)
        # A retry reads the target anew: what the shared resolution said did not do (Resolutions).
        result = ctx if isinstance(ctx, Result) else await portforward.run(ctx, attempt=retry, fresh=retry > 0)
    await secretwatch.remember(runtime, body, result)
    reporting.write(body, patch, result, events=runtime.events, time_field="lastSyncTime")
    track(runtime, body, spec, status=patch.get("status") or {})
    reporting.conclude(result)


async def release(runtime: rt.Runtime, body: kopf.Body, logger: logging.Logger | kopf.Logger, *,
                  retry: int = 0) -> None:
    """Deletion: stop, delete or orphan the forward; give up after the finalizer timeout."""
    spec = specs.portforward(body.get("spec") or {})
    uid = body["metadata"]["uid"]
    runtime.forwards.pop(uid)  # no health checks while it goes
    if isinstance(spec, list) or spec.deletion_policy == "Orphan":
        return  # an invalid spec never started a forward; an orphan is left running
    ctx = await _context(runtime, body, spec)
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
            delay = outcomes.backoff(retry, minimum=runtime.settings.reconcile.backoff_min,
                                     maximum=min(runtime.settings.reconcile.backoff_max, 60.0),
                                     retry_after=e.retry_after)
            raise kopf.TemporaryError(f"releasing forward {ctx.id}: {e}", delay=delay) from None
        message = f"gave up releasing forward {ctx.id} after {waited:.0f}s: {e}; it may be orphaned"
        runtime.events.record(body, type="Warning", reason="Orphaned", action="Delete", message=message)
        return
    logger.info(message)


def track(runtime: rt.Runtime, body: Mapping[str, Any], spec: specs.PortForwardSpec | list[str], *,
          status: Mapping[str, Any] | None = None, backoff: healing.Backoff | None = None) -> rt.TrackedForward:
    """Remember the resource as the scheduler needs it, ``status`` merged in; ``backoff``: keep healing's state.

    The first call starts the scheduler.
    """
    if runtime.forward_scheduler is None or runtime.forward_scheduler.done():
        writer = StatusWriter(runtime.kube, rt.GROUP, rt.VERSION)
        runtime.forward_scheduler = asyncio.create_task(schedule(runtime, writer))
    tracked = rt.TrackedForward(spec=spec, backoff=backoff or healing.Backoff(), body=rt.snapshot(body, status))
    runtime.forwards.put(str(body["metadata"]["uid"]), tracked)
    return tracked


async def tick(runtime: rt.Runtime, tracked: rt.TrackedForward) -> tuple[Result, str | None] | None:
    """One forward's health check: heal a lost or stopped forward, retry a Failed one whose Secret changed.

    Returns the result and the status time field to record, or None (nothing to record).
    """
    body, spec, backoff = tracked.body, tracked.spec, tracked.backoff
    phase = (body.get("status") or {}).get("phase")
    if phase == "Failed":
        if not await secretwatch.secrets_changed(runtime, body):
            return None
        ctx = await _context(runtime, body, spec)
        result = ctx if isinstance(ctx, Result) else await portforward.run(ctx)
        await secretwatch.remember(runtime, body, result)
        return result, "lastSyncTime"
    if isinstance(spec, list) or spec.state != "Running" or phase not in ("Running", "Pending"):
        return None
    if phase == "Pending" and not backoff.healing and not spec.adopting:
        return None  # kopf's own retries of the create/update handler are under way
    if not backoff.due():
        return None  # backing off from the last attempt to heal it
    ctx = await _context(runtime, body, spec)
    if isinstance(ctx, Result):
        return ctx, None
    verdict = await healing.check(ctx, status=body.get("status") or {}, backoff=backoff)
    if verdict is None:
        return None
    return verdict.result, "lastSyncTime" if verdict.synced else None


def _steady(uid: str, tracked: rt.TrackedForward, by_id: Mapping[str, Any]) -> bool:
    """The shared list shows the forward as recorded: nothing to do (see :func:`healing.steady`).

    Found steady in this very ``by_id`` before (the backend's answer unchanged since), it still is:
    one identity test, so a pass over thousands of idle forwards costs next to nothing.
    """
    if tracked.steady_in is by_id:
        return True
    spec = tracked.spec
    if not isinstance(spec, specs.PortForwardSpec) or not healing.steady(
            spec, tracked.body["status"], uid=uid, backoff=tracked.backoff, by_id=by_id):
        return False
    tracked.steady_in = by_id
    return True


async def _tick_all(runtime: rt.Runtime, forwards: list[tuple[str, rt.TrackedForward]],
                    by_id: Mapping[str, Any] | None, write_status: StatusWriter) -> bool:
    """One cluster's forwards that need a look, one after the other: a steady one is passed over, others ticked.

    Returns whether every one of them was found steady.
    """
    all_steady = True
    for uid, tracked in forwards:
        metadata = tracked.body["metadata"]
        try:
            if tracked.listed and by_id is not None and _steady(uid, tracked, by_id):
                continue
            all_steady = False
            work = await tick(runtime, tracked)
            if work is None or runtime.forwards.get(uid) is not tracked:
                continue  # nothing to record, or the resource changed (or went) meanwhile: its handler has it
            result, time_field = work
            new = reporting.status_update(tracked.body, result, events=runtime.events, time_field=time_field)
            if new is not None:
                await write_status(PLURAL, metadata["namespace"], metadata["name"], new)
                if runtime.forwards.get(uid) is tracked:
                    track(runtime, tracked.body, tracked.spec, status=new, backoff=tracked.backoff)
        except Exception:  # one resource's trouble never stops the others' checks
            all_steady = False
            logger.exception("PortForward %s/%s: health check failed", metadata["namespace"], metadata["name"])
    return all_steady


LIST_FAILURES_TOLERATED = 2  # passes in a row a configured cluster's list may fail before its forwards report it


async def _listed(runtime: rt.Runtime, cluster: str) -> Mapping[str, Any] | errors.ApiError:
    """A configured cluster's forwards by id (the backend's list, asked for without credentials), or its error."""
    try:
        return (await runtime.lists.listing(runtime.open_backend, cluster, credentials=ANONYMOUS)).by_id
    except errors.ApiError as e:
        return e


@dataclasses.dataclass
class Pass:
    """What the last health-check pass derived from the table of forwards (rebuilt when its version changes)."""

    version: int = -1
    forwards: list[tuple[str, rt.TrackedForward]] = dataclasses.field(default_factory=list)
    clusters: list[str] = dataclasses.field(default_factory=list)  # the configured ones: each has one list
    secrets: set[tuple[str, str]] = dataclasses.field(default_factory=set)  # (namespace, name)
    lists: dict[str, Mapping[str, Any] | None] = dataclasses.field(default_factory=dict)  # cluster -> by_id
    all_steady: bool = False  # every forward was found steady in ``lists``
    failures: dict[str, int] = dataclasses.field(default_factory=dict)  # cluster -> its list's failures in a row


def _note_failures(last: Pass, answers: Mapping[str, Mapping[str, Any] | errors.ApiError]) -> set[str]:
    """Count each configured cluster's failed lists in a row; the clusters whose forwards wait for the next pass.

    A list the backend failed says nothing about the forwards in it: taken as each forward's failure,
    one 503 flipped thousands of Running forwards to Pending and back, two status writes and two
    Events each (``make bench``'s idle phase, issue 14). The forwards keep their status, and are
    checked one by one (and report the failure) once the list failed more than
    :data:`LIST_FAILURES_TOLERATED` passes in a row, as a probe's ``failureThreshold`` does.
    """
    waiting = set()
    for cluster, answer in answers.items():
        if not isinstance(answer, errors.ApiError):
            if last.failures.pop(cluster, 0):
                logger.info("PortForward health checks: the backend lists cluster %s again", cluster)
            continue
        failures = last.failures[cluster] = last.failures.get(cluster, 0) + 1
        if failures <= LIST_FAILURES_TOLERATED:
            waiting.add(cluster)
        if failures in (1, LIST_FAILURES_TOLERATED + 1):
            logger.warning("PortForward health checks: the backend's list of cluster %s failed (%s); %s", cluster,
                           answer, "its forwards keep their status for now" if failures == 1 else
                           f"{failures} times in a row: its forwards report it")
    return waiting


async def check_all(runtime: rt.Runtime, write_status: StatusWriter, last: Pass) -> None:
    """One health-check pass over every known PortForward (SPEC 3.1), the clusters side by side; updates ``last``.

    A configured cluster's list is asked for once (a dynamic cluster's is per user: the full check of
    each of its forwards loads its credentials). A forward found steady in the very list it was found
    steady in before (the backend's answer unchanged, :class:`ForwardLists`) is passed over; when no
    forward changed and no list did since a pass that found every forward steady, the pass is the list
    requests and the Secret reads, however many forwards there are. The others are looked at one
    after the other per cluster, a slow cluster not holding up the rest. A cluster whose list failed
    leaves its forwards for the next pass, up to :data:`LIST_FAILURES_TOLERATED` passes (:func:`_note_failures`).
    """
    table = runtime.forwards
    if last.version != table.version:
        last.version, last.forwards = table.version, table.items()
        last.clusters = list({tracked.cluster for _, tracked in last.forwards if tracked.listed})
        last.secrets = set().union(*(tracked.secrets for _, tracked in last.forwards))
        last.all_steady = False
    answered = dict(zip(last.clusters, await asyncio.gather(*(_listed(runtime, cluster) for cluster in last.clusters)),
                        strict=True))
    lists = {cluster: None if isinstance(answer, errors.ApiError) else answer for cluster, answer in answered.items()}
    waiting = _note_failures(last, answered)
    if not (last.all_steady and all(lists[cluster] is last.lists.get(cluster) for cluster in lists)):
        version, unsettled = last.version, dict[str, list[tuple[str, rt.TrackedForward]]]()
        for uid, tracked in [(uid, tracked) for uid, tracked in last.forwards
                             if tracked.steady_in is None or tracked.steady_in is not lists.get(tracked.cluster)]:
            if not (tracked.listed and tracked.cluster in waiting):
                unsettled.setdefault(tracked.cluster, []).append((uid, tracked))
        steady = await asyncio.gather(*(_tick_all(runtime, batch, lists.get(cluster), write_status)
                                        for cluster, batch in unsettled.items()))
        # (a forward tracked meanwhile, or a cluster's forwards left for a list that failed: look again)
        last.all_steady = all(steady) and table.version == version and not waiting
    last.lists = lists
    # The forwards' Secrets are read, each once per interval however many use it (many of them are
    # cached reads of this pass): a rotated token is noticed, and what the old one left in the
    # request layer goes (SecretReader.on_change).
    for namespace, name in last.secrets:
        try:
            await runtime.read_secret(namespace, name)
        except Exception as e:  # the forwards using it report it when they next need it
            logger.warning("reading Secret %s/%s for the health checks failed: %s", namespace, name, e)


async def schedule(runtime: rt.Runtime, write_status: StatusWriter) -> None:
    """Every ``HEADLAMP_SYNC_INTERVAL`` seconds, :func:`check_all`; runs until cancelled."""
    last = Pass()
    while True:
        await asyncio.sleep(runtime.settings.reconcile.sync_interval)
        await check_all(runtime, write_status, last)


def register(registry: kopf.OperatorRegistry, runtime: rt.Runtime) -> None:
    """Register the PortForward handlers on ``registry`` with the runtime's intervals."""
    resource = (rt.GROUP, rt.VERSION, PLURAL)

    # Stacked decorators register bottom-up, and kopf's prematch, on every event, stops at the first
    # handler that matches: an unfiltered one first spares a filter's arguments being built each time.
    @kopf.on.resume(*resource, registry=registry, id="resume", when=reporting.stale_filter)
    @kopf.on.update(*resource, registry=registry, id="reconcile", field="spec")
    @kopf.on.create(*resource, registry=registry, id="reconcile")
    async def pf_reconcile(body: kopf.Body, patch: kopf.Patch, retry: int, **_: Any) -> None:
        await reconcile(runtime, body, patch, retry)

    # "Retry now": a new value of the requestedAt annotation reconciles at once, whatever the phase.
    @kopf.on.update(*resource, registry=registry, id="requested", field=reporting.REQUESTED_AT_FIELD)
    async def pf_requested(body: kopf.Body, patch: kopf.Patch, retry: int, **_: Any) -> None:
        reporting.handle_request(body, patch)
        await reconcile(runtime, body, patch, retry)

    @kopf.on.delete(*resource, registry=registry, id="release", when=finalized)
    async def pf_release(body: kopf.Body, logger: kopf.Logger, retry: int, **_: Any) -> None:
        await release(runtime, body, logger, retry=retry)

    def current(body: kopf.Body, **_: Any) -> bool:
        return not reporting.stale(body)

    # After a restart the scheduler learns of every other resource here; nothing is written but a
    # missing finalizer (taken off by hand: kopf used to put it back on the next event).
    @kopf.on.resume(*resource, registry=registry, id="track", when=current)
    async def pf_track(body: kopf.Body, **_: Any) -> None:
        if await finalize(runtime, body):
            track(runtime, body, specs.portforward(body.get("spec") or {}))

    @kopf.on.cleanup(registry=registry, id="portforward-scheduler")
    async def stop_scheduler(**_: Any) -> None:
        if runtime.forward_scheduler is not None:
            runtime.forward_scheduler.cancel()


