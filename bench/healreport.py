"""The summary and the table of ``python -m bench --heal``: p50, p95, p99 and the worst per figure and per kind.

``live`` is the time to traffic from the moment a live pod exists (:func:`_live`): the figure the issue's 2 s
target is about, since a pod forward's pod is absent for ``recreate_after`` seconds by design.

A heal that was not done within the timeout enters ``traffic`` (and ``status_truth``, if the status never
stopped claiming the dead pod) at the timeout, and is counted under ``failed``: its figure is a lower
bound, and the table marks a worst that is one with ``>=``.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bench.burst import percentile

FIGURES = {  # key in a heal -> the table's label
    "traffic": "time to traffic (s)",
    "outage": "outage: port failing (s)",
    "status_truth": "status claims the dead pod (s)",
    "requests": "Headlamp requests per heal",
    "back_after_recreation": "traffic after the pod's recreation (s)",
    "live": "time to traffic once a live pod exists (s)",
}
GROUPS = ("all", "service", "pod")


def _figure(values: Sequence[float], censored: int) -> dict[str, Any]:
    if not values:
        return {"n": 0}
    return {"n": len(values), "p50": percentile(values, 50), "p95": percentile(values, 95),
            "p99": percentile(values, 99), "worst": max(values), "worst_is_timeout": censored > 0}


def _live(heal: Mapping[str, Any]) -> float | None:
    """Time to traffic from the moment a live pod exists: a service's other pods run all along (from the
    deletion), a pod forward's pod is back only once recreated (from its creation: the bench waits
    ``recreate_after`` seconds, as a StatefulSet's controller would take)."""
    if heal["traffic"] is None:
        return None
    value = heal["traffic"] if heal["kind"] == "service" else heal.get("back_after_recreation")
    return None if value is None else float(value)


def summarize(heals: Sequence[Mapping[str, Any]], *, timeout: float) -> dict[str, Any]:
    """Per group (all, service, pod): every figure's percentiles, the failures, the ports kept."""
    result: dict[str, Any] = {}
    for group in GROUPS:
        chosen = [h for h in heals if group == "all" or h["kind"] == group]
        measured = [h for h in chosen if h["dead_pod"]]  # not: the forward never got steady before
        failed = [h for h in measured if h["traffic"] is None]
        entry: dict[str, Any] = {"heals": len(chosen), "healed": len(measured) - len(failed), "failed": len(failed),
                                 "never_steady": len(chosen) - len(measured),
                                 "port_kept": sum(1 for h in measured if h["port_kept"])}
        for key in FIGURES:
            if key == "back_after_recreation" and group != "pod":
                continue
            values: list[float] = []
            censored = 0
            for heal in measured:
                value = _live(heal) if key == "live" else heal.get(key)
                if value is None and key in ("traffic", "status_truth", "live"):
                    value, censored = timeout, censored + 1
                if value is not None:
                    values.append(round(float(value), 3))
            entry[key] = _figure(values, censored)
        result[group] = entry
    return result


def _cell(figure: Mapping[str, Any], name: str, unit: str) -> str:
    value = figure.get(name)
    if value is None:
        return "-"
    text = f"{value:.0f}" if unit == "n" else f"{value:.2f}"
    return (">=" + text) if name == "worst" and figure.get("worst_is_timeout") else text


def table(heal: Mapping[str, Any]) -> str:
    """The printed table, as bench/README.md quotes it: one row per figure and kind."""
    summary = heal["summary"]
    config = heal["config"]
    lines = [f"heal: {config.get('headlamp')}, HEADLAMP_SYNC_INTERVAL {config['sync_interval']}, "
             f"{config['deletions']} deletions, timeout {config['timeout']:g} s per heal, "
             f"pod recreated after {config['recreate_after']:g} s",
             "",
             "| figure | kind | p50 | p95 | p99 | worst |",
             "|---|---|---|---|---|---|"]
    for key, label in FIGURES.items():
        for group in GROUPS:
            figure = summary[group].get(key)
            if not figure or not figure.get("n"):
                continue
            unit = "n" if key == "requests" else "s"
            lines.append(f"| {label} | {group} | " + " | ".join(_cell(figure, q, unit)
                                                               for q in ("p50", "p95", "p99", "worst")) + " |")
    for group in GROUPS:
        entry = summary[group]
        lines.append(f"| healed / failed (timeout) / never steady; port kept | {group} | "
                     f"{entry['healed']} / {entry['failed']} / {entry['never_steady']}; "
                     f"{entry['port_kept']} of {entry['heals'] - entry['never_steady']} | | | |")
    return "\n".join(lines)
