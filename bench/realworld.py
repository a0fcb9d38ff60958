"""The world of ``python -m bench --real-api``: the real-peer suite's, seeded for the benchmark.

:class:`BenchWorld` is :class:`headlamp_operator_testing.realpeers.world.World` (etcd, kube-apiserver,
controller-manager, scheduler and kwok of :mod:`headlamp_operator_testing.realpeers.controlplane`; the product
installed with one ``kubectl apply -k``; the operator as a local process with the ``headlamp-operator``
ServiceAccount's token; the Headlamp emulator in front of the API server in upstream mode), with three
differences that the benchmark needs, and no other:

- one Headlamp (the suite's second one, with a backend token, is not needed), started with
  ``-forwarder websocket`` (a ``kubectl port-forward`` process per forward takes 50 MB: 2,000 of them do
  not fit) and ``-request-log`` (the bench, another process, counts what it was asked);
- the operator with the product's Lease duration (the suite shortens it to 5 s for its failovers) and
  the sync interval of the phase;
- the benchmark's objects: namespaces ``bench-0..9`` with a ``viewer`` token Secret each (a
  ServiceAccount of that namespace, allowed to forward to ``monitoring`` and to patch ConfigMaps in
  ``shop``), Deployment and Service ``monitoring/grafana`` (two kwok pods, whose forwards land on the
  control plane's echo server) and ConfigMaps ``shop/config-0..19``, the ResourcePatches' targets (no
  controller reacts to a ConfigMap, so the API server's counts are the operator's and Headlamp's).
"""
from __future__ import annotations

import json
import pathlib
import ssl
import urllib.request
from typing import Any

import yaml

from bench import workload
from headlamp_operator_testing.realpeers.controlplane import free_ports
from headlamp_operator_testing.realpeers.world import CLUSTER, Process, World, wait_for

VIEWER = "bench-viewer"  # the ServiceAccount of every bench namespace whose token is in its Secret `viewer`
GRAFANA_PORT = 3000
TOKEN_DURATION = "24h"


def objects() -> list[dict[str, Any]]:
    """Everything the bench's resources need in the cluster, as one ``kubectl apply`` list."""
    items: list[dict[str, Any]] = []
    for name in ("monitoring", "shop", *workload.NAMESPACES):
        items.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    rules = {"monitoring": [{"apiGroups": [""], "resources": ["pods", "services"], "verbs": ["get", "list"]},
                            {"apiGroups": [""], "resources": ["pods"], "verbs": ["watch"]},  # the pod watches
                            {"apiGroups": [""], "resources": ["pods/portforward"], "verbs": ["get", "create"]}],
             "shop": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "patch"]}]}
    subjects = [{"kind": "ServiceAccount", "name": VIEWER, "namespace": ns} for ns in workload.NAMESPACES]
    for namespace, granted in rules.items():
        meta = {"name": VIEWER, "namespace": namespace}
        items.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta,
                      "rules": granted})
        items.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta,
                      "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": VIEWER},
                      "subjects": subjects})
    for namespace in workload.NAMESPACES:
        items.append({"apiVersion": "v1", "kind": "ServiceAccount",
                      "metadata": {"name": VIEWER, "namespace": namespace}})
    labels = {"app": "grafana"}
    items.append({"apiVersion": "apps/v1", "kind": "Deployment",
                  "metadata": {"name": "grafana", "namespace": "monitoring"},
                  "spec": {"replicas": 2, "selector": {"matchLabels": labels},
                           "template": {"metadata": {"labels": labels}, "spec": {
                               "automountServiceAccountToken": False, "terminationGracePeriodSeconds": 1,
                               "containers": [{"name": "grafana", "image": "grafana/grafana",
                                               "ports": [{"name": "web", "containerPort": GRAFANA_PORT}]}]}}}})
    items.append({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "grafana", "namespace": "monitoring"},
                  "spec": {"selector": labels,
                           "ports": [{"name": "http", "port": 80, "targetPort": "web", "protocol": "TCP"}]}})
    for i in range(workload.DEPLOYMENTS):
        items.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"config-{i}", "namespace": "shop"},
                      "data": {"replicas": "1"}})
    return items


class BenchWorld(World):
    """The real-peer world with one Headlamp (in-process forwards, a request log) and the bench's objects."""

    def __init__(self, workdir: pathlib.Path, *, sync_interval: float, operator: str | None = None) -> None:
        super().__init__(workdir)
        self.sync_interval = sync_interval
        self.operator_script = operator  # None: the one next to this interpreter
        self.request_log = workdir / "headlamp-requests.jsonl"

    def start_peers(self) -> None:
        """The control plane, the product installed on it and the bench's objects (no Headlamp, no operator yet)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.cp.start()
        self.headlamp_port, self.metrics_port, self.webhook_port, self.liveness_port = free_ports(4)
        self.install()
        self.seed()

    def start(self) -> None:
        """Control plane, the product, the bench's objects, Headlamp, the operator (blocking, ~20 s)."""
        self.start_peers()
        # A CRD's storage answers 429 for a moment after the install: the operator would start with retries
        # that kopf logs as errors. The suite does not mind; the bench counts the operator's errors.
        wait_for(lambda: all(self._served(plural) for plural in workload.PLURALS.values()), within=30,
                 what="the custom resources served", log=lambda: self.cp.log("kube-apiserver"))
        kubeconfig = self.cp.kubeconfig(self.workdir / "headlamp.kubeconfig", token=self.cp.admin_token,
                                        context=CLUSTER, user="headlamp")
        self.headlamp = self._headlamp("headlamp", self.headlamp_port, kubeconfig, backend_token=None)
        self.headlamp.command += ["-forwarder", "websocket", "-request-log", str(self.request_log)]
        self.start_headlamp(self.headlamp)
        self.operator = self._operator(HEADLAMP_SYNC_INTERVAL=f"{self.sync_interval:g}")
        self.start_operator()

    def _operator(self, **headlamp: str) -> Process:
        """The suite's operator process with the product's Lease duration instead of the suite's 5 s."""
        process = super()._operator(**headlamp)
        process.command = [arg for arg in process.command if not arg.startswith("--lease-duration")]
        if self.operator_script is not None:  # the same arguments, to another install of the operator
            process.command[:process.command.index("run")] = [self.operator_script]
        return process

    def seed(self) -> None:
        """The bench's objects, a token Secret per bench namespace, and the grafana pods Running."""
        self.cp.kubectl("apply", "-f", "-", input=yaml.safe_dump({"apiVersion": "v1", "kind": "List",
                                                                   "items": objects()}))
        secrets = []
        for namespace in workload.NAMESPACES:
            token = self.cp.kubectl("-n", namespace, "create", "token", VIEWER,
                                    f"--duration={TOKEN_DURATION}").stdout.strip()
            secrets.append({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                            "metadata": {"name": workload.SECRET, "namespace": namespace},
                            "stringData": {"token": token}})
        self.cp.kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": secrets}))

        def running() -> bool:
            pods = json.loads(self.cp.kubectl("-n", "monitoring", "get", "pods", "-l", "app=grafana",
                                              "-o", "json").stdout)["items"]
            return sum(1 for pod in pods if (pod.get("status") or {}).get("phase") == "Running") >= 2

        wait_for(running, within=60, what="two Running grafana pods", log=lambda: self.cp.log("kwok"))

    def _served(self, plural: str) -> bool:
        url = f"{self.server}/apis/{workload.GROUP}/{workload.VERSION}/{plural}?limit=1"  # https, the API server
        request = urllib.request.Request(url, headers=self.admin_headers())  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=5, context=self.tls()) as answer:  # noqa: S310
                return int(answer.status) == 200
        except OSError:  # urllib's HTTPError (the 429) included
            return False

    # -- what the bench's clients need ------------------------------------------------------------------

    @property
    def server(self) -> str:
        return self.cp.server

    def admin_headers(self) -> dict[str, str]:
        """The admin's bearer token: the bench creates the resources and reads the metrics as the admin."""
        return {"Authorization": f"Bearer {self.cp.admin_token}"}

    def tls(self) -> ssl.SSLContext:
        """Trust in the API server's certificate (the control plane's own CA)."""
        return ssl.create_default_context(cafile=str(self.cp.ca_file))

    def operator_pid(self) -> int | None:
        process = self.operator.process if self.operator is not None else None
        return process.pid if process is not None and process.poll() is None else None

    def headlamp_pid(self) -> int | None:
        process = self.headlamp.process if self.headlamp is not None else None
        return process.pid if process is not None and process.poll() is None else None
