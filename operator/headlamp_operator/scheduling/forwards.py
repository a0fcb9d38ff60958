"""What the operator knows of each PortForward between kopf's events, and the one way an outcome is recorded.

The handlers (:mod:`headlamp_operator.handlers.portforwards`), the health pass
(:mod:`~headlamp_operator.scheduling.forwardpass`) and the retries (:mod:`~headlamp_operator.scheduling.healing`)
all build a forward's :func:`context` here and keep it :func:`track`-ed; what a pass or a retry finds is written by
:func:`record`: the status merge-patched and, for a transient outcome, the next retry scheduled with the delay its
message announces (docs/status.md#retries).
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from headlamp_operator import crds
from headlamp_operator.kube import objects
from headlamp_operator.reconciling import portforward, specs
from headlamp_operator.scheduling import gate
from headlamp_operator.scheduling import state as rt
from headlamp_operator.scheduling.retries import Retries
from headlamp_operator.status import report
from headlamp_operator.status.outcomes import Result
from headlamp_operator.status.write import StatusWriter

PLURAL = crds.PORTFORWARD.plural
logger = logging.getLogger("headlamp_operator.portforwards")


TARGET_FIELDS = ("pod", "service", "namespace", "service_namespace", "target_port", "port", "address")


def moved(runtime: rt.Runtime, uid: str, spec: specs.PortForwardSpec | list[str]) -> bool:
    """Whether ``spec`` changes what the forward last reconciled points at (docs/portforward.md#start: it is restarted).

    Known from the spec the operator last acted on; ``address`` is among the fields, though v0.45.0
    ignores it and never reports it, so only this comparison can tell that it changed.
    """
    before = runtime.forwards.get(uid)
    if before is None or not isinstance(before.spec, specs.PortForwardSpec) \
            or not isinstance(spec, specs.PortForwardSpec):
        return False
    return any(getattr(before.spec, field) != getattr(spec, field) for field in TARGET_FIELDS)


async def context(runtime: rt.Runtime, body: Mapping[str, Any], spec: specs.PortForwardSpec | list[str], *,
                  moved: bool = False) -> portforward.Context | Result:
    """What the reconciler needs, credentials loaded; or the result of failing it (InvalidSpec/Credentials)."""
    loaded = await gate.prepare(runtime, spec, namespace=body["metadata"]["namespace"])
    if isinstance(loaded, Result):
        return loaded
    assert not isinstance(spec, list)  # prepare refused it otherwise
    status = body.get("status") or {}
    return portforward.Context(backend=runtime.open_backend, settings=runtime.settings.reconcile, spec=spec,
                               namespace=body["metadata"]["namespace"], uid=body["metadata"]["uid"],
                               credentials=loaded.credentials, resolutions=runtime.resolutions,
                               lists=runtime.lists, previous_port=str(status.get("port") or ""),
                               previous_pod=str(status.get("pod") or ""), moved=moved,
                               unwatched=runtime.pod_watches.unwatched(body["metadata"]["uid"])
                               if runtime.pod_watches is not None else "")


def retries(runtime: rt.Runtime) -> Retries:
    """The PortForwards' retries (made with the health pass: :func:`headlamp_operator.scheduling.forwardpass.start`)."""
    assert runtime.forward_retries is not None, "the PortForward handlers are not registered"
    return runtime.forward_retries


def track(runtime: rt.Runtime, body: Mapping[str, Any], spec: specs.PortForwardSpec | list[str], *,
          status: Mapping[str, Any] | None = None) -> rt.TrackedForward:
    """Remember the resource as the health pass and the retries need it, ``status`` merged in."""
    tracked = rt.TrackedForward(spec=spec, body=rt.snapshot(body, status))
    runtime.forwards.put(str(body["metadata"]["uid"]), tracked)
    return tracked


def follow_up(runtime: rt.Runtime, uid: str, result: Result, *, attempt: int, check: bool = False) -> None:
    """Schedule the next attempt of a transient outcome, ``result.retry_in`` from now (what its message says)."""
    if result.retry_in is not None:
        retries(runtime).schedule(uid, attempt=attempt + 1, delay=result.retry_in, check=check)


async def record(runtime: rt.Runtime, uid: str, tracked: rt.TrackedForward, result: Result, *,
                 write_status: StatusWriter, attempt: int, synced: bool = True,
                 check: bool = False) -> rt.TrackedForward | None:
    """Write what a look or a retry found (unless the resource changed meanwhile), and schedule its retry.

    ``synced``: the look counts as a sync (``lastSyncTime``); ``check``: the retry of a transient result
    looks at the backend's list again before acting. Returns the entry tracked now (the status written
    merged in), or None when the resource changed meanwhile (nothing was written).

    Raises what the status write raised (the caller logs it; a retry's failure is retried again).
    """
    if runtime.forwards.get(uid) is not tracked:
        return None  # the resource changed (or went) meanwhile: its handler has it
    follow_up(runtime, uid, result, attempt=attempt, check=check)  # first: a failed write still has it
    new = report.status_update(tracked.body, result, events=runtime.events,
                               time_field="lastSyncTime" if synced else None)
    if new is None:
        return tracked
    metadata = tracked.body["metadata"]
    await write_status(PLURAL, metadata["namespace"], metadata["name"], new)
    if runtime.forwards.get(uid) is tracked:
        return track(runtime, tracked.body, tracked.spec, status=new)
    return None


async def finalize(runtime: rt.Runtime, body: Mapping[str, Any]) -> bool:
    """Put the finalizer on (see :func:`objects.add_finalizer`); False: the resource is gone or going."""
    metadata = body["metadata"]
    path = objects.resource_path(crds.GROUP, crds.VERSION, PLURAL, metadata["namespace"], metadata["name"])
    return await objects.add_finalizer(runtime.kube, path, body, crds.FINALIZER)
