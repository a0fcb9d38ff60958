"""The product as a user installs it, and ``kubectl`` as a user types it, on a real kube-apiserver.

The CRDs' structural schemas, CEL rules, printer columns and descriptions are only ever judged by a
real API server; so are the RBAC rules the operator runs under and the webhook registration.
"""
from __future__ import annotations

import datetime
import json
import pathlib
import re
import socket
import time

import aiohttp
import pytest
import yaml

from headlamp_operator_testing.realpeers.world import CLUSTER, OPERATOR_NAMESPACE, World

pytestmark = [pytest.mark.realpeers, pytest.mark.usefixtures("world")]

CRDS = ("portforwards.headlamp-operator.dev", "resourcepatches.headlamp-operator.dev")
STATIC_WEBHOOKS = pathlib.Path(__file__).resolve().parents[2] / "deploy" / "webhook" / "cert-manager" / \
    "validatingwebhookconfiguration.yaml"  # the chart renders the same (test_helm.py)


def manifest(kind: str, name: str, namespace: str, spec: dict[str, object]) -> str:
    return json.dumps({"apiVersion": "headlamp-operator.dev/v1alpha1", "kind": kind,
                       "metadata": {"name": name, "namespace": namespace}, "spec": spec})


def test_one_kubectl_apply_installs_the_product_on_an_empty_cluster(world: World) -> None:
    """issue 12: the first `kubectl apply -k` on a fresh cluster succeeded (kopf's peering objects are gone)."""
    [first] = world.install_log  # World.install runs it once and fails the run if it fails
    assert "customresourcedefinition.apiextensions.k8s.io/portforwards.headlamp-operator.dev created" in first
    assert "deployment.apps/headlamp-operator created" in first


def test_the_leader_holds_the_lease_and_no_kopf_peering_is_used(world: World) -> None:
    lease = json.loads(world.cp.kubectl("-n", OPERATOR_NAMESPACE, "get", "lease", "headlamp-operator",
                                        "-o", "json").stdout)
    assert lease["spec"]["holderIdentity"] == "operator-local"  # the operator process's POD_ID
    crds = world.cp.kubectl("get", "crd", "-o", "name").stdout
    assert "kopf.dev" not in crds


def test_the_server_is_the_real_kube_apiserver(world: World) -> None:
    version = json.loads(world.cp.kubectl("version", "-o", "json").stdout)
    assert version["serverVersion"]["gitVersion"].startswith("v1.36.")
    assert world.cp.versions["kube-apiserver"] == version["serverVersion"]["gitVersion"]


@pytest.mark.parametrize("crd", CRDS)
def test_the_crds_are_accepted_and_established(world: World, crd: str) -> None:
    obj = json.loads(world.cp.kubectl("get", "crd", crd, "-o", "json").stdout)
    conditions = {c["type"]: c["status"] for c in obj["status"]["conditions"]}
    assert conditions.get("Established") == "True", conditions
    assert conditions.get("NamesAccepted") == "True", conditions
    assert conditions.get("NonStructuralSchema") is None, conditions


def test_kubectl_explain_shows_the_field_descriptions(world: World) -> None:
    out = world.cp.kubectl("explain", "portforward.spec").stdout
    for field in ("cluster", "service", "pod", "targetPort", "deletionPolicy", "credentials"):
        assert re.search(rf"^\s+{field}\s", out, re.MULTILINE), (field, out)
    assert "DESCRIPTION" in out and "<string>" in out
    out = world.cp.kubectl("explain", "resourcepatch.spec.target").stdout
    assert "apiVersion" in out and "kind" in out


def test_kubectl_get_headlamp_lists_both_kinds_with_the_printer_columns(world: World) -> None:
    namespace = "realpeers-columns"
    world.cp.kubectl("create", "namespace", namespace)
    world.cp.kubectl("apply", "-f", "-", input=manifest("PortForward", "cols", namespace, {
        "cluster": CLUSTER, "pod": "nothing-here", "targetPort": 80}))
    world.cp.kubectl("apply", "-f", "-", input=manifest("ResourcePatch", "cols", namespace, {
        "cluster": CLUSTER, "target": {"apiVersion": "v1", "kind": "ConfigMap", "name": "x"},
        "patch": {"data": {"a": "b"}}}))
    out = world.cp.kubectl("get", "headlamp", "-n", namespace).stdout
    header = [line for line in out.splitlines() if line.startswith("NAME")]
    assert len(header) == 2, out  # one table per kind
    assert "portforward.headlamp-operator.dev/cols" in out
    assert "resourcepatch.headlamp-operator.dev/cols" in out
    for column in ("CLUSTER", "READY", "STATUS", "AGE"):
        assert all(column in line for line in header), (column, out)
    wide = world.cp.kubectl("get", "headlamp", "-n", namespace, "-o", "wide").stdout
    assert all(column in wide for column in ("PHASE", "REASON")), wide
    rpatches = world.cp.kubectl("get", "rpatch", "-n", namespace, "-o", "wide").stdout.splitlines()
    columns = rpatches[0].split()
    assert "DRY-RUN" in columns and "DRIFT" in columns, rpatches  # the mode, and drift corrected
    assert rpatches[1].split()[columns.index("DRY-RUN")] == "false", rpatches  # the CRD's default, shown
    # Both are anonymous, so refused at once: Ready False, and Status says why, in kubectl's own table.
    deadline = time.monotonic() + 30
    while True:
        rows = world.cp.kubectl("get", "rpatch", "cols", "-n", namespace, "--no-headers").stdout
        if "False" in rows or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert "False" in rows and "spec.credentials is required" in rows, rows
    world.cp.kubectl("delete", "namespace", namespace, "--wait=false")


INVALID: dict[str, tuple[str, dict[str, object], str]] = {
    "pod-and-service": ("PortForward", {"cluster": CLUSTER, "pod": "a", "service": "b", "targetPort": 80},
                        "spec.pod and spec.service are mutually exclusive"),
    "reapply-10s": ("ResourcePatch", {"cluster": CLUSTER, "reapplyInterval": "10s", "patch": {},
                                      "target": {"apiVersion": "v1", "kind": "ConfigMap", "name": "x"}},
                    "spec.reapplyInterval must be empty or a duration of at least 30s"),
    "no-cluster": ("PortForward", {"pod": "a", "targetPort": 80}, "spec.cluster: Required value"),
    "bad-enum": ("PortForward", {"cluster": CLUSTER, "pod": "a", "targetPort": 80, "state": "Paused"},
                 'spec.state: Unsupported value: "Paused"'),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_the_api_server_refuses_an_invalid_resource_with_the_crds_message(world: World, case: str) -> None:
    kind, spec, message = INVALID[case]
    done = world.cp.kubectl("apply", "-f", "-", "--dry-run=server",
                            input=manifest(kind, f"bad-{case}", "default", spec),
                            check=False)
    assert done.returncode != 0
    assert message in done.stderr, done.stderr


def test_changing_the_cluster_is_refused(world: World) -> None:
    world.cp.kubectl("apply", "-f", "-", input=manifest("PortForward", "moving", "default", {
        "cluster": CLUSTER, "pod": "a", "targetPort": 80, "state": "Stopped"}))
    done = world.cp.kubectl("patch", "portforward", "moving", "--type=merge", "-p", '{"spec":{"cluster":"other"}}',
                            check=False)
    assert done.returncode != 0
    assert "spec.cluster is immutable" in done.stderr, done.stderr
    world.cp.kubectl("delete", "portforward", "moving", "--wait=false")


def test_the_webhook_refuses_what_the_schema_cannot_with_the_operators_message(world: World) -> None:
    registration = json.loads(world.cp.kubectl("get", "validatingwebhookconfiguration", "-o", "json").stdout)
    urls = [hook["clientConfig"].get("url", "") for item in registration["items"] for hook in item["webhooks"]]
    assert any(f":{world.webhook_port}/" in url for url in urls), urls
    done = world.cp.kubectl("apply", "-f", "-", "--dry-run=server", check=False, input=manifest(
        "ResourcePatch", "bad-json-patch", "default", {
            "cluster": CLUSTER, "patchType": "json", "patch": {"op": "add"},
            "target": {"apiVersion": "v1", "kind": "ConfigMap", "name": "x"}}))
    assert done.returncode != 0
    assert "admission webhook" in done.stderr and "denied the request" in done.stderr, done.stderr


def test_the_static_webhooks_are_called_only_for_a_creation_or_a_spec_change(world: World) -> None:
    """The cert-manager overlay's matchConditions, judged by the API server: its CEL compiles, and an update
    of metadata alone (a label, an annotation; the operator's finalizer is one too) reaches no webhook.

    A copy of its webhooks, limited to one namespace, points at a port nothing listens on and fails
    closed: each call the API server makes is a refused request, and nothing else is.
    """
    namespace = "realpeers-match-conditions"
    world.cp.kubectl("create", "namespace", namespace)
    world.cp.kubectl("apply", "-f", "-", input=manifest("PortForward", "kept", namespace, {
        "cluster": CLUSTER, "pod": "nothing-here", "targetPort": 80}))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        nowhere = probe.getsockname()[1]
    config = yaml.safe_load(STATIC_WEBHOOKS.read_text())
    config["metadata"] = {"name": "realpeers-match-conditions"}
    config["webhooks"] = [{**hook, "name": f"probe-{hook['name']}", "failurePolicy": "Fail", "timeoutSeconds": 2,
                           "clientConfig": {"url": f"https://127.0.0.1:{nowhere}/validate"},
                           "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}}
                          for hook in config["webhooks"]]
    assert all(hook["matchConditions"] for hook in config["webhooks"])
    world.cp.kubectl("apply", "-f", "-", input=json.dumps(config))
    kubectl = ("-n", namespace)
    try:
        world.cp.kubectl(*kubectl, "label", "portforward", "kept", "team=shop")
        world.cp.kubectl(*kubectl, "annotate", "portforward", "kept", "reconcile.headlamp-operator.dev/requestedAt=x")
        for refused in (("patch", "portforward", "kept", "--type=merge", "-p", '{"spec":{"pod":"other"}}'),
                        ("apply", "-f", "-")):
            done = world.cp.kubectl(*kubectl, *refused, check=False, input=manifest(
                "ResourcePatch", "new", namespace, {"cluster": CLUSTER, "patch": {"data": {"a": "b"}},
                                                    "target": {"apiVersion": "v1", "kind": "ConfigMap", "name": "x"}}))
            assert done.returncode != 0 and "failed calling webhook" in done.stderr, (refused, done.stderr)
        kept = json.loads(world.cp.kubectl(*kubectl, "get", "portforward", "kept", "-o", "json").stdout)
        assert kept["metadata"]["labels"] == {"team": "shop"} and kept["spec"]["pod"] == "nothing-here"
    finally:
        world.cp.kubectl("delete", "validatingwebhookconfiguration", "realpeers-match-conditions")
        world.cp.kubectl("delete", "namespace", namespace, "--wait=false")


def test_the_in_cluster_deployment_is_installed_with_the_service_account_the_operator_uses(world: World) -> None:
    deployment = json.loads(world.cp.kubectl("-n", OPERATOR_NAMESPACE, "get", "deployment", "headlamp-operator",
                                             "-o", "json").stdout)
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == "headlamp-operator"
    whoami = json.loads(world.cp.kubectl("auth", "whoami", "-o", "json", kubeconfig=world.operator_kubeconfig).stdout)
    assert whoami["status"]["userInfo"]["username"] == "system:serviceaccount:headlamp-operator:headlamp-operator"


@pytest.mark.realpeers_last
def test_the_operator_was_never_forbidden_by_its_rbac(world: World) -> None:
    """After every scenario of the run: the least-privilege RBAC was enough (kopf logs each 403)."""
    assert world.operator is not None
    log = world.operator.log()
    assert log, "the operator logged nothing"
    user = "system:serviceaccount:headlamp-operator:headlamp-operator"
    forbidden = [line for line in log.splitlines() if (f'"{user}" cannot' in line or f"{user} cannot" in line)
                 and not just_restarted(world, line)]
    assert not forbidden, "\n".join(forbidden[:20])


def just_restarted(world: World, line: str) -> bool:
    """Whether a log line is from a kube-apiserver restart (test_faults_real restarts it), from its start to
    30 s after it was ready: its RBAC authorizer denies until its caches are filled, and kopf retries;
    that is not a missing rule."""
    match = re.match(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),\d+\]", line)
    if match is None:
        return False
    at = datetime.datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S")
    return any(started - datetime.timedelta(seconds=1) <= at <= ready + datetime.timedelta(seconds=30)
               for started, ready in world.cp.apiserver_restarts)


async def test_events_come_from_headlamp_operator_and_log_lines_name_the_resource(world: World) -> None:
    import asyncio

    namespace = "realpeers-events"
    world.cp.kubectl("create", "namespace", namespace)
    world.cp.kubectl("apply", "-f", "-", input=manifest("ResourcePatch", "named", namespace, {
        "cluster": CLUSTER, "target": {"apiVersion": "v1", "kind": "ConfigMap", "name": "x"}, "patch": {}}))
    deadline = asyncio.get_running_loop().time() + 30
    while True:  # the anonymous patch fails at once (InvalidCredentials): one Warning event
        events = json.loads(world.cp.kubectl("-n", namespace, "get", "events", "-o", "json").stdout)["items"]
        ours = [e for e in events if e["involvedObject"]["name"] == "named"]
        if ours or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.2)
    assert ours, events
    assert all((e.get("reportingComponent") or e["source"].get("component")) == "headlamp-operator" for e in ours)
    assert all(e["metadata"]["name"].startswith("headlamp-operator-") for e in ours)
    # the API server validated them as events with an eventTime: an action and a reporting instance
    assert all(e.get("action") == "Reconcile" and e.get("reportingInstance") and e.get("eventTime") for e in ours)
    assert world.operator is not None
    assert f"] [ResourcePatch {namespace}/named] Handler 'apply' failed permanently" in world.operator.log()
    assert "register.<locals>" not in world.operator.log() and "forget-" not in world.operator.log()
    # the readiness gauge names it, as cert-manager's certmanager_certificate_ready_status does
    labels = f'kind="ResourcePatch",name="named",namespace="{namespace}"'
    expected = [f'headlamp_operator_resource_ready_status{{condition="{c}",{labels}}} {v}'
                for c, v in (("True", "0.0"), ("False", "1.0"), ("Unknown", "0.0"))]
    scraped = ""
    async with aiohttp.ClientSession() as session:
        while asyncio.get_running_loop().time() < deadline + 10:
            async with session.get(f"http://127.0.0.1:{world.metrics_port}/metrics") as response:
                scraped = await response.text()
            if all(line in scraped.splitlines() for line in expected):
                break
            await asyncio.sleep(0.2)
    assert all(line in scraped.splitlines() for line in expected), [
        line for line in scraped.splitlines() if "named" in line]
    assert re.search(r'^headlamp_operator_build_info\{.*version="[^"]+".*\} 1\.0$', scraped, re.M)
    world.cp.kubectl("delete", "namespace", namespace, "--wait=false")
