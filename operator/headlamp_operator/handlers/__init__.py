"""kopf's registrations, and what both kinds' handler modules share: when a kind is reconciled
(:func:`register_reconcile`) and what kopf is told of how a handler ended (:func:`conclude`, :func:`started`).

The modules of this package register kopf handlers (:mod:`.registration`, :mod:`.portforwards`,
:mod:`.resourcepatches`, :mod:`.admission`, :mod:`.login`) or subclass kopf's classes (:mod:`.persistence`,
:mod:`.webhookserver`); the logic they call is kopf-free, in :mod:`headlamp_operator.scheduling` and below.
"""
from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import kopf

from headlamp_operator.scheduling.state import NotStarted
from headlamp_operator.status import report
from headlamp_operator.status.outcomes import Result


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


Reconcile = Callable[[kopf.Body, kopf.Patch, int], Awaitable[None]]  # (body, kopf's patch, kopf's retry count)


def register_reconcile(registry: kopf.OperatorRegistry, resource: tuple[str, str, str], *, id: str,
                       reconcile: Reconcile) -> None:
    """Register a kind's reconcile as both kinds want it: on create, on a spec change, on resume when the
    outcome was never recorded (:func:`~headlamp_operator.status.report.stale`), and at once on a new
    ``requestedAt`` value, whatever the phase (recorded as ``lastHandledReconcileAt``, as Flux does).

    Stacked decorators register bottom-up, and kopf's prematch, on every event, stops at the first handler
    that matches: an unfiltered one first spares a filter's arguments being built each time.
    """
    @kopf.on.resume(*resource, registry=registry, id="resume", when=report.stale_filter)
    @kopf.on.update(*resource, registry=registry, id=id, field="spec")
    @kopf.on.create(*resource, registry=registry, id=id)
    async def reconciled(body: kopf.Body, patch: kopf.Patch, retry: int, **_: Any) -> None:
        await reconcile(body, patch, retry)

    @kopf.on.update(*resource, registry=registry, id="requested", field=report.REQUESTED_AT_FIELD)
    async def requested(body: kopf.Body, patch: kopf.Patch, retry: int, **_: Any) -> None:
        handled = report.handled_request(body)
        if handled is not None:
            patch.status["lastHandledReconcileAt"] = handled
        await reconcile(body, patch, retry)
