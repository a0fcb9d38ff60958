"""Prometheus metrics (SPEC 8): backend requests and latency, reconciles, resources by phase.

Labels carry cluster names, methods, statuses, kinds and phases: never a token, a name of a Secret,
or anything else a user could make secret.
"""
from __future__ import annotations

import prometheus_client

from headlamp_operator.headlamp.client import Exchange

REQUESTS = prometheus_client.Counter(
    "headlamp_operator_backend_requests_total", "Requests sent to the Headlamp backend.",
    ["cluster", "method", "status"])
LATENCY = prometheus_client.Histogram(
    "headlamp_operator_backend_request_seconds", "Latency of requests to the Headlamp backend.",
    ["method"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120))
RECONCILES = prometheus_client.Counter(
    "headlamp_operator_reconciles_total", "Reconciliations by kind and result.", ["kind", "result"])
RESOURCES = prometheus_client.Gauge(
    "headlamp_operator_resources", "Resources by kind and phase.", ["kind", "phase"])

_phases: dict[str, tuple[str, str]] = {}  # uid -> (kind, phase)


def observe(exchange: Exchange) -> None:
    """Count one finished backend request (an observer of the Backend)."""
    REQUESTS.labels(exchange.cluster or "", exchange.method, str(exchange.status)).inc()
    LATENCY.labels(exchange.method).observe(exchange.seconds)


def reconciled(kind: str, result: str) -> None:
    """Count one reconciliation; ``result`` is the phase it ended in (Pending for a retry, Failed)."""
    RECONCILES.labels(kind, result).inc()


def phase(kind: str, uid: str, value: str | None) -> None:
    """Track a resource's phase for the gauge; ``None`` when the resource is gone."""
    old = _phases.pop(uid, None)
    if old is not None:
        RESOURCES.labels(*old).dec()
    if value is not None:
        _phases[uid] = (kind, value)
        RESOURCES.labels(kind, value).inc()


def serve(port: int, *, address: str = "0.0.0.0") -> None:  # noqa: S104 (a metrics endpoint in a pod)
    """Serve ``/metrics`` on ``port`` from a background thread."""
    prometheus_client.start_http_server(port, addr=address)
