"""The validating admission webhook: the same checks the handlers run, answered before a resource is stored.

The webhook is a convenience, never the only line: the handlers re-validate before any request
(the webhook may be absent or failing open), and fail the resource with InvalidSpec.
"""
from __future__ import annotations

from typing import Any

import kopf

from headlamp_operator import crds
from headlamp_operator.handlers import runtime as rt
from headlamp_operator.reconciling import specs


def _deny(parsed: object) -> None:
    if isinstance(parsed, list):  # the problems of an invalid spec
        raise kopf.AdmissionError("; ".join(parsed), code=422)


def register(registry: kopf.OperatorRegistry, runtime: rt.Runtime) -> None:
    """Register the validation handlers of both resources (served at ``/validate-<plural>``)."""

    @kopf.on.validate(rt.GROUP, rt.VERSION, crds.PORTFORWARD.plural, registry=registry, id="validate-portforwards",
                      operations=["CREATE", "UPDATE"], ignore_failures=True)
    def validate_portforward(spec: kopf.Spec, **_: Any) -> None:
        _deny(specs.portforward(spec))

    @kopf.on.validate(rt.GROUP, rt.VERSION, crds.RESOURCEPATCH.plural, registry=registry,
                      id="validate-resourcepatches",
                      operations=["CREATE", "UPDATE"], ignore_failures=True)
    def validate_resourcepatch(spec: kopf.Spec, **_: Any) -> None:
        _deny(specs.resourcepatch(spec, min_reapply=runtime.settings.reconcile.min_reapply_interval))
