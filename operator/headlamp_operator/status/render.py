"""Status as pure functions: phase, reason, message and kstatus conditions from an outcome.

``Ready`` says whether the desired state holds; ``Reconciling`` (work under way, transient errors
retried) and ``Stalled`` (a permanent failure waiting for a change) follow the kstatus conventions,
so ``kubectl wait --for=condition=Ready``, Flux health checks and Argo CD health all read it right.
A condition keeps its ``lastTransitionTime`` while its status does not change.
"""
from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping, Sequence
from typing import Any, Literal

Phase = Literal["Pending", "Running", "Stopped", "Applied", "Previewed", "Failed"]

REASONS = frozenset({
    "Started", "Adopted", "Stopped", "Applied", "Previewed", "Pending", "Unreachable", "Timeout", "Unauthorized",
    "Forbidden", "NotFound", "Conflict", "InvalidSpec", "InvalidCredentials", "BackendError",
})
SUCCESS_PHASES = frozenset({"Running", "Stopped", "Applied", "Previewed"})  # Previewed: a dry run's preview is
# what its spec asks for (docs/resourcepatch.md#preview-specdryrun)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Outcome:
    """What a reconciliation ended with, before it becomes a status."""

    phase: Phase
    reason: str
    message: str
    fields: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # id, port, pod, target, ...

    def __post_init__(self) -> None:
        if self.reason not in REASONS:
            raise ValueError(f"unknown status reason {self.reason!r}")

    @property
    def ready(self) -> bool:
        """Whether the desired state holds."""
        return self.phase in SUCCESS_PHASES


def now() -> datetime.datetime:
    """The current time in UTC (one place to read the clock)."""
    return datetime.datetime.now(datetime.UTC)


def timestamp(moment: datetime.datetime) -> str:
    """RFC 3339 in UTC with a ``Z``, seconds precision, as Kubernetes writes times."""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(value: str | None) -> datetime.datetime | None:
    """The inverse of :func:`timestamp`; ``None`` for absent or unparseable values."""
    if not value:
        return None
    try:
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _condition(kind: str, status: bool, reason: str, message: str, *, generation: int | None,
               previous: Sequence[Mapping[str, Any]], moment: datetime.datetime) -> dict[str, Any]:
    value = "True" if status else "False"
    old = next((c for c in previous if c.get("type") == kind), None)
    since = old.get("lastTransitionTime") if old and old.get("status") == value else None
    condition: dict[str, Any] = {"type": kind, "status": value, "reason": reason, "message": message,
                                 "lastTransitionTime": since or timestamp(moment)}
    if generation is not None:
        condition["observedGeneration"] = generation
    return condition


def conditions(outcome: Outcome, *, generation: int | None, previous: Sequence[Mapping[str, Any]] = (),
               moment: datetime.datetime | None = None) -> list[dict[str, Any]]:
    """The Ready, Reconciling and Stalled conditions for an outcome."""
    moment = moment or now()
    pending = outcome.phase == "Pending"
    failed = outcome.phase == "Failed"
    return [
        _condition("Ready", outcome.ready, outcome.reason, outcome.message,
                   generation=generation, previous=previous, moment=moment),
        _condition("Reconciling", pending, outcome.reason if pending else "Done",
                   outcome.message if pending else "", generation=generation, previous=previous, moment=moment),
        _condition("Stalled", failed, outcome.reason if failed else "Healthy",
                   outcome.message if failed else "", generation=generation, previous=previous, moment=moment),
    ]


def render(outcome: Outcome, *, generation: int | None, previous: Mapping[str, Any] | None,
           moment: datetime.datetime | None = None, time_field: str | None = None) -> dict[str, Any]:
    """The whole status for an outcome (to merge-patch over the old one); ``time_field`` gets the time."""
    moment = moment or now()
    previous = previous or {}
    status: dict[str, Any] = {
        "phase": outcome.phase,
        "reason": outcome.reason,
        "message": outcome.message,
        "observedGeneration": generation,
        "conditions": conditions(outcome, generation=generation, previous=previous.get("conditions") or (),
                                 moment=moment),
    }
    status.update(outcome.fields)
    if time_field:
        status[time_field] = timestamp(moment)
    return status


def changed(old: Mapping[str, Any] | None, new: Mapping[str, Any], *, ignore: Sequence[str] = ()) -> bool:
    """Whether writing ``new`` would change anything that matters (to stay quiet when idle)."""
    old = old or {}
    return any(old.get(key) != value for key, value in new.items() if key not in ignore)


def event_type(outcome: Outcome) -> Literal["Normal", "Warning"]:
    """Normal for a success phase, Warning for a failure or a retry."""
    return "Normal" if outcome.ready else "Warning"
