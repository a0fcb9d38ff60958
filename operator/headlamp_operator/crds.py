"""This operator's API, named once: the group, version, kinds and plurals of ``manifests/crds/*.yaml``.

Everything that addresses the two custom resources (the handlers, the status writer, the sandbox,
the benchmark) takes the names from here; a test holds them to the CRD files.
"""
from __future__ import annotations

import dataclasses

GROUP = "headlamp-operator.dev"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"


@dataclasses.dataclass(frozen=True)
class Kind:
    """One custom resource of this operator."""

    kind: str
    plural: str


PORTFORWARD = Kind(kind="PortForward", plural="portforwards")
RESOURCEPATCH = Kind(kind="ResourcePatch", plural="resourcepatches")
KINDS = (PORTFORWARD, RESOURCEPATCH)
PLURALS = {kind.kind: kind.plural for kind in KINDS}  # "PortForward" -> "portforwards"
# A PortForward's finalizer: put on by its first reconcile, removed by kopf once the forward is released
# (kopf's settings.persistence.finalizer). A ResourcePatch carries it only with revertOnDelete, put on likewise
# (docs/resourcepatch.md#undo-specrevertondelete).
FINALIZER = f"{GROUP}/finalizer"
