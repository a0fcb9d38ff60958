"""The single-apply phase's pure parts: which resources, the summary, the verdict, the printed line."""
from __future__ import annotations

import asyncio

import pytest
from bench import single, workload


def test_a_warm_up_of_each_kind_in_each_namespace_used_then_the_measured_applies_alternating() -> None:
    warm, measured = single.items(5)
    used = workload.NAMESPACES[:3]  # pf-0, rp-0 in the first; pf-1, rp-1 in the second; pf-2 in the third
    assert {(i.kind, i.namespace) for i in warm} == {(kind, ns) for kind in workload.PLURALS for ns in used}
    assert [i.kind for i in measured] == ["PortForward", "ResourcePatch"] * 2 + ["PortForward"]
    assert not {i.key for i in warm} & {i.key for i in measured}


def test_the_summary_over_every_apply_and_by_kind() -> None:
    summary = single.summarize({"PortForward": [0.010, 0.030], "ResourcePatch": [0.005, 0.020]})
    assert summary["count"] == 4
    assert (summary["p50"], summary["p99"], summary["max"]) == (0.010, 0.030, 0.030)
    assert summary["mean"] == pytest.approx(0.01625)
    assert summary["by_kind"]["ResourcePatch"] == {"count": 2, "p50": 0.020, "p95": 0.020, "p99": 0.020,
                                                   "max": 0.020, "mean": pytest.approx(0.0125)}
    assert single.summarize({"PortForward": []})["p99"] is None


def test_the_target_row_and_line_in_milliseconds() -> None:
    summary = single.summarize({"PortForward": [0.008], "ResourcePatch": [0.120]})
    [row] = single.target(summary, limit=single.P99_MEMORY, where="in memory")
    assert (row["limit"], row["holds"]) == ("< 100 ms", False)
    assert row["measured"] == ("2 applies: p50 120 ms, p99 120 ms, max 120 ms "
                               "(PortForward p50 8 p99 8; ResourcePatch p50 120 p99 120)")  # nearest rank
    assert single.target(None, limit=single.P99_REAL, where="real API") == []


async def test_each_apply_is_timed_from_its_answer_to_its_ready_and_waited_for_before_the_next() -> None:
    ready: dict[tuple[str, str, str], float] = {}
    order: list[str] = []
    loop = asyncio.get_running_loop()

    async def create(item: workload.Item) -> float:
        answered = loop.time()
        order.append(item.name)
        loop.call_later(0.01, lambda: ready.__setitem__(item.key, answered + 0.025))
        return answered

    async def settle() -> None:
        order.append("settled")

    _, measured = single.items(2)
    latencies = await single.sequential(measured, create=create, ready=ready, settle=settle)
    assert latencies == {"PortForward": [pytest.approx(0.025)], "ResourcePatch": [pytest.approx(0.025)]}
    assert order == ["single-pf-0", "settled", "single-rp-0", "settled"]
