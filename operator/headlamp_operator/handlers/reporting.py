"""How a result reaches the user: the status it renders, the Event of a phase change, and kopf's verdict.

Also the two conventions of the operators users already run (docs/operations.md#metrics-probes-events-and-logs):
Flux's "retry now" annotation, recorded as ``status.lastHandledReconcileAt``, and a resume that reconciles only
resources whose outcome was never recorded.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import kopf

from headlamp_operator import metrics
from headlamp_operator import status as status_module
from headlamp_operator.events import EventRecorder
from headlamp_operator.reconciling.outcomes import Result

REQUESTED_AT = "reconcile.headlamp-operator.dev/requestedAt"  # Flux-style "retry now" annotation
REQUESTED_AT_FIELD = ("metadata", "annotations", REQUESTED_AT)  # as a kopf field path (the key has dots)



def handle_request(body: kopf.Body, patch: kopf.Patch) -> None:
    """Record the ``requestedAt`` value acted on, as Flux records ``lastHandledReconcileAt``."""
    value = (body.get("metadata", {}).get("annotations") or {}).get(REQUESTED_AT)
    if value is not None and (body.get("status") or {}).get("lastHandledReconcileAt") != value:
        patch.status["lastHandledReconcileAt"] = value


def status_update(body: Mapping[str, Any], result: Result, *, events: EventRecorder,
                  time_field: str | None = None) -> dict[str, Any] | None:
    """The new status for a result (None: nothing that matters changed); records an Event when the phase changes."""
    old: Mapping[str, Any] = body.get("status") or {}
    generation = body.get("metadata", {}).get("generation")
    kind = str(body.get("kind") or "")
    metrics.reconciled(kind, result.outcome.phase)
    new = status_module.render(result.outcome, generation=generation, previous=old, time_field=time_field)
    if not status_module.changed(old, new, ignore=("conditions", "lastSyncTime", "lastAppliedTime")) \
            and time_field is None:
        return None  # quiet when idle: nothing that matters changed
    if old.get("phase") != result.outcome.phase:
        events.record(body, type=status_module.event_type(result.outcome), reason=result.outcome.reason,
                      message=result.outcome.message)
    return new


def write(body: kopf.Body, patch: kopf.Patch, result: Result, *, events: EventRecorder,
          time_field: str | None = None) -> None:
    """Put a result into kopf's status patch, and record an Event when the phase changes."""
    new = status_update(body, result, events=events, time_field=time_field)
    if new is not None:
        patch.status.update(new)


def stale(body: Mapping[str, Any]) -> bool:
    """Whether the status does not describe the current generation (an outcome was never recorded).

    kopf's handled state and the outcome are written together (both in the status), but a status
    wiped by hand, or written by an operator that kept kopf's state elsewhere, leaves a resource that
    kopf considers handled and whose outcome is missing: resume reconciles exactly those.
    """
    generation = (body.get("metadata") or {}).get("generation")
    return (body.get("status") or {}).get("observedGeneration") != generation


def stale_filter(body: kopf.Body, **_: Any) -> bool:
    """:func:`stale` as a kopf ``when=`` filter: on resume, only resources whose outcome was lost."""
    return stale(body)


def conclude(result: Result) -> None:
    """Tell kopf how the handler ended: done, or failed until something changes.

    A transient outcome is done as far as kopf is concerned: its retry is the operator's own, scheduled
    with the delay its message announces (:mod:`~headlamp_operator.reconciling.retries`), so that one
    scheduler retries what handlers, passes and retries alike left Pending.
    """
    if not result.transient and not result.outcome.ready:
        raise kopf.PermanentError(f"{result.outcome.reason}: {result.outcome.message}")
