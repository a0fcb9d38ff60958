"""The two resources' specs, typed and parsed once: every default of the CRDs (docs/portforward.md,
docs/resourcepatch.md) in one place.

:func:`portforward` and :func:`resourcepatch` turn a resource's ``spec`` (as the API server stores it)
into a frozen :class:`PortForwardSpec` / :class:`ResourcePatchSpec`, or return the list of problems in
words a person understands (:mod:`~headlamp_operator.reconciling.validation` finds them). The admission
webhook, the handlers and the reconcilers all go through them, so a default (``state: Running``,
``deletionPolicy: Delete``, ``patchType: merge``, a Secret reference's key) or a rule (adopting by
``id`` alone, ``reapplyInterval`` in seconds) is written once.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Literal

from headlamp_operator.reconciling import pointers, validation
from headlamp_operator.settings import MIN_REAPPLY_SECONDS

State = Literal["Running", "Stopped"]
DeletionPolicy = Literal["Delete", "Stop", "Orphan"]
PatchType = Literal["merge", "json", "strategic"]


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class SecretRef:
    """A Secret of the resource's own namespace, and the key to read in it."""

    name: str
    key: str


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class CredentialsSpec:
    """``spec.credentials``: a bearer token, a kubeconfig, or both (docs/credentials.md)."""

    token: SecretRef | None = None
    kubeconfig: SecretRef | None = None

    def references(self) -> dict[str, SecretRef]:
        """The Secrets referred to: ``{"token"|"kubeconfig": SecretRef}``."""
        found = {"token": self.token, "kubeconfig": self.kubeconfig}
        return {what: ref for what, ref in found.items() if ref is not None}


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class PortForwardSpec:
    """A valid PortForward spec; empty strings stand for fields left out."""

    cluster: str
    pod: str = ""
    service: str = ""
    id: str = ""  # an existing forward's id: adopted when neither pod nor service is set
    namespace: str = ""  # the pod's namespace; empty: the resource's own
    service_namespace: str = ""  # the Service's namespace; empty: ``namespace``
    target_port: str = ""  # a number or a port name
    port: str = ""  # the local port asked for; empty: the backend picks (or the previous one is asked again)
    address: str = ""  # the local address; empty: the backend's default (127.0.0.1)
    state: State = "Running"
    deletion_policy: DeletionPolicy = "Delete"
    credentials: CredentialsSpec | None = None

    @property
    def adopting(self) -> bool:
        """An existing forward (started elsewhere, e.g. in Headlamp's UI) managed by its id alone."""
        return bool(self.id) and not self.pod and not self.service


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class TargetRef:
    """``spec.target``: the object a ResourcePatch patches."""

    api_version: str
    kind: str
    name: str
    namespace: str = ""  # empty: the resource's own (ignored for a cluster-scoped kind)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class ResourcePatchSpec:
    """A valid ResourcePatch spec."""

    cluster: str
    target: TargetRef
    patch: Any  # a JSON value: an object (merge, strategic) or a list of operations (json)
    patch_type: PatchType = "merge"
    subresource: str = ""  # "", "status" or "scale"
    reapply_interval: float | None = None  # seconds; None: applied on create and on spec changes only
    dry_run: bool = False  # preview only: the PATCH carries dryRun=All (docs/resourcepatch.md#preview)
    revert_on_delete: bool = False  # record the touched paths, restore them on deletion (docs/resourcepatch.md#undo)
    credentials: CredentialsSpec | None = None

    @property
    def secret(self) -> bool:
        """Whether the target is a core v1 Secret: its ``data`` is never shown (docs/resourcepatch.md#secrets)."""
        return pointers.secret_kind(self.target.api_version, self.target.kind)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def credentials(spec: Mapping[str, Any]) -> CredentialsSpec | None:
    """``spec.credentials`` read as far as it goes (None when absent or unreadable); never raises.

    The handlers use it on specs of any validity too: a Failed resource is retried when one of the
    Secrets it names changes, whatever else is wrong with it.
    """
    raw = spec.get("credentials")
    if not isinstance(raw, Mapping):
        return None

    def ref(field: str, default_key: str) -> SecretRef | None:
        value = raw.get(field)
        if not isinstance(value, Mapping) or not value.get("name"):
            return None
        return SecretRef(name=str(value["name"]), key=str(value.get("key") or default_key))

    found = CredentialsSpec(token=ref("tokenSecretRef", "token"), kubeconfig=ref("kubeconfigSecretRef", "kubeconfig"))
    return found if found.references() else None


def portforward(spec: Mapping[str, Any]) -> PortForwardSpec | list[str]:
    """The typed spec of a PortForward, or what is wrong with it."""
    problems = validation.portforward_problems(spec)
    if problems:
        return problems
    return PortForwardSpec(
        cluster=str(spec["cluster"]), pod=_text(spec.get("pod")), service=_text(spec.get("service")),
        id=_text(spec.get("id")), namespace=_text(spec.get("namespace")),
        service_namespace=_text(spec.get("serviceNamespace")), target_port=_text(spec.get("targetPort")),
        port="" if spec.get("port") in (None, "", 0) else str(spec["port"]), address=_text(spec.get("address")),
        state=spec.get("state") or "Running", deletion_policy=spec.get("deletionPolicy") or "Delete",
        credentials=credentials(spec))


def resourcepatch(spec: Mapping[str, Any], *,
                  min_reapply: float = MIN_REAPPLY_SECONDS) -> ResourcePatchSpec | list[str]:
    """The typed spec of a ResourcePatch, or what is wrong with it (``min_reapply``: the shortest interval)."""
    problems = validation.resourcepatch_problems(spec, min_reapply=min_reapply)
    if problems:
        return problems
    target = spec["target"]
    interval = _text(spec.get("reapplyInterval"))
    return ResourcePatchSpec(
        cluster=str(spec["cluster"]),
        target=TargetRef(api_version=str(target["apiVersion"]), kind=str(target["kind"]), name=str(target["name"]),
                         namespace=_text(target.get("namespace"))),
        patch=spec["patch"], patch_type=spec.get("patchType") or "merge", subresource=_text(spec.get("subresource")),
        reapply_interval=validation.parse_duration(interval) if interval else None,
        dry_run=spec.get("dryRun") is True, revert_on_delete=spec.get("revertOnDelete") is True,
        credentials=credentials(spec))
