"""Prometheus metrics (docs/operations.md#metrics-probes-events-and-logs): what users alert on, in the style of
cert-manager's and Flux's.

==============================================  =========  ============================================
metric                                          type       labels
==============================================  =========  ============================================
headlamp_operator_resource_ready_status         gauge      kind, namespace, name, condition (True,
                                                           False, Unknown): 1 for the Ready condition's
                                                           current status, 0 for the two others, as
                                                           cert-manager's certmanager_certificate_ready_status
headlamp_operator_resources                     gauge      kind, phase: how many resources are in it
headlamp_operator_reconcile_duration_seconds    histogram  kind: one reconcile, from the handler's start
                                                           to the outcome (requests to Headlamp included)
headlamp_operator_reconciles_total              counter    kind, result (the phase it ended in)
headlamp_operator_backend_requests_total        counter    cluster, method, status
headlamp_operator_backend_request_seconds       histogram  method
headlamp_operator_build_info                    gauge (1)  version, python_version, kopf_version
headlamp_operator_drift_corrections_total       counter    namespace, name (of the ResourcePatch): re-applies
                                                           that changed the target (another writer undid
                                                           the patch: docs/resourcepatch.md#drift)
==============================================  =========  ============================================

The two resource gauges are read at scrape time from what the operator sees in the API (each
resource's ``status.phase`` and Ready condition, noted on every event of the kind), so they are right after
a restart and forget a deleted resource by themselves. Labels carry kinds, namespaces, names, cluster
names, methods, statuses and phases: never a token, a Secret's name, or anything else a user could
make secret.
"""
from __future__ import annotations

import dataclasses
import importlib.metadata
import platform
from collections import Counter as Tally
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import prometheus_client
from aiohttp import web
from prometheus_client.aiohttp import make_aiohttp_handler
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

import headlamp_operator
from headlamp_operator.headlamp.wire import Exchange

REQUESTS = prometheus_client.Counter(
    "headlamp_operator_backend_requests_total", "Requests sent to the Headlamp backend.",
    ["cluster", "method", "status"])
LATENCY = prometheus_client.Histogram(
    "headlamp_operator_backend_request_seconds", "Latency of requests to the Headlamp backend.",
    ["method"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120))
RECONCILES = prometheus_client.Counter(
    "headlamp_operator_reconciles_total", "Reconciliations by kind and result.", ["kind", "result"])
RECONCILE_SECONDS = prometheus_client.Histogram(
    "headlamp_operator_reconcile_duration_seconds",
    "Time one reconcile took, from the handler's start to its outcome, requests to Headlamp included.",
    ["kind"], buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120))
DRIFT_CORRECTIONS = prometheus_client.Counter(
    "headlamp_operator_drift_corrections_total",
    "Re-applies of a ResourcePatch that changed its target: somebody else had undone the patch.",
    ["namespace", "name"])


def forget_drift(namespace: str, name: str) -> None:
    """A deleted ResourcePatch's drift series goes with it (a name reused later starts again at 0)."""
    try:
        DRIFT_CORRECTIONS.remove(namespace, name)
    except KeyError:
        pass  # it never corrected drift


BUILD_INFO = prometheus_client.Gauge(
    "headlamp_operator_build_info", "Always 1; the labels say which build of the operator runs.",
    ["version", "python_version", "kopf_version"])

CONDITION_STATUSES = ("True", "False", "Unknown")


def _kopf_version() -> str:
    try:
        return importlib.metadata.version("kopf")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - kopf is a dependency
        return "unknown"


BUILD_INFO.labels(headlamp_operator.version(), platform.python_version(), _kopf_version()).set(1)


@dataclasses.dataclass(frozen=True, slots=True)
class Seen:
    """One resource as the API shows it: its phase and the status of its Ready condition."""

    phase: str  # "" before the first status is written
    ready: str  # True | False | Unknown


def seen(body: Mapping[str, Any]) -> Seen:
    """Read a resource body's phase and Ready condition (Unknown when there is none yet)."""
    status = body.get("status") or {}
    ready = next((str(c.get("status")) for c in status.get("conditions") or ()
                  if isinstance(c, Mapping) and c.get("type") == "Ready"), "Unknown")
    return Seen(phase=str(status.get("phase") or ""), ready=ready if ready in CONDITION_STATUSES else "Unknown")


# kind -> a function giving ((namespace, name), Seen) pairs for every resource of that kind
Source = Callable[[], Iterable[tuple[tuple[str, str], Seen]]]


class ResourceCollector(Collector):
    """Yields the two resource gauges at scrape time from the registered sources (one per kind)."""

    def __init__(self) -> None:
        self.sources: dict[str, Source] = {}

    def collect(self) -> Iterator[GaugeMetricFamily]:
        ready = GaugeMetricFamily(
            "headlamp_operator_resource_ready_status",
            "The status of each resource's Ready condition: 1 for the current one (True, False or Unknown).",
            labels=["kind", "namespace", "name", "condition"])
        phases = GaugeMetricFamily("headlamp_operator_resources", "Resources by kind and phase.",
                                   labels=["kind", "phase"])
        for kind, source in sorted(self.sources.items()):
            tally: Tally[str] = Tally()
            for (namespace, name), state in sorted(source()):
                for condition in CONDITION_STATUSES:
                    ready.add_metric([kind, namespace, name, condition], 1.0 if state.ready == condition else 0.0)
                if state.phase:
                    tally[state.phase] += 1
            for phase, count in sorted(tally.items()):
                phases.add_metric([kind, phase], count)
        yield ready
        yield phases


RESOURCE_COLLECTOR = ResourceCollector()
prometheus_client.REGISTRY.register(RESOURCE_COLLECTOR)


def watch(kind: str, source: Source) -> None:
    """Report the resources of ``kind`` that ``source`` gives (what the handlers note of each event, read at scrape
    time)."""
    RESOURCE_COLLECTOR.sources[kind] = source


def observe(exchange: Exchange) -> None:
    """Count one finished backend request (an observer of the Backend)."""
    REQUESTS.labels(exchange.cluster or "", exchange.method, str(exchange.status)).inc()
    LATENCY.labels(exchange.method).observe(exchange.seconds)


def reconciled(kind: str, result: str) -> None:
    """Count one reconciliation; ``result`` is the phase it ended in (Pending for a retry, Failed)."""
    RECONCILES.labels(kind, result).inc()


async def serve(port: int, *, address: str = "0.0.0.0") -> web.AppRunner:  # noqa: S104 (metrics of a pod)
    """Serve ``/metrics`` on ``port`` from the running event loop; clean up the returned runner to stop.

    In the loop (not a thread) so that the scrape reads what the handlers note where they write it.

    Raises:
        OSError: the port cannot be bound (taken, or not allowed).
    """
    app = web.Application()
    app.router.add_get("/metrics", make_aiohttp_handler(prometheus_client.REGISTRY))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, address, port).start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner
