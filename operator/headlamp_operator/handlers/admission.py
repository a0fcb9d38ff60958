"""The validating admission webhook: the same checks the handlers run, answered before a resource is stored.

The webhook is a convenience, never the only line: the handlers re-validate before any request
(the webhook may be absent or failing open), and fail the resource with InvalidSpec.
"""
from __future__ import annotations

from typing import Any

import kopf

from headlamp_operator.handlers import runtime as rt
from headlamp_operator.reconciling import validation


def _deny(problems: list[str]) -> None:
    if problems:
        raise kopf.AdmissionError("; ".join(problems), code=422)


def register(registry: kopf.OperatorRegistry, runtime: rt.Runtime) -> None:
    """Register the validation handlers of both resources (served at ``/validate-<plural>``)."""

    @kopf.on.validate(rt.GROUP, rt.VERSION, "portforwards", registry=registry, id="validate-portforwards",
                      operations=["CREATE", "UPDATE"], ignore_failures=True)
    def validate_portforward(spec: kopf.Spec, **_: Any) -> None:
        _deny(validation.portforward_problems(spec))

    @kopf.on.validate(rt.GROUP, rt.VERSION, "resourcepatches", registry=registry, id="validate-resourcepatches",
                      operations=["CREATE", "UPDATE"], ignore_failures=True)
    def validate_resourcepatch(spec: kopf.Spec, **_: Any) -> None:
        _deny(validation.resourcepatch_problems(
            spec, min_reapply=runtime.settings.reconcile.min_reapply_interval))
