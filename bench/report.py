"""The targets of issue 6, the printed table, results.json and results.png."""
from __future__ import annotations

import json
import pathlib
from typing import Any


def _fmt(value: Any, spec: str = ".2f", unit: str = "") -> str:
    if value is None:
        return "n/a"
    return f"{value:{spec}}{unit}"


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target: name, measured value (text), the limit, and whether it holds (None: not measured)."""
    config = results["config"]
    n, big = str(config["n"]), str(config["n"] * config["factor"])
    small, large = results["sizes"][n], results["sizes"][big]
    op = small["operator"]
    per = op["per_resource"]
    rows: list[dict[str, Any]] = []

    def add(name: str, value: Any, text: str, limit: str, holds: bool | None) -> None:
        rows.append({"target": name, "value": value, "measured": text, "limit": limit, "holds": holds})

    ratio = small.get("ratio")
    add(f"ratio = operator / floor throughput (N={n})", ratio,
        f"{_fmt(ratio)} ({_fmt(op.get('throughput'), '.1f')} / {_fmt(small.get('floor', {}).get('throughput'), '.1f')}"
        " res/s)", ">= 0.5", None if ratio is None else ratio >= 0.5)
    for kind, limit in (("PortForward", 3), ("ResourcePatch", 2)):
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
        "<= 1.1", None if headlamp is None else headlamp <= 1.1)
    p99 = op["latency"]["p99"] if op["all_ready"] else None
    add(f"p99 apply->Ready (N={n})", p99,
        f"{_fmt(p99, '.2f', ' s')} (p50 {_fmt(op['latency']['p50'], '.2f', ' s')}, "
        f"p95 {_fmt(op['latency']['p95'], '.2f', ' s')})" if op["all_ready"]
        else f"not all Ready: {op['ready']}/{op['resources']}", "< 5 s", None if p99 is None else p99 < 5.0)
    growth = results.get("growth", {}).get("ratio")
    add(f"time growth t({config['factor']}N) / t(N)", growth,
        f"{_fmt(growth)} ({_fmt(results['growth']['t_4n'], '.1f', ' s')} / "
        f"{_fmt(results['growth']['t_n'], '.1f', ' s')})",
        f"<= {1.125 * config['factor']:g}", None if growth is None else growth <= 1.125 * config["factor"])
    idle = results.get("idle")
    if idle is not None:
        rate, expected = idle["headlamp_per_minute"], idle["expected_per_minute"]
        add(f"idle Headlamp requests/min ({idle['resources']} PF, interval {idle['sync_interval']:g} s)", rate,
            f"{rate:.1f}/min (expected {expected:g}/min; {idle['headlamp_requests']})",
            f"= clusters x 60 / interval = {expected:g}",
            idle["all_ready"] and rate <= expected * 1.05)
    rss = large["operator"].get("operator", {}).get("VmHWM")
    add(f"peak RSS at {config['factor']}N (N={big})", rss, _fmt(rss, ".0f", " MB"), "< 250 MB",
        None if rss is None else rss < 250.0)
    return rows


def table(results: dict[str, Any]) -> str:
    """The readable summary: figures per size, then each target and whether it holds."""
    config = results["config"]
    lines = [f"headlamp-operator benchmark: N={config['n']} and {config['factor']}N, concurrency "
             f"{config['concurrency']}, credentials={config['credentials']}, {results['machine']['cpus']} CPUs", ""]
    header = f"{'':34}" + "".join(f"{'N=' + size:>16}" for size in results["sizes"])
    lines.append(header)

    def row(label: str, get: Any) -> None:
        cells = []
        for entry in results["sizes"].values():
            try:
                cells.append(f"{get(entry):>16}")
            except (KeyError, TypeError):
                cells.append(f"{'n/a':>16}")
        lines.append(f"{label:34}" + "".join(cells))

    row("resources (PF + RP)", lambda e: str(e["operator"]["resources"]))
    row("all Ready", lambda e: f"{e['operator']['ready']}/{e['operator']['resources']}")
    row("time until all Ready", lambda e: _fmt(e["operator"]["seconds_to_all_ready"], ".2f", " s"))
    row("  of which creating (bench POSTs)", lambda e: _fmt(e["operator"]["creation_seconds"], ".2f", " s"))
    row("throughput operator", lambda e: _fmt(e["operator"]["throughput"], ".1f", " res/s"))
    row("throughput floor", lambda e: _fmt(e["floor"]["throughput"], ".1f", " res/s"))
    row("throughput reacting floor", lambda e: _fmt(e["reacting_floor"]["throughput"], ".1f", " res/s"))
    row("throughput kopf floor", lambda e: _fmt(e["kopf_floor"]["throughput"], ".1f", " res/s"))
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
    idle = results.get("idle")
    if idle is not None:
        lines.append(f"idle: {idle['resources']} PortForwards ({idle['running_forwards']} running at the backend), "
                     f"HEADLAMP_SYNC_INTERVAL={idle['sync_interval']:g} s, window {idle['window_seconds']:.1f} s: "
                     f"{idle['headlamp_per_minute']:.1f} Headlamp requests/min {idle['headlamp_requests']}, "
                     f"{idle['kube_writes_per_minute']:.0f} K8s writes/min, operator CPU "
                     f"{idle['operator_cpu_percent']:.0f}%")
        lines.append(f"      K8s requests in the window: {idle['kube_requests']}")
    lines.append("")
    rows = results.get("targets") or targets(results)
    width = max(len(r["target"]) for r in rows)
    lines.append(f"{'target':{width}}  {'limit':>22}  holds  measured")
    for r in rows:
        holds = {True: "yes", False: "NO", None: "n/a"}[r["holds"]]
        lines.append(f"{r['target']:{width}}  {r['limit']:>22}  {holds:5}  {r['measured']}")
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
    for i, (key, label, color) in enumerate(series):
        values[key] = [(entry.get(key) or {}).get("throughput") or 0 for _, entry in sizes]
        offset = (i - (len(series) - 1) / 2) * width
        rects = bars.bar([x + offset for x in xs], values[key], width, label=label, color=color)
        for rect, value in zip(rects, values[key], strict=True):
            bars.annotate(f"{value:.0f}", (rect.get_x() + rect.get_width() / 2, rect.get_height()),
                          ha="center", va="bottom", fontsize=8)
    for x, (_, entry) in zip(xs, sizes, strict=True):
        if entry.get("ratio") is not None:
            text = f"ratio {entry['ratio']:.2f} (reacting {_fmt(entry.get('ratio_reacting'))})"
            bars.annotate(text, (x, max(v[x] for v in values.values()) * 1.12), ha="center", fontsize=10,
                          fontweight="bold")
    bars.set_xticks(list(xs), labels)
    bars.set_ylabel("resources / s (until all Ready)")
    bars.set_title("Throughput: operator vs floor (target ratio >= 0.5)")
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
    dist.axvline(5.0, color="red", linestyle="--", linewidth=1, label="target p99 < 5 s (at N)")
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
