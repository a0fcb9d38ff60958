"""A ResourcePatch's undo (docs/resourcepatch.md#undo-specrevertondelete): the record of what its patch
replaced, and the guarded restore of it.

Before the first apply the operator reads the target and keeps the prior value of each path the patch
touches (:func:`take`) in ``status.revert``, written before the PATCH goes (a crash between the two
must not lose the prior values); the PATCH answer then adds a digest of the value the patch set to
each path (:func:`complete`). On deletion, and before a changed spec is applied (so that no field of
the old patch stays behind), :func:`restore` puts back each path that still holds what the patch set,
in one RFC 6902 JSON patch whose ``test`` operations guard every change, and leaves the paths
somebody changed since alone (the caller names them in a ``RevertConflict`` Event).

Shape of ``status.revert``::

    {patch: "sha256:..." (the spec it belongs to: spec_digest), complete: bool (the PATCH answered),
     target: {apiVersion, kind, namespace, name, subresource, uid},
     paths: [{path, before?, applied?}], secretName: str | None}

``before`` is the JSON text of the prior value (left out: the path was absent); ``applied`` the digest
of what the patch set (left out: the patch left the path absent). For a Secret target the prior values
are kept in a Secret owned by the ResourcePatch (``secretName``), never in the status
(docs/resourcepatch.md#secrets), and ``before`` is left out of every path.
"""
from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from headlamp_operator.headlamp import errors, resources
from headlamp_operator.headlamp.backend import Backend
from headlamp_operator.reconciling import pointers
from headlamp_operator.reconciling.specs import ResourcePatchSpec
from headlamp_operator.reconciling.validation import ETCD_REQUEST_LIMIT
from headlamp_operator.structs import Credentials

ATTEMPTS = 3  # JSON patches sent per restore: a failed `test` (somebody wrote meanwhile) is read and planned again


class Keeper(Protocol):
    """Where a record is kept between the operator's steps: the status, and a Secret for a Secret target."""

    async def write(self, revert: Mapping[str, Any] | None) -> None:
        """Merge ``{"revert": revert}`` into the ResourcePatch's status now (None removes it)."""

    async def save_values(self, values: Mapping[str, str | None]) -> str:
        """Keep a Secret target's prior values in a Secret owned by the ResourcePatch; its name."""

    async def load_values(self, name: str) -> Mapping[str, str | None] | None:
        """The prior values kept in that Secret; None when it is gone."""

    async def drop_values(self, name: str) -> None:
        """Delete that Secret (nothing when it is gone)."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Target:
    """The object a record was taken of (a spec change may name another one)."""

    api_version: str
    kind: str
    namespace: str  # empty for a cluster-scoped kind
    name: str
    subresource: str
    uid: str

    def shown(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.api_version} {self.kind} {where}" + (f" ({self.subresource})" if self.subresource else "")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Record:
    """What a patch replaced: its paths' prior values, and digests of what it set once it answered."""

    patch: str
    target: Target
    entries: tuple[pointers.Entry, ...]
    complete: bool = False
    secret_name: str | None = None

    def to_status(self) -> dict[str, Any]:
        """The ``status.revert`` object (every key present, so that a merge patch replaces an older one)."""
        entries = self.entries if self.secret_name is None else tuple(
            dataclasses.replace(entry, before=None) for entry in self.entries)
        t = self.target
        return {"patch": self.patch, "complete": self.complete, "secretName": self.secret_name,
                "target": {"apiVersion": t.api_version, "kind": t.kind, "namespace": t.namespace, "name": t.name,
                           "subresource": t.subresource, "uid": t.uid},
                "paths": pointers.entries_to_status(entries)}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Restored:
    """What a restore did."""

    restored: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()
    gone: bool = False  # the target no longer exists: nothing to restore
    replaced: bool = False  # the target was deleted and created again since (another uid): left alone


def spec_digest(spec: ResourcePatchSpec, namespace: str) -> str:
    """Which spec a record belongs to: target, subresource, patch type and patch (not the mode or credentials)."""
    t = spec.target
    document = [t.api_version, t.kind, t.name, t.namespace or namespace, spec.subresource, spec.patch_type,
                spec.patch]
    return "sha256:" + hashlib.sha256(pointers.text(document).encode()).hexdigest()


def from_status(status: Mapping[str, Any]) -> Record | None:
    """The record in a status (None when there is none, or it is unreadable)."""
    raw = status.get("revert")
    if not isinstance(raw, Mapping) or not isinstance(raw.get("target"), Mapping):
        return None
    t = raw["target"]
    target = Target(api_version=str(t.get("apiVersion") or ""), kind=str(t.get("kind") or ""),
                    namespace=str(t.get("namespace") or ""), name=str(t.get("name") or ""),
                    subresource=str(t.get("subresource") or ""), uid=str(t.get("uid") or ""))
    if not (target.api_version and target.kind and target.name):
        return None
    secret = raw.get("secretName")
    return Record(patch=str(raw.get("patch") or ""), target=target, complete=raw.get("complete") is True,
                  entries=tuple(pointers.entries_from_status(raw.get("paths"))),
                  secret_name=str(secret) if secret else None)


def take(spec: ResourcePatchSpec, namespace: str, *, target: Target, paths: Sequence[str], before: Any) -> Record:
    """The record of an object read before the first apply (``before``), for the normalised touched ``paths``."""
    entries = pointers.record(paths, before, pointers.ABSENT)  # what the patch sets is known once it answered
    return Record(patch=spec_digest(spec, namespace), target=target, entries=tuple(entries))


def complete(record: Record, answer: Any) -> Record:
    """The record once the PATCH answered: the digest of what the patch set at each path."""
    entries = tuple(dataclasses.replace(entry, applied=None if (now := pointers.get(answer, entry.path))
                                        is pointers.ABSENT else pointers.digest(now))
                    for entry in record.entries)
    return dataclasses.replace(record, entries=entries, complete=True)


def size_problem(record: Record, *, room: int) -> str | None:
    """Why the record cannot be kept in the status (None: it fits ``room`` bytes, what the stored ResourcePatch
    has left beside its patch under etcd's request limit: validation.MAX_PATCH_BYTES less the patch)."""
    size = pointers.record_bytes(record.entries)
    if size <= room:
        return None
    return (f"spec.revertOnDelete: the prior values of the {len(record.entries)} touched paths take {size} bytes, "
            f"over the {room} bytes the ResourcePatch has left for them beside its patch (the stored object must "
            f"stay under etcd's {ETCD_REQUEST_LIMIT}-byte request limit): patch fewer or smaller fields, or set "
            f"revertOnDelete: false")


async def _read(backend: Backend, cluster: str, path: str, credentials: Credentials) -> Any:
    try:
        return await resources.get_object(backend, path, cluster=cluster, credentials=credentials)
    except errors.NotFoundError as e:
        if isinstance(e, errors.UnknownClusterError | errors.NoRouteError):
            raise
        return None


def _entries(record: Record, values: Mapping[str, str | None] | None) -> list[pointers.Entry]:
    if record.secret_name is None:
        return list(record.entries)
    values = values or {}
    return [dataclasses.replace(entry, before=values.get(entry.path)) for entry in record.entries]


async def restore(backend: Backend, cluster: str, credentials: Credentials, record: Record,
                  values: Mapping[str, str | None] | None = None) -> Restored:
    """Put back each path of ``record`` that still holds what the patch set; ``values``: a Secret target's
    prior values (from the record's Secret).

    A record whose PATCH never answered (``complete`` false) restores nothing that differs from its prior
    value: what the patch set is not known, so any difference is somebody else's (a conflict).

    Raises:
        errors.ApiError: a request failed (transient or not); a failed ``test`` is not an error, it is
            read and planned again, ATTEMPTS times, then its paths are conflicts.
    """
    t = record.target
    try:
        resource = await resources.discover(backend, cluster, api_version=t.api_version, kind=t.kind,
                                            credentials=credentials)
    except errors.NotFoundError as e:
        if isinstance(e, errors.UnknownClusterError | errors.NoRouteError):
            raise
        return Restored(gone=True)  # the kind is served no more (its CRD went): nothing of it to restore
    path = resource.path(namespace=t.namespace or None, name=t.name, subresource=t.subresource or None)
    entries = _entries(record, values)
    for _ in range(ATTEMPTS):
        current = await _read(backend, cluster, path, credentials)
        if current is None:
            return Restored(gone=True)
        uid = str(((current.get("metadata") or {}) if isinstance(current, Mapping) else {}).get("uid") or "")
        if t.uid and uid and uid != t.uid and not t.subresource:
            return Restored(replaced=True, conflicts=tuple(entry.path for entry in entries))
        if not record.complete:
            unchanged = [e.path for e in entries if _holds(current, e.path, e.before)]
            return Restored(unchanged=tuple(unchanged),
                            conflicts=tuple(e.path for e in entries if e.path not in unchanged))
        plan = pointers.plan(entries, current)
        if not plan.operations:
            return Restored(unchanged=tuple(plan.unchanged), conflicts=tuple(plan.conflicts))
        try:
            await resources.patch(backend, path, plan.operations, cluster=cluster, patch_type="json",
                                  credentials=credentials)
        except errors.ApiError as e:
            if e.status == 422:  # a `test` failed: somebody wrote meanwhile; read again
                continue
            raise
        return Restored(restored=tuple(plan.restored), unchanged=tuple(plan.unchanged),
                        conflicts=tuple(plan.conflicts))
    return Restored(conflicts=tuple(entry.path for entry in entries))


def _holds(document: Any, path: str, before: str | None) -> bool:
    now = pointers.get(document, path)
    return before is None if now is pointers.ABSENT else before == pointers.text(now)
