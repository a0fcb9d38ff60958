"""The targets of issue 14, the printed table, results.json and results.png."""
from __future__ import annotations

import json
import pathlib
from typing import Any

from bench import single


def _fmt(value: Any, spec: str = ".2f", unit: str = "") -> str:
    if value is None:
        return "n/a"
    return f"{value:{spec}}{unit}"


# The targets of issue 14, for the in-memory API at `make bench`'s defaults (N=500, idle 1,000 and 4,000
# PortForwards at a 5 s interval) on the 2-core machine they were set on.
RATIO_KOPF = 0.8  # operator throughput / kopf floor throughput, same run
P99_SECONDS = 1.0  # apply->Ready at N
WRITES = {"PortForward": 2, "ResourcePatch": 1}  # Kubernetes writes per creation, Events apart
HEADLAMP_PER_RESOURCE = 1.05
GROWTH_PER_FACTOR = 1.05  # t(4N) / t(N) <= 1.05 x 4 = 4.2
IDLE_CPU_PERCENT = 2.0  # of one core, 1,000 Running PortForwards, 5 s interval
IDLE_CPU_GROWTH = 1.5  # with 4,000: at most 1.5 x that
PEAK_RSS_MB = 150.0  # at 4N


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of issue 14: name, measured value (text), the limit, and whether it holds (None: not measured)."""
    config = results["config"]
    n, big = str(config["n"]), str(config["n"] * config["factor"])
    small, large = results["sizes"][n], results["sizes"][big]
    op = small["operator"]
    per = op["per_resource"]
    rows: list[dict[str, Any]] = []

    def add(name: str, value: Any, text: str, limit: str, holds: bool | None) -> None:
        rows.append({"target": name, "value": value, "measured": text, "limit": limit, "holds": holds})

    ratio = small.get("ratio_kopf")
    add(f"throughput / kopf floor's (N={n})", ratio,
        f"{_fmt(ratio)} ({_fmt(op.get('throughput'), '.1f')} / "
        f"{_fmt(small.get('kopf_floor', {}).get('throughput'), '.1f')} res/s; at {big}: "
        f"{_fmt(large.get('ratio_kopf'))})", f">= {RATIO_KOPF:g}", None if ratio is None else ratio >= RATIO_KOPF)
    p99 = op["latency"]["p99"] if op["all_ready"] else None
    add(f"p99 apply->Ready (N={n})", p99,
        f"{_fmt(p99, '.2f', ' s')} (p50 {_fmt(op['latency']['p50'], '.2f', ' s')}, "
        f"p95 {_fmt(op['latency']['p95'], '.2f', ' s')})" if op["all_ready"]
        else f"not all Ready: {op['ready']}/{op['resources']}", f"< {P99_SECONDS:g} s",
        None if p99 is None else p99 < P99_SECONDS)
    for kind, limit in WRITES.items():
        entry = per.get(kind, {})
        writes = entry.get("writes")
        add(f"Kubernetes writes per {kind} creation", writes,
            f"{_fmt(writes)} (status {_fmt(entry.get('status_patches'))} + metadata "
            f"{_fmt(entry.get('metadata_patches'))}; events {_fmt(entry.get('events'))} apart)",
            f"<= {limit}", None if writes is None else writes <= limit + 1e-9)
    headlamp = per.get("headlamp_per_resource")
    add("Headlamp requests per resource", headlamp,
        f"{_fmt(headlamp)} (PF {_fmt(per.get('PortForward', {}).get('headlamp'))}, "
        f"RP {_fmt(per.get('ResourcePatch', {}).get('headlamp'))}, set-token "
        f"{per.get('headlamp_shared', {}).get('set-token', 0)})",
        f"<= {HEADLAMP_PER_RESOURCE:g}", None if headlamp is None else headlamp <= HEADLAMP_PER_RESOURCE + 1e-9)
    growth = results.get("growth", {}).get("ratio")
    limit_growth = GROWTH_PER_FACTOR * config["factor"]
    add(f"time growth t({config['factor']}N) / t(N)", growth,
        f"{_fmt(growth)} ({_fmt(results['growth']['t_4n'], '.1f', ' s')} / "
        f"{_fmt(results['growth']['t_n'], '.1f', ' s')})",
        f"<= {limit_growth:g}", None if growth is None else growth <= limit_growth + 1e-9)
    rows.extend(single.target(results.get("single"), limit=single.P99_MEMORY, where="in memory"))
    rows.extend(idle_targets(results))
    rss = large["operator"].get("operator", {}).get("VmHWM")
    add(f"peak RSS at {config['factor']}N (N={big})", rss, _fmt(rss, ".1f", " MB"), f"< {PEAK_RSS_MB:g} MB",
        None if rss is None else rss < PEAK_RSS_MB)
    return rows


def idle_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The idle phase's targets: CPU (and its growth to 4,000), Headlamp requests per minute, no writes."""
    idle, large = results.get("idle"), results.get("idle_large")
    rows: list[dict[str, Any]] = []
    if idle is None:
        return rows

    def add(name: str, value: Any, text: str, limit: str, holds: bool | None) -> None:
        rows.append({"target": name, "value": value, "measured": text, "limit": limit, "holds": holds})

    def ok(phase: dict[str, Any], holds: bool) -> bool | None:
        return holds if phase["all_ready"] else None  # not every forward Running: not the situation measured

    cpu = idle["operator_cpu_percent"]
    add(f"idle operator CPU ({idle['resources']} PF, interval {idle['sync_interval']:g} s)", cpu,
        f"{cpu:.2f} % of a core over {idle['window_seconds']:.0f} s", f"<= {IDLE_CPU_PERCENT:g} %",
        ok(idle, cpu <= IDLE_CPU_PERCENT))
    if large is not None:
        growth = large["operator_cpu_percent"] / cpu if cpu > 0 else None
        add(f"idle CPU with {large['resources']} PF / with {idle['resources']}", growth,
            f"{_fmt(growth)} ({large['operator_cpu_percent']:.2f} % / {cpu:.2f} %)", f"<= {IDLE_CPU_GROWTH:g}",
            None if growth is None else ok(large, growth <= IDLE_CPU_GROWTH))
    for phase in (p for p in (idle, large) if p is not None):
        rate, expected = phase["headlamp_per_minute"], phase["expected_per_minute"]
        # A window boundary may cut one health check per cluster either way.
        slack = phase["clusters"] * 60.0 / phase["window_seconds"]
        add(f"idle Headlamp requests/min ({phase['resources']} PF)", rate,
            f"{rate:.1f}/min {phase['headlamp_requests']}", f"= clusters x 60 / interval = {expected:g}",
            ok(phase, abs(rate - expected) <= slack + 1e-9))
        writes = phase["kube_writes_per_minute"]
        add(f"idle Kubernetes writes/min ({phase['resources']} PF)", writes, f"{writes:.1f}/min", "= 0",
            ok(phase, writes == 0))
    return rows


def table(results: dict[str, Any]) -> str:
    """The readable summary: figures per size, then each target and whether it holds."""
    config = results["config"]
    lines = [f"headlamp-operator benchmark: N={config['n']} and {config['factor']}N, concurrency "
             f"{config['concurrency']}, credentials={config['credentials']}, {results['machine']['cpus']} CPUs", ""]
    header = f"{'':34}" + "".join(f"{'N=' + size:>20}" for size in results["sizes"])
    lines.append(header)

    def row(label: str, get: Any) -> None:
        cells = []
        for entry in results["sizes"].values():
            try:
                cells.append(f"{get(entry):>20}")
            except (KeyError, TypeError):
                cells.append(f"{'n/a':>20}")
        lines.append(f"{label:34}" + "".join(cells))

    row("resources (PF + RP)", lambda e: str(e["operator"]["resources"]))
    row("all Ready", lambda e: f"{e['operator']['ready']}/{e['operator']['resources']}")
    row("time until all Ready", lambda e: _fmt(e["operator"]["seconds_to_all_ready"], ".2f", " s"))
    row("  of which creating (bench POSTs)", lambda e: _fmt(e["operator"]["creation_seconds"], ".2f", " s"))
    row("  each run (the median reported)", lambda e: "/".join(
        f"{run['seconds_to_all_ready']:.1f}" for run in e["operator"]["runs"]) + " s")
    row("  each run's p99", lambda e: "/".join(f"{run['p99']:.2f}" for run in e["operator"]["runs"]) + " s")
    row("throughput operator", lambda e: _fmt(e["operator"]["throughput"], ".1f", " res/s"))
    row("throughput floor", lambda e: _fmt(e["floor"]["throughput"], ".1f", " res/s"))
    row("throughput reacting floor", lambda e: _fmt(e["reacting_floor"]["throughput"], ".1f", " res/s"))
    row("throughput kopf floor", lambda e: _fmt(e["kopf_floor"]["throughput"], ".1f", " res/s"))
    row("  each run", lambda e: "/".join(f"{run['throughput']:.0f}" for run in e["kopf_floor"]["runs"]) + " res/s")
    row("ratio operator / floor", lambda e: _fmt(e["ratio"]))
    row("ratio operator / reacting floor", lambda e: _fmt(e["ratio_reacting"]))
    row("ratio operator / kopf floor", lambda e: _fmt(e["ratio_kopf"]))
    row("ratio kopf floor / reacting floor", lambda e: _fmt(e["kopf_ratio_reacting"]))
    row("apply->Ready p50", lambda e: _fmt(e["operator"]["latency"]["p50"], ".2f", " s"))
    row("apply->Ready p95", lambda e: _fmt(e["operator"]["latency"]["p95"], ".2f", " s"))
    row("apply->Ready p99", lambda e: _fmt(e["operator"]["latency"]["p99"], ".2f", " s"))
    for kind in ("PortForward", "ResourcePatch"):
        short = "PF" if kind == "PortForward" else "RP"
        row(f"K8s writes/{short} (status+meta)",
            lambda e, k=kind: f"{_fmt(e['operator']['per_resource'][k]['status_patches'])}+"
                              f"{_fmt(e['operator']['per_resource'][k]['metadata_patches'])}")
        row(f"K8s events/{short}", lambda e, k=kind: _fmt(e["operator"]["per_resource"][k]["events"]))
        row(f"Headlamp requests/{short}", lambda e, k=kind: _fmt(e["operator"]["per_resource"][k]["headlamp"]))
    row("Headlamp requests/resource", lambda e: _fmt(e["operator"]["per_resource"]["headlamp_per_resource"]))
    row("operator peak RSS (VmHWM)", lambda e: _fmt(e["operator"]["operator"]["VmHWM"], ".0f", " MB"))
    row("operator CPU during burst", lambda e: _fmt(e["operator"]["operator"]["cpu_seconds_burst"], ".1f", " s"))
    row("emulators' CPU (bench process)", lambda e: _fmt(e["operator"]["emulators_cpu_seconds"], ".1f", " s"))

    def cpu_pair(floor: dict[str, Any]) -> str:
        emulators, script = floor["emulators_cpu_seconds"], floor["floor_process_cpu_seconds"]
        return f"{_fmt(emulators, '.1f')} / {_fmt(script, '.1f', ' s')}"

    row("floor: emulators' / script CPU", lambda e: cpu_pair(e["floor"]))
    row("reacting floor: emulators' / script", lambda e: cpu_pair(e["reacting_floor"]))
    row("kopf floor: CPU during burst", lambda e: _fmt(e["kopf_floor"]["operator"]["cpu_seconds_burst"], ".1f", " s"))
    row("PF restarted by health check", lambda e: str(e["operator"]["final"]["restarted_by_health_check"]))
    row("operator log errors/warnings", lambda e: f"{e['operator']['operator_log']['errors']}/"
                                                  f"{e['operator']['operator_log']['warnings']}")
    growth = results.get("growth", {})
    lines.append("")
    lines.append(f"time grows x{_fmt(growth.get('ratio'))} from N to {config['factor']}N "
                 f"(resources x{config['factor']})")
    if results.get("single"):
        lines.append(f"single applies on a quiet operator: {single.line(results['single'])}")
    for idle in (results.get(key) for key in ("idle", "idle_large")):
        if idle is None:
            continue
        lines.append(f"idle: {idle['resources']} PortForwards ({idle['running_forwards']} running at the backend), "
                     f"HEADLAMP_SYNC_INTERVAL={idle['sync_interval']:g} s, window {idle['window_seconds']:.1f} s: "
                     f"{idle['headlamp_per_minute']:.1f} Headlamp requests/min {idle['headlamp_requests']}, "
                     f"{idle['kube_writes_per_minute']:.0f} K8s writes/min, operator CPU "
                     f"{idle['operator_cpu_percent']:.2f}%, RSS {_fmt(idle['operator'].get('VmRSS'), '.0f', ' MB')}")
        lines.append(f"      K8s requests in the window: {idle['kube_requests']}")
    lines.append("")
    if config.get("quick"):
        lines.append("--quick: smaller than the targets' sizes (N=500, 1,000 and 4,000 idle PortForwards, 30 s); "
                     "the verdicts below are indicative only")
    rows = results.get("targets") or targets(results)
    width, limits = max(len(r["target"]) for r in rows), max(len(r["limit"]) for r in rows)
    lines.append(f"{'target':{width}}  {'limit':>{limits}}  holds  measured")
    for r in rows:
        holds = {True: "yes", False: "NO", None: "n/a"}[r["holds"]]
        lines.append(f"{r['target']:{width}}  {r['limit']:>{limits}}  {holds:5}  {r['measured']}")
    return "\n".join(lines)


def write_json(results: dict[str, Any], path: pathlib.Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n")


def plot(results: dict[str, Any], path: pathlib.Path) -> bool:
    """Throughput bars (operator and the three floors at N and 4N) and the apply->Ready latency distribution."""
    try:
        import matplotlib
    except ImportError:
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = list(results["sizes"].items())
    fig, (bars, dist) = plt.subplots(1, 2, figsize=(13, 5))
    labels = [f"N={size}\n({entry['operator']['resources']} resources)" for size, entry in sizes]
    xs = range(len(sizes))
    series = [("operator", "operator", "#3b75af"),
              ("kopf_floor", "kopf floor (kopf making only the floor's calls)", "#7fa7cf"),
              ("reacting_floor", "reacting floor (the same burst, watched)", "#bbbbbb"),
              ("floor", "floor (resources pre-created)", "#777777")]
    width = 0.8 / len(series)
    values: dict[str, list[float]] = {}
    real = (results.get("real_api") or {}).get("sizes") or {}
    if real:  # the operator on the real API server, when results.json holds a --real-api run of the same sizes
        series.insert(1, ("real_api", "operator on a real kube-apiserver (--real-api)", "#2a9d8f"))
        width = 0.8 / len(series)

    def entry_of(key: str, size: str, entry: dict[str, Any]) -> dict[str, Any]:
        return ((real.get(size) or {}).get("operator") or {}) if key == "real_api" else (entry.get(key) or {})

    for i, (key, label, color) in enumerate(series):
        values[key] = [entry_of(key, size, entry).get("throughput") or 0 for size, entry in sizes]
        offset = (i - (len(series) - 1) / 2) * width
        rects = bars.bar([x + offset for x in xs], values[key], width, label=label, color=color)
        for rect, value in zip(rects, values[key], strict=True):
            bars.annotate(f"{value:.0f}", (rect.get_x() + rect.get_width() / 2, rect.get_height()),
                          ha="center", va="bottom", fontsize=8)
    for x, (_, entry) in zip(xs, sizes, strict=True):
        if entry.get("ratio_kopf") is not None:
            text = f"/ kopf floor {entry['ratio_kopf']:.2f} (/ floor {_fmt(entry.get('ratio'))})"
            bars.annotate(text, (x, max(v[x] for v in values.values()) * 1.12), ha="center", fontsize=10,
                          fontweight="bold")
    bars.set_xticks(list(xs), labels)
    bars.set_ylabel("resources / s (until all Ready)")
    bars.set_title(f"Throughput: operator vs floors (target: >= {RATIO_KOPF:g} x the kopf floor)")
    top = max([1.0, *(v for vs in values.values() for v in vs)])
    bars.set_ylim(0, top * 1.3)
    bars.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, frameon=False, fontsize=8)

    colors = ["#3b75af", "#e1812c", "#3a923a", "#c03d3e"]
    for i, (size, entry) in enumerate(sizes):
        latencies = sorted(entry["operator"]["latencies"]["PortForward"] +
                           entry["operator"]["latencies"]["ResourcePatch"])
        if not latencies:
            continue
        ys = [(k + 1) / len(latencies) for k in range(len(latencies))]
        p99 = entry["operator"]["latency"]["p99"]
        dist.plot(latencies, ys, color=colors[i % len(colors)], label=f"N={size}: p99 {p99:.2f} s")
        on_real = (real.get(size) or {}).get("operator") or {}
        if on_real.get("latencies"):
            points = sorted(on_real["latencies"]["PortForward"] + on_real["latencies"]["ResourcePatch"])
            dist.plot(points, [(k + 1) / len(points) for k in range(len(points))], color=colors[i % len(colors)],
                      linestyle="--", label=f"N={size}, real API: p99 {_fmt(on_real['latency']['p99'])} s")
    dist.axvline(P99_SECONDS, color="red", linestyle="--", linewidth=1, label=f"target p99 < {P99_SECONDS:g} s (at N)")
    dist.axhline(0.99, color="grey", linestyle=":", linewidth=1)
    dist.set_xlabel("apply -> Ready (s): creation to the status write with Ready=True")
    dist.set_ylabel("fraction of resources (CDF)")
    dist.set_title("apply->Ready latency distribution")
    dist.set_ylim(0, 1.02)
    dist.set_xlim(left=0)
    dist.legend(loc="lower right")
    fig.suptitle(f"headlamp-operator bench ({results['machine']['cpus']} CPUs, credentials="
                 f"{results['config']['credentials']}, concurrency {results['config']['concurrency']})")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
