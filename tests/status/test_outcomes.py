import pytest

from headlamp_operator.headlamp import errors
from headlamp_operator.settings import ReconcileSettings
from headlamp_operator.status import outcomes


def test_backoff_doubles_from_one_second_to_five_minutes() -> None:
    defaults = ReconcileSettings()
    assert [outcomes.delay(defaults, n) for n in range(4)] == [1, 2, 4, 8]
    assert outcomes.delay(defaults, 50) == 300
    assert outcomes.delay(defaults, 0, retry_after=30) == 30
    assert outcomes.delay(defaults, 0, retry_after=10_000) == 300


@pytest.mark.parametrize(("error", "phase", "reason"), [
    (errors.UnreachableError(), "Pending", "Unreachable"),
    (errors.RequestTimeoutError(), "Pending", "Timeout"),
    (errors.TooManyRequestsError("Too Many Requests - x"), "Pending", "BackendError"),
    (errors.ServerError("Service Unavailable - x", status=503), "Pending", "BackendError"),
    (errors.UnauthorizedError("Unauthorized - x"), "Failed", "Unauthorized"),
    (errors.ForbiddenError("Forbidden - x"), "Failed", "Forbidden"),
    (errors.NotFoundError("Not Found - x"), "Failed", "NotFound"),
    (errors.ConflictError("Conflict - x"), "Failed", "Conflict"),
    (errors.UnprocessableEntityError("Unprocessable Entity - x"), "Failed", "InvalidSpec"),
    (errors.PermissionCheckError("Internal Server Error - permission check failed: access denied", status=500),
     "Failed", "Forbidden"),
    (errors.ForwardNotReadyError("Internal Server Error - timeout waiting for portforward to be ready",
                                 status=500), "Pending", "Pending"),
    (errors.ForwardStartingError("Conflict - portforward with this ID is already starting"), "Pending", "Pending"),
    (errors.LocalPortInUseError("Internal Server Error - unable to listen on any of the requested ports: "
                                "[{8080 3000}]", status=500), "Failed", "Conflict"),
    (errors.UnknownClusterError("Not Found - 404 page not found", cluster="prod-eu"), "Failed", "NotFound"),
    (errors.ServerError("Internal Server Error - boom", status=500), "Failed", "BackendError"),
])
def test_errors_become_outcomes(error: errors.ApiError, phase: str, reason: str) -> None:
    result = outcomes.from_error(error, attempt=2, settings=ReconcileSettings())
    assert (result.outcome.phase, result.outcome.reason) == (phase, reason)
    assert result.transient == (phase == "Pending")
    if result.transient:
        assert "attempt 3" in result.outcome.message and result.retry_in == 4
