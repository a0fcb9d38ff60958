"""kopf's registrations, and what every handler module tells kopf: how a handler ended (:func:`conclude`).

The modules of this package register kopf handlers (:mod:`.registration`, :mod:`.portforwards`,
:mod:`.resourcepatches`, :mod:`.admission`, :mod:`.login`) or subclass kopf's classes (:mod:`.persistence`,
:mod:`.webhookserver`); the logic they call is kopf-free, in :mod:`headlamp_operator.scheduling` and below.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

import kopf

from headlamp_operator.scheduling.state import NotStarted
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
