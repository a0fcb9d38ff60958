"""The soak's plan is its random seed's alone: the same resources and faults for a replay, every role and fault
kind drawn."""
from __future__ import annotations

import random
import types
from typing import Any

from headlamp_operator import crds
from headlamp_operator.reconciling import pointers
from headlamp_operator_testing.soak import expectations, faults, workload
from headlamp_operator_testing.soak import world as w


def test_the_same_seed_plans_the_same_resources_and_faults() -> None:
    def planned(seed: str) -> tuple[list[tuple[str, str, str, object]], list[faults.Planned]]:
        items = workload.plan(60, random.Random(f"{seed}/resources"))
        return ([(i.role, i.namespace, i.name, i.spec) for i in items],
                faults.plan(60, random.Random(f"{seed}/faults")))

    assert planned("7") == planned("7")
    assert planned("7") != planned("8")


def test_every_role_is_planned_and_each_has_an_expected_end_state() -> None:
    items = workload.plan(len(workload.ROLES), random.Random(1))
    assert sorted(i.role for i in items) == sorted(r.name for r in workload.ROLES)
    ends = {i.role: expectations.expected(i) for i in items}
    assert ends["pf-adopt-running"] == "Running/Adopted" and ends["pf-stopped"] == "Stopped"
    assert ends["pf-invalid-credentials"] == "Failed/InvalidCredentials" and ends["rp-reapply"] == "Applied"
    assert ends["rp-preview"] == "Previewed" and ends["rp-revert-kept"] == ends["rp-revert-delete"] == "Applied"
    big = workload.plan(200, random.Random(1))
    assert len(big) == 200 and len({(i.namespace, i.name) for i in big}) == 200
    assert sum(i.kind == "PortForward" for i in big) > sum(i.kind == "ResourcePatch" for i in big) > 60


def test_a_three_minute_schedule_draws_every_fault_kind() -> None:
    schedule = faults.plan(180, random.Random(3))
    assert {p.kind for p in schedule} == set(faults.KINDS)
    assert all(0 <= p.at < 180 for p in schedule) and 110 <= len(schedule) <= 600


def test_the_undo_and_preview_roles_plan_their_specs_and_timelines() -> None:
    items = workload.plan(400, random.Random(5))
    by_role: dict[str, list[workload.Item]] = {}
    for item in items:
        by_role.setdefault(item.role, []).append(item)
    for role in ("rp-revert-delete", "rp-revert-kept", "rp-preview"):  # small shares: the mix stays as it was
        assert 1 <= len(by_role[role]) <= 8, role
    for item in by_role["rp-revert-delete"]:  # a merge patch of its own key, deleted during the faults
        assert item.spec["revertOnDelete"] is True and "patchType" not in item.spec and "dryRun" not in item.spec
        assert item.spec["patch"] == {"data": {item.key: item.spec["patch"]["data"][item.key]}}
        assert item.delete_at is not None and 0.05 <= item.delete_at <= 0.95 and item.move_at is None
    kept = by_role["rp-revert-kept"]
    assert all(i.spec["revertOnDelete"] is True and i.delete_at is None for i in kept)
    assert {i.move_at is None for i in kept} == {True, False}  # some move their patch to another key, some not
    for item in by_role["rp-preview"]:  # previewed, never written: nothing happens to it
        assert item.spec["dryRun"] is True and "revertOnDelete" not in item.spec
        assert item.delete_at is None and item.move_at is None and not item.drifts_at
        assert expectations.expected(item) == "Previewed"
    assert all("revertOnDelete" not in i.spec and "dryRun" not in i.spec for i in items
               if i.role not in ("rp-revert-delete", "rp-revert-kept", "rp-preview"))
    # every undo or preview has a key of its own in its target: nobody else writes or drifts it
    keys = [i.key for i in items if i.kind == "ResourcePatch"]
    assert len(keys) == len(set(keys)) and not {i.moved_key for i in kept} & set(keys)


def test_the_timeline_moves_and_deletes_the_undo_roles() -> None:
    items = workload.plan(400, random.Random(5))
    actions = {(action, item.role) for _, action, item in workload.timeline(items)}
    assert ("delete", "rp-revert-delete") in actions and ("move", "rp-revert-kept") in actions
    assert not {role for action, role in actions if action == "move"} - {"rp-revert-kept"}
    assert not {action for action, role in actions if role in ("rp-revert-kept", "rp-preview")} - {"move"}
    moving = next(i for i in items if i.move_at is not None)
    assert moving.data_key == moving.key
    moving.moved = True  # what churn does, with the spec patched to write the same value under moved_key
    assert moving.data_key == moving.moved_key == f"{moving.key}.moved"
    assert expectations.expected(moving) == "Applied"
    deleted = next(i for i in items if i.role == "rp-revert-delete")
    deleted.deleted = True
    assert expectations.expected(deleted) == "deleted"


def _fake_world(body: dict[str, Any] | None, data: dict[str, str], *, written: frozenset[str] = frozenset(),
                events: tuple[dict[str, Any], ...] = ()) -> Any:
    """What check() reads of a world: the resource, its target ConfigMap, the keys ever written, its Events."""
    return types.SimpleNamespace(
        kube=types.SimpleNamespace(get_object=lambda *_: body),
        cluster=types.SimpleNamespace(get=lambda *_: {"data": {"seeded": "yes", **data}}),
        keys_written=set(written), events=lambda *_: list(events),
        operator=types.SimpleNamespace(config=w.OperatorConfig(finalizer_timeout=60)))


def _body(status: dict[str, Any], **metadata: Any) -> dict[str, Any]:
    ready = {"type": "Ready", "status": "True", "observedGeneration": 2}
    return {"metadata": {"generation": 2, **metadata},
            "status": {"observedGeneration": 2, "conditions": [ready], **status}}


def _role(role: str) -> workload.Item:
    return next(i for i in workload.plan(len(workload.ROLES), random.Random(1)) if i.role == role)


def test_a_preview_holds_while_its_key_was_never_written() -> None:
    item = _role("rp-preview")
    value = item.spec["patch"]["data"][item.key]
    shown = {"path": f"/data/{item.key}", "after": pointers.shown(value, redact=False)}  # as the operator shows it
    body = _body({"phase": "Previewed", "reason": "Previewed", "preview": [shown]})
    assert expectations.check(_fake_world(body, {}), item, []) is None
    written = expectations.check(_fake_world(body, {item.key: value}, written=frozenset({item.key})), item, [])
    assert written is not None and "was written to its target" in written.problem
    empty = expectations.check(_fake_world(_body({"phase": "Previewed", "preview": []}), {}), item, [])
    assert empty is not None and "status.preview" in empty.problem


def test_a_kept_undo_records_its_key_and_a_moved_one_leaves_the_old_key_absent() -> None:
    item = _role("rp-revert-kept")
    value = item.spec["patch"]["data"].pop(item.key)
    item.spec["patch"]["data"][item.moved_key] = value
    item.moved = True
    record = {"complete": True, "paths": [{"path": f"/data/{item.moved_key}", "applied": pointers.digest(value)}]}
    body = _body({"phase": "Applied", "reason": "Applied", "revert": record}, finalizers=[crds.FINALIZER])
    assert expectations.check(_fake_world(body, {item.moved_key: value}), item, []) is None
    stale = expectations.check(_fake_world(body, {item.moved_key: value, item.key: value}), item, [])
    assert stale is not None and "still holds" in stale.problem
    bare = _body({"phase": "Applied", "reason": "Applied", "revert": record})
    assert "no finalizer" in expectations.check(_fake_world(bare, {item.moved_key: value}), item, []).problem
    incomplete = _body({"phase": "Applied", "revert": {**record, "complete": False}}, finalizers=[crds.FINALIZER])
    assert "not complete" in expectations.check(_fake_world(incomplete, {item.moved_key: value}), item, []).problem


def test_a_deleted_undo_leaves_its_key_only_when_it_gave_up_after_the_finalizer_timeout() -> None:
    item = _role("rp-revert-delete")
    item.deleted = True
    value = item.spec["patch"]["data"][item.key]
    assert expectations.check(_fake_world(None, {}), item, []) is None
    left = expectations.check(_fake_world(None, {item.key: value}), item, [])
    assert left is not None and "no RevertFailed Event" in left.problem

    def failed(after: int) -> dict[str, Any]:
        return {"reason": "RevertFailed", "message": f"gave up restoring what the patch set after {after}s: "
                                                    "Unreachable; the target keeps the patched values"}
    assert expectations.check(_fake_world(None, {item.key: value}, events=(failed(61),)), item, []) is None
    early = expectations.check(_fake_world(None, {item.key: value}, events=(failed(5),)), item, [])
    assert early is not None and "RevertFailed: gave up" in early.problem


def test_drift_is_counted_only_with_a_reapply_interval() -> None:
    item, plain = _role("rp-reapply"), _role("rp-configmap-token")
    for subject, count, ok in ((item, 3, True), (item, -1, False), (plain, 1, False)):
        key = subject.key
        body = _body({"phase": "Applied", "reason": "Applied", "driftCorrections": count})
        found = expectations.check(_fake_world(body, {key: subject.spec["patch"]["data"][key]}), subject, [])
        assert (found is None) == ok, found


def test_the_report_counts_undos_let_go_after_the_finalizer_timeout_apart() -> None:
    items = workload.plan(len(workload.ROLES), random.Random(1))
    undone = next(i for i in items if i.role == "rp-revert-delete")
    undone.deleted = True
    value = undone.spec["patch"]["data"][undone.key]
    late = {"reason": "RevertFailed", "message": "gave up restoring what the patch set after 75s: Unreachable"}
    lines = expectations.summary(_fake_world(None, {undone.key: value}, events=(late,)), items,
                                 w.OperatorConfig(finalizer_timeout=60), now=100.0)
    assert lines[0].startswith("revert: 1 deleted with revertOnDelete: 0 restored, 1 left patched (1 let go after "
                               "the finalizer timeout of 60 s, accepted; 0 stuck); Events 0 Reverted, "
                               "0 RevertConflict, 1 RevertFailed")
    assert lines[1] == "preview: 1 with dryRun, 0 of their keys written to a target"
    restored = expectations.summary(_fake_world(None, {}), items, w.OperatorConfig(), now=100.0)
    assert "1 restored, 0 left patched" in restored[0]
