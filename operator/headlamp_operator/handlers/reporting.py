"""How a handler's result reaches kopf: into kopf's status patch (:mod:`headlamp_operator.status.report` renders
it), and as kopf's verdict on the handler.

Also the two conventions of the operators users already run (docs/operations.md#metrics-probes-events-and-logs):
Flux's "retry now" annotation, recorded as ``status.lastHandledReconcileAt``, and a resume that reconciles only
resources whose outcome was never recorded.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import kopf

from headlamp_operator.kube.events import EventRecorder
from headlamp_operator.scheduling.state import NotStarted
from headlamp_operator.status import report
from headlamp_operator.status.outcomes import Result

REQUESTED_AT = "reconcile.headlamp-operator.dev/requestedAt"  # Flux-style "retry now" annotation
REQUESTED_AT_FIELD = ("metadata", "annotations", REQUESTED_AT)  # as a kopf field path (the key has dots)


def handle_request(body: kopf.Body, patch: kopf.Patch) -> None:
    """Record the ``requestedAt`` value acted on, as Flux records ``lastHandledReconcileAt``."""
    value = (body.get("metadata", {}).get("annotations") or {}).get(REQUESTED_AT)
    if value is not None and (body.get("status") or {}).get("lastHandledReconcileAt") != value:
        patch.status["lastHandledReconcileAt"] = value


def write(body: kopf.Body, patch: kopf.Patch, result: Result, *, events: EventRecorder,
          time_field: str | None = None) -> None:
    """Put a result into kopf's status patch, and record an Event when the phase changes."""
    new = report.status_update(body, result, events=events, time_field=time_field)
    if new is not None:
        patch.status.update(new)


def stale_filter(body: kopf.Body, **_: Any) -> bool:
    """:func:`~headlamp_operator.status.report.stale` as a kopf ``when=`` filter: on resume, only resources
    whose outcome was lost."""
    return report.stale(body)


def conclude(result: Result) -> None:
    """Tell kopf how the handler ended: done, or failed until something changes.

    A transient outcome is done as far as kopf is concerned: its retry is the operator's own, scheduled
    with the delay its message announces (:mod:`~headlamp_operator.scheduling.retries`), so that one
    scheduler retries what handlers, passes and retries alike left Pending.
    """
    if not result.transient and not result.outcome.ready:
        raise kopf.PermanentError(f"{result.outcome.reason}: {result.outcome.message}")


@contextlib.contextmanager
def started() -> Iterator[None]:
    """A handler called before the operator's startup opened the Backend is retried by kopf in a second."""
    try:
        yield
    except NotStarted as e:
        raise kopf.TemporaryError(str(e), delay=1) from None
