"""The Flux ``healthCheckExprs`` of docs/gitops.md, evaluated with cel-python on statuses the operator renders.

The expressions are read from the page (:mod:`tests.install.gitops`) and evaluated as Flux's
``StatusEvaluator`` does (:mod:`headlamp_operator_testing.flux`), on objects whose status is
:func:`headlamp_operator.status.render`'s. The first version of these expressions used
``filter(...).all(...)``, true over an empty list: a resource without a ``Stalled`` condition was Failed
and one without a ``Ready`` condition Current. tests/status/test_gitops_health_real.py runs the same on
objects read back from a real API server.
"""
from __future__ import annotations

from typing import Any

import pytest

from headlamp_operator import crds
from headlamp_operator.status import render as status
from headlamp_operator_testing.flux import evaluate, health
from tests.install.gitops import flux_health_checks

GROUP_VERSION = "headlamp-operator.dev/v1alpha1"
CHECKS = flux_health_checks()
EXPECTED: dict[status.Phase, str] = {"Running": "Current", "Stopped": "Current", "Applied": "Current",
                                     "Pending": "InProgress", "Failed": "Failed"}
REASONS = {"Running": "Started", "Pending": "Unreachable", "Failed": "InvalidSpec"}


def resource(kind: str, phase: status.Phase | None, *, generation: int = 3, observed: int = 3) -> dict[str, Any]:
    """A resource as the API server shows it, its status (if a phase is given) rendered by the operator."""
    body: dict[str, Any] = {"apiVersion": GROUP_VERSION, "kind": kind, "spec": {"cluster": "prod"},
                            "metadata": {"name": "x", "namespace": "team-a", "generation": generation}}
    if phase is not None:
        outcome = status.Outcome(phase=phase, reason=REASONS.get(phase, phase), message=f"the {phase} message")
        body["status"] = status.render(outcome, generation=observed, previous=None)
    return body


def test_the_page_has_one_entry_per_kind_of_this_group() -> None:
    assert set(CHECKS) == {crds.PORTFORWARD.kind, crds.RESOURCEPATCH.kind}
    assert all(check.api_version == GROUP_VERSION and check.failed for check in CHECKS.values())


@pytest.mark.parametrize("kind", sorted(CHECKS))
@pytest.mark.parametrize(("phase", "expected"), sorted(EXPECTED.items()))
def test_every_rendered_phase(kind: str, phase: status.Phase, expected: str) -> None:
    assert health(resource(kind, phase), CHECKS[kind]) == expected


@pytest.mark.parametrize("kind", sorted(CHECKS))
def test_a_status_of_an_older_generation_is_in_progress(kind: str) -> None:
    """Flux answers InProgress before the expressions; the expressions alone say neither Current nor Failed."""
    stale_running = resource(kind, "Running", generation=4, observed=3)
    stale_failed = resource(kind, "Failed", generation=4, observed=3)
    assert health(stale_running, CHECKS[kind]) == health(stale_failed, CHECKS[kind]) == "InProgress"
    assert evaluate(CHECKS[kind].current, stale_running) is False
    assert evaluate(CHECKS[kind].failed, stale_failed) is False
    assert evaluate(CHECKS[kind].current, resource(kind, "Running", generation=4, observed=4)) is True


@pytest.mark.parametrize("kind", sorted(CHECKS))
@pytest.mark.parametrize(("what", "status_field", "expected"), [
    ("no status yet", None, "Unknown"),
    ("an empty status", {}, "InProgress"),
    ("only kopf's bookkeeping", {"observedGeneration": 3, "kopf": {"progress": {}}}, "InProgress"),
    ("no conditions", {"observedGeneration": 3, "conditions": []}, "InProgress"),
    ("neither Ready nor Stalled", {"observedGeneration": 3,
                                   "conditions": [{"type": "Reconciling", "status": "True"}]}, "InProgress"),
])
def test_a_resource_without_a_verdict_is_never_current_nor_failed(kind: str, what: str, status_field: Any,
                                                                  expected: str) -> None:
    body = resource(kind, None)
    if status_field is not None:
        body["status"] = status_field
    assert health(body, CHECKS[kind]) == expected, what
