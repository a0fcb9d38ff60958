"""The burst: create resources concurrently over HTTP, wait until all are Ready, and measure."""
from __future__ import annotations

import asyncio
import collections
import json
import resource
import ssl
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import aiohttp

from bench import workload
from bench.process import Operator
from bench.world import World, classify_headlamp, classify_kube


def own_cpu() -> float:
    """CPU seconds of the bench process itself (the emulators and the bench's client), all threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100), nearest-rank on sorted data; None for no data."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100.0 * len(ordered) + 0.5)))
    return ordered[rank - 1]


async def create_all(url: str, items: Sequence[workload.Item], *, concurrency: int,
                     credentials: workload.Credentials, headers: Mapping[str, str] | None = None,
                     tls: ssl.SSLContext | None = None, cluster: str = workload.CLUSTER,
                     target: workload.Target = "Deployment") -> dict[str, Any]:
    """POST every resource to the Kubernetes API, ``concurrency`` at a time; returns timing and errors.

    ``headers`` (a bearer token) and ``tls`` (the CA) are for a real API server; ``cluster`` and
    ``target`` go into the specs (see :func:`bench.workload.spec`)."""
    semaphore = asyncio.Semaphore(concurrency)
    errors: collections.Counter[str] = collections.Counter()
    connector = aiohttp.TCPConnector(limit=concurrency, ssl=tls if tls is not None else True)
    sent = {"Content-Type": "application/json", **(headers or {})}
    async with aiohttp.ClientSession(connector=connector) as session:
        async def create(item: workload.Item) -> None:
            path = f"/apis/{workload.GROUP}/{workload.VERSION}/namespaces/{item.namespace}/{item.plural}"
            data = json.dumps(workload.body(item, credentials=credentials, cluster=cluster, target=target))
            async with semaphore:
                for attempt in range(5):
                    try:
                        async with session.post(url + path, data=data, headers=sent) as response:
                            await response.read()
                            if response.status < 300 or response.status == 409:
                                return
                            errors[f"HTTP {response.status}"] += 1
                    except (aiohttp.ClientError, OSError) as e:
                        errors[type(e).__name__] += 1
                    await asyncio.sleep(0.1 * (attempt + 1))

        started = time.monotonic()
        await asyncio.gather(*(create(item) for item in items))
        return {"seconds": time.monotonic() - started, "errors": dict(errors)}


def final_statuses(world: World, items: Sequence[workload.Item]) -> dict[str, Any]:
    """Phase/reason of every resource at the end, and how many PortForwards were restarted by the health
    check (their message starts with "restarted (") although the backend never lost a forward."""
    reasons: collections.Counter[str] = collections.Counter()
    restarted = 0
    for item in items:
        body = world.kube.get_object(workload.GROUP, workload.VERSION, item.plural, item.namespace, item.name)
        status = (body or {}).get("status") or {}
        reasons[f"{item.kind}: {status.get('phase', 'no status')}/{status.get('reason', '-')}"] += 1
        restarted += str(status.get("message") or "").startswith("restarted (")
    return {"phases": dict(reasons.most_common()), "restarted_by_health_check": restarted}


def _not_ready(world: World, items: Sequence[workload.Item]) -> dict[str, int]:
    """What the resources that are not Ready say (phase/reason), to explain a timeout."""
    reasons: collections.Counter[str] = collections.Counter()
    for item in items:
        if item.key in world.tracker.ready:
            continue
        body = world.kube.get_object(workload.GROUP, workload.VERSION, item.plural, item.namespace, item.name)
        status = (body or {}).get("status") or {}
        reasons[f"{item.kind}: {status.get('phase', 'no status')}/{status.get('reason', '-')}"] += 1
    return dict(reasons.most_common(10))


async def wait_quiet(world: World, *, quiet: float, within: float) -> float:
    """Wait until no write has been committed for ``quiet`` seconds (trailing patches, events)."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        last = world.tracker.writes[-1] if world.tracker.writes else 0.0
        if time.monotonic() - last >= quiet:
            break
        await asyncio.sleep(0.1)
    return time.monotonic() - started


def timing(items: Sequence[workload.Item], created: Mapping[tuple[str, str, str], float],
           ready: Mapping[tuple[str, str, str], float], t0: float) -> dict[str, Any]:
    """What the creation and Ready times of a burst say: all Ready?, time, throughput, apply->Ready latency."""
    ready_times = [ready[item.key] for item in items if item.key in ready]
    all_ready = len(ready_times) == len(items)
    elapsed = (max(ready_times) - t0) if all_ready and ready_times else None
    latencies = {kind: [ready[i.key] - created[i.key] for i in items
                        if i.kind == kind and i.key in ready and i.key in created]
                 for kind in workload.PLURALS}
    every = latencies["PortForward"] + latencies["ResourcePatch"]
    return {
        "all_ready": all_ready,
        "ready": len(ready_times),
        "seconds_to_all_ready": elapsed,
        "throughput": (len(items) / elapsed) if elapsed else None,
        "latency": {
            "p50": percentile(every, 50), "p95": percentile(every, 95), "p99": percentile(every, 99),
            "max": max(every) if every else None, "mean": statistics.fmean(every) if every else None,
            "by_kind": {kind: {"p50": percentile(v, 50), "p95": percentile(v, 95), "p99": percentile(v, 99)}
                        for kind, v in latencies.items()},
        },
        "latencies": {kind: [round(v, 4) for v in values] for kind, values in latencies.items()},
    }


async def run_burst(world: World, op: Operator | None, items: Sequence[workload.Item], *, concurrency: int,
                    credentials: workload.Credentials, timeout: float, quiet: float = 2.0,  # noqa: ASYNC109
                    say: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Create ``items`` in a burst and measure until all are Ready (or ``timeout``), then count requests."""
    kube_mark, hl_mark = world.mark()
    cpu_before = op.cpu() if op is not None else 0.0
    own_before = own_cpu()
    t0 = time.monotonic()
    creation = await create_all(world.kube_url, items, concurrency=concurrency, credentials=credentials)
    keys = {item.key for item in items}
    world.tracker.count(keys)
    deadline = t0 + timeout
    next_report = time.monotonic() + 5.0
    while (ready := world.tracker.ready_count()) < len(keys) and time.monotonic() < deadline:
        if op is not None and not op.alive():
            break
        if say is not None and time.monotonic() >= next_report:
            next_report += 5.0
            say(f"    {time.monotonic() - t0:5.1f}s: {ready}/{len(keys)} Ready")
        await asyncio.sleep(0.05)
    timed = timing(items, world.tracker.created, world.tracker.ready, t0)
    cpu_burst = (op.cpu() - cpu_before) if op is not None and op.alive() else None
    emulators_cpu = own_cpu() - own_before
    settle = await wait_quiet(world, quiet=quiet, within=20.0)
    kube = classify_kube(world.kube_requests()[kube_mark:])
    headlamp = classify_headlamp(world.hl.requests[hl_mark:])
    counts = {kind: sum(1 for i in items if i.kind == kind) for kind in workload.PLURALS}
    result: dict[str, Any] = {
        "resources": len(items),
        "counts": counts,
        "concurrency": concurrency,
        "creation_seconds": creation["seconds"],
        "creation_errors": creation["errors"],
        "all_ready": timed["all_ready"],
        "ready": timed["ready"],
        "not_ready": {} if timed["all_ready"] else _not_ready(world, items),
        "seconds_to_all_ready": timed["seconds_to_all_ready"],
        "throughput": timed["throughput"],
        "latency": timed["latency"],
        "latencies": timed["latencies"],
        "settle_seconds": settle,
        "final": final_statuses(world, items),
        "emulators_cpu_seconds": emulators_cpu,  # the bench process (emulators + creating client) until all Ready
        "kube_requests": kube,
        "headlamp_requests": headlamp,
        "per_resource": per_resource(kube, headlamp, counts),
    }
    if op is not None and op.alive():
        result["operator"] = {"cpu_seconds_burst": cpu_burst, "cpu_seconds_total": op.cpu(), **op.memory()}
    return result


def per_resource(kube: dict[str, int], headlamp: dict[str, int], counts: dict[str, int]) -> dict[str, Any]:
    """Writes and Headlamp requests divided by the number of resources of each kind."""
    result: dict[str, Any] = {}
    for kind, n in counts.items():
        if not n:
            continue
        status, metadata = kube.get(f"{kind}.status", 0), kube.get(f"{kind}.metadata", 0)
        result[kind] = {"status_patches": status / n, "metadata_patches": metadata / n,
                        "writes": (status + metadata) / n, "events": kube.get(f"events.{kind}", 0) / n}
    total = sum(counts.values())
    pf_routes = ("portforward-post", "portforward-get", "portforward-delete", "portforward-list",
                 "get-service", "list-pods", "get-pod")
    rp_routes = ("patch", "discovery")
    if total:
        result["headlamp_per_resource"] = sum(headlamp.values()) / total
        if counts.get("PortForward"):
            result["PortForward"]["headlamp"] = sum(headlamp.get(r, 0) for r in pf_routes) / counts["PortForward"]
        if counts.get("ResourcePatch"):
            result["ResourcePatch"]["headlamp"] = sum(headlamp.get(r, 0) for r in rp_routes) / counts["ResourcePatch"]
        result["headlamp_shared"] = {"set-token": headlamp.get("set-token", 0)}
    return result
