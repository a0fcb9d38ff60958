"""Reconciling a ResourcePatch: discover the target's URL, PATCH it, report what the answer says."""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from headlamp_operator.headlamp import errors, resources
from headlamp_operator.headlamp.backend import Backend
from headlamp_operator.reconciling.specs import ResourcePatchSpec
from headlamp_operator.settings import ReconcileSettings
from headlamp_operator.status import outcomes
from headlamp_operator.status.outcomes import Result
from headlamp_operator.status.render import Outcome
from headlamp_operator.structs import Credentials


@dataclasses.dataclass(frozen=True, kw_only=True)
class Context:
    """One ResourcePatch as the reconciler needs it."""

    backend: Backend
    settings: ReconcileSettings
    spec: ResourcePatchSpec
    namespace: str
    credentials: Credentials
    previous_target: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # status.target: uid, resourceVersion


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


async def apply(ctx: Context, *, attempt: int = 0) -> Result:
    """Send the patch once; the result says Applied, or why not and whether to retry."""
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
            answer = await resources.patch(ctx.backend, path, spec.patch, cluster=cluster,
                                           patch_type=spec.patch_type, credentials=ctx.credentials)
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
    metadata = answer.get("metadata") if isinstance(answer, Mapping) else None
    metadata = metadata if isinstance(metadata, Mapping) else {}
    shown = f"{namespace}/{name}" if namespace else name
    message = f"patched {api_version} {kind} {shown}" + (f" ({subresource})" if subresource else "")
    uid, version = str(metadata.get("uid") or ""), str(metadata.get("resourceVersion") or "")
    before = ctx.previous_target
    if uid and version and before.get("uid") == uid and before.get("resourceVersion") == version:
        # docs/resourcepatch.md#what-the-answer-says
        message += f": nothing changed (resourceVersion {version} as before)"
    fields = {"target": {"uid": uid, "resourceVersion": version}}
    return Result(outcome=Outcome(phase="Applied", reason="Applied", message=message, fields=fields))
