"""``python -m bench --heal`` must not rot: two deletions, one per kind, on a fresh real control plane.

A control plane of its own (about half a minute), the sync interval shortened to 2 s so that both heals
come quickly; no timing is asserted. What is asserted is what the table and results.json are made of:
each kind deleted once and healed on a live pod through the same port, the operator's requests
counted, every figure summarized.
"""
from __future__ import annotations

import pytest
from bench import healreport
from bench.heal import HealOptions, run_heal

pytestmark = pytest.mark.realpeers


async def test_a_pod_deleted_behind_each_kind_of_forward_is_healed_and_summarized() -> None:
    timeout = 40.0
    options = HealOptions(deletions=2, sync_interval=2.0, timeout=timeout, recreate_after=6.0)
    healed = await run_heal(options, say=lambda _: None)
    heals = healed["heals"]
    assert [h["kind"] for h in heals] == ["service", "pod"]
    for heal in heals:
        assert heal["dead_pod"], heal["statuses"]  # the forward was steady before its pod was deleted
        assert heal["traffic"] is not None, heal["statuses"]  # healed within the timeout
        assert heal["port_kept"] is True
        assert heal["requests"] >= 1 and heal["requests_by_method"].get("GET", 0) >= 1  # a list, a resolve
        assert heal["status_truth"] is not None and heal["status_truth"] <= heal["traffic"]
    assert heals[0]["new_pod"] != heals[0]["dead_pod"]  # the service forward moved to the other grafana pod
    assert heals[1]["new_pod"] == "db-0" and heals[1]["back_after_recreation"] is not None
    summary = healreport.summarize(heals, timeout=timeout)
    assert summary["all"]["healed"] == 2 and summary["all"]["failed"] == 0 and summary["all"]["port_kept"] == 2
    assert summary["all"]["live"]["n"] == 2  # each kind's time to traffic once a live pod exists
    for group in ("service", "pod"):
        assert summary[group]["heals"] == 1
        for key in ("traffic", "outage", "status_truth", "requests"):
            figure = summary[group][key]
            assert figure["n"] == 1 and figure["p50"] == figure["worst"] and not figure["worst_is_timeout"]
    healed["summary"] = summary
    text = healreport.table(healed)
    assert "time to traffic (s)" in text and "Headlamp requests per heal" in text
