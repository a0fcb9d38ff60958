"""From request errors to status outcomes, and the backoff of transient ones (docs/status.md#retries).

Transient (408, 429, 502, 503, 504, no answer): phase Pending, retried with exponential backoff
from 1 s to 5 minutes, honouring ``Retry-After``. Anything else: phase Failed, retried only when
the spec or a referenced Secret changes.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from headlamp_operator.headlamp import errors
from headlamp_operator.settings import ReconcileSettings
from headlamp_operator.status.render import Outcome

_REASONS = {400: "InvalidSpec", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 408: "Timeout",
            409: "Conflict", 422: "InvalidSpec", 502: "Unreachable"}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Result:
    """An outcome, and whether and when to try again (``None``: done, or failed until something changes)."""

    outcome: Outcome
    retry_in: float | None = None

    @property
    def transient(self) -> bool:
        """Whether the caller should try again after ``retry_in`` seconds."""
        return self.retry_in is not None


def backoff(attempt: int, *, minimum: float, maximum: float, retry_after: float | None = None) -> float:
    """Seconds before attempt ``attempt + 1`` (0-based): doubling from ``minimum``, capped, never under Retry-After."""
    delay: float = min(maximum, minimum * 2.0 ** min(max(0, attempt), 40))
    if retry_after is not None:
        delay = max(delay, min(retry_after, maximum))
    return delay


def delay(settings: ReconcileSettings, attempt: int, *, retry_after: float | None = None) -> float:
    """Seconds before attempt ``attempt + 1``, from the configured backoff: the one source of every retry's delay."""
    return backoff(attempt, minimum=settings.backoff_min, maximum=settings.backoff_max, retry_after=retry_after)


def retrying(message: str, *, reason: str, settings: ReconcileSettings, attempt: int,
             retry_after: float | None = None, fields: Mapping[str, Any] | None = None) -> Result:
    """A transient outcome: Pending, its message ending with the attempt and the real delay of the retry."""
    seconds = delay(settings, attempt, retry_after=retry_after)
    return Result(outcome=Outcome(phase="Pending", reason=reason,
                                  message=f"{message}; attempt {attempt + 1}, retrying in {seconds:g}s",
                                  fields=fields or {}),
                  retry_in=seconds)


def reason_for(error: errors.ApiError) -> str:
    """The status reason for a request error."""
    if isinstance(error, errors.UnauthorizedError):
        # also Headlamp's "permission check failed: ...: Unauthorized", answered 500 (docs/headlamp-backend.md#errors)
        return "Unauthorized"
    if isinstance(error, errors.PermissionCheckError):
        return "Forbidden"  # the backend's RBAC check for pods/portforward answers 500
    if isinstance(error, errors.ForwardNotReadyError | errors.ForwardStartingError):
        return "Pending"  # the pod or the stream is not ready yet (docs/headlamp-backend.md#errors)
    if isinstance(error, errors.LocalPortInUseError):
        return "Conflict"
    if isinstance(error, errors.UnknownClusterError | errors.PodNotFoundError):
        return "NotFound"  # also when the port-forward start answers it as a 500
    return _REASONS.get(error.status, "BackendError")


def describe(error: errors.ApiError) -> str:
    """The error's message, led by its cause in words when a user's typo or a busy machine caused it."""
    if isinstance(error, errors.UnknownClusterError):
        return (f"Headlamp knows no cluster {error.cluster!r}: spec.cluster must be one of the clusters in "
                f"Headlamp's cluster list (a context name of its kubeconfig, or a dynamic cluster's) "
                f"[{error.message}]")
    if isinstance(error, errors.LocalPortInUseError):
        return f"the local port is already in use on the Headlamp host: {error.message}"
    if isinstance(error, errors.UnauthorizedError):
        return (f"the token was refused: put a valid one in the credentials' Secret (the resource is tried "
                f"again when the Secret changes) [{error.message}]")
    return error.message


def from_error(error: errors.ApiError, *, attempt: int, settings: ReconcileSettings, action: str = "",
               transient: bool | None = None) -> Result:
    """The outcome of a failed request: Pending and a delay if transient (``transient`` overrides the error's
    own verdict), Failed otherwise."""
    reason = reason_for(error)
    where = f" (cluster {error.cluster})" if error.cluster and not isinstance(error, errors.UnknownClusterError) else ""
    prefix = f"{action}: " if action else ""
    text = describe(error)
    if error.transient if transient is None else transient:
        return retrying(f"{prefix}{text}{where}", reason=reason, settings=settings, attempt=attempt,
                        retry_after=error.retry_after)
    return Result(outcome=Outcome(phase="Failed", reason=reason, message=f"{prefix}{text}{where}"),
                   retry_in=None)


def invalid(reason: str, message: str) -> Result:
    """A permanent failure found before any request (InvalidSpec, InvalidCredentials)."""
    return Result(outcome=Outcome(phase="Failed", reason=reason, message=message), retry_in=None)
