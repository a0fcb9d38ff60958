"""The paths a ResourcePatch touches, its bounded preview and its guarded undo (headlamp_operator.reconciling.pointers).

Pure functions: no cluster, no Headlamp. The undo is checked by applying the planned RFC 6902 operations with the
test kit's own patch implementation, also over random merge patches.
"""
from __future__ import annotations

import hashlib
import json
import random
from typing import Any

import pytest

from headlamp_operator.reconciling import pointers
from headlamp_operator.reconciling.pointers import ABSENT, Entry
from headlamp_operator_testing.kubernetes import patches


def _sha(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
                          .encode()).hexdigest()


def _size(preview: Any) -> int:
    return len(json.dumps(preview, separators=(",", ":"), ensure_ascii=False).encode())


# --- pointers ---------------------------------------------------------------------------------------------------

def test_escape_and_tokens_round_trip() -> None:
    assert pointers.escape("a/b~c") == "a~1b~0c"
    assert pointers.tokens("/a~1b/c~0d/~01") == ["a/b", "c~d", "~1"]
    assert pointers.tokens("") == []
    assert pointers.tokens("/") == [""]
    for parts in (["metadata", "annotations", "example.com/a~b"], [], [""], ["~1", "/0", "~"]):
        assert pointers.tokens(pointers.join(parts)) == parts
    assert pointers.join(["metadata", "labels", "app.kubernetes.io/name"]) == "/metadata/labels/app.kubernetes.io~1name"


@pytest.mark.parametrize("bad", ["spec", "spec/replicas", "/a~2b", "/a~"])
def test_tokens_refuses_a_malformed_pointer(bad: str) -> None:
    with pytest.raises(ValueError):
        pointers.tokens(bad)


def test_get_reads_dicts_and_lists_and_says_absent() -> None:
    document = {"spec": {"ports": [{"port": 80}, {"port": 443}], "replicas": 3, "paused": None}}
    assert pointers.get(document, "") == document
    assert pointers.get(document, "/spec/ports/1/port") == 443
    assert pointers.get(document, "/spec/paused") is None  # null is a value
    for missing in ("/spec/ports/2", "/spec/ports/-", "/spec/ports/01", "/spec/ports/x", "/spec/replicas/a",
                    "/spec/paused/a", "/status", "/spec/ports/0/name"):
        assert pointers.get(document, missing) is ABSENT, missing
    assert repr(ABSENT) == "ABSENT"


def test_text_and_digest() -> None:
    value = {"b": [1, "é"], "a": None}
    assert pointers.text(value) == '{"a":null,"b":[1,"é"]}'
    assert pointers.digest(value) == "sha256:" + _sha(value)


# --- touched ----------------------------------------------------------------------------------------------------

def test_touched_by_a_merge_patch() -> None:
    patch = {"spec": {"replicas": 3, "template": {"metadata": {"labels": {"tier": "web"}}},
                      "containers": [{"name": "a"}], "selector": {}},
             "metadata": {"annotations": {"gone": None, "a/b": "x"}}}
    assert pointers.touched(patch, "merge") == [
        "/metadata/annotations/a~1b", "/metadata/annotations/gone", "/spec/containers", "/spec/replicas",
        "/spec/selector", "/spec/template/metadata/labels/tier"]
    assert pointers.touched({"spec": None}, "merge") == ["/spec"]
    assert pointers.touched({}, "merge") == []
    assert pointers.touched({"$patch": "replace", "a": 1}, "merge") == ["/$patch", "/a"]  # no directives in merge


@pytest.mark.parametrize("patch", [[1], "x", None, 3])
def test_touched_by_a_merge_patch_that_is_not_an_object(patch: Any) -> None:
    assert pointers.touched(patch, "merge") == []
    assert pointers.touched(patch, "strategic") == []


def test_touched_by_a_strategic_patch_with_directives() -> None:
    patch = {"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "a"}, {"name": "b"}],
        "containers": [{"name": "a", "image": "x"}],
        "$setElementOrder/volumes": [{"name": "v"}],
    }}, "strategy": {"$patch": "replace", "type": "Recreate"}, "replicas": 2}}
    assert pointers.touched(patch, "strategic") == [
        "/spec/replicas", "/spec/strategy", "/spec/template/spec/containers", "/spec/template/spec/volumes"]
    assert pointers.touched({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}, "strategic") == [
        "/metadata/finalizers"]
    assert pointers.touched({"spec": {"$retainKeys": ["type"], "type": "Recreate"}}, "strategic") == ["/spec"]
    assert pointers.touched({"metadata": {"labels": {"$patch": "delete"}}}, "strategic") == ["/metadata/labels"]
    assert pointers.touched({"$patch": "replace", "spec": {"a": 1}}, "strategic") == [""]
    assert pointers.touched({"spec": {"$unknown": 1}}, "strategic") == []


def test_touched_by_a_json_patch() -> None:
    patch = [
        {"op": "move", "from": "/metadata/labels/a", "path": "/metadata/annotations/a~1b"},
        {"op": "copy", "from": "/spec/x", "path": "/spec/y"},
        {"op": "test", "path": "/spec/z", "value": 1},
        {"op": "add", "path": "/spec/containers/-", "value": {}},
        {"op": "replace", "path": "/spec/ports/0/port", "value": 8080},
        {"op": "remove", "path": "/spec/template/spec/volumes/12"},
    ]
    assert pointers.touched(patch, "json") == [
        "/metadata/annotations/a~1b", "/metadata/labels/a", "/spec/containers", "/spec/ports",
        "/spec/template/spec/volumes", "/spec/y"]
    assert pointers.touched([{"op": "test", "path": "/a", "value": 1}], "json") == []


def test_touched_keeps_an_ancestor_only() -> None:
    patch = [{"op": "replace", "path": "/spec/replicas", "value": 1}, {"op": "add", "path": "/spec", "value": {}},
             {"op": "add", "path": "/spec", "value": {}}, {"op": "remove", "path": "/spec/x/y"},
             {"op": "add", "path": "/spec2", "value": 1}]
    assert pointers.touched(patch, "json") == ["/spec", "/spec2"]
    assert pointers.touched([{"op": "add", "path": "", "value": {}}, {"op": "remove", "path": "/a"}], "json") == [""]


@pytest.mark.parametrize("patch", [
    {"op": "add", "path": "/a", "value": 1},  # not a list
    [{"op": "add", "path": "/a", "value": 1}, "x"],
    [{"op": "add", "path": "a", "value": 1}],
    [{"op": "move", "path": "/a"}],
    [{"op": "frobnicate", "path": "/a"}],
    [{"path": "/a"}],
])
def test_touched_by_a_malformed_json_patch_is_nothing(patch: Any) -> None:
    assert pointers.touched(patch, "json") == []


def test_touched_of_an_unknown_patch_type_is_nothing() -> None:
    assert pointers.touched({"a": 1}, "apply") == []


def test_touched_in_a_secret_maps_string_data_to_data() -> None:
    patch = {"stringData": {"k": "v"}, "data": {"j": "eA=="}, "metadata": {"labels": {"a": "b"}}}
    assert pointers.touched(patch, "merge", secret=True) == ["/data/j", "/data/k", "/metadata/labels/a"]
    assert pointers.touched(patch, "merge") == ["/data/j", "/metadata/labels/a", "/stringData/k"]
    assert pointers.touched({"stringData": None, "data": {"j": "eA=="}}, "merge", secret=True) == ["/data"]
    assert pointers.touched([{"op": "add", "path": "/stringData/k", "value": "v"}], "json", secret=True) == ["/data/k"]


# --- normalise --------------------------------------------------------------------------------------------------

def test_normalise_cuts_at_lists_and_non_objects() -> None:
    document = {"spec": {"ports": [{"port": 80}], "replicas": 3, "paused": None, "template": {"metadata": {}}}}
    given = ["/spec/ports/name", "/spec/replicas/a/b", "/spec/paused/x", "/spec/template/metadata/labels/a",
             "/spec/missing/deep", "/metadata/labels/a", "/spec/replicas"]
    assert pointers.normalise(given, document) == [
        "/metadata/labels/a", "/spec/missing/deep", "/spec/paused", "/spec/ports", "/spec/replicas",
        "/spec/template/metadata/labels/a"]
    assert pointers.normalise(["/spec/ports", "/spec/ports/0/port"], document) == ["/spec/ports"]
    assert pointers.normalise(["/a/b", "/a"], None) == ["/a"]  # not read: nothing to cut at


# --- preview ----------------------------------------------------------------------------------------------------

def test_preview_leaves_out_absent_sides() -> None:
    before = {"spec": {"replicas": 1, "old": "x"}, "metadata": {}}
    after = {"spec": {"replicas": 3}, "metadata": {"labels": {"a": "b"}}}
    assert pointers.preview(["/metadata/labels/a", "/spec/old", "/spec/replicas", "/spec/never"], before, after,
                            secret=False) == [
        {"path": "/metadata/labels/a", "after": '"b"'},
        {"path": "/spec/old", "before": '"x"'},
        {"path": "/spec/replicas", "before": "1", "after": "3"},
        {"path": "/spec/never"},
    ]


def test_shown_cuts_a_long_value_and_names_it_by_size_and_digest() -> None:
    value = "x" * 1000
    shown = pointers.shown(value, redact=False)
    suffix = f"… [1002 bytes, sha256:{_sha(value)}]"
    assert shown.endswith(suffix)
    assert shown.startswith('"xxx')
    assert set(shown[1:-len(suffix)]) == {"x"}
    assert len(shown.encode()) <= pointers.VALUE_LIMIT
    short = {"a": [1, 2]}
    assert pointers.shown(short, redact=False) == '{"a":[1,2]}'


def test_shown_cuts_on_a_character_boundary() -> None:
    value = "é" * 300  # two bytes each
    shown = pointers.shown(value, redact=False)
    size = len(json.dumps(value, ensure_ascii=False).encode())
    assert shown.endswith(f"… [{size} bytes, sha256:{_sha(value)}]")
    assert "\ufffd" not in shown
    assert len(shown.encode()) <= pointers.VALUE_LIMIT
    assert pointers.VALUE_LIMIT - len(shown.encode()) <= 1  # as much as fits, short of half a character


def test_a_secrets_values_are_redacted() -> None:
    secret_value = "aHVudGVyMi1zdXBlci1zZWNyZXQ="
    before = {"data": {"password": "b2xk"}, "metadata": {"labels": {}}}
    after = {"data": {"password": secret_value, "user": secret_value}, "metadata": {"labels": {"a": "b"}}}
    paths = pointers.touched({"stringData": {"password": "x"}, "data": {"user": secret_value},
                              "metadata": {"labels": {"a": "b"}}}, "merge", secret=True)
    assert paths == ["/data/password", "/data/user", "/metadata/labels/a"]
    preview = pointers.preview([*paths, ""], before, after, secret=True)
    rendered = json.dumps(preview)
    assert secret_value not in rendered and "b2xk" not in rendered
    assert preview[0] == {"path": "/data/password",
                          "before": f"[redacted: 6 bytes, sha256:{_sha('b2xk')}]",
                          "after": f"[redacted: {len(secret_value) + 2} bytes, sha256:{_sha(secret_value)}]"}
    assert preview[2] == {"path": "/metadata/labels/a", "after": '"b"'}
    assert preview[3]["before"].startswith("[redacted: ")  # the whole object holds the data
    assert not pointers.redacted("/data/x", secret=False)
    assert pointers.redacted("/stringData", secret=True)
    assert not pointers.redacted("/database", secret=True)
    assert not pointers.redacted("/metadata", secret=True)


def test_preview_stays_within_its_limit_by_showing_the_longest_values_as_digests() -> None:
    count = 40
    paths = [f"/spec/v{i:02}" for i in range(count)]
    before = {"spec": {f"v{i:02}": "b" * (100 + 3 * i) for i in range(count)}}
    after = {"spec": {f"v{i:02}": "a" * 20 if i % 2 else "a" * (121 + 3 * i) for i in range(count)}}
    full = {(p, side): pointers.text(pointers.get(document, p))
            for p in paths for side, document in (("before", before), ("after", after))}
    assert sum(map(len, full.values())) > pointers.PREVIEW_LIMIT
    preview = pointers.preview(paths, before, after, secret=False)
    assert _size(preview) <= pointers.PREVIEW_LIMIT
    assert [entry["path"] for entry in preview] == paths
    digested, kept = [], []
    for entry in preview:
        for side in ("before", "after"):
            value = json.loads(full[entry["path"], side])
            if entry[side] == full[entry["path"], side]:
                kept.append(len(entry[side]))
            else:
                assert entry[side] == f"[{len(value) + 2} bytes, sha256:{_sha(value)}]"
                digested.append(len(full[entry["path"], side]))
    assert digested and kept
    assert min(digested) >= max(kept)  # the longest first
    assert pointers.min_preview_bytes(paths) <= _size(preview)


def test_preview_too_large_even_with_digests() -> None:
    paths = [f"/metadata/annotations/key-{i:03}" for i in range(100)]
    before = {"metadata": {"annotations": {p.rsplit("/", 1)[1]: "v" * 100 for p in paths}}}
    after = {"metadata": {"annotations": {p.rsplit("/", 1)[1]: "w" * 100 for p in paths}}}
    with pytest.raises(pointers.PreviewTooLarge) as raised:
        pointers.preview(paths, before, after, secret=False)
    assert raised.value.size > raised.value.limit == pointers.PREVIEW_LIMIT
    assert isinstance(raised.value, ValueError)
    assert str(raised.value.size) in str(raised.value) and str(pointers.PREVIEW_LIMIT) in str(raised.value)
    # these paths alone fit (a preview of short or absent values would): validation cannot refuse them up front
    assert pointers.min_preview_bytes(paths) <= pointers.PREVIEW_LIMIT
    many = [f"/metadata/annotations/key-{i:03}" for i in range(300)]
    assert pointers.min_preview_bytes(many) > pointers.PREVIEW_LIMIT
    with pytest.raises(pointers.PreviewTooLarge):
        pointers.preview(many, {}, {}, secret=False)


def test_min_preview_bytes_is_the_floor_of_any_preview() -> None:
    paths = ["/spec/replicas", "/metadata/labels/a", "/metadata/labels/b"]
    floor = pointers.min_preview_bytes(paths)
    assert floor == _size([{"path": p} for p in paths])
    assert pointers.min_preview_bytes([]) == 2
    before = {"spec": {"replicas": 1}, "metadata": {"labels": {"a": "x"}}}
    for after in ({"spec": {"replicas": 3}, "metadata": {"labels": {"a": "y", "b": "z" * 1000}}},
                  {"spec": {}, "metadata": {}}, before):
        for secret in (False, True):
            assert floor <= _size(pointers.preview(paths, before, after, secret=secret))
    assert floor == _size(pointers.preview(paths, {}, {}, secret=False))  # every path absent on both sides


# --- record and plan --------------------------------------------------------------------------------------------

BEFORE = {"spec": {"replicas": 1, "strategy": {"type": "A"}, "paused": False},
          "metadata": {"labels": {"app": "a"}, "annotations": {"old": "x"}}}
PATCH = {"spec": {"replicas": 3, "strategy": {"type": "B"}, "paused": True},
         "metadata": {"labels": {"team": "t", "tier": "web"}, "annotations": {"old": None}}}


def _recorded() -> tuple[list[Entry], Any]:
    after = patches.merge_patch(BEFORE, PATCH)
    paths = pointers.normalise(pointers.touched(PATCH, "merge"), BEFORE)
    return pointers.record(paths, BEFORE, after), after


def test_record_keeps_prior_text_and_applied_digest() -> None:
    entries, _ = _recorded()
    assert entries == [
        Entry(path="/metadata/annotations/old", before='"x"', applied=None),
        Entry(path="/metadata/labels/team", before=None, applied="sha256:" + _sha("t")),
        Entry(path="/metadata/labels/tier", before=None, applied="sha256:" + _sha("web")),
        Entry(path="/spec/paused", before="false", applied="sha256:" + _sha(True)),
        Entry(path="/spec/replicas", before="1", applied="sha256:" + _sha(3)),
        Entry(path="/spec/strategy/type", before='"A"', applied="sha256:" + _sha("B")),
    ]


def test_plan_restores_what_nobody_changed_and_leaves_the_rest() -> None:
    entries, after = _recorded()
    current = patches.merge_patch(after, {"metadata": {"labels": {"team": "other"}}, "spec": {"paused": False}})
    plan = pointers.plan(entries, current)
    assert plan.restored == ["/metadata/annotations/old", "/metadata/labels/tier", "/spec/replicas",
                             "/spec/strategy/type"]
    assert plan.unchanged == ["/spec/paused"]  # somebody already put it back
    assert plan.conflicts == ["/metadata/labels/team"]  # somebody owns it now
    assert plan.operations == [
        {"op": "add", "path": "/metadata/annotations/old", "value": "x"},
        {"op": "test", "path": "/metadata/labels/tier", "value": "web"},
        {"op": "remove", "path": "/metadata/labels/tier"},
        {"op": "test", "path": "/spec/replicas", "value": 3},
        {"op": "replace", "path": "/spec/replicas", "value": 1},
        {"op": "test", "path": "/spec/strategy/type", "value": "B"},
        {"op": "replace", "path": "/spec/strategy/type", "value": "A"},
    ]
    undone = patches.json_patch(current, plan.operations)
    for path in plan.restored + plan.unchanged:
        assert pointers.get(undone, path) == pointers.get(BEFORE, path), path
    assert pointers.get(undone, "/metadata/labels/team") == "other"
    assert undone == {"spec": {"replicas": 1, "strategy": {"type": "A"}, "paused": False},
                      "metadata": {"labels": {"app": "a", "team": "other"}, "annotations": {"old": "x"}}}
    raced = patches.merge_patch(current, {"spec": {"replicas": 5}})  # a writer between the read and the PATCH
    with pytest.raises(patches.PatchTestFailed):
        patches.json_patch(raced, plan.operations)


def test_plan_of_an_untouched_target_is_nothing() -> None:
    entries, _ = _recorded()
    plan = pointers.plan(entries, BEFORE)
    assert plan.operations == [] and plan.restored == [] and plan.conflicts == []
    assert plan.unchanged == [entry.path for entry in entries]
    assert pointers.plan([], BEFORE).operations == []


def test_plan_leaves_a_value_whose_object_is_gone() -> None:
    entries, after = _recorded()
    current = patches.merge_patch(after, {"metadata": {"annotations": None}})
    plan = pointers.plan(entries, current)
    assert "/metadata/annotations/old" in plan.conflicts
    assert all(op["path"] != "/metadata/annotations/old" for op in plan.operations)
    patches.json_patch(current, plan.operations)  # applies: no add under a missing object


def test_entries_round_trip_through_the_status() -> None:
    entries, _ = _recorded()
    items = pointers.entries_to_status(entries)
    assert items[0] == {"path": "/metadata/annotations/old", "before": '"x"'}
    assert items[1] == {"path": "/metadata/labels/team", "applied": "sha256:" + _sha("t")}
    assert pointers.entries_from_status(json.loads(json.dumps(items))) == entries
    assert pointers.record_bytes(entries) == len(json.dumps(items, separators=(",", ":")).encode())


def test_entries_from_a_damaged_status_skip_what_is_malformed() -> None:
    items = [1, None, {"path": 3}, {"before": "1"}, {"path": "spec"}, {"path": "/a", "before": "{not json"},
             {"path": "/a", "before": ""}, {"path": "/a", "before": 5}, {"path": "/a", "applied": ["x"]},
             {"path": "/ok", "before": "2"}]
    assert pointers.entries_from_status(items) == [Entry(path="/ok", before="2", applied=None)]
    assert pointers.entries_from_status(None) == []
    assert pointers.entries_from_status({"path": "/a"}) == []


# --- the undo of random merge patches ---------------------------------------------------------------------------

_KEYS = ("a", "b", "c", "d/e", "f~g")


def _value(rng: random.Random, depth: int) -> Any:
    kind = rng.choice(("int", "str", "null", "bool", "list", "dict", "dict") if depth < 3 else ("int", "str", "null"))
    if kind == "int":
        return rng.randint(0, 3)
    if kind == "str":
        return rng.choice(("x", "y", "é"))
    if kind == "null":
        return None
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "list":
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 2))]
    return {key: _value(rng, depth + 1) for key in rng.sample(_KEYS, rng.randint(0, 3))}


def _document(rng: random.Random) -> dict[str, Any]:
    return {key: _value(rng, 1) for key in rng.sample(_KEYS, rng.randint(0, 4))}


def _patch(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    patch: dict[str, Any] = {}
    for key in rng.sample(_KEYS, rng.randint(1 if depth == 0 else 0, 3)):
        roll = rng.random()
        patch[key] = None if roll < 0.25 else _patch(rng, depth + 1) if roll < 0.6 and depth < 3 else _value(rng, 2)
    return patch


def _strip_created(result: Any, original: Any) -> Any:
    """``result`` without the objects the undo leaves behind: a key missing from ``original`` whose value is an
    object that is empty once such keys are stripped from it too (a patch that set a key under a missing parent
    creates the parent; the undo removes the key, not the parent)."""
    if not isinstance(result, dict):
        return result
    original = original if isinstance(original, dict) else {}  # a missing parent: all of its keys were created
    stripped = {}
    for key, value in result.items():
        value = _strip_created(value, original.get(key))
        if key not in original and value == {}:
            continue
        stripped[key] = value
    return stripped


def test_the_undo_of_a_random_merge_patch_gives_back_the_document() -> None:
    """For 200 random documents and merge patches: applying the patch, recording it, planning its undo on the
    patched document and applying the plan gives back the document, except for empty objects the patch created
    where the document had no key (`_strip_created` removes exactly those); nothing is a conflict. As the undo
    changes only the touched paths, this also says that the touched paths cover everything the patch changed."""
    rng = random.Random(20240601)
    leftovers = 0
    for _ in range(200):
        document, patch = _document(rng), _patch(rng)
        patched = patches.merge_patch(document, patch)
        paths = pointers.normalise(pointers.touched(patch, "merge"), document)
        plan = pointers.plan(pointers.record(paths, document, patched), patched)
        assert plan.conflicts == [], (document, patch)
        undone = patches.json_patch(patched, plan.operations)
        assert _strip_created(undone, document) == document, (document, patch, plan)
        for path in paths:  # each touched path holds its prior value again, or is absent again
            assert pointers.get(undone, path) == pointers.get(document, path), (document, patch, path)
        leftovers += undone != document
    assert leftovers  # these documents do exercise the exception
