"""The sandbox as a newcomer meets it: one command, every sample Ready; kubectl-style use while it runs."""
from __future__ import annotations

import asyncio
import io
import pathlib
import re
import subprocess
import sys

import kubernetes
import yaml

from headlamp_operator_testing import sandbox
from headlamp_operator_testing.kopf_harness import wait_until

ROOT = pathlib.Path(__file__).parents[2]


def sample_names() -> set[str]:
    names = set()
    for path in (ROOT / "manifests" / "samples").glob("*.yaml"):
        for document in yaml.safe_load_all(path.read_text()):
            if document and document.get("kind") in ("PortForward", "ResourcePatch"):
                names.add(document["metadata"]["name"])
    return names


def test_sandbox_once_exits_0_with_every_sample_ready() -> None:
    proc = subprocess.run([str(pathlib.Path(sys.executable).parent / "headlamp-operator-sandbox"), "--once"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    final = proc.stdout.split("samples are Ready", 1)[1].strip().splitlines()
    assert final[0].split() == ["KIND", "NS", "NAME", "CLUSTER", "PHASE", "REASON", "MESSAGE"]
    rows = {line.split()[2]: line.split()[4] for line in final[1:]}
    assert set(rows) == sample_names()
    assert all(phase in ("Running", "Stopped", "Applied", "Previewed") for phase in rows.values()), rows
    assert "kubeconfig" in proc.stdout
    printed = re.search(r"--kubeconfig (\S+) get", proc.stdout)
    assert printed is not None
    assert not pathlib.Path(printed.group(1)).parent.exists()  # its temporary folder went with it (issue 11)


async def test_a_resource_applied_through_the_printed_kubeconfig_becomes_ready(tmp_path: pathlib.Path) -> None:
    out = io.StringIO()
    task = asyncio.create_task(sandbox.main(once=False, out=out, workdir=tmp_path))
    try:
        match = await wait_until(lambda: re.search(r"--kubeconfig (\S+) get", out.getvalue()), within=30,
                                 message="the sandbox printed its kubeconfig")
        api = kubernetes.client.CustomObjectsApi(kubernetes.config.new_client_from_config(config_file=match[1]))
        body = {"apiVersion": "headlamp-operator.dev/v1alpha1", "kind": "ResourcePatch",
                "metadata": {"name": "mine", "namespace": "demo"},
                "spec": {"cluster": "sandbox", "target": {"apiVersion": "apps/v1", "kind": "Deployment",
                                                          "name": "web", "namespace": "shop"},
                         "patch": {"metadata": {"labels": {"owner": "me"}}},
                         "credentials": {"tokenSecretRef": {"name": "sandbox-token"}}}}
        await wait_until(lambda: "demo" in out.getvalue(), within=30, message="the samples applied")
        await asyncio.to_thread(api.create_namespaced_custom_object, "headlamp-operator.dev", "v1alpha1", "demo",
                                "resourcepatches", body)

        await wait_until(lambda: re.search(r"ResourcePatch\s+demo\s+mine\s+sandbox\s+Applied", out.getvalue()),
                         within=30, message="the live table showed it Applied")
        obj = await asyncio.to_thread(api.get_namespaced_custom_object, "headlamp-operator.dev", "v1alpha1",
                                      "demo", "resourcepatches", "mine")
        assert obj["status"]["phase"] == "Applied" and obj["status"]["reason"] == "Applied"
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
