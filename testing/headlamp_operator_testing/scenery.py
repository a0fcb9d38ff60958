"""The world the samples in ``manifests/samples/`` expect, seeded into a Headlamp emulator.

Cluster ``sandbox``: Deployment ``shop/web`` (container ``web``), Service ``monitoring/grafana``
(port ``http`` -> target port ``web``) and LoadBalancer ``monitoring/grafana-lb`` (port ``http`` 80 ->
target port 3000) over pods ``grafana-0``/``grafana-1``, pod ``redis-0``,
and a forward ``grafana-started-in-ui`` as if started from Headlamp's UI (for the adopt sample).
"""
from __future__ import annotations

from headlamp_operator_testing.headlamp import HeadlampEmulator, KubeCluster

CLUSTER = "sandbox"
UI_FORWARD_ID = "grafana-started-in-ui"


def seed_cluster(hl: HeadlampEmulator, name: str) -> KubeCluster:
    """Add a cluster with the objects the samples, the tests and the benchmark forward to and patch."""
    cluster = hl.add_cluster(name)
    cluster.add_deployment("shop", "web", replicas=1)
    cluster.add_service("monitoring", "grafana", selector={"app": "grafana"},
                        ports=[{"name": "http", "port": 80, "targetPort": "web"}])
    cluster.add_service("monitoring", "grafana-lb", selector={"app": "grafana"}, type="LoadBalancer",
                        ports=[{"name": "http", "port": 80, "targetPort": 3000}])
    for name in ("grafana-0", "grafana-1"):
        cluster.add_pod("monitoring", name, labels={"app": "grafana"},
                        ports=[{"name": "web", "containerPort": 3000}])
    cluster.add_pod("monitoring", "redis-0", labels={"app": "redis"},
                    ports=[{"name": "redis", "containerPort": 6379}])
    return cluster


async def seed_sandbox(hl: HeadlampEmulator) -> KubeCluster:
    """Add cluster ``sandbox`` with its objects and the UI-started forward."""
    cluster = seed_cluster(hl, CLUSTER)
    request = {"id": UI_FORWARD_ID, "namespace": "monitoring", "pod": "grafana-0", "service": "grafana",
               "serviceNamespace": "monitoring", "targetPort": "3000", "port": "", "address": ""}
    await hl.table.start((CLUSTER, None), request, backing=cluster, token=None, start_delay=0.0, ready_timeout=1.0)
    return cluster
