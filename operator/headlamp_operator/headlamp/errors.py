"""The request layer's one error tree.

As in httpx, errors without an answer (the backend never answered, or not in time) are kept apart
from errors with one (a non-2xx status); aiohttp's exceptions are translated once, in
:meth:`.backend.Backend.fetch`, the cause kept, and nothing above this layer sees them. Every message
is redacted before it is stored: no credential value ever reaches ``str(error)``. The tree::

    HeadlampError
    ├── InvalidArgument             a value refused before any request (also a ValueError)
    └── ApiError                    a request that did not succeed: status, cluster, message, retry_after
        ├── TransportError          no usable answer at all
        │   ├── UnreachableError    502: refused, reset, DNS, TLS, a malformed answer
        │   └── RequestTimeoutError 408: no answer within HEADLAMP_REQUEST_TIMEOUT
        ├── InvalidResponseError    an answer that cannot be used (too large, not the JSON it should be)
        └── StatusError             a non-2xx answer
            ├── ClientError         4xx
            │   ├── BadRequestError 400
            │   ├── UnauthorizedError 401
            │   │   └── SessionUnauthorizedError  500 "permission check failed: ...: Unauthorized"
            │   ├── ForbiddenError  403
            │   ├── NotFoundError   404 (a Kubernetes Status: the object)
            │   │   ├── UnknownClusterError       Headlamp knows no such cluster ("key not found")
            │   │   ├── PageNotFoundError         a plain "404 page not found", not yet attributed
            │   │   │   ├── ApiNotServedError     the API server serves no such group/version
            │   │   │   └── NoRouteError          Headlamp has no such route (or a base path is missing)
            │   │   └── ForwardNotFoundError      no forward of that id (404 on a GET, 500 on a stop)
            │   ├── ConflictError   409
            │   │   ├── ForwardAlreadyRunningError
            │   │   └── ForwardStartingError      transient
            │   ├── GoneError       410: a watch's resourceVersion is too old (list again)
            │   ├── UnprocessableEntityError 422
            │   └── TooManyRequestsError 429      transient
            └── ServerError         5xx (Headlamp answers most of its own failures with 500)
                ├── ForwardNotReadyError          transient: the pod or its stream not ready yet
                ├── LocalPortInUseError           the local port is taken on the Headlamp host
                ├── PermissionCheckError          Headlamp's RBAC check for pods/portforward refused
                └── PodNotFoundError              the start names a pod that does not exist

Which answer is which is written in docs/headlamp-backend.md#errors; the statuses retried with backoff
are :data:`TRANSIENT_STATUSES` (and the classes that say so).
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping

MAX_DETAIL = 512
REDACTED = "***"

# Statuses worth retrying with backoff (docs/status.md#retries); anything else is permanent until the spec changes.
TRANSIENT_STATUSES = frozenset({408, 429, 502, 503, 504})


class HeadlampError(Exception):
    """Anything this layer raises on purpose."""


class InvalidArgument(HeadlampError, ValueError):
    """A value refused before any request was sent (a cluster name with ``/``, a newline in an id)."""


class ApiError(HeadlampError):
    """A request that did not succeed; ``status`` follows the frontend's conventions (408, 502, or the answer's)."""

    status: int = 0

    def __init__(self, message: str, *, status: int | None = None, cluster: str | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.cluster = cluster
        self.retry_after = retry_after

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status={self.status}, cluster={self.cluster!r})"

    @property
    def transient(self) -> bool:
        """Whether retrying later can help (timeouts, throttling, an unavailable backend)."""
        return self.status in TRANSIENT_STATUSES


class TransportError(ApiError):
    """No usable answer came back at all."""


class UnreachableError(TransportError):
    """The backend never answered (connection refused, reset, DNS); the frontend reports it as 502."""

    status = 502

    def __init__(self, message: str = "Unreachable", **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class RequestTimeoutError(TransportError):
    """No answer within the request timeout; the frontend reports it as 408."""

    status = 408

    def __init__(self, message: str = "Request timed-out", **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class InvalidResponseError(ApiError):
    """An answer came, but it cannot be used: too large, or not the JSON it should be."""


class StatusError(ApiError):
    """The backend answered with a non-2xx status."""


class ClientError(StatusError):
    """A 4xx answer."""


class BadRequestError(ClientError):
    status = 400


class UnauthorizedError(ClientError):
    status = 401


class ForbiddenError(ClientError):
    status = 403


class NotFoundError(ClientError):
    status = 404


class ConflictError(ClientError):
    status = 409


class GoneError(ClientError):
    """410 Gone: the resourceVersion a watch starts from is no longer kept by the API server: list again."""

    status = 410


class UnprocessableEntityError(ClientError):
    status = 422


class TooManyRequestsError(ClientError):
    status = 429


class ServerError(StatusError):
    """A 5xx answer (the Headlamp backend answers 500 for most of its own failures)."""


class UnknownClusterError(NotFoundError):
    """Headlamp knows no cluster of that name: v0.45.0 answers a proxied request 404 ``key not found``, a
    port-forward start 500 ``key not found`` (docs/headlamp-backend.md#errors)."""


class PageNotFoundError(NotFoundError):
    """A plain ``404 page not found``, before it is known who answered it (:mod:`.fetch` finds out).

    Three answer exactly that: the API server for a group/version it does not serve, Headlamp's router
    for a route it lacks, and a Headlamp reached without its base path. None of them is an unknown
    cluster on v0.45.0 (kubernetes-sigs/headlamp#6069 was read so, and blamed ``spec.cluster``).
    """


class ApiNotServedError(PageNotFoundError):
    """The cluster's API server serves no such API group/version (a CRD not installed, or not yet)."""


class NoRouteError(PageNotFoundError):
    """Headlamp has no route for the request: another release's routes, or ``HEADLAMP_URL`` lacks a base path."""


# Port-forward start errors (docs/headlamp-backend.md#errors), told apart once, from the backend's texts.

class ForwardAlreadyRunningError(ConflictError):
    """409 ``portforward with this ID is already running``: a forward with this id exists and runs."""


class ForwardStartingError(ConflictError):
    """409 ``portforward with this ID is already starting``: another start of this id is under way."""

    @property
    def transient(self) -> bool:
        return True


class ForwardNotFoundError(NotFoundError):
    """The backend knows no forward of that id: 404 ``no portforward running with id ...`` on a GET, 500
    ``failed to delete port forward failed to get portforward from cache: ...`` on a stop or delete (whose
    status is kept: it is what the backend answered)."""


class ForwardNotReadyError(ServerError):
    """The pod or its stream is not ready yet (timeout, stopped before ready, stream failed): retry later."""

    @property
    def transient(self) -> bool:
        return True


class LocalPortInUseError(ServerError):
    """The requested local port is taken on the Headlamp host (client-go: ``unable to listen on any of the
    requested ports``)."""


class PermissionCheckError(ServerError):
    """Headlamp's RBAC check for ``create pods/portforward`` refused the user (answered as a 500)."""


class SessionUnauthorizedError(UnauthorizedError):
    """Headlamp's permission check could not authenticate the session's token (a revoked or invalid one), answered
    500 ``permission check failed: failed to check permissions: Unauthorized``: a 401 in all but its status."""


class PodNotFoundError(ServerError):
    """The start names a pod that does not exist: 500 ``error upgrading connection: unable to upgrade connection:
    pods "NAME" not found`` (the real v0.45.0 answers at once; docs/headlamp-backend.md#errors)."""


NOT_READY_TEXTS = ("timeout waiting for portforward to be ready", "portforward stopped before becoming ready",
                   "portforward failed", "unable to forward port because pod is not running")
PORT_IN_USE_TEXTS = ("unable to listen on any of the requested ports", "address already in use")
_POD_NOT_FOUND = re.compile(r'pods "[^"]*" not found')


def classify_start_error(error: StatusError) -> StatusError:
    """The specific error a failed port-forward start means, keeping status, message, cluster and Retry-After."""
    text = error.message.lower()
    cls: type[StatusError] | None = None
    if error.status == 409:
        cls = ForwardStartingError if "already starting" in text else ForwardAlreadyRunningError \
            if "already running" in text else None
    elif error.status >= 500:
        if "permission check failed" in text:
            cls = SessionUnauthorizedError if text.rstrip().endswith("unauthorized") else PermissionCheckError
        elif any(t in text for t in PORT_IN_USE_TEXTS):
            cls = LocalPortInUseError
        elif _POD_NOT_FOUND.search(text):
            cls = PodNotFoundError
        elif any(t in text for t in NOT_READY_TEXTS):
            cls = ForwardNotReadyError
        elif text.endswith(" - key not found") or "failed to get context" in text or "context not found" in text:
            cls = UnknownClusterError
    if cls is None:
        return error
    return cls(error.message, status=error.status, cluster=error.cluster, retry_after=error.retry_after)


def classify_forward_error(error: StatusError) -> StatusError:
    """The specific error a failed get, stop or delete of a forward by id means (the same fields kept)."""
    text = error.message.lower()
    unknown_id = (error.status == 404 and "no portforward running" in text) or (
        error.status >= 500 and "failed to get portforward from cache" in text)
    if not unknown_id or isinstance(error, UnknownClusterError):
        return error
    return ForwardNotFoundError(error.message, status=error.status, cluster=error.cluster,
                                retry_after=error.retry_after)


_BY_STATUS: dict[int, type[StatusError]] = {
    400: BadRequestError, 401: UnauthorizedError, 403: ForbiddenError, 404: NotFoundError,
    409: ConflictError, 410: GoneError, 422: UnprocessableEntityError, 429: TooManyRequestsError,
}


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every secret value (longest first, so a value containing another goes whole) in ``text``."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def extract_detail(body: bytes) -> str:
    """The human part of an error body: a JSON ``message``, a JSON string, or the plain text, trimmed."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        payload = json.loads(text)
    except ValueError:
        return text
    if isinstance(payload, str):
        return payload.strip()
    if isinstance(payload, Mapping) and isinstance(payload.get("message"), str):
        return str(payload["message"]).strip()
    return text


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds (the delta form; an HTTP date is ignored as unusual for APIs)."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def from_status(status: int, reason: str, body: bytes, *, headers: Mapping[str, str],
                secrets: Iterable[str], cluster: str | None = None) -> StatusError:
    """Pick the error class from the status and build ``"{reason phrase} - {detail}"``, redacted and cut."""
    detail = redact(extract_detail(body), secrets)
    reason = redact(reason.strip(), secrets) or "Error"
    if len(detail) > MAX_DETAIL:
        detail = detail[:MAX_DETAIL - 3] + "..."
    message = f"{reason} - {detail}" if detail else reason
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else ClientError if status >= 400 else StatusError)
    if status == 404 and detail == "404 page not found":
        cls = PageNotFoundError  # who answered it is found out by the caller (Backend.cluster_fetch)
    elif status == 404 and cluster is not None and detail == "key not found":
        cls = UnknownClusterError  # v0.45.0's answer to a proxied request for a cluster it does not know
    return cls(message, status=status, cluster=cluster, retry_after=parse_retry_after(headers.get("Retry-After")))
