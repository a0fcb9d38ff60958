"""kopf's last-handled configuration as we store it: a digest of the spec, equal across what versions stored."""
from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

import kopf

from headlamp_operator.handlers.persistence import DigestedDiffBaseStorage, ProgressStorage

SPEC = {"cluster": "prod", "patchType": "merge", "patch": {"spec": {"replicas": 2}},
        "target": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}}


def body(spec: dict[str, Any], stored: str | None = None) -> kopf.Body:
    raw: dict[str, Any] = {"apiVersion": "headlamp-operator.dev/v1alpha1", "kind": "ResourcePatch",
                           "metadata": {"name": "rp", "namespace": "team-a", "annotations": {"team": "a"}},
                           "spec": spec}
    if stored is not None:
        raw["status"] = {"kopf": {"last-handled-configuration": stored}}
    return kopf.Body(raw)


def test_the_stored_essence_holds_a_digest_of_the_spec_and_nothing_of_its_content() -> None:
    storage = DigestedDiffBaseStorage(name="kopf")
    built = storage.build(body=body(SPEC))
    assert list(built["spec"]) == ["sha256"] and len(built["spec"]["sha256"]) == 64
    assert built["metadata"]["annotations"] == {"team": "a"}  # what kopf diffs besides the spec stays itself
    assert "replicas" not in json.dumps(built)


def test_what_earlier_versions_stored_compares_equal_so_an_upgrade_changes_nothing() -> None:
    storage = DigestedDiffBaseStorage(name="kopf")
    built = storage.build(body=body(SPEC))
    patch_digest = hashlib.sha256(json.dumps(SPEC["patch"], sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    for stored in ({**built, "spec": SPEC},  # a full copy (before the patch was digested)
                   {**built, "spec": {**SPEC, "patch": {"sha256": patch_digest}}},  # the patch digested only
                   built):  # this version's
        assert storage.fetch(body=body(SPEC, json.dumps(stored))) == built


def test_a_field_a_crd_upgrade_defaulted_changes_nothing_at_its_default() -> None:
    """kube-apiserver reads an object stored before the CRD gained ``dryRun``/``revertOnDelete`` with their
    defaults filled in: that is no spec change (no ResourcePatch is applied again after the upgrade)."""
    storage = DigestedDiffBaseStorage(name="kopf")
    built = storage.build(body=body(SPEC))
    assert storage.build(body=body({**SPEC, "dryRun": False, "revertOnDelete": False}))["spec"] == built["spec"]
    for changed in ({**SPEC, "dryRun": True}, {**SPEC, "revertOnDelete": True}):
        assert storage.build(body=body(changed))["spec"] != built["spec"]


def test_any_change_of_the_spec_changes_the_digest() -> None:
    storage = DigestedDiffBaseStorage(name="kopf")
    built = storage.build(body=body(SPEC))
    for changed in ({**SPEC, "patch": {"spec": {"replicas": 3}}}, {**SPEC, "reapplyInterval": "1m"},
                    {**SPEC, "target": {**SPEC["target"], "name": "api"}}):  # type: ignore[dict-item]
        assert storage.build(body=body(changed))["spec"] != built["spec"]


def test_the_essence_is_kopfs_own_though_built_without_copying_metadata_and_status() -> None:
    raw: dict[str, Any] = {
        "apiVersion": "headlamp-operator.dev/v1alpha1", "kind": "ResourcePatch",
        "metadata": {"name": "rp", "namespace": "team-a", "uid": "u1", "resourceVersion": "7", "generation": 2,
                     "labels": {"app": "web"},
                     "annotations": {"team": "a", "kubectl.kubernetes.io/last-applied-configuration": "{}",
                                     "kopf.zalando.org/last-handled-configuration": "{}"},
                     "managedFields": [{"manager": "kubectl", "fieldsV1": {"f:spec": {}}}]},
        "spec": SPEC, "status": {"phase": "Applied", "kopf": {"progress": {}}}}
    ours = DigestedDiffBaseStorage(name="kopf")
    kopfs = kopf.StatusDiffBaseStorage(name="kopf")
    assert ours.build(body=kopf.Body(raw)) == ours._digested(kopfs.build(body=kopf.Body(raw)))
    variants = [
        {**raw, "metadata": {"name": "rp", "namespace": "team-a"}},
        {**raw, "metadata": {"name": "rp", "labels": {}, "annotations": {"kopf.zalando.org/x": "1"}}},
        {**raw, "metadata": {"annotations": {"other.kopf.dev/last-handled-configuration": "{}", "a": "b"}}},
        {**raw, "data": {"nested": {"k": "v"}}},
        {"apiVersion": "v1", "kind": "X", "metadata": {}, "spec": None},
    ]
    requested = ("metadata", "annotations", "reconcile.headlamp-operator.dev/requestedAt")
    fields: list[list[tuple[str, ...]]] = [[], [("spec",)], [("spec",), requested], [("spec", "patch")],
                                           [("metadata", "annotations", "kopf.zalando.org/x")],
                                           [("metadata", "labels", "app")], [("status", "phase")]]
    marked = {**raw, "metadata": {**raw["metadata"], "annotations": {
        "kopf.zalando.org/x": "1", requested[2]: "2026-11-30T00:00:00Z"}}}
    for variant in [*variants[:-1], marked]:  # (kopf itself refuses a field in a spec that is None)
        for extra in fields:
            assert ours.build(body=kopf.Body(variant), extra_fields=extra) == ours._digested(
                kopfs.build(body=kopf.Body(variant), extra_fields=extra)), (variant, extra)


def test_the_essence_shares_nothing_mutable_with_the_body() -> None:
    raw: dict[str, Any] = {"metadata": {"labels": {"app": "web"}, "annotations": {"team": "a"}},
                           "spec": SPEC, "data": {"nested": {"k": "v"}}}
    built = DigestedDiffBaseStorage(name="kopf").build(body=kopf.Body(raw))
    built["metadata"]["labels"]["app"] = "changed"
    built["metadata"]["annotations"].clear()
    built["data"]["nested"]["k"] = "changed"
    assert raw == {"metadata": {"labels": {"app": "web"}, "annotations": {"team": "a"}},
                   "spec": SPEC, "data": {"nested": {"k": "v"}}}


def identified(spec: Any, *, uid: str = "u1", generation: int = 1) -> kopf.Body:
    return kopf.Body({"metadata": {"name": "rp", "namespace": "team-a", "uid": uid, "generation": generation},
                      "spec": spec})


def test_the_spec_is_digested_once_per_generation_and_forgotten_with_the_resource() -> None:
    storage = DigestedDiffBaseStorage(name="kopf")
    first = storage.build(body=identified(SPEC))["spec"]
    # The API server bumps the generation with every spec change: the same generation is the same spec,
    # so the digest remembered for it is the answer (a different spec here shows it was not recomputed).
    assert storage.build(body=identified({**SPEC, "reapplyInterval": "1m"}))["spec"] == first
    changed = storage.build(body=identified({**SPEC, "reapplyInterval": "1m"}, generation=2))["spec"]
    assert changed != first
    assert storage.build(body=identified(SPEC, uid="u2"))["spec"] == first  # per uid: another resource's own
    storage.forget("u1")
    assert storage.build(body=identified(SPEC, generation=2))["spec"] == first  # computed anew after forget


def test_without_a_uid_and_generation_the_spec_is_digested_every_time() -> None:
    storage = DigestedDiffBaseStorage(name="kopf")
    anonymous = {"metadata": {"name": "rp"}}
    first = storage.build(body=kopf.Body({**anonymous, "spec": SPEC}))["spec"]
    assert storage.build(body=kopf.Body({**anonymous, "spec": {**SPEC, "x": 1}}))["spec"] != first


def test_the_lean_purge_leaves_the_same_patch_as_kopfs() -> None:
    ours, kopfs = ProgressStorage(name="kopf"), kopf.StatusProgressStorage(name="kopf")
    record = {"started": "2026-11-30T00:00:00", "success": True}
    bodies = [{}, {"status": {}}, {"status": {"kopf": {"progress": {}}}},
              {"status": {"kopf": {"progress": {"apply": record, "other": record}}}},
              {"status": {"kopf": "not a mapping"}}]
    patches = [{}, {"status": {"kopf": {"progress": {"apply": record}}}}, {"status": {"phase": "Applied"}}]
    for raw_body in bodies:
        for raw_patch in patches:
            results = []
            for storage in (ours, kopfs):
                patch = kopf.Patch(copy.deepcopy(raw_patch))
                try:
                    storage.purge(key=kopf.HandlerId("apply"), body=kopf.Body(copy.deepcopy(raw_body)), patch=patch)
                except Exception as e:  # kopf's own refusal must be ours too
                    results.append(type(e).__name__)
                else:
                    results.append(dict(patch))
            assert results[0] == results[1], (raw_body, raw_patch, results)


def test_kopfs_empty_patch_is_answered_without_a_copy_of_the_body(monkeypatch: Any) -> None:
    from headlamp_operator.handlers import persistence

    monkeypatch.setattr(kopf.Patch, "as_json_patch", kopf.Patch.as_json_patch)  # undone after the test
    persistence.lean_empty_patches()
    persistence.lean_empty_patches()  # wrapped once
    copies: list[Any] = []
    deepcopy = copy.deepcopy
    monkeypatch.setattr(copy, "deepcopy", lambda value, *args: copies.append(value) or deepcopy(value, *args))
    raw = {"metadata": {"name": "rp"}, "status": {"phase": "Applied"}}
    assert kopf.Patch().as_json_patch(raw) == [] and copies == []  # kopf's answer, without its copy
    patch = kopf.Patch({"status": {"phase": "Failed"}})
    assert patch.as_json_patch(raw) == [{"op": "replace", "path": "/status/phase", "value": "Failed"}]
    assert copies  # a patch with something in it is kopf's own, copy and all
