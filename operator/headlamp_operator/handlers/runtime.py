"""What the handlers share for the operator's lifetime: settings, the Backend, caches, and status writing."""
from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping
from typing import Any, cast

import kopf

from headlamp_operator import crds, metrics
from headlamp_operator import status as status_module
from headlamp_operator.headlamp.client import Backend
from headlamp_operator.reconciling import credentials, healing, outcomes, specs, targets
from headlamp_operator.reconciling.forwardlists import ForwardLists
from headlamp_operator.reconciling.outcomes import Result
from headlamp_operator.settings import Settings

GROUP, VERSION = crds.GROUP, crds.VERSION
PREFIX = crds.GROUP  # of kopf's finalizer
REQUESTED_AT = "reconcile.headlamp-operator.dev/requestedAt"  # Flux-style "retry now" annotation
REQUESTED_AT_FIELD = ("metadata", "annotations", REQUESTED_AT)  # as a kopf field path (the key has dots)


def handle_request(body: kopf.Body, patch: kopf.Patch) -> None:
    """Record the ``requestedAt`` value acted on, as Flux records ``lastHandledReconcileAt``."""
    value = (body.get("metadata", {}).get("annotations") or {}).get(REQUESTED_AT)
    if value is not None and (body.get("status") or {}).get("lastHandledReconcileAt") != value:
        patch.status["lastHandledReconcileAt"] = value


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrackedPatch:
    """A ResourcePatch as the scheduler knows it: a trimmed body (metadata, spec, status) and its parsed spec."""

    body: Mapping[str, Any]
    spec: specs.ResourcePatchSpec | list[str]  # the problems, for an invalid one


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrackedForward:
    """A PortForward as its scheduler knows it: a trimmed body, its parsed spec, and its healing backoff."""

    body: Mapping[str, Any]
    spec: specs.PortForwardSpec | list[str]  # the problems, for an invalid one
    backoff: healing.Backoff  # the same object while the resource lives; a reconcile starts a new one


@dataclasses.dataclass
class Runtime:
    """The operator's shared state; the Backend is opened at startup and closed at cleanup."""

    settings: Settings
    read_secret: credentials.SecretReader
    backend: Backend | None = None
    lists: ForwardLists = dataclasses.field(init=False)
    resolutions: targets.Resolutions = dataclasses.field(default_factory=targets.Resolutions)
    blocked: dict[str, Mapping[str, str | None]] = dataclasses.field(default_factory=dict)  # uid -> secret rvs
    patches: dict[str, TrackedPatch] = dataclasses.field(default_factory=dict)  # uid -> ResourcePatch as last seen
    scheduler: asyncio.Task[None] | None = None  # the ResourcePatch scheduler, started by the first handler
    forwards: dict[str, TrackedForward] = dataclasses.field(default_factory=dict)  # uid -> PortForward as last seen
    forward_scheduler: asyncio.Task[None] | None = None  # the PortForward scheduler, started likewise

    def __post_init__(self) -> None:
        self.lists = ForwardLists(ttl=self.settings.reconcile.sync_interval)

    @property
    def open_backend(self) -> Backend:
        """The Backend, which exists between startup and cleanup."""
        if self.backend is None:
            raise kopf.TemporaryError("the operator is still starting", delay=1)
        return self.backend


def status_update(body: Mapping[str, Any], result: Result, *,
                  time_field: str | None = None) -> dict[str, Any] | None:
    """The new status for a result (None: nothing that matters changed); posts an event when the phase changes."""
    old: Mapping[str, Any] = body.get("status") or {}
    generation = body.get("metadata", {}).get("generation")
    kind = str(body.get("kind") or "")
    metrics.reconciled(kind, result.outcome.phase)
    new = status_module.render(result.outcome, generation=generation, previous=old, time_field=time_field)
    if not status_module.changed(old, new, ignore=("conditions", "lastSyncTime", "lastAppliedTime")) \
            and time_field is None:
        return None  # quiet when idle: nothing that matters changed
    if old.get("phase") != result.outcome.phase:
        target = body if isinstance(body, kopf.Body) else kopf.Body(cast(Any, dict(body)))
        kopf.event(target, type=status_module.event_type(result.outcome), reason=result.outcome.reason,
                   message=result.outcome.message)
    return new


def write(body: kopf.Body, patch: kopf.Patch, result: Result, *, time_field: str | None = None) -> None:
    """Put a result into kopf's status patch, and post an event when the phase changes."""
    new = status_update(body, result, time_field=time_field)
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
    """Tell kopf how the handler ended: retry later, fail until a change, or done."""
    if result.transient:
        raise kopf.TemporaryError(result.outcome.message, delay=result.retry_in or 1.0)
    if not result.outcome.ready:
        raise kopf.PermanentError(f"{result.outcome.reason}: {result.outcome.message}")


async def secret_versions(runtime: Runtime, body: Mapping[str, Any]) -> dict[str, str | None]:
    """The current resourceVersions of the Secrets a resource names (None for a missing one), valid spec or not."""
    named = specs.credentials(body.get("spec") or {})
    versions: dict[str, str | None] = {}
    for ref in (named.references().values() if named is not None else ()):
        secret = await runtime.read_secret(body["metadata"]["namespace"], ref.name)
        versions[ref.name] = secret.resource_version if secret is not None else None
    return versions


async def prepare(runtime: Runtime, spec: specs.PortForwardSpec | specs.ResourcePatchSpec | list[str], *,
                  namespace: str) -> credentials.Loaded | Result:
    """Before any request: a spec's problems fail it (InvalidSpec), else its credentials are loaded."""
    if isinstance(spec, list):
        return outcomes.invalid("InvalidSpec", "; ".join(spec))
    try:
        return await credentials.load(spec.credentials, cluster=spec.cluster, namespace=namespace,
                                      read_secret=runtime.read_secret,
                                      allow_anonymous=runtime.settings.reconcile.allow_anonymous,
                                      user_id=runtime.settings.backend.user_id)
    except credentials.CredentialsError as e:
        return outcomes.invalid("InvalidCredentials", str(e))


async def remember(runtime: Runtime, body: Mapping[str, Any], result: Result) -> None:
    """After a permanent failure, note the Secret versions it happened with (SPEC 6: retried when they change)."""
    uid = body["metadata"]["uid"]
    if result.transient or result.outcome.ready:
        runtime.blocked.pop(uid, None)
    else:
        runtime.blocked[uid] = await secret_versions(runtime, body)


async def secrets_changed(runtime: Runtime, body: Mapping[str, Any]) -> bool:
    """Whether a Failed resource may try again: one of its Secrets changed since it failed."""
    uid = body["metadata"]["uid"]
    recorded = runtime.blocked.get(uid)
    current = await secret_versions(runtime, body)
    if recorded is None:  # after a restart nothing is recorded: try once, then remember
        runtime.blocked[uid] = current
        return True
    return dict(recorded) != current
