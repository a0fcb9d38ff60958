"""The ResourcePatches between kopf's events: re-applied on ``reapplyInterval``, retried when transient, tried
again when a Secret changes, and the one way an outcome is recorded (:func:`record`).

ONE scheduler for all ResourcePatches (:func:`schedule`, every sync interval) and their :class:`Retries`, each
transient outcome (a handler's too) retried with the delay its message says (docs/status.md#retries); not kopf
timers per resource: kopf puts a finalizer on every resource with a timer, and only a ResourcePatch with
``revertOnDelete`` carries one (docs/resourcepatch.md#when-it-is-applied): deleting any other is never blocked,
even while the operator is down.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

from headlamp_operator import crds
from headlamp_operator.kube import objects, revertsecrets
from headlamp_operator.reconciling import resourcepatch, revert, specs
from headlamp_operator.scheduling import gate
from headlamp_operator.scheduling import state as rt
from headlamp_operator.scheduling.retries import Retries, Retry
from headlamp_operator.status import outcomes, render, report
from headlamp_operator.status.outcomes import Result
from headlamp_operator.status.write import StatusWriter
from headlamp_operator.structs import Credentials

PLURAL = crds.RESOURCEPATCH.plural
logger = logging.getLogger("headlamp_operator.resourcepatches")


def parse(runtime: rt.Runtime, body: Mapping[str, Any]) -> specs.ResourcePatchSpec | list[str]:
    return specs.resourcepatch(body.get("spec") or {}, min_reapply=runtime.settings.reconcile.min_reapply_interval)


@dataclasses.dataclass(frozen=True)
class Keeper:
    """Where one ResourcePatch's undo record is kept (:class:`revert.Keeper`): its status, written at once with
    the operator's own client, and a Secret target's prior values in a Secret it owns (:mod:`revertsecrets`)."""

    runtime: rt.Runtime
    body: Mapping[str, Any]

    async def write(self, revert_status: Mapping[str, Any] | None) -> None:
        metadata = self.body["metadata"]
        writer = StatusWriter(self.runtime.kube, crds.GROUP, crds.VERSION)
        await writer(PLURAL, metadata["namespace"], metadata["name"], {"revert": revert_status})

    async def save_values(self, values: Mapping[str, str | None]) -> str:
        return await revertsecrets.create(self.runtime.kube, self.body, values)

    async def load_values(self, name: str) -> Mapping[str, str | None] | None:
        return await revertsecrets.read(self.runtime.kube, self.body["metadata"]["namespace"], name)

    async def drop_values(self, name: str) -> None:
        await revertsecrets.delete(self.runtime.kube, self.body["metadata"]["namespace"], name)


def context(runtime: rt.Runtime, body: Mapping[str, Any], spec: specs.ResourcePatchSpec,
            credentials: Credentials) -> resourcepatch.Context:
    """The reconciler's view of one ResourcePatch: its Events go to ``runtime.events``."""
    def notify(kind: str, reason: str, message: str) -> None:
        runtime.events.record(body, type=kind, reason=reason, message=message)

    metadata = body["metadata"]
    return resourcepatch.Context(backend=runtime.open_backend, settings=runtime.settings.reconcile, spec=spec,
                                 namespace=metadata["namespace"], name=metadata["name"], credentials=credentials,
                                 status=body.get("status") or {}, keeper=Keeper(runtime, body), notify=notify,
                                 generation=metadata.get("generation"))


async def apply(runtime: rt.Runtime, body: Mapping[str, Any], spec: specs.ResourcePatchSpec | list[str], *,
                attempt: int) -> Result:
    loaded = await gate.prepare(runtime, spec, namespace=body["metadata"]["namespace"])
    if isinstance(loaded, Result):
        return loaded
    assert not isinstance(spec, list)  # prepare refused it otherwise
    ctx = context(runtime, body, spec, loaded.credentials)
    return await resourcepatch.apply(ctx, attempt=attempt)


def time_field(result: Result) -> str | None:
    """``lastAppliedTime`` for an outcome that applied the patch (not for a preview, which stores nothing)."""
    return "lastAppliedTime" if result.outcome.phase == "Applied" else None


def retries(runtime: rt.Runtime) -> Retries:
    """The ResourcePatches' retries (made with the scheduler: :func:`start`)."""
    assert runtime.patch_retries is not None, "the ResourcePatch scheduler is not started"
    return runtime.patch_retries


def start(runtime: rt.Runtime) -> None:
    """Start the scheduler and the retries (once: the first handler to run starts them)."""
    if runtime.scheduler is None or runtime.scheduler.done():
        writer = StatusWriter(runtime.kube, crds.GROUP, crds.VERSION)
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


async def record(runtime: rt.Runtime, uid: str, tracked: rt.TrackedPatch, result: Result, *,
                 write_status: StatusWriter, attempt: int) -> None:
    """Write what the scheduler or a retry got (unless the resource changed meanwhile), and schedule its retry.

    Raises what the status write raised (the caller logs it; a retry's failure is retried again).
    """
    if runtime.patches.get(uid) is not tracked:
        return  # the resource changed (or went) meanwhile: its handler has it
    follow_up(runtime, uid, result, attempt=attempt)  # first: a failed write still has its retry
    new = report.status_update(tracked.body, result, events=runtime.events, time_field=time_field(result))
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
    versions = await gate.secret_versions(runtime, tracked.body)
    result = await apply(runtime, tracked.body, tracked.spec, attempt=due.attempt)
    gate.remember(runtime, tracked.body, result, versions=versions)
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
        versions = await gate.secrets_changed(runtime, body) if specs.credentials(body.get("spec") or {}) \
            else None
        if versions is None:
            return None
        result = await apply(runtime, body, spec, attempt=0)
        gate.remember(runtime, body, result, versions=versions)
        return result
    if retries(runtime).get(uid) is not None:
        return None  # its retry is due soon, or under way
    if phase == "Pending":
        retries(runtime).schedule(uid, attempt=0, delay=0.0)
        return None
    if phase != "Applied" or isinstance(spec, list) or spec.reapply_interval is None:
        return None
    last = render.parse_timestamp(current.get("lastAppliedTime"))
    if last is not None and (render.now() - last).total_seconds() < spec.reapply_interval:
        return None
    return await apply(runtime, body, spec, attempt=0)


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


async def finalize(runtime: rt.Runtime, body: Mapping[str, Any]) -> bool:
    """Put the finalizer on a ResourcePatch with ``revertOnDelete`` before its first record (see
    :func:`objects.add_finalizer`); False: the resource is gone or going."""
    metadata = body["metadata"]
    path = objects.resource_path(crds.GROUP, crds.VERSION, PLURAL, metadata["namespace"], metadata["name"])
    return await objects.add_finalizer(runtime.kube, path, body, crds.FINALIZER)


async def undo(runtime: rt.Runtime, body: Mapping[str, Any]) -> str:
    """Deletion of a ResourcePatch with ``revertOnDelete``: restore what its patch set (docs/resourcepatch.md#undo);
    what was done, in words (its Events are recorded).

    Raises:
        errors.ApiError: a request failed (the handler retries a transient one up to the finalizer timeout).
        Undone: nothing can be restored now (no credentials, an invalid spec), or ever (``final``: the Secret that
            kept a Secret target's prior values is gone): the message says why.
    """
    uid = str(body["metadata"]["uid"])
    runtime.patches.pop(uid, None)  # no re-apply or retry while it goes
    if runtime.patch_retries is not None:
        runtime.patch_retries.cancel(uid)
    record = revert.from_status(body.get("status") or {})
    if record is None:
        return "nothing was recorded to restore"
    spec = parse(runtime, body)
    loaded = await gate.prepare(runtime, spec, namespace=body["metadata"]["namespace"])
    if isinstance(loaded, Result):
        raise Undone(f"cannot restore {record.target.shown()}: {loaded.outcome.message}")
    assert not isinstance(spec, list)
    ctx = context(runtime, body, spec, loaded.credentials)
    keeper = Keeper(runtime, body)
    values = await keeper.load_values(record.secret_name) if record.secret_name else None
    if record.secret_name and values is None:
        raise Undone(f"cannot restore {record.target.shown()}: the Secret {record.secret_name} that kept its "
                     f"prior values is gone", final=True)
    restored = await revert.restore(ctx.backend, spec.cluster, ctx.credentials, record, values)
    if record.secret_name:  # its ownerReference is the safety net: the garbage collector may not run
        await keeper.drop_values(record.secret_name)
    return resourcepatch.report_restore(ctx.notify, record, restored, why="the ResourcePatch was deleted")


class Undone(Exception):
    """A deletion that cannot restore anything now (``final``: nor ever); the message says why."""

    def __init__(self, message: str, *, final: bool = False) -> None:
        super().__init__(message)
        self.final = final
