"""The validating admission webhook: the same checks the handlers run, answered before a resource is stored.

The webhook is a convenience, never the only line: the handlers re-validate before any request
(the webhook may be absent or failing open), and fail the resource with InvalidSpec.

An update judges only a spec it changes. One stored while the webhook was away (``failurePolicy:
Ignore``), or before an upgrade refused more, is still the user's resource: its metadata must stay
writable (the PortForward finalizer put on and taken off, labels, the ``requestedAt`` retry annotation)
and its status tells what is wrong. Kubernetes ratchets its own CRD validation the same way
(KEP-4008: a field an update leaves as it was is not judged again).
"""
from __future__ import annotations

from typing import Any

import kopf

from headlamp_operator import crds
from headlamp_operator.reconciling import specs
from headlamp_operator.scheduling import state as rt


def _deny(parsed: object) -> None:
    if isinstance(parsed, list):  # the problems of an invalid spec
        raise kopf.AdmissionError("; ".join(parsed), code=422)


def _unchanged(body: kopf.Body, kwargs: dict[str, Any]) -> bool:
    """An UPDATE that leaves the spec as stored: nothing for the webhook to judge.

    ``kwargs``: what kopf passes a validation handler beyond its protocol's names (``operation``, ``old``).
    """
    old = kwargs.get("old")
    return kwargs.get("operation") == "UPDATE" and old is not None and old.get("spec") == body.get("spec")


def register(registry: kopf.OperatorRegistry, runtime: rt.Runtime) -> None:
    """Register the validation handlers of both resources (served at ``/validate-<plural>``)."""

    @kopf.on.validate(crds.GROUP, crds.VERSION, crds.PORTFORWARD.plural, registry=registry, id="validate-portforwards",
                      operations=["CREATE", "UPDATE"], ignore_failures=True)
    def validate_portforward(spec: kopf.Spec, body: kopf.Body, **kwargs: Any) -> None:
        if not _unchanged(body, kwargs):
            _deny(specs.portforward(spec))

    @kopf.on.validate(crds.GROUP, crds.VERSION, crds.RESOURCEPATCH.plural, registry=registry,
                      id="validate-resourcepatches",
                      operations=["CREATE", "UPDATE"], ignore_failures=True)
    def validate_resourcepatch(spec: kopf.Spec, body: kopf.Body, **kwargs: Any) -> None:
        if not _unchanged(body, kwargs):
            _deny(specs.resourcepatch(spec, min_reapply=runtime.settings.reconcile.min_reapply_interval))
