"""`make bench` must not rot: every phase at a tiny size, in seconds. No timing is asserted."""
from __future__ import annotations

import json
import pathlib

from bench.report import plot, table, targets, write_json
from bench.run import Options, run_all


async def test_bench_runs_every_phase_and_writes_the_keys(tmp_path: pathlib.Path) -> None:
    options = Options(n=3, factor=2, concurrency=8, idle_count=3, idle_interval=1.0, idle_window=2.0, idle_factor=2,
                      timeout=20.0, startup_timeout=20.0, repeats=2, single_applies=3)
    results = await run_all(options, say=lambda _: None)
    results["targets"] = targets(results)
    out = tmp_path / "results.json"
    write_json(results, out)
    text = table(results)

    loaded = json.loads(out.read_text())
    assert set(loaded) >= {"config", "machine", "sizes", "growth", "idle", "idle_large", "single", "targets",
                           "seconds"}
    single = loaded["single"]
    assert single["count"] == 3 and single["warmup"]["count"] == 4  # both kinds in the two namespaces used
    assert single["by_kind"]["PortForward"]["count"] == 2 and 0 < single["p50"] <= single["p99"] == single["max"]
    assert set(loaded["sizes"]) == {"3", "6"}
    for entry in loaded["sizes"].values():
        operator = entry["operator"]
        assert operator["all_ready"], operator["not_ready"]
        assert set(operator) >= {"seconds_to_all_ready", "throughput", "latency", "per_resource", "kube_requests",
                                 "headlamp_requests", "operator"}
        assert set(operator["latency"]) >= {"p50", "p95", "p99"}
        assert set(operator["per_resource"]) >= {"PortForward", "ResourcePatch", "headlamp_per_resource"}
        assert set(operator["operator"]) >= {"VmHWM", "cpu_seconds_burst"}
        for burst in (operator, entry["kopf_floor"]):  # repeated: the median run reported, every run listed
            assert len(burst["runs"]) == 2 and all(run["all_ready"] for run in burst["runs"])
            assert burst["seconds_to_all_ready"] in [run["seconds_to_all_ready"] for run in burst["runs"]]
        assert entry["floor"]["all_ready"] and entry["floor"]["error_count"] == 0
        assert entry["ratio"] is not None
        for floor in ("reacting_floor", "kopf_floor"):  # the same burst, measured as the operator's is
            assert entry[floor]["all_ready"], entry[floor]["not_ready"]
        assert entry["reacting_floor"]["floor_process"]["error_count"] == 0
        assert None not in (entry["ratio_reacting"], entry["ratio_kopf"], entry["kopf_ratio_reacting"])
    for idle, count in (("idle", 3), ("idle_large", 6)):
        assert loaded[idle]["all_ready"] and loaded[idle]["resources"] == count
        assert {"headlamp_per_minute", "operator_cpu_percent", "kube_writes_per_minute"} <= set(loaded[idle])
    assert all({"target", "measured", "limit", "holds"} <= set(t) for t in loaded["targets"])
    names = " | ".join(t["target"] for t in loaded["targets"])
    for target in ("kopf floor", "p99 apply->Ready", "writes per PortForward", "writes per ResourcePatch",
                   "Headlamp requests per resource", "time growth", "idle operator CPU", "idle CPU with 6 PF",
                   "idle Headlamp requests/min (3 PF)", "idle Kubernetes writes/min (6 PF)", "peak RSS",
                   "p99 single apply->Ready (in memory, 3 applies)"):
        assert target in names, (target, names)  # every target of issue 14 is in the table
    assert "ratio" in text and "peak RSS" in text
    try:
        import matplotlib  # noqa: F401  (installed by `make bench`, not by `make test`)
    except ImportError:
        return
    assert plot(results, tmp_path / "results.png")
    assert (tmp_path / "results.png").stat().st_size > 0
