"""kopf's bookkeeping in ``status.kopf`` as this operator keeps it: a digest of the spec, lean purges.

kopf reads and writes both on every event of every resource, so what they cost is paid thousands
of times in a burst.
"""
from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any, cast

import kopf

# Spec fields a CRD upgrade added with a default (manifests/crds/resourcepatches.yaml): at the default, as if absent
DEFAULTS: dict[str, Any] = {"dryRun": False, "revertOnDelete": False}
_NONE = object()


class DigestedDiffBaseStorage(kopf.StatusDiffBaseStorage):
    """kopf's last-handled spec in ``status.kopf``, kept as a SHA-256 digest of the spec only.

    kopf compares this stored essence with the current one to tell a spec change; a digest changes
    exactly when the spec does (our handlers read the body, never kopf's diff). A full copy would
    double a large patch in the stored object, past etcd's request limit (docs/resourcepatch.md#its-size), and fill
    ``kubectl describe`` with a JSON copy of the spec. ``spec.patch`` is digested first, so what
    earlier versions stored (the full spec, or the spec with only its patch digested) compares equal
    to the digest of the same spec: an upgrade sees no spurious change. Nor does a CRD upgrade that adds a
    field with a default (``dryRun: false``, ``revertOnDelete: false``): the API server fills it into every
    stored object as it reads it, so a field at its default is digested as if absent (:data:`DEFAULTS`),
    and no ResourcePatch is applied again for it.

    The digest is computed once per spec: kopf builds the essence on every event (the echoes of the
    operator's own writes too), and the spec of one object is the same while its
    ``metadata.generation`` is (the API server bumps it on every change of a custom resource outside
    metadata and the status subresource). So it is remembered per uid with that generation, and
    :meth:`forget` drops it with the resource. A large ``spec.patch`` is serialised and hashed once,
    not on every status write's echo.
    """

    def __init__(self, *, name: str = "kopf") -> None:
        super().__init__(name=name)
        self._spec_digests: dict[str, tuple[int, str]] = {}  # uid -> (generation, sha256 of the spec)

    def forget(self, uid: str) -> None:
        """Drop what is remembered of a deleted resource (its spec's digest)."""
        self._spec_digests.pop(uid, None)

    def _spec_digest(self, body: kopf.Body) -> Any:
        """The essence's ``spec``: its digest, remembered per (uid, generation); a non-mapping spec copied."""
        metadata = body.get("metadata") or {}
        uid, generation = metadata.get("uid"), metadata.get("generation")
        known = self._spec_digests.get(uid) if isinstance(uid, str) else None
        if known is not None and known[0] == generation:
            return {"sha256": known[1]}
        spec = body["spec"]
        digested = self._digested({"spec": spec})["spec"]
        if digested is spec:  # not a mapping, or a digest already: kopf's copy of it
            return copy.deepcopy(spec)
        if isinstance(uid, str) and isinstance(generation, int):
            self._spec_digests[uid] = (generation, digested["sha256"])
        return digested

    @staticmethod
    def _digested(essence: Any) -> Any:
        spec = essence.get("spec") if isinstance(essence, dict) else None
        if isinstance(spec, dict) and not _is_digest(spec):
            spec = {key: value for key, value in spec.items() if DEFAULTS.get(key, _NONE) != value}
            if "patch" in spec and not _is_digest(spec["patch"]):
                spec = {**spec, "patch": {"sha256": _sha256(spec["patch"])}}
            essence = {**essence, "spec": {"sha256": _sha256(spec)}}
        return essence

    def build(self, *, body: kopf.Body, extra_fields: Iterable[Any] | None = None) -> Any:
        # kopf's essence (DiffBaseStorage.build) made without its deep copy of the whole body, which
        # kopf does on every event only to drop metadata and status and digest the spec here. The same
        # essence (tests/operator/test_diffbase.py):
        # everything but apiVersion, kind, metadata and status; labels; annotations but kopf's own
        # (of any kopf operator) and kubectl's last-applied-configuration; then the handlers' fields
        # (``field=``: the spec, the requestedAt annotation) put back; empty stanzas dropped.
        extra = [tuple(field) for field in extra_fields or ()]
        if self.ignored_fields or any(not _kept_field(field) for field in extra):
            return self._digested(cast(dict[str, Any], super().build(body=body, extra_fields=extra_fields)))
        essence: dict[str, Any] = copy.deepcopy({key: value for key, value in body.items()
                                                 if key not in ("apiVersion", "kind", "metadata", "status", "spec")})
        if "spec" in body:
            essence["spec"] = self._spec_digest(body)
        metadata = body.get("metadata") or {}
        labels = dict(metadata.get("labels") or {})
        annotations = metadata.get("annotations") or {}
        prefixes = self._detect_marked_prefixes(annotations)
        kept = {key: value for key, value in annotations.items()
                if key != "kubectl.kubernetes.io/last-applied-configuration"
                and not any(key.startswith(f"{prefix}/") for prefix in prefixes)}
        for field in extra:
            if field[0] == "metadata" and field[2] in (metadata.get(field[1]) or {}):
                (labels if field[1] == "labels" else kept)[field[2]] = metadata[field[1]][field[2]]
        stanza = {key: value for key, value in (("labels", labels), ("annotations", kept)) if value}
        if stanza:
            essence["metadata"] = stanza
        return essence

    def fetch(self, *, body: kopf.Body) -> Any:
        return self._digested(super().fetch(body=body))


def _kept_field(field: tuple[Any, ...]) -> bool:
    """Whether a handler's ``field=`` is one :meth:`DigestedDiffBaseStorage.build` keeps by itself.

    The spec or anything in it, or one label or annotation; any other field goes to kopf's own build.
    """
    return bool(field) and (field[0] == "spec" or (
        len(field) == 3 and field[0] == "metadata" and field[1] in ("labels", "annotations")))


def _sha256(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _is_digest(value: Any) -> bool:
    return isinstance(value, dict) and list(value) == ["sha256"] and isinstance(value["sha256"], str)


class ProgressStorage(kopf.StatusProgressStorage):
    """kopf's handler progress in ``status.kopf.progress``, purged without looking up what is not there.

    When a cause's handlers are done, kopf purges the record of every handler of the kind, each with
    two field lookups through its body and patch views; a handler that succeeded at once never wrote
    a record. Only the keys the body or the patch holds go to kopf's own purge.
    """

    def purge(self, *, key: kopf.HandlerId, body: kopf.Body, patch: kopf.Patch) -> None:
        if key in _at(body, self.field) or key in _at(patch, self.field):
            super().purge(key=key, body=body, patch=patch)


def _at(root: Mapping[str, Any], path: tuple[str, ...]) -> Mapping[str, Any]:
    """The mapping at ``path`` under ``root``, or an empty one where anything on the way is not a mapping."""
    node: Any = root
    for part in path:
        node = node.get(part) if isinstance(node, Mapping) else None
    return node if isinstance(node, Mapping) else {}


def lean_empty_patches() -> None:
    """kopf's ``Patch.as_json_patch`` answers an empty patch without first deep-copying the body.

    After every patch it makes, kopf builds the JSON patch of what is left to apply (its ``fns``,
    which this operator never uses) against the body the API server answered with; kopf deep-copies
    that whole body before it looks whether there is anything to apply, and there never is. Once per
    status write, so a thousand times in a burst: 4 % of the operator's CPU there (bench/README.md,
    single applies and the burst). The answer is the same (``[]``); only the copy is skipped.
    Idempotent: the wrapped method is marked, and wrapped once.
    """
    original = kopf.Patch.as_json_patch
    if getattr(original, "_headlamp_operator_lean", False):
        return

    def as_json_patch(self: kopf.Patch, body: Any = None) -> Any:
        if not self:
            return []
        return original(self, body)

    as_json_patch._headlamp_operator_lean = True  # type: ignore[attr-defined]
    kopf.Patch.as_json_patch = as_json_patch  # type: ignore[method-assign]
