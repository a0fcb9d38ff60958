"""The Helm chart (``charts/headlamp-operator``): linted, the same objects as ``manifests/``, installed for real.

helm is built from its Go module (``peers/helm``). ``helm template`` with the defaults must give what
``kubectl kustomize manifests/`` gives, and each webhook mode what its overlay in ``deploy/webhook/``
gives, apart from Helm's own labels: a change to one side without the other fails here. Then the chart
is installed into the real control plane, and an operator running as the chart's ServiceAccount (with
the chart's RBAC, Lease Role and arguments) brings a resource to Ready.
"""
from __future__ import annotations

import json
import os
import pathlib
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from headlamp_operator_testing.process import operator_command
from headlamp_operator_testing.realpeers.controlplane import peer_binary
from headlamp_operator_testing.realpeers.world import CLUSTER, ROOT, World, wait_for

pytestmark = pytest.mark.realpeers

CHART = ROOT / "charts" / "headlamp-operator"
HELM_LABELS = ("helm.sh/chart", "app.kubernetes.io/managed-by", "app.kubernetes.io/instance")
MODES = {"none": ROOT / "manifests", "managed": ROOT / "deploy" / "webhook" / "managed",
         "cert-manager": ROOT / "deploy" / "webhook" / "cert-manager"}


def helm(*args: str, check: bool = True, kubeconfig: pathlib.Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HELM_CACHE_HOME": "/tmp/helm-cache", "HELM_CONFIG_HOME": "/tmp/helm-config",
           "HELM_DATA_HOME": "/tmp/helm-data"}
    command = [str(peer_binary("helm", "helm")), *args, *([f"--kubeconfig={kubeconfig}"] if kubeconfig else [])]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    if check and done.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done


def _without_helm_labels(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_helm_labels(v) for k, v in value.items() if k not in HELM_LABELS}
    if isinstance(value, list):
        return [_without_helm_labels(v) for v in value]
    return value


def objects(text: str) -> dict[tuple[str, str, str], Any]:
    """Rendered documents by (kind, namespace, name), Helm's own labels taken out."""
    found = {}
    for document in yaml.safe_load_all(text):
        if not document:
            continue
        metadata = document["metadata"]
        found[(document["kind"], metadata.get("namespace", ""), metadata["name"])] = _without_helm_labels(document)
    return found


def kustomized(directory: pathlib.Path, world: World) -> dict[tuple[str, str, str], Any]:
    rendered = objects(world.cp.kubectl("kustomize", str(directory)).stdout)
    # Helm installs into a namespace it is given (--create-namespace); the chart makes none.
    return {key: value for key, value in rendered.items() if key[0] != "Namespace"}


@pytest.mark.parametrize("values", [
    (), ("--set", "webhook.mode=managed"), ("--set", "webhook.mode=cert-manager"),
    ("--set", "serviceMonitor.enabled=true", "--set", "prometheusRule.enabled=true", "--set", "logLevel=debug",
     "--set", "watchNamespaces={team-a,team-b}"),
])
def test_helm_lint_passes(values: tuple[str, ...]) -> None:
    done = helm("lint", "--strict", str(CHART), *values)
    assert "1 chart(s) linted, 0 chart(s) failed" in done.stdout, done.stdout


def test_helm_lint_refuses_an_unknown_webhook_mode() -> None:
    done = helm("lint", str(CHART), "--set", "webhook.mode=off", check=False)
    assert done.returncode != 0
    assert "value must be one of 'none', 'cert-manager', 'managed'" in done.stdout + done.stderr


@pytest.mark.parametrize("mode", sorted(MODES))
def test_helm_template_gives_the_objects_of_the_manifests(world: World, mode: str) -> None:
    rendered = objects(helm("template", "headlamp-operator", str(CHART), "--namespace", "headlamp-operator",
                            "--include-crds", "--set", f"webhook.mode={mode}").stdout)
    expected = kustomized(MODES[mode], world)
    assert sorted(rendered) == sorted(expected)
    for key, value in expected.items():
        assert rendered[key] == value, f"{key}: the chart and {MODES[mode].relative_to(ROOT)} differ"


def test_the_chart_offers_a_service_monitor_and_the_not_ready_alert() -> None:
    rendered = objects(helm("template", "hlo", str(CHART), "--namespace", "monitoring-test", "--set",
                            "serviceMonitor.enabled=true", "--set", "prometheusRule.enabled=true").stdout)
    monitor = rendered[("ServiceMonitor", "monitoring-test", "hlo-headlamp-operator")]
    service = rendered[("Service", "monitoring-test", "hlo-headlamp-operator-metrics")]
    assert monitor["spec"]["endpoints"][0]["port"] == service["spec"]["ports"][0]["name"] == "metrics"
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    rule = rendered[("PrometheusRule", "monitoring-test", "hlo-headlamp-operator")]["spec"]["groups"][0]["rules"][0]
    assert rule["for"] == "15m"
    assert rule["expr"] == ('max by (kind, namespace, name) '
                            '(headlamp_operator_resource_ready_status{condition!="True"}) == 1')


@pytest.fixture
def released(world: World) -> Iterator[str]:
    """``helm install`` of the chart as release ``hlo`` in namespace ``helm-test``; uninstalled afterwards."""
    namespace = "helm-test"
    kubeconfig = world.cp.admin_kubeconfig
    helm("install", "hlo", str(CHART), "--namespace", namespace, "--create-namespace", "--wait", "--timeout", "120s",
         "--set", "replicaCount=1", "--set", "watchNamespaces={helm-watched}", "--set",
         f"headlamp.url={world.headlamp_url}", kubeconfig=kubeconfig)
    try:
        yield namespace
    finally:
        helm("uninstall", "hlo", "--namespace", namespace, "--wait", kubeconfig=kubeconfig, check=False)
        world.cp.kubectl("delete", "namespace", namespace, "helm-watched", "--wait=false", check=False)


def test_helm_install_and_the_operator_comes_up_with_the_charts_account(world: World, released: str,
                                                                          tmp_path: pathlib.Path) -> None:
    namespace = released
    deployment = json.loads(world.cp.kubectl("-n", namespace, "get", "deployment", "hlo-headlamp-operator",
                                             "-o", "json").stdout)
    assert deployment["status"].get("availableReplicas") == 1  # kwok ran its pod; `helm install --wait` saw it
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert "--namespace=helm-watched" in container["args"]
    assert {e["name"]: e.get("value") for e in container["env"]}["HEADLAMP_URL"] == world.headlamp_url
    # kwok's pod runs no process: run the operator here, as that pod would, with the chart's account.
    token = world.cp.kubectl("-n", namespace, "create", "token", "hlo-headlamp-operator").stdout.strip()
    kubeconfig = world.cp.kubeconfig(tmp_path / "chart.kubeconfig", token=token, context="chart", user="chart")
    world.cp.kubectl("create", "namespace", "helm-watched")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEADLAMP_", "KUBECONFIG"))}
    env.update({"KUBECONFIG": str(kubeconfig), "HEADLAMP_URL": world.headlamp_url, "POD_NAMESPACE": namespace,
                "POD_ID": "chart-pod", "PYTHONUNBUFFERED": "1", "HEADLAMP_ALLOW_ANONYMOUS": "true"})
    args = [a for a in container["args"] if not a.startswith(("--liveness", "--metrics-port"))]
    log = tmp_path / "operator.log"
    world.stop_operator()  # the world's operator watches every namespace: only the chart's may act here
    process: subprocess.Popen[bytes] | None = None
    try:
        world.cp.kubectl("-n", "helm-watched", "create", "configmap", "helm-target")
        world.cp.kubectl("apply", "-f", "-", input=json.dumps({
            "apiVersion": "headlamp-operator.dev/v1alpha1", "kind": "ResourcePatch",
            "metadata": {"name": "from-helm", "namespace": "helm-watched"},
            "spec": {"cluster": CLUSTER, "patchType": "merge", "patch": {"data": {"installed-by": "helm"}},
                     "target": {"apiVersion": "v1", "kind": "ConfigMap", "name": "helm-target",
                                "namespace": "helm-watched"}}}))
        with log.open("wb") as out:
            process = running = subprocess.Popen([*operator_command(), *args], env=env, stdout=out,
                                                 stderr=subprocess.STDOUT)

        def ready() -> bool:
            done = world.cp.kubectl("-n", "helm-watched", "get", "resourcepatch", "from-helm", "-o", "json")
            conditions = (json.loads(done.stdout).get("status") or {}).get("conditions") or []
            return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions) or running.poll() is not None

        wait_for(ready, within=60, what="the ResourcePatch Ready under the chart's operator",
                 log=lambda: log.read_text(errors="replace"))
        assert running.poll() is None, log.read_text(errors="replace")
        data = json.loads(world.cp.kubectl("-n", "helm-watched", "get", "configmap", "helm-target",
                                           "-o", "json").stdout)["data"]
        assert data == {"installed-by": "helm"}
        lease = json.loads(world.cp.kubectl("-n", namespace, "get", "lease", "-o", "json").stdout)["items"]
        assert [item["spec"]["holderIdentity"] for item in lease] == ["chart-pod"]
        text = log.read_text(errors="replace")
        assert "cannot" not in text and "Forbidden" not in text, text[-3000:]
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        world.start_operator()
