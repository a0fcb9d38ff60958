"""From request errors to status outcomes, and the backoff of transient ones (SPEC 6).

Transient (408, 429, 502, 503, 504, no answer): phase Pending, retried with exponential backoff
from 1 s to 5 minutes, honouring ``Retry-After``. Anything else: phase Failed, retried only when
the spec or a referenced Secret changes.
"""
from __future__ import annotations

import dataclasses

from headlamp_operator.headlamp import errors
from headlamp_operator.status import Outcome

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


def backoff(attempt: int, *, minimum: float = 1.0, maximum: float = 300.0, retry_after: float | None = None) -> float:
    """Seconds before attempt ``attempt + 1`` (0-based): doubling from ``minimum``, capped, never under Retry-After."""
    delay: float = min(maximum, minimum * 2.0 ** min(max(0, attempt), 40))
    if retry_after is not None:
        delay = max(delay, min(retry_after, maximum))
    return delay


def reason_for(error: errors.ApiError) -> str:
    """The status reason for a request error."""
    if isinstance(error, errors.PermissionCheckError):
        return "Forbidden"  # the backend's RBAC check for pods/portforward answers 500
    if isinstance(error, errors.ForwardNotReadyError | errors.ForwardStartingError):
        return "Pending"  # the pod or the stream is not ready yet (SPEC 3.1)
    if isinstance(error, errors.LocalPortInUseError):
        return "Conflict"
    if isinstance(error, errors.UnknownClusterError):
        return "NotFound"  # also when the port-forward start answers it as a 500 context lookup error
    return _REASONS.get(error.status, "BackendError")


def describe(error: errors.ApiError) -> str:
    """The error's message, led by its cause in words when a user's typo or a busy machine caused it."""
    if isinstance(error, errors.UnknownClusterError):
        return (f"Headlamp knows no cluster {error.cluster!r}: spec.cluster must be one of the clusters in "
                f"Headlamp's cluster list (a context name of its kubeconfig, or a dynamic cluster's) "
                f"[{error.message}]")
    if isinstance(error, errors.LocalPortInUseError):
        return f"the local port is already in use on the Headlamp host: {error.message}"
    return error.message


def from_error(error: errors.ApiError, *, attempt: int, minimum: float = 1.0, maximum: float = 300.0,
               action: str = "") -> Result:
    """The outcome of a failed request: Pending and a delay if transient, Failed otherwise."""
    reason = reason_for(error)
    where = f" (cluster {error.cluster})" if error.cluster and not isinstance(error, errors.UnknownClusterError) else ""
    prefix = f"{action}: " if action else ""
    text = describe(error)
    if error.transient:
        delay = backoff(attempt, minimum=minimum, maximum=maximum, retry_after=error.retry_after)
        message = f"{prefix}{text}{where}; attempt {attempt + 1}, retrying in {delay:g}s"
        return Result(outcome=Outcome(phase="Pending", reason=reason, message=message), retry_in=delay)
    return Result(outcome=Outcome(phase="Failed", reason=reason, message=f"{prefix}{text}{where}"),
                   retry_in=None)


def invalid(reason: str, message: str) -> Result:
    """A permanent failure found before any request (InvalidSpec, InvalidCredentials)."""
    return Result(outcome=Outcome(phase="Failed", reason=reason, message=message), retry_in=None)
