"""The soak's plan is its random seed's alone: the same resources and faults for a replay, every role and fault
kind drawn."""
from __future__ import annotations

import random

from headlamp_operator_testing.soak import expectations, faults, workload


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
    big = workload.plan(200, random.Random(1))
    assert len(big) == 200 and len({(i.namespace, i.name) for i in big}) == 200
    assert sum(i.kind == "PortForward" for i in big) > sum(i.kind == "ResourcePatch" for i in big) > 60


def test_a_three_minute_schedule_draws_every_fault_kind() -> None:
    schedule = faults.plan(180, random.Random(3))
    assert {p.kind for p in schedule} == set(faults.KINDS)
    assert all(0 <= p.at < 180 for p in schedule) and 110 <= len(schedule) <= 600
