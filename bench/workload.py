"""What the benchmark creates: names, specs and the world behind the Headlamp emulator.

Shared by the operator run (:mod:`bench.run`) and the floor (:mod:`bench.floor`), so both handle
exactly the same resources. Everything is derived from N, deterministically.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Literal

from headlamp_operator import crds
from headlamp_operator_testing import scenery

GROUP, VERSION = crds.GROUP, crds.VERSION
CLUSTER = "bench"
NAMESPACES = tuple(f"bench-{i}" for i in range(10))  # resources are spread over these namespaces
DEPLOYMENTS = 20  # ResourcePatches target shop/web-0 .. shop/web-19 (on the real API: ConfigMaps shop/config-*)
SECRET = "viewer"  # a token Secret in every namespace (credentials=token)

Kind = Literal["PortForward", "ResourcePatch"]
Credentials = Literal["token", "anonymous"]
Target = Literal["Deployment", "ConfigMap"]  # what a ResourcePatch patches
PLURALS: dict[str, str] = crds.PLURALS
KINDS: dict[str, str] = {plural: kind for kind, plural in PLURALS.items()}


@dataclasses.dataclass(frozen=True)
class Item:
    """One resource of the burst."""

    kind: Kind
    namespace: str
    name: str
    index: int

    @property
    def plural(self) -> str:
        return PLURALS[self.kind]

    @property
    def key(self) -> tuple[str, str, str]:
        """(plural, namespace, name): how the bench keys timings."""
        return (self.plural, self.namespace, self.name)

    @property
    def deployment(self) -> str:
        """The Deployment a ResourcePatch scales."""
        return f"web-{self.index % DEPLOYMENTS}"

    @property
    def configmap(self) -> str:
        """The ConfigMap a ResourcePatch writes on the real API (no controller reacts to it there)."""
        return f"config-{self.index % DEPLOYMENTS}"

    @property
    def replicas(self) -> int:
        return 1 + self.index % 3


def token_of(namespace: str) -> str:
    """The bearer token in the ``viewer`` Secret of a namespace (one session per namespace)."""
    return f"bench-token-{namespace}-0123456789abcdef"


def items(n: int, *, prefix: str = "") -> list[Item]:
    """N PortForwards and N ResourcePatches, interleaved (as a GitOps sync applies a mixed bundle)."""
    result: list[Item] = []
    for i in range(n):
        namespace = NAMESPACES[i % len(NAMESPACES)]
        result.append(Item("PortForward", namespace, f"{prefix}pf-{i}", i))
        result.append(Item("ResourcePatch", namespace, f"{prefix}rp-{i}", i))
    return result


def portforwards(n: int, *, prefix: str = "") -> list[Item]:
    """N PortForwards only (the idle phase)."""
    return [item for item in items(n, prefix=prefix) if item.kind == "PortForward"]


def spec(item: Item, *, credentials: Credentials, cluster: str = CLUSTER,
         target: Target = "Deployment") -> dict[str, Any]:
    """The spec of one resource: a PortForward to Service monitoring/grafana (named port, as the
    sample does), or a merge patch scaling one of the Deployments (or, with ``target="ConfigMap"``,
    setting a key of one of the ConfigMaps)."""
    if item.kind == "PortForward":
        result: dict[str, Any] = {"cluster": cluster, "service": "grafana", "namespace": "monitoring",
                                  "targetPort": "http"}
    elif target == "ConfigMap":
        result = {"cluster": cluster,
                  "target": {"apiVersion": "v1", "kind": "ConfigMap", "name": item.configmap, "namespace": "shop"},
                  "patchType": "merge", "patch": {"data": {"replicas": str(item.replicas)}}}
    else:
        result = {"cluster": cluster,
                  "target": {"apiVersion": "apps/v1", "kind": "Deployment", "name": item.deployment,
                             "namespace": "shop"},
                  "patchType": "merge", "patch": {"spec": {"replicas": item.replicas}}}
    if credentials == "token":
        result["credentials"] = {"tokenSecretRef": {"name": SECRET}}
    return result


def body(item: Item, *, credentials: Credentials, cluster: str = CLUSTER,
         target: Target = "Deployment") -> dict[str, Any]:
    """The whole manifest of one resource."""
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": item.kind,
            "metadata": {"name": item.name, "namespace": item.namespace},
            "spec": spec(item, credentials=credentials, cluster=cluster, target=target)}


def seed_headlamp(hl: Any) -> Any:
    """The cluster behind the Headlamp emulator (the tests' and samples' world), plus the Deployments
    the ResourcePatches scale."""
    cluster = scenery.seed_cluster(hl, CLUSTER)
    for i in range(DEPLOYMENTS):
        cluster.add_deployment("shop", f"web-{i}", replicas=1)
    return cluster
