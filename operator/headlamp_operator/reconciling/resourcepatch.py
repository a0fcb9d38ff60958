"""Reconciling a ResourcePatch: discover the target's URL, PATCH it, report what the answer says.

The steps, in order (docs/resourcepatch.md#what-the-operator-does): discover the kind; restore what an older
spec's patch set (revertOnDelete); read the target when a preview, an undo record or drift needs it; record
what the patch will replace (revertOnDelete); PATCH (``dryRun=All`` for a preview); say what the answer
shows: Previewed with ``status.preview``, or Applied, with drift counted on a scheduled re-apply.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from headlamp_operator import metrics
from headlamp_operator.headlamp import errors, resources
from headlamp_operator.headlamp.backend import Backend
from headlamp_operator.kube import revertsecrets
from headlamp_operator.reconciling import pointers, revert, validation
from headlamp_operator.reconciling.specs import ResourcePatchSpec
from headlamp_operator.settings import ReconcileSettings
from headlamp_operator.status import outcomes, render
from headlamp_operator.status.outcomes import Result
from headlamp_operator.status.render import Outcome
from headlamp_operator.structs import Credentials

Notify = Callable[[str, str, str], None]  # (type: Normal | Warning, reason, message): an Event about the resource


def _quiet(kind: str, reason: str, message: str) -> None:
    del kind, reason, message


@dataclasses.dataclass(frozen=True, kw_only=True)
class Context:
    """One ResourcePatch as the reconciler needs it."""

    backend: Backend
    settings: ReconcileSettings
    spec: ResourcePatchSpec
    namespace: str
    credentials: Credentials
    name: str = ""
    status: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # the status as last written
    keeper: revert.Keeper | None = None  # where an undo record is kept (needed with revertOnDelete)
    notify: Notify = _quiet
    generation: int | None = None  # the ResourcePatch's metadata.generation: the spec this apply sends
    # what the steps wrote to the status on their own (the undo record, before the PATCH): the outcome carries
    # it too, so that whoever tracks the status from the outcome sees it
    written: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def drift_watched(self) -> bool:
        """Whether what this apply changes is drift (docs/resourcepatch.md#drift): ``reapplyInterval`` is set and this
        spec was applied before (``status.appliedGeneration``), so it is a re-apply, or the retry of one, whatever
        path led to it (a retry after a 503, after a Secret was fixed, a retry-now annotation)."""
        applied = self.status.get("appliedGeneration")
        return self.spec.reapply_interval is not None and self.generation is not None and applied == self.generation

    @property
    def previous_target(self) -> Mapping[str, Any]:
        """``status.target``: uid and resourceVersion of the object after the last apply."""
        target = self.status.get("target")
        return target if isinstance(target, Mapping) else {}


def touches_status(patch: Any, patch_type: str) -> bool:
    """Whether a patch writes ``status`` (which a main endpoint ignores when the kind has a status subresource)."""
    if patch_type == "json":
        return any(isinstance(op, Mapping) and str(op.get("path", "")).split("/")[1:2] == ["status"]
                   for op in patch or ())
    return isinstance(patch, Mapping) and "status" in patch


def target_missing(error: errors.ApiError) -> bool:
    """Whether an error says the target is not there (yet): its object, or its kind not served (a CRD to come).

    Not an unknown cluster, nor a route Headlamp lacks: those are mistakes of the spec or the setup.
    """
    return isinstance(error, errors.NotFoundError) and not isinstance(error, errors.UnknownClusterError
                                                                      | errors.NoRouteError
                                                                      | errors.ForwardNotFoundError)


def _shown(spec: ResourcePatchSpec, namespace: str | None) -> str:
    target = spec.target
    where = f"{namespace}/{target.name}" if namespace else target.name
    return f"{target.api_version} {target.kind} {where}" + (f" ({spec.subresource})" if spec.subresource else "")


async def apply(ctx: Context, *, attempt: int = 0) -> Result:
    """Send the patch once (after restoring what an older spec's patch set, and recording what this one will
    replace, when ``revertOnDelete`` asks); the result says Applied or Previewed, or why not and whether to retry.
    """
    result = await _apply(ctx, attempt=attempt)
    if not ctx.written:
        return result
    outcome = dataclasses.replace(result.outcome, fields={**ctx.written, **result.outcome.fields})
    return dataclasses.replace(result, outcome=outcome)


async def _apply(ctx: Context, *, attempt: int) -> Result:
    spec = ctx.spec
    cluster, target, subresource = spec.cluster, spec.target, spec.subresource
    api_version, kind, name = target.api_version, target.kind, target.name
    namespaced: bool | None = None  # unknown until discovery answers
    try:
        resource = await resources.discover(ctx.backend, cluster, api_version=api_version, kind=kind,
                                            credentials=ctx.credentials)
        namespaced = resource.namespaced
        namespace = (target.namespace or ctx.namespace) if namespaced else None
        if subresource and subresource not in resource.subresources:
            return outcomes.invalid("NotFound", f"{kind} in {api_version} has no {subresource} subresource")
        if not subresource and "status" in resource.subresources \
                and touches_status(spec.patch, spec.patch_type):
            return outcomes.invalid("InvalidSpec", f"the patch writes status, which {kind} in {api_version} keeps "
                                                   f"in a status subresource: its main endpoint ignores it; "
                                                   f"use subresource: status")
        path = resource.path(namespace=namespace, name=name, subresource=subresource or None)
        try:
            record = await _settle_old_record(ctx)
        except errors.ApiError as e:  # the old patch's target, not this one: said so
            return outcomes.from_error(e, attempt=attempt, settings=ctx.settings,
                                       action="restoring what the previous spec's patch set, before applying this one")
        recording = spec.revert_on_delete and not spec.dry_run and record is None
        # one read, and only when something needs the object as it is: a preview, a new record, or telling drift
        before = await _read_before(ctx, path) if spec.dry_run or recording or ctx.drift_watched else None
        touched = pointers.normalise(pointers.touched(spec.patch, spec.patch_type, secret=spec.secret), before)
        if recording:
            taken = await _take_record(ctx, namespace, touched, before)
            if isinstance(taken, Result):
                return taken
            record = taken
        try:
            answer = await resources.patch(ctx.backend, path, spec.patch, cluster=cluster,
                                           patch_type=spec.patch_type, credentials=ctx.credentials,
                                           dry_run=spec.dry_run)
        except errors.NotFoundError:
            resources.forget_discovery(ctx.backend, cluster, api_version=api_version, credentials=ctx.credentials)
            raise
    except errors.ApiError as e:
        # docs/resourcepatch.md#a-target-that-does-not-exist-yet: a GitOps sync creates the patch and its target in
        # any order
        if target_missing(e):
            where = name if namespaced is False else f"{target.namespace or ctx.namespace}/{name}"
            return outcomes.from_error(e, attempt=attempt, settings=ctx.settings, transient=True,
                                       action=f"waiting for {api_version} {kind} {where} to exist, to patch it")
        return outcomes.from_error(e, attempt=attempt, settings=ctx.settings, action=f"patching {kind} {name}")
    if spec.dry_run:
        return _previewed(ctx, namespace, touched, before, answer)
    return _applied(ctx, namespace, touched, before, answer, record)


async def _read_before(ctx: Context, path: str) -> Any:
    """The target as it is before the PATCH (for a preview, an undo record, or telling drift)."""
    return await resources.get_object(ctx.backend, path, cluster=ctx.spec.cluster, credentials=ctx.credentials)


async def _settle_old_record(ctx: Context) -> revert.Record | None:
    """The undo record that belongs to this spec, if any; an older spec's is restored first (so that no field
    of the old patch stays behind: docs/resourcepatch.md#a-changed-spec), or dropped when revertOnDelete is off.

    A preview restores nothing (``dryRun: true`` never writes the target); with revertOnDelete off, the record
    is dropped in any mode.

    Raises:
        errors.ApiError: the restore failed (its outcome is retried as any other).
    """
    spec, keeper = ctx.spec, ctx.keeper
    record = revert.from_status(ctx.status)
    if record is None or keeper is None:
        return record
    if spec.revert_on_delete and (spec.dry_run or record.patch == revert.spec_digest(spec, ctx.namespace)):
        return record  # its own; or a preview's, which never writes the target: the restore waits for the apply
    if spec.revert_on_delete:
        values = await keeper.load_values(record.secret_name) if record.secret_name else None
        restored = await revert.restore(ctx.backend, spec.cluster, ctx.credentials, record, values)
        report_restore(ctx.notify, record, restored, why="the spec changed")
    await keeper.write(None)
    ctx.written["revert"] = None
    if record.secret_name:
        await keeper.drop_values(record.secret_name)
    return None


def report_restore(notify: Notify, record: revert.Record, restored: revert.Restored, *, why: str) -> str:
    """The Events of a restore (a ``RevertConflict`` Warning naming what was left alone); its summary in words."""
    shown = record.target.shown()
    if restored.gone:
        return f"{shown} is gone: nothing to restore"
    if restored.conflicts:
        reason = "was deleted and created again since the patch" if restored.replaced else \
            "changed since the patch set them"
        notify("Warning", "RevertConflict",
               f"left {len(restored.conflicts)} field(s) of {shown} as they are ({why}): they {reason}: "
               f"{', '.join(restored.conflicts)}")
    summary = f"restored {len(restored.restored)} field(s) of {shown}" + (
        f": {', '.join(restored.restored)}" if restored.restored else "")
    if restored.restored:
        notify("Normal", "Reverted", f"{summary} ({why})")
    return summary


async def _take_record(ctx: Context, namespace: str | None, touched: list[str], before: Any) -> revert.Record | Result:
    """Record what the patch will replace, and keep it (the status; a Secret's values in a Secret of their own)
    before the PATCH is sent; an InvalidSpec result when it cannot be kept."""
    spec, keeper = ctx.spec, ctx.keeper
    assert keeper is not None, "revertOnDelete needs a keeper"
    metadata = before.get("metadata") if isinstance(before, Mapping) else None
    uid = str((metadata or {}).get("uid") or "") if isinstance(metadata, Mapping) else ""
    target = revert.Target(api_version=spec.target.api_version, kind=spec.target.kind, namespace=namespace or "",
                           name=spec.target.name, subresource=spec.subresource, uid=uid)
    record = revert.take(spec, ctx.namespace, target=target, paths=touched, before=before)
    if spec.secret:
        values = {entry.path: entry.before for entry in record.entries}
        if (size := revertsecrets.encoded_size(values)) > revertsecrets.MAX_SECRET_BYTES:
            return outcomes.invalid("InvalidSpec", f"spec.revertOnDelete: the prior values take {size} bytes, over "
                                                   f"the {revertsecrets.MAX_SECRET_BYTES} bytes a Secret may hold")
        record = dataclasses.replace(record, secret_name=await keeper.save_values(values))
    else:
        room = validation.MAX_PATCH_BYTES - len(pointers.text(spec.patch).encode())
        if (problem := revert.size_problem(record, room=room)) is not None:
            return outcomes.invalid("InvalidSpec", problem)
    ctx.written["revert"] = record.to_status()
    await keeper.write(ctx.written["revert"])
    return record


def _changed(touched: Sequence[str], before: Any, after: Any) -> list[str]:
    """The touched paths whose value differs between two versions of the object."""
    def seen(document: Any, path: str) -> str | None:
        value = pointers.get(document, path)
        return None if value is pointers.ABSENT else pointers.text(value)
    return [path for path in touched if seen(before, path) != seen(after, path)]


def _previewed(ctx: Context, namespace: str | None, touched: list[str], before: Any, answer: Any) -> Result:
    spec = ctx.spec
    try:
        preview = pointers.preview(touched, before, answer, secret=spec.secret)
    except pointers.PreviewTooLarge as e:
        return outcomes.invalid("InvalidSpec", f"spec.dryRun: the preview takes {e.size} bytes even with every "
                                               f"value cut to its digest, over the {e.limit}-byte limit of "
                                               f"status.preview: preview a smaller patch")
    changed = _changed(touched, before, answer)
    count = f"{len(changed)} field{'' if len(changed) == 1 else 's'}"
    message = f"would change {count} of {_shown(spec, namespace)}" + (
        "" if changed else ": the patch is already in place") + "; set dryRun: false to apply it"
    return Result(outcome=Outcome(phase="Previewed", reason="Previewed", message=message,
                                  fields={"preview": preview}))


def _applied(ctx: Context, namespace: str | None, touched: list[str], before: Any, answer: Any,
             record: revert.Record | None) -> Result:
    metadata = answer.get("metadata") if isinstance(answer, Mapping) else None
    metadata = metadata if isinstance(metadata, Mapping) else {}
    message = f"patched {_shown(ctx.spec, namespace)}"
    uid, version = str(metadata.get("uid") or ""), str(metadata.get("resourceVersion") or "")
    previous = ctx.previous_target
    fields: dict[str, Any] = {"target": {"uid": uid, "resourceVersion": version}, "preview": None,
                              "appliedGeneration": ctx.generation}
    if uid and version and previous.get("uid") == uid and previous.get("resourceVersion") == version:
        # docs/resourcepatch.md#what-the-answer-says
        message += f": nothing changed (resourceVersion {version} as before)"
    elif ctx.drift_watched and isinstance(before, Mapping) and version and \
            str((before.get("metadata") or {}).get("resourceVersion") or "") != version:
        fields |= _drift(ctx, touched, before, answer)
        message += f": drift corrected ({fields['driftCorrections']} so far)"
    if record is not None and not record.complete:
        fields["revert"] = revert.complete(record, answer).to_status()
    return Result(outcome=Outcome(phase="Applied", reason="Applied", message=message, fields=fields))


def _drift(ctx: Context, touched: list[str], before: Any, answer: Any) -> dict[str, Any]:
    """A re-apply that moved the target's resourceVersion corrected drift (docs/resourcepatch.md#drift): counted
    in the status, an Event naming the fields, and the metric."""
    changed = _changed(touched, before, answer)
    count = int(ctx.status.get("driftCorrections") or 0) + 1
    what = ", ".join(changed) if changed else "fields the patch sets (the object moved under them)"
    ctx.notify("Warning", "DriftCorrected", f"re-applied the patch: {what} had been changed by somebody else "
                                            f"(correction {count})")
    metrics.DRIFT_CORRECTIONS.labels(ctx.namespace, ctx.name).inc()
    return {"driftCorrections": count, "lastDriftTime": render.timestamp(render.now())}
