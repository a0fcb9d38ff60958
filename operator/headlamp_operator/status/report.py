"""What a result becomes on the resource: its new status (None when nothing that matters changed), and its Event.

Every status write goes through :func:`status_update`, kopf's patch (the handlers) and the operator's own write
(:mod:`~headlamp_operator.status.write`) alike: one rendering, one rule of when to write (quiet when idle), one
Event per phase change.

Also the two conventions of the operators users already run (docs/operations.md#metrics-probes-events-and-logs):
Flux's "retry now" annotation, recorded as ``status.lastHandledReconcileAt`` (:func:`handled_request`), and a
resume that reconciles only resources whose outcome was never recorded (:func:`stale`).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from headlamp_operator import metrics
from headlamp_operator.kube.events import EventRecorder
from headlamp_operator.status import render
from headlamp_operator.status.outcomes import Result

REQUESTED_AT = "reconcile.headlamp-operator.dev/requestedAt"  # Flux-style "retry now" annotation
REQUESTED_AT_FIELD = ("metadata", "annotations", REQUESTED_AT)  # as a kopf field path (the key has dots)


def handled_request(body: Mapping[str, Any]) -> str | None:
    """The ``requestedAt`` value acted on, to record as ``lastHandledReconcileAt`` (as Flux does); None: recorded."""
    value = (body.get("metadata", {}).get("annotations") or {}).get(REQUESTED_AT)
    if value is None or (body.get("status") or {}).get("lastHandledReconcileAt") == value:
        return None
    return str(value)


def status_update(body: Mapping[str, Any], result: Result, *, events: EventRecorder,
                  time_field: str | None = None) -> dict[str, Any] | None:
    """The new status for a result (None: nothing that matters changed); records an Event when the phase changes."""
    old: Mapping[str, Any] = body.get("status") or {}
    generation = body.get("metadata", {}).get("generation")
    kind = str(body.get("kind") or "")
    metrics.reconciled(kind, result.outcome.phase)
    new = render.render(result.outcome, generation=generation, previous=old, time_field=time_field)
    if not render.changed(old, new, ignore=("conditions", "lastSyncTime", "lastAppliedTime")) \
            and time_field is None:
        return None  # quiet when idle: nothing that matters changed
    if old.get("phase") != result.outcome.phase:
        events.record(body, type=render.event_type(result.outcome), reason=result.outcome.reason,
                      message=result.outcome.message)
    return new


def stale(body: Mapping[str, Any]) -> bool:
    """Whether the status does not describe the current generation (an outcome was never recorded).

    kopf's handled state and the outcome are written together (both in the status), but a status
    wiped by hand, or written by an operator that kept kopf's state elsewhere, leaves a resource that
    kopf considers handled and whose outcome is missing: resume reconciles exactly those.
    """
    generation = (body.get("metadata") or {}).get("generation")
    return (body.get("status") or {}).get("observedGeneration") != generation


def stale_filter(body: Mapping[str, Any], **_: Any) -> bool:
    """:func:`stale` as a kopf ``when=`` filter: on resume, only resources whose outcome was lost."""
    return stale(body)
