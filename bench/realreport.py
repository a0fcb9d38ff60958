"""The printed table and the target of ``python -m bench --real-api`` (the ``real_api`` entry of results.json)."""
from __future__ import annotations

from typing import Any

from bench import single
from bench.report import _fmt

TOP = 12  # API server request lines shown per phase


def targets(real: dict[str, Any]) -> list[dict[str, Any]]:
    """On the real API server, one target: every resource of every phase gets Ready."""
    rows = []
    phases = [(f"burst N={size}", entry["operator"]) for size, entry in real["sizes"].items()]
    if real.get("idle") is not None:
        phases.append((f"idle {real['idle']['resources']} PF", real["idle"]))
    for name, phase in phases:
        rows.append({"target": f"every resource Ready ({name})", "value": phase["ready"],
                     "measured": f"{phase['ready']}/{phase['resources']}"
                                 + ("" if phase["all_ready"] else f" {phase.get('not_ready', '')}"),
                     "limit": "all", "holds": bool(phase["all_ready"])})
    rows.extend(single.target(real.get("single"), limit=single.P99_REAL, where="real API"))
    return rows


def table(real: dict[str, Any]) -> str:
    """Figures per size, the API server's request counts per resource and per idle minute, the target."""
    config = real["config"]
    peers = ", ".join(f"{k} {v}" for k, v in sorted((config.get("peers") or {}).items()))
    lines = [f"headlamp-operator benchmark on a real API server: N={config['n']} and {config['factor']}N, "
             f"concurrency {config['concurrency']}, {real['machine']['cpus']} CPUs ({peers})",
             "Headlamp: the project's emulator in front of kube-apiserver, in-process forwards through kwok; "
             "ResourcePatches patch ConfigMaps", ""]
    sizes = real["sizes"]
    lines.append(f"{'':36}" + "".join(f"{'N=' + size:>16}" for size in sizes))

    def row(label: str, get: Any) -> None:
        cells = []
        for entry in sizes.values():
            try:
                cells.append(f"{get(entry['operator']):>16}")
            except (KeyError, TypeError, ZeroDivisionError):
                cells.append(f"{'n/a':>16}")
        lines.append(f"{label:36}" + "".join(cells))

    row("resources (PF + RP)", lambda e: str(e["resources"]))
    row("all Ready", lambda e: f"{e['ready']}/{e['resources']}")
    row("time until all Ready", lambda e: _fmt(e["seconds_to_all_ready"], ".2f", " s"))
    row("  of which creating (bench POSTs)", lambda e: _fmt(e["creation_seconds"], ".2f", " s"))
    row("throughput operator", lambda e: _fmt(e["throughput"], ".1f", " res/s"))
    for q in ("p50", "p95", "p99"):
        row(f"apply->Ready {q}", lambda e, q=q: _fmt(e["latency"][q], ".2f", " s"))
    for kind, short in (("PortForward", "PF"), ("ResourcePatch", "RP")):
        row(f"K8s writes/{short} (status+meta)", lambda e, k=kind: f"{_fmt(e['per_resource'][k]['status_patches'])}+"
                                                                  f"{_fmt(e['per_resource'][k]['metadata_patches'])}")
        row(f"K8s events/{short}", lambda e, k=kind: _fmt(e["per_resource"][k]["events"]))
        row(f"Headlamp requests/{short}", lambda e, k=kind: _fmt(e["per_resource"][k]["headlamp"]))
    row("Headlamp requests/resource", lambda e: _fmt(e["per_resource"]["headlamp_per_resource"]))
    row("API server requests/resource", lambda e: _fmt(e["apiserver_attributed"]["all_requests"], ".1f"))
    row("open port-forward connections", lambda e: f"{e['open_portforward_connections']:.0f}")
    row("operator peak RSS (VmHWM)", lambda e: _fmt(e["operator"]["VmHWM"], ".0f", " MB"))
    row("operator CPU during burst", lambda e: _fmt(e["operator"]["cpu_seconds_burst"], ".1f", " s"))
    for name in ("kube-apiserver", "etcd", "headlamp", "kwok"):
        row(f"{name} CPU during burst", lambda e, n=name: _fmt(e["cpu_seconds_others"][n], ".1f", " s"))
    row("operator log errors/warnings", lambda e: f"{e['operator_log']['errors']}/{e['operator_log']['warnings']}")
    growth = real.get("growth", {})
    if real.get("single"):
        lines += ["", f"single applies on a quiet operator: {single.line(real['single'])}"]
    lines += ["", f"time grows x{_fmt(growth.get('ratio'))} from N to {config['factor']}N "
                  f"(resources x{config['factor']})", ""]
    for size, entry in sizes.items():
        op = entry["operator"]
        lines.append(f"API server requests per resource created, N={size} ({op['resources']} resources; "
                     f"apiserver_request_total, every client):")
        lines += _columns([(key, value / op["resources"]) for key, value in op["apiserver_requests"].items()],
                          ".2f")
        if op.get("apiserver_failed"):
            lines.append(f"    of which no success: {op['apiserver_failed']}")
    idle = real.get("idle")
    if idle is not None:
        lines += ["", f"idle: {idle['resources']} PortForwards, HEADLAMP_SYNC_INTERVAL={idle['sync_interval']:g} s, "
                      f"window {idle['window_seconds']:.0f} s: {idle['headlamp_per_minute']:.1f} Headlamp "
                      f"requests/min (expected {idle['expected_per_minute']:g}), operator CPU "
                      f"{idle['operator_cpu_percent']:.2f} %, writes to our resources "
                      f"{idle['our_resources_writes_per_minute']:.1f}/min, all API server writes "
                      f"{idle['apiserver_writes_per_minute']:.1f}/min",
                  "      CPU % of a core: " + ", ".join(f"{k} {v:.1f}" for k, v in idle["cpu_percent_others"].items()),
                  "API server requests per idle minute (every client):"]
        lines += _columns(list(idle["apiserver_per_minute"].items()), ".1f")
        if idle.get("apiserver_failed"):
            lines.append(f"    of which no success (in the window): {idle['apiserver_failed']}")
        lines.append(f"    port-forward connections open at the end: {idle.get('open_portforward_connections', 0):.0f}")
    lines.append("")
    rows = real.get("targets") or targets(real)
    width = max(len(r["target"]) for r in rows)
    limits = max(6, *(len(r["limit"]) for r in rows))
    lines.append(f"{'target':{width}}  {'limit':>{limits}}  holds  measured")
    for r in rows:
        holds = {True: "yes", False: "NO", None: "n/a"}[r["holds"]]
        lines.append(f"{r['target']:{width}}  {r['limit']:>{limits}}  {holds:5}  {r['measured']}")
    return "\n".join(lines)


def _columns(pairs: list[tuple[str, float]], spec: str) -> list[str]:
    """The largest ``TOP`` counts, three to a line; the rest summed."""
    ordered = sorted(pairs, key=lambda kv: -kv[1])
    shown, rest = ordered[:TOP], ordered[TOP:]
    cells = [f"{key:<34}{value:>8{spec}}" for key, value in shown]
    if rest:
        cells.append(f"{f'({len(rest)} more)':<34}{sum(v for _, v in rest):>8{spec}}")
    return ["    " + "   ".join(cells[i:i + 3]) for i in range(0, len(cells), 3)]
