"""The phases of ``make bench``: N and 4N bursts with their floors, then the idle phases (1,000 and 4,000)."""
from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
import os
import pathlib
import platform
import re
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench import burst, process, single, workload
from bench.world import classify_headlamp, classify_kube, world
from headlamp_operator_testing import process as testing_process

ROOT = pathlib.Path(__file__).resolve().parents[1]
BURST_SYNC_INTERVAL = 30.0  # the operator's default: no health check runs during a burst
SINGLE_QUIET = 0.3  # seconds without a write after an apply's Ready before the next (its Event, echoes)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Options:
    n: int = 500
    factor: int = 4
    concurrency: int = 32  # = HEADLAMP_MAX_CONCURRENCY's default: the operator's requests in flight per cluster
    credentials: workload.Credentials = "token"
    idle_count: int = 1000
    idle_interval: float = 5.0
    idle_window: float = 30.0  # seconds measured, after one interval of warm-up
    idle_factor: int = 4  # the second idle phase has idle_factor x idle_count PortForwards (1: none)
    floor: bool = True
    idle: bool = True
    timeout: float | None = None  # per burst; default 60 s + 0.1 s per resource
    startup_timeout: float = 60.0
    keep_logs: pathlib.Path | None = None  # copy the operator logs here
    quick: bool = False  # --quick: sizes below the targets' (recorded, and said in the table)
    operator: str | None = None  # the headlamp-operator to measure (make bench: a runtime-only install, as the image)
    repeats: int = 3  # runs of each operator and kopf-floor burst; the median one is reported
    single_applies: int = single.COUNT  # applies of the single-apply phase, one at a time (0: none)
    single_only: bool = False  # the single-apply phase alone (no bursts, floors or idle phases)


    def burst_timeout(self, resources: int) -> float:
        return self.timeout if self.timeout is not None else 60.0 + 0.1 * resources


Say = Callable[[str], None]


def log_summary(text: str) -> dict[str, Any]:
    """What the operator's log says about trouble (kopf logs handler retries and failures)."""
    lines = text.splitlines()
    return {
        "lines": len(lines),
        "errors": sum(1 for line in lines if re.search(r"\bERROR\b|Traceback", line)),
        "warnings": sum(1 for line in lines if re.search(r"\bWARNING\b", line)),
        "first_errors": [line[:300] for line in lines if re.search(r"\bERROR\b|Traceback", line)][:5],
    }


async def operator_burst(n: int, options: Options, workdir: pathlib.Path, say: Say) -> dict[str, Any]:
    """Fresh emulators, the operator process, a burst of N + N resources; measured."""
    items = workload.items(n)
    async with world(workdir, credentials=options.credentials) as w, \
            process.operator(w, workdir, credentials=options.credentials, sync_interval=BURST_SYNC_INTERVAL,
                             command=options.operator,
                             name=f"burst-{n}", startup_timeout=options.startup_timeout) as op:
        say(f"  operator ready (pid {op.pid}); creating {len(items)} resources, {options.concurrency} at a time")
        result = await burst.run_burst(w, op, items, concurrency=options.concurrency, credentials=options.credentials,
                                       timeout=options.burst_timeout(len(items)), say=say)
        result["operator_log"] = log_summary(op.log())
        _keep_log(op, options)
    return result


async def kopf_floor_burst(n: int, options: Options, workdir: pathlib.Path, say: Say) -> dict[str, Any]:
    """The same burst against a kopf operator that does only the floor's work (bench/kopf_floor.py)."""
    items = workload.items(n)
    async with world(workdir, credentials=options.credentials) as w, \
            process.operator(w, workdir, credentials=options.credentials, sync_interval=BURST_SYNC_INTERVAL,
                             command=options.operator,
                             name=f"kopf-floor-{n}", startup_timeout=options.startup_timeout,
                             kopf_module="bench.kopf_floor") as op:
        result = await burst.run_burst(w, op, items, concurrency=options.concurrency, credentials=options.credentials,
                                       timeout=options.burst_timeout(len(items)), say=say)
        result["operator_log"] = log_summary(op.log())
        _keep_log(op, options)
    return result


async def floor_burst(n: int, options: Options, workdir: pathlib.Path) -> dict[str, Any]:
    """Fresh emulators holding the resources; the floor script as its own process."""
    items = workload.items(n)
    async with world(workdir, credentials=options.credentials) as w:
        w.preload(items, credentials=options.credentials)
        kube_mark, hl_mark = w.mark()
        own_before, children_before = burst.own_cpu(), _children_cpu()
        command = [sys.executable, "-m", "bench.floor", "--kube", w.kube_url, "--headlamp", w.hl_url,
                   "--n", str(n), "--concurrency", str(options.concurrency)]
        child = await asyncio.create_subprocess_exec(*command, cwd=str(ROOT), stdout=asyncio.subprocess.PIPE,
                                                     stderr=asyncio.subprocess.PIPE)
        try:
            out, err = await asyncio.wait_for(child.communicate(), timeout=options.burst_timeout(len(items)))
        except TimeoutError:
            child.kill()
            await child.wait()
            raise RuntimeError("the floor did not finish in time") from None
        if child.returncode != 0:
            raise RuntimeError(f"the floor failed ({child.returncode}): {err.decode(errors='replace')[-2000:]}")
        result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
        result["emulators_cpu_seconds"] = burst.own_cpu() - own_before
        result["floor_process_cpu_seconds"] = _children_cpu() - children_before
        result["kube_requests"] = classify_kube(w.kube_requests()[kube_mark:])
        result["headlamp_requests"] = classify_headlamp(w.hl.requests[hl_mark:])
        ready = sum(1 for item in items if item.key in w.tracker.ready)
        result["all_ready"] = ready == len(items)
    return result


async def reacting_floor_burst(n: int, options: Options, workdir: pathlib.Path, say: Say) -> dict[str, Any]:
    """The floor that meets the operator's burst: fresh emulators, ``bench.floor --react`` watching,
    the same creation burst, measured by the same code (first creation POST to last Ready write)."""
    items = workload.items(n)
    async with world(workdir, credentials=options.credentials) as w:
        children_before = _children_cpu()
        command = [sys.executable, "-m", "bench.floor", "--react", "--kube", w.kube_url, "--headlamp", w.hl_url,
                   "--n", str(n), "--concurrency", str(options.concurrency)]
        child = await asyncio.create_subprocess_exec(*command, cwd=str(ROOT), stdout=asyncio.subprocess.PIPE,
                                                     stderr=asyncio.subprocess.PIPE)
        outcome = asyncio.ensure_future(child.communicate())
        try:
            deadline = time.monotonic() + options.startup_timeout
            while not all(w.kube.watching(workload.GROUP, workload.VERSION, plural, None)
                          for plural in workload.PLURALS.values()):
                if outcome.done() or time.monotonic() > deadline:
                    raise RuntimeError("the reacting floor did not start watching")
                await asyncio.sleep(0.05)
            result = await burst.run_burst(w, None, items, concurrency=options.concurrency,
                                           credentials=options.credentials,
                                           timeout=options.burst_timeout(len(items)), say=say)
            out, err = await asyncio.wait_for(outcome, timeout=options.burst_timeout(len(items)))
        finally:
            if child.returncode is None:
                child.kill()
            await asyncio.gather(outcome, return_exceptions=True)
        if child.returncode != 0:
            raise RuntimeError(f"the reacting floor failed ({child.returncode}): "
                               f"{err.decode(errors='replace')[-2000:]}")
        result["floor_process"] = json.loads(out.decode().strip().splitlines()[-1])
        result["floor_process_cpu_seconds"] = _children_cpu() - children_before
    return result


async def median_run(repeats: int, run: Callable[[], Awaitable[dict[str, Any]]], say: Say) -> dict[str, Any]:
    """Run a burst ``repeats`` times; the run with the median time to all Ready, every run's figures in ``runs``.

    One run of a burst on a shared 2-core machine varies by a third (the bench's creations, the other
    process's CPU): a verdict on one run flipped between runs. The median run is a whole run (its
    latencies, counts and memory together), not a mix of figures from several.
    """
    runs: list[dict[str, Any]] = []
    for attempt in range(repeats):
        if repeats > 1:
            say(f"  run {attempt + 1} of {repeats}")
        runs.append(await run())
    ordered = sorted(runs, key=lambda r: r.get("seconds_to_all_ready") or float("inf"))
    chosen = dict(ordered[(len(ordered) - 1) // 2])
    chosen["runs"] = [{"seconds_to_all_ready": r.get("seconds_to_all_ready"), "throughput": r.get("throughput"),
                       "p99": (r.get("latency") or {}).get("p99"), "all_ready": r.get("all_ready"),
                       "cpu_seconds_burst": (r.get("operator") or {}).get("cpu_seconds_burst")} for r in runs]
    return chosen


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _keep_log(op: process.Operator, options: Options) -> None:
    if options.keep_logs is not None:
        options.keep_logs.mkdir(parents=True, exist_ok=True)
        (options.keep_logs / op.log_path.name).write_text(op.log())


async def single_phase(options: Options, workdir: pathlib.Path, say: Say) -> dict[str, Any]:
    """A fresh operator with nothing to do; ``options.single_applies`` applies one at a time (:mod:`bench.single`)."""
    applies = single.items(options.single_applies)
    async with world(workdir, credentials=options.credentials) as w, \
            process.operator(w, workdir, credentials=options.credentials, sync_interval=BURST_SYNC_INTERVAL,
                             command=options.operator, name="single",
                             startup_timeout=options.startup_timeout) as op, \
            single.Poster(w.kube_url, credentials=options.credentials) as poster:
        say(f"  operator ready (pid {op.pid}); {len(applies[0])} warm-up applies, "
            f"then {options.single_applies} measured")
        kube_mark, hl_mark = w.mark()
        cpu_before = op.cpu()
        result = await single.measure(applies, create=poster.create, ready=w.tracker.ready, writes=w.tracker.writes,
                                      quiet=SINGLE_QUIET, alive=op.alive)
        result["operator_cpu_seconds"] = op.cpu() - cpu_before
        result["kube_requests"] = classify_kube(w.kube_requests()[kube_mark:])
        result["headlamp_requests"] = classify_headlamp(w.hl.requests[hl_mark:])
        result["operator_log"] = log_summary(op.log())
        _keep_log(op, options)
    return result


async def idle_phase(options: Options, workdir: pathlib.Path, say: Say, *, count: int | None = None) -> dict[str, Any]:
    """``count`` (default ``idle_count``) Running PortForwards left alone for ``idle_window`` seconds:
    the operator's CPU, Headlamp requests and Kubernetes writes per minute."""
    interval = options.idle_interval
    items = workload.portforwards(count or options.idle_count, prefix="idle-")
    async with world(workdir, credentials=options.credentials) as w, \
            process.operator(w, workdir, credentials=options.credentials, sync_interval=interval,
                             command=options.operator,
                             name=f"idle-{len(items)}", startup_timeout=options.startup_timeout) as op:
        say(f"  operator ready (pid {op.pid}, HEADLAMP_SYNC_INTERVAL={interval:g}); "
            f"creating {len(items)} PortForwards")
        created = await burst.run_burst(w, op, items, concurrency=options.concurrency,
                                        credentials=options.credentials, timeout=options.burst_timeout(len(items)),
                                        quiet=min(2.0, interval / 2), say=say)
        # Let every forward pass its first health check, then measure the window.
        await asyncio.sleep(interval)
        kube_mark, hl_mark = w.mark()
        writes_before = len(w.tracker.writes)
        cpu_before = op.cpu()
        start = time.monotonic()
        await asyncio.sleep(options.idle_window)
        end = time.monotonic()
        cpu = op.cpu() - cpu_before
        records = [r for r in w.hl.requests[hl_mark:] if start <= r.time < end]
        headlamp = classify_headlamp(records)
        kube = classify_kube(w.kube_requests()[kube_mark:])
        running = sum(1 for f in w.hl.forwards if f.status == "Running")
        clusters = len(w.hl.clusters)
        result = {
            "resources": len(items),
            "all_ready": created["all_ready"],
            "ready": created["ready"],
            "running_forwards": running,
            "sync_interval": interval,
            "window_seconds": end - start,
            "clusters": clusters,
            "headlamp_requests": headlamp,
            "headlamp_per_minute": len(records) / (end - start) * 60.0,
            "expected_per_minute": clusters * 60.0 / interval,
            "kube_requests": kube,
            "kube_writes_per_minute": (len(w.tracker.writes) - writes_before) / (end - start) * 60.0,
            "operator_cpu_percent": 100.0 * cpu / (end - start),
            "operator": {"cpu_seconds_total": op.cpu(), **op.memory()},
            "creation": {key: created[key] for key in ("seconds_to_all_ready", "throughput", "latency")},
        }
        result["operator_log"] = log_summary(op.log())
        _keep_log(op, options)
    return result


def machine() -> dict[str, Any]:
    from importlib import metadata

    versions: dict[str, str | None] = {}
    for name in ("kopf", "aiohttp", "kmock", "kubernetes"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
            "versions": versions}


async def run_all(options: Options, *, say: Say = print) -> dict[str, Any]:
    """Every phase, in order; returns the whole result document (targets evaluated by :mod:`bench.report`)."""
    started = time.monotonic()
    results: dict[str, Any] = {
        "config": {**{k: str(v) if isinstance(v, pathlib.Path) else v for k, v in dataclasses.asdict(options).items()},
                   "operator_command": [options.operator or " ".join(testing_process.operator_command()),
                                        "run", "--standalone", "--all-namespaces"],
                   "burst_sync_interval": BURST_SYNC_INTERVAL,
                   "credentials_note": ("token Secrets: every resource references a Secret 'viewer' (key token) in "
                                        "its namespace, one token per namespace (10 namespaces)"
                                        if options.credentials == "token" else
                                        "anonymous: HEADLAMP_ALLOW_ANONYMOUS=true, no spec.credentials"),
                   "definitions": {
                       "throughput": "resources / seconds from the first creation POST until the last Ready status "
                                     "write; the operator's time includes the bench creating the resources",
                       "floor": "python -m bench.floor in its own process: per resource one Headlamp call (POST "
                                "portforward to a known pod and port, or the PATCH of the target) and one status "
                                "patch, `concurrency` at a time, against fresh emulators already holding the "
                                "resources (no creation, watch, discovery, session, finalizer or event)",
                       "latency": "apply->Ready: the resource's ADDED commit to the status commit with Ready=True, "
                                  "read from the emulator's store",
                       "writes": "PATCH/PUT of our resources from the emulator's request log: status = the status "
                                 "subresource, metadata = the main resource (finalizers, kopf annotations); "
                                 "events (POST core/v1 events) apart",
                       "repeats": "each operator burst and each kopf-floor burst runs `repeats` times; the run "
                                  "with the median time to all Ready is reported whole, every run's figures under "
                                  "`runs`",
                       "idle": "Headlamp requests, Kubernetes writes and the operator's CPU in a window of "
                               "idle_window seconds, after one sync interval of warm-up once every PortForward is "
                               "Ready; idle with idle_count PortForwards, idle_large with idle_factor times as many",
                       "single": "single applies: a fresh operator, a PortForward and a ResourcePatch per "
                                 "namespace as a warm-up (under single.warmup), then `single_applies` applies of "
                                 "alternating kinds one at a time, each from its creation's API answer to the "
                                 "emulator's commit of its Ready status, the next once nothing has been written "
                                 f"for {SINGLE_QUIET:g} s"}},
        "machine": machine(),
        "sizes": {},
    }
    with tempfile.TemporaryDirectory(prefix="headlamp-bench-") as tmp:
        workdir = pathlib.Path(tmp)
        if options.single_applies:
            say(f"[{time.monotonic() - started:6.1f}s] single applies: {options.single_applies}, one at a time, "
                f"on a quiet operator")
            results["single"] = await single_phase(options, workdir, say)
            say(f"  {single.line(results['single'])}")
        if options.single_only:
            results["seconds"] = time.monotonic() - started
            return results
        for n in (options.n, options.n * options.factor):
            say(f"[{time.monotonic() - started:6.1f}s] operator burst: N={n} ({2 * n} resources)")
            entry: dict[str, Any] = {"n": n, "operator": await median_run(
                options.repeats, functools.partial(operator_burst, n, options, workdir, say), say)}
            if options.floor:
                say(f"[{time.monotonic() - started:6.1f}s] floor: N={n}")
                entry["floor"] = await floor_burst(n, options, workdir)
                say(f"[{time.monotonic() - started:6.1f}s] reacting floor: N={n} (the same burst, watched)")
                entry["reacting_floor"] = await reacting_floor_burst(n, options, workdir, say)
                say(f"[{time.monotonic() - started:6.1f}s] kopf floor: N={n} (kopf making only the floor's calls)")
                entry["kopf_floor"] = await median_run(
                    options.repeats, functools.partial(kopf_floor_burst, n, options, workdir, say), say)
                op_tp = entry["operator"].get("throughput")
                floor_tp, reacting_tp = entry["floor"].get("throughput"), entry["reacting_floor"].get("throughput")
                entry["ratio"] = (op_tp / floor_tp) if op_tp and floor_tp else None
                entry["ratio_reacting"] = (op_tp / reacting_tp) if op_tp and reacting_tp else None
                kopf_tp = entry["kopf_floor"].get("throughput")
                entry["ratio_kopf"] = (op_tp / kopf_tp) if op_tp and kopf_tp else None
                entry["kopf_ratio_reacting"] = (kopf_tp / reacting_tp) if kopf_tp and reacting_tp else None
            results["sizes"][str(n)] = entry
        small, large = results["sizes"][str(options.n)], results["sizes"][str(options.n * options.factor)]
        t_small, t_large = small["operator"]["seconds_to_all_ready"], large["operator"]["seconds_to_all_ready"]
        results["growth"] = {"factor": options.factor, "t_n": t_small, "t_4n": t_large,
                             "ratio": (t_large / t_small) if t_small and t_large else None}
        if options.idle:
            for key, count in (("idle", options.idle_count), ("idle_large", options.idle_count * options.idle_factor)):
                if key == "idle_large" and options.idle_factor <= 1:
                    continue
                say(f"[{time.monotonic() - started:6.1f}s] {key}: {count} PortForwards, {options.idle_window:g} s "
                    f"at HEADLAMP_SYNC_INTERVAL={options.idle_interval:g}")
                results[key] = await idle_phase(options, workdir, say, count=count)
    results["seconds"] = time.monotonic() - started
    return results
