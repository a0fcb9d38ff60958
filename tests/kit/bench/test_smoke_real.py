"""``python -m bench --real-api`` must not rot: every phase at a tiny size on fresh real control planes.

Three control planes of its own, one after the other (about a minute); no timing is asserted. What is
asserted is what the table and results.json are made of: every resource Ready, the API server's
counts attributed, Headlamp's requests counted from its log, the operator's figures.
"""
from __future__ import annotations

import pathlib

import pytest
from bench import realreport
from bench.realrun import RealOptions, run_real

pytestmark = [
    pytest.mark.realpeers,
    pytest.mark.emulator_only("the benchmark reads the emulator's -request-log and uses -forwarder websocket"),
]


async def test_every_real_api_phase_runs_and_counts_the_api_servers_requests(tmp_path: pathlib.Path) -> None:
    options = RealOptions(n=2, factor=2, concurrency=4, idle_count=2, idle_interval=1.0, idle_window=2.0,
                          keep_logs=tmp_path / "logs", single_applies=2)
    real = await run_real(options, say=lambda _: None)
    real["targets"] = realreport.targets(real)
    assert set(real["sizes"]) == {"2", "4"}
    single = real["single"]  # one PortForward, one ResourcePatch, after one of each as a warm-up
    assert single["count"] == single["warmup"]["count"] == 2 and single["operator_log"]["errors"] == 0
    for entry in real["sizes"].values():
        burst = entry["operator"]
        assert burst["all_ready"], burst["not_ready"]
        assert burst["operator_log"]["errors"] == 0, burst["operator_log"]["first_errors"]
        counts = burst["apiserver_requests"]
        assert counts["POST portforwards"] == counts["POST resourcepatches"] == entry["n"]  # the bench's creations
        assert counts["PATCH configmaps"] == entry["n"]  # each ResourcePatch, through Headlamp
        assert burst["apiserver_attributed"]["PortForward"]["status_patches"] >= 1
        assert burst["open_portforward_connections"] == entry["n"]  # one held per forward
        assert burst["headlamp_requests"]["portforward-post"] == entry["n"]
        assert {"VmHWM", "cpu_seconds_burst"} <= set(burst["operator"])
    idle = real["idle"]
    assert idle["all_ready"] and idle["resources"] == 2
    assert idle["headlamp_requests"].get("portforward-list", 0) >= 1  # the health check, one list per interval
    assert idle["our_resources_writes_per_minute"] == 0
    assert all(row["holds"] for row in real["targets"] if row["limit"] == "all"), real["targets"]  # every one Ready
    assert "p99 single apply" in " ".join(row["target"] for row in real["targets"])  # its verdict: not asserted
    text = realreport.table(real)
    assert "API server requests per idle minute" in text and "every resource Ready" in text
