"""The phases of ``python -m bench --real-api``: the same bursts and idle phase on a real API server.

Each phase gets a fresh :class:`~bench.realworld.BenchWorld` (about 20 s to start): a burst of N
PortForwards and N ResourcePatches, the same of 4N, then ``idle_count`` Running PortForwards left
alone. Measured as on the in-memory API (time until all Ready, apply->Ready, the operator's CPU and
peak RSS, Headlamp's requests), plus the API server's own request counts by verb and resource, per
resource created and per idle minute. There are no floors here: their ratio is a target of the
in-memory run only; on the real API server the target is that every resource gets Ready.
"""
from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import json
import pathlib
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import aiohttp

from bench import burst, single, workload
from bench.process import cpu_seconds, memory
from bench.realwatch import Watcher, attribute, children_cpu, delta, longrunning, requests_by_verb, scrape
from bench.realworld import BenchWorld
from bench.run import log_summary, machine
from bench.world import classify_headlamp
from headlamp_operator_testing.realpeers.world import CLUSTER

Say = Callable[[str], None]
CONTROL_PLANE = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")
BURST_SYNC_INTERVAL = 30.0  # the operator's default, as in the in-memory bursts
SINGLE_QUIET = 0.3  # seconds without a write to our resources after an apply's Ready before the next


@dataclasses.dataclass(frozen=True, kw_only=True)
class RealOptions:
    n: int = 500
    factor: int = 4
    concurrency: int = 32
    idle_count: int = 1000
    idle_interval: float = 5.0
    idle_window: float = 30.0
    idle: bool = True
    timeout: float | None = None  # per burst; default 120 s + 0.1 s per resource
    keep_logs: pathlib.Path | None = None
    operator: str | None = None  # the headlamp-operator to measure (make bench-real: the runtime-only install)
    single_applies: int = single.COUNT  # applies of the single-apply phase, one at a time (0: none)
    single_only: bool = False  # the single-apply phase alone

    def burst_timeout(self, resources: int) -> float:
        return self.timeout if self.timeout is not None else 120.0 + 0.1 * resources


@dataclasses.dataclass(frozen=True)
class Logged:
    """One line of the Headlamp emulator's ``-request-log``."""

    method: str
    path: str
    status: int | None
    time: float


def headlamp_log(path: pathlib.Path) -> list[Logged]:
    if not path.exists():
        return []
    return [Logged(**json.loads(line)) for line in path.read_text().splitlines() if line.strip()]


@contextlib.asynccontextmanager
async def real_world(workdir: pathlib.Path, *, sync_interval: float, name: str,
                     options: RealOptions) -> AsyncIterator[BenchWorld]:
    """A fresh world, the operator acting (leader, both kinds watched); stopped on exit, its logs kept if asked."""
    world = BenchWorld(workdir / name, sync_interval=sync_interval, operator=options.operator)
    try:
        await asyncio.to_thread(world.start)
        await operator_acting(world, within=60.0)
        yield world
    finally:
        await asyncio.to_thread(world.stop)
        if options.keep_logs is not None:
            options.keep_logs.mkdir(parents=True, exist_ok=True)
            for source in [world.workdir / "operator.log", world.workdir / "headlamp.log",
                           *sorted((world.cp.workdir / "logs").glob("*.log"))]:
                if source.exists():
                    (options.keep_logs / f"real-{name}-{source.name}").write_bytes(source.read_bytes())


async def operator_acting(world: BenchWorld, *, within: float) -> None:
    """Wait until the operator leads (kopf answers the probe, not the standby) and watches both kinds."""
    deadline = time.monotonic() + within
    url = f"http://127.0.0.1:{world.liveness_port}/healthz"
    async with aiohttp.ClientSession() as session:
        while True:
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with session.get(url, timeout=aiohttp.ClientTimeout(total=2)) as answer:
                    probe = await answer.text()
                text = await scrape(world.server, world.admin_headers(), world.tls())
                if answer.status == 200 and "standby" not in probe \
                        and all(longrunning(text, "WATCH", plural) >= 1 for plural in workload.PLURALS.values()):
                    return
            if world.operator_pid() is None or time.monotonic() > deadline:
                log = world.operator.log() if world.operator is not None else ""
                raise RuntimeError(f"the operator did not start acting within {within:g} s:\n{log[-3000:]}")
            await asyncio.sleep(0.2)


async def events_by_kind(world: BenchWorld) -> dict[str, int]:
    """The Events in the bench's namespaces by the kind they are about (kopf posts each as an object)."""
    counts: collections.Counter[str] = collections.Counter()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=world.tls())) as session:
        for namespace in workload.NAMESPACES:
            async with session.get(f"{world.server}/api/v1/namespaces/{namespace}/events",
                                   headers=world.admin_headers()) as answer:
                answer.raise_for_status()
                for event in (await answer.json()).get("items") or []:
                    counts[str((event.get("involvedObject") or {}).get("kind") or "other")] += 1
    return dict(counts)


async def measure_burst(world: BenchWorld, watcher: Watcher, items: Sequence[workload.Item], *,
                        options: RealOptions, quiet: float = 2.0, say: Say | None = None) -> dict[str, Any]:
    """Create ``items``, wait until all are Ready (or the timeout), settle, and count everything."""
    headers, tls = world.admin_headers(), world.tls()
    text = await scrape(world.server, headers, tls)
    before, failed_before = requests_by_verb(text), requests_by_verb(text, failed=True)
    hl_mark = len(headlamp_log(world.request_log))
    pid = world.operator_pid()
    assert pid is not None
    cpu_before, hl_before = cpu_seconds(pid), cpu_seconds(world.headlamp_pid() or pid)
    cp_before, own_before = children_cpu(CONTROL_PLANE), burst.own_cpu()
    keys = [item.key for item in items]
    t0 = time.monotonic()
    creation = await burst.create_all(world.server, items, concurrency=options.concurrency, credentials="token",
                                      headers=headers, tls=tls, cluster=CLUSTER, target="ConfigMap")
    deadline, next_report = t0 + options.burst_timeout(len(items)), time.monotonic() + 5.0
    while (ready := watcher.ready_count(keys)) < len(keys) and time.monotonic() < deadline \
            and world.operator_pid() == pid:
        if say is not None and time.monotonic() >= next_report:
            next_report += 5.0
            say(f"    {time.monotonic() - t0:5.1f}s: {ready}/{len(keys)} Ready")
        await asyncio.sleep(0.05)
    timed = burst.timing(items, watcher.created, watcher.ready, t0)
    alive = world.operator_pid() == pid
    operator = {"cpu_seconds_burst": cpu_seconds(pid) - cpu_before, "cpu_seconds_total": cpu_seconds(pid),
                **memory(pid)} if alive else None
    others = {"headlamp": cpu_seconds(world.headlamp_pid() or pid) - hl_before,
              "bench (watches, creations, echo server)": burst.own_cpu() - own_before,
              **{name: seconds - cp_before.get(name, 0.0) for name, seconds in children_cpu(CONTROL_PLANE).items()}}
    started = time.monotonic()  # then settle: no write to our resources for `quiet` seconds (trailing patches)
    while time.monotonic() - started < 20.0:
        if time.monotonic() - (watcher.writes or [0.0])[-1] >= quiet:
            break
        await asyncio.sleep(0.1)
    text = await scrape(world.server, headers, tls)
    counts = delta(before, requests_by_verb(text))
    failed = delta(failed_before, requests_by_verb(text, failed=True))
    created = {kind: sum(1 for i in items if i.kind == kind) for kind in workload.PLURALS}
    by_author = attribute(counts, created)
    events = await events_by_kind(world)
    kube = {f"{kind}.{part}": round(by_author.get(kind, {}).get(f"{part}_patches", 0.0) * created[kind])
            for kind in workload.PLURALS for part in ("status", "metadata")}
    kube.update({f"events.{kind}": count for kind, count in events.items()})
    headlamp = classify_headlamp(headlamp_log(world.request_log)[hl_mark:])
    phases = collections.Counter(f"{i.kind}: {(watcher.last.get(i.key, {}).get('status') or {}).get('phase', '-')}"
                                 for i in items)
    return {
        "resources": len(items), "counts": created, "concurrency": options.concurrency,
        "creation_seconds": creation["seconds"], "creation_errors": creation["errors"],
        **{key: timed[key] for key in ("all_ready", "ready")},
        "not_ready": {} if timed["all_ready"] else dict(phases.most_common(10)),
        **{key: timed[key] for key in ("seconds_to_all_ready", "throughput", "latency", "latencies")},
        "settle_seconds": time.monotonic() - started,
        "final": {"phases": dict(phases.most_common())},
        "kube_requests": kube,
        "headlamp_requests": headlamp,
        "per_resource": burst.per_resource(kube, headlamp, created),
        "apiserver_requests": counts,
        "apiserver_per_resource": {key: value / len(items) for key, value in counts.items()},
        "apiserver_attributed": by_author,
        "apiserver_failed": failed,  # answers that were no success, by code
        # Headlamp holds one connection per forward (client-go's SPDY one; here the emulator's WebSocket):
        # counted by apiserver_request_total only when it ends, so shown as open connections.
        "open_portforward_connections": longrunning(text, "CONNECT", "pods", "portforward"),
        "cpu_seconds_others": {key: round(value, 2) for key, value in others.items()},
        "watch_restarts": watcher.restarts,
        "operator_restarts": world.operator_restarts,
        **({"operator": operator} if operator is not None else {}),
    }


async def real_burst(n: int, options: RealOptions, workdir: pathlib.Path, say: Say) -> dict[str, Any]:
    """A fresh world, a burst of N + N resources, measured."""
    items = workload.items(n)
    async with real_world(workdir, sync_interval=BURST_SYNC_INTERVAL, name=f"burst-{n}", options=options) as world, \
            Watcher(world.server, world.admin_headers(), world.tls()) as watcher:
        say(f"  control plane up ({world.cp.startup_seconds:g} s), operator acting (pid {world.operator_pid()}); "
            f"creating {len(items)} resources, {options.concurrency} at a time")
        result = await measure_burst(world, watcher, items, options=options, say=say)
        result["operator_log"] = _log_summary(world)
        result["peers"] = dict(world.cp.versions)
    return result


async def real_single(options: RealOptions, workdir: pathlib.Path, say: Say) -> dict[str, Any]:
    """A fresh world, the operator with nothing to do; ``single_applies`` applies one at a time."""
    applies = single.items(options.single_applies)
    async with real_world(workdir, sync_interval=BURST_SYNC_INTERVAL, name="single", options=options) as world, \
            Watcher(world.server, world.admin_headers(), world.tls()) as watcher, \
            single.Poster(world.server, headers=world.admin_headers(), tls=world.tls(), cluster=CLUSTER,
                          target="ConfigMap") as poster:
        say(f"  operator acting (pid {world.operator_pid()}); {len(applies[0])} warm-up applies, then "
            f"{options.single_applies} measured")
        pid = world.operator_pid()
        assert pid is not None
        cpu_before = cpu_seconds(pid)
        result = await single.measure(applies, create=poster.create, ready=watcher.ready, writes=watcher.writes,
                                      quiet=SINGLE_QUIET, alive=lambda: world.operator_pid() == pid)
        result["operator_cpu_seconds"] = cpu_seconds(pid) - cpu_before
        result["operator_log"] = _log_summary(world)
    return result


async def real_idle(options: RealOptions, workdir: pathlib.Path, say: Say) -> dict[str, Any]:
    """``idle_count`` Running PortForwards left alone: API server and Headlamp requests per minute, CPU."""
    interval = options.idle_interval
    items = workload.portforwards(options.idle_count, prefix="idle-")
    async with real_world(workdir, sync_interval=interval, name="idle", options=options) as world, \
            Watcher(world.server, world.admin_headers(), world.tls()) as watcher:
        say(f"  operator acting (HEADLAMP_SYNC_INTERVAL={interval:g}); creating {len(items)} PortForwards")
        created = await measure_burst(world, watcher, items, options=options, quiet=min(2.0, interval / 2), say=say)
        await asyncio.sleep(interval)  # every forward past its first health check, then the window
        headers, tls = world.admin_headers(), world.tls()
        text = await scrape(world.server, headers, tls)
        before, failed_before = requests_by_verb(text), requests_by_verb(text, failed=True)
        pid = world.operator_pid()
        assert pid is not None
        cpu_before, hl_before, cp_before = cpu_seconds(pid), cpu_seconds(world.headlamp_pid() or pid), \
            children_cpu(CONTROL_PLANE)
        writes_before, start = len(watcher.writes), time.monotonic()
        await asyncio.sleep(options.idle_window)
        end = time.monotonic()
        minutes = (end - start) / 60.0
        text = await scrape(world.server, headers, tls)
        counts = delta(before, requests_by_verb(text))
        records = [r for r in headlamp_log(world.request_log) if start <= r.time < end]
        cp_cpu = {name: seconds - cp_before.get(name, 0.0) for name, seconds in children_cpu(CONTROL_PLANE).items()}
        result = {
            "resources": len(items), "all_ready": created["all_ready"], "ready": created["ready"],
            "sync_interval": interval, "window_seconds": end - start, "clusters": 1,
            "headlamp_requests": classify_headlamp(records),
            "headlamp_per_minute": len(records) / minutes,
            "expected_per_minute": 60.0 / interval,
            "apiserver_requests": counts,
            "apiserver_failed": delta(failed_before, requests_by_verb(text, failed=True)),
            "open_portforward_connections": longrunning(text, "CONNECT", "pods", "portforward"),
            "apiserver_per_minute": {key: value / minutes for key, value in counts.items()},
            "apiserver_writes_per_minute": sum(v for k, v in counts.items()
                                               if k.split(" ")[0] in ("POST", "PUT", "PATCH", "APPLY", "DELETE"))
            / minutes,
            "our_resources_writes_per_minute": (len(watcher.writes) - writes_before) / minutes,
            "operator_cpu_percent": 100.0 * (cpu_seconds(pid) - cpu_before) / (end - start),
            "cpu_percent_others": {"headlamp": 100.0 * (cpu_seconds(world.headlamp_pid() or pid) - hl_before)
                                   / (end - start),
                                   **{name: 100.0 * value / (end - start) for name, value in cp_cpu.items()}},
            "operator": {"cpu_seconds_total": cpu_seconds(pid), **memory(pid)},
            "creation": {key: created[key] for key in ("seconds_to_all_ready", "throughput", "latency")},
            "creation_apiserver_requests": created["apiserver_requests"],
        }
        result["operator_log"] = _log_summary(world)
    return result


def _log_summary(world: BenchWorld) -> dict[str, Any]:
    return log_summary(world.operator.log() if world.operator is not None else "")


async def run_real(options: RealOptions, *, say: Say = print) -> dict[str, Any]:
    """Every real-API phase, in order; the ``real_api`` entry of the results (targets by :mod:`bench.report`)."""
    started = time.monotonic()
    results: dict[str, Any] = {
        "config": {**{k: str(v) if isinstance(v, pathlib.Path) else v for k, v in dataclasses.asdict(options).items()},
                   "burst_sync_interval": BURST_SYNC_INTERVAL, "credentials": "token",
                   "world": "headlamp_operator_testing.realpeers: etcd, kube-apiserver, kube-controller-manager, "
                            "kube-scheduler, kwok; "
                            "the product installed with kubectl apply -k deploy/webhook/managed/ (its webhook "
                            "validates every creation); the operator a local process with its ServiceAccount's "
                            "token and the product's Lease; the Headlamp emulator in front of the API server "
                            "with -forwarder websocket (a held port-forward connection per forward)",
                   "targets_of_resourcepatches": "ConfigMaps shop/config-0..19 (merge patch of data)",
                   "definitions": {
                       "latency": "apply->Ready: the bench's watch seeing ADDED to it seeing Ready=True",
                       "single": "single applies: a fresh world, a PortForward and a ResourcePatch per namespace "
                                 "as a warm-up (under single.warmup), then `single_applies` applies of alternating "
                                 "kinds one at a time, each from its creation POST's answer to the bench's watch "
                                 "receiving Ready=True, the next once no event of our resources has come for "
                                 f"{SINGLE_QUIET:g} s",
                       "apiserver_requests": "apiserver_request_total from the API server's /metrics, the phase's "
                                             "growth, by verb and resource: every client's requests (the bench's "
                                             "creations and watches, the controllers', kwok's, Headlamp's, the "
                                             "operator's)"}},
        "machine": machine(),
        "sizes": {},
    }
    with tempfile.TemporaryDirectory(prefix="headlamp-bench-real-") as tmp:
        workdir = pathlib.Path(tmp)
        if options.single_applies:
            say(f"[{time.monotonic() - started:6.1f}s] real API: single applies, {options.single_applies} one at a "
                f"time on a quiet operator")
            results["single"] = await real_single(options, workdir, say)
            say(f"  {single.line(results['single'])}")
        if options.single_only:
            results["seconds"] = time.monotonic() - started
            return results
        for n in (options.n, options.n * options.factor):
            say(f"[{time.monotonic() - started:6.1f}s] real API: operator burst N={n} ({2 * n} resources)")
            results["sizes"][str(n)] = {"n": n, "operator": await real_burst(n, options, workdir, say)}
            results["config"].setdefault("peers", results["sizes"][str(n)]["operator"].get("peers"))
        small = results["sizes"][str(options.n)]["operator"]["seconds_to_all_ready"]
        large = results["sizes"][str(options.n * options.factor)]["operator"]["seconds_to_all_ready"]
        results["growth"] = {"factor": options.factor, "t_n": small, "t_4n": large,
                             "ratio": (large / small) if small and large else None}
        if options.idle:
            say(f"[{time.monotonic() - started:6.1f}s] real API: idle, {options.idle_count} PortForwards, "
                f"{options.idle_window:g} s at HEADLAMP_SYNC_INTERVAL={options.idle_interval:g}")
            results["idle"] = await real_idle(options, workdir, say)
    results["seconds"] = time.monotonic() - started
    return results
