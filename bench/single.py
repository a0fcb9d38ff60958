"""The single-apply phase (issue 25, point 3): one resource at a time on a quiet operator.

A burst's apply->Ready is mostly the time a resource waits its turn behind the others; this phase
measures the ordinary path alone: ``count`` applies in sequence, each waited for until Ready, then
until nothing more is written for ``quiet`` seconds (its Event, the echo of its status), before the
next. The operator is fresh (its own world, nothing else to do), and the first applies of each
namespace and kind are a warm-up (the namespace's token Secret read, its Headlamp session set),
reported apart: a quiet operator that has been running has done those already.

Each latency runs from the creation's API answer (the bench's POST returning) to the Ready status:
in memory the emulator's commit of it (a store hook, in this process), on the real API server the
bench's watch receiving it.
"""
from __future__ import annotations

import asyncio
import json
import ssl
import statistics
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import aiohttp

from bench import workload
from bench.burst import percentile

Key = tuple[str, str, str]
COUNT = 50  # the applies measured
READY_TIMEOUT = 10.0  # seconds one apply may take before the phase gives up


def items(count: int, *, prefix: str = "single-") -> tuple[list[workload.Item], list[workload.Item]]:
    """(warm-up, measured): a PortForward and a ResourcePatch in each namespace the measured applies go
    to, then ``count`` applies of alternating kinds over the namespaces."""
    measured = workload.items((count + 1) // 2, prefix=prefix)[:count]
    used = {item.namespace for item in measured}
    warm = [item for item in workload.items(len(workload.NAMESPACES), prefix=f"{prefix}warm-")
            if item.namespace in used]
    return warm, measured


def summarize(latencies: Mapping[str, Sequence[float]]) -> dict[str, Any]:
    """p50, p95, p99, max and mean of apply->Ready (seconds), over every kind and by kind.

    ``latencies`` maps a kind to its applies' latencies, in the order they were applied.
    """
    every = [value for values in latencies.values() for value in values]

    def figures(values: Sequence[float]) -> dict[str, Any]:
        return {"count": len(values), "p50": percentile(values, 50), "p95": percentile(values, 95),
                "p99": percentile(values, 99), "max": max(values) if values else None,
                "mean": statistics.fmean(values) if values else None}

    return {**figures(every), "by_kind": {kind: figures(values) for kind, values in latencies.items()}}


class Poster:
    """POSTs one resource at a time over a kept session; returns when the API's answer has arrived."""

    def __init__(self, url: str, *, headers: Mapping[str, str] | None = None, tls: ssl.SSLContext | None = None,
                 credentials: workload.Credentials = "token", cluster: str = workload.CLUSTER,
                 target: workload.Target = "Deployment") -> None:
        self.url, self.credentials, self.cluster, self.target = url, credentials, cluster, target
        self.headers = {"Content-Type": "application/json", **(headers or {})}
        self.tls = tls
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Poster:
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=self.tls if self.tls else True))
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def create(self, item: workload.Item) -> float:
        """Create ``item``; the monotonic time its answer arrived."""
        assert self._session is not None
        path = f"/apis/{workload.GROUP}/{workload.VERSION}/namespaces/{item.namespace}/{item.plural}"
        data = json.dumps(workload.body(item, credentials=self.credentials, cluster=self.cluster, target=self.target))
        async with self._session.post(self.url + path, data=data, headers=self.headers) as response:
            text = await response.text()
            answered = time.monotonic()
            if response.status >= 300:
                raise RuntimeError(f"creating {item.kind} {item.namespace}/{item.name}: HTTP {response.status} {text}")
        return answered


async def sequential(applies: Sequence[workload.Item], *, create: Callable[[workload.Item], Awaitable[float]],
                     ready: Mapping[Key, float], settle: Callable[[], Awaitable[Any]],
                     alive: Callable[[], bool] = lambda: True, timeout: float = READY_TIMEOUT,  # noqa: ASYNC109
                     ) -> dict[str, list[float]]:
    """Apply each item, wait until ``ready`` has its key, settle; the latencies by kind, in order."""
    latencies: dict[str, list[float]] = {kind: [] for kind in workload.PLURALS}
    for item in applies:
        answered = await create(item)
        deadline = answered + timeout
        while item.key not in ready:
            if time.monotonic() > deadline or not alive():
                raise RuntimeError(f"{item.kind} {item.namespace}/{item.name} was not Ready within {timeout:g} s")
            await asyncio.sleep(0.002)
        latencies[item.kind].append(max(0.0, ready[item.key] - answered))
        await settle()
    return latencies


async def wait_quiet(writes: Sequence[float], *, quiet: float, within: float = 5.0) -> None:
    """Until the last of ``writes`` (monotonic times, appended as they happen) is ``quiet`` seconds old."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        last = writes[-1] if writes else 0.0
        left = quiet - (time.monotonic() - last)
        if left <= 0:
            return
        await asyncio.sleep(min(left, 0.05))


async def measure(applies: tuple[Sequence[workload.Item], Sequence[workload.Item]], *,
                  create: Callable[[workload.Item], Awaitable[float]], ready: Mapping[Key, float],
                  writes: Sequence[float], quiet: float, alive: Callable[[], bool] = lambda: True) -> dict[str, Any]:
    """The warm-up, then the measured applies: their summary, the warm-up's apart, every latency kept."""
    warm, measured = applies

    async def settle() -> None:
        await wait_quiet(writes, quiet=quiet)

    started = time.monotonic()
    warmed = await sequential(warm, create=create, ready=ready, settle=settle, alive=alive)
    latencies = await sequential(measured, create=create, ready=ready, settle=settle, alive=alive)
    return {**summarize(latencies), "warmup": summarize(warmed), "quiet_seconds": quiet,
            "seconds": time.monotonic() - started,
            "latencies": {kind: [round(value, 4) for value in values] for kind, values in latencies.items()}}


def line(single: Mapping[str, Any]) -> str:
    """One line for the printed table: p50 / p99 / max in milliseconds, and by kind."""
    def ms(value: float | None) -> str:
        return "n/a" if value is None else f"{value * 1000:.0f}"

    kinds = "; ".join(f"{kind} p50 {ms(f['p50'])} p99 {ms(f['p99'])}" for kind, f in single["by_kind"].items())
    return (f"{single['count']} applies: p50 {ms(single['p50'])} ms, p99 {ms(single['p99'])} ms, "
            f"max {ms(single['max'])} ms ({kinds})")


P99_MEMORY = 0.100  # seconds: the in-memory API's target for a single apply's p99 (issue 25, point 3)
P99_REAL = 0.250  # seconds: the real API server's


def target(single: Mapping[str, Any] | None, *, limit: float, where: str) -> list[dict[str, Any]]:
    """The single-apply target as a row of the targets table (none when the phase did not run)."""
    if not single:
        return []
    p99 = single.get("p99")
    return [{"target": f"p99 single apply->Ready ({where}, {single['count']} applies)", "value": p99,
             "measured": line(single), "limit": f"< {limit * 1000:g} ms",
             "holds": None if p99 is None else p99 < limit}]


def table(single: Mapping[str, Any], *, title: str) -> str:
    """What --single-only prints."""
    warm = single.get("warmup") or {}
    rows = [f"single applies on a quiet operator, {title}:", f"  {line(single)}"]
    if warm.get("count"):
        rows.append(f"  warm-up (the first of each namespace and kind, not counted): {line(warm)}")
    rows.append(f"  {single['seconds']:.1f} s in all, {single['quiet_seconds']:g} s quiet between applies")
    if single.get("operator_cpu_seconds") is not None:
        applies = max(1, single["count"] + warm.get("count", 0))
        rows.append(f"  operator CPU {single['operator_cpu_seconds'] * 1000 / applies:.1f} ms per apply")
    return "\n".join(rows)
