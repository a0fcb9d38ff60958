"""The plugin in the real Headlamp web UI, in front of the real control plane with the product running.

``make test-plugin-ui HEADLAMP_UI=<built frontend> HEADLAMP_SERVER=<headlamp-server>`` builds the plugin, then runs
this on the real-peer world, whose headlamp-server then also serves that UI with ``plugin/dist/main.js`` in its
plugins folder. ``drive.mjs`` drives it in headless Chromium and prints what it saw; the assertions here hold it
against what the Kubernetes API says. Skipped unless both variables are set (and deselected by ``make test-real``:
its marker is ``plugin_ui``, not ``realpeers``).
"""
from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
from typing import Any

import pytest

from headlamp_operator_testing.realpeers.world import HEADLAMP_SERVER, HEADLAMP_UI, World
from tests.harness.e2e.cluster import Namespace

ROOT = pathlib.Path(__file__).resolve().parents[2]
DRIVER = pathlib.Path(__file__).with_name("drive.mjs")
# Where the screenshots go: docs/images/plugin/ui-*.png, the ones docs/plugin.md shows.
SCREENSHOTS = pathlib.Path(os.environ.get("PLUGIN_UI_SCREENSHOTS", ROOT / "docs" / "images" / "plugin"))
# What Headlamp's page logs by itself in this world, none of it the plugin's: no /me endpoint without OIDC
# (401), API groups the real-peer API server does not serve (404), the icon API out of reach offline.
BENIGN = ("/me", "/apis/gateway.networking.k8s.io/", "/apis/scheduling.k8s.io/", "/apis/metrics.k8s.io/",
          "api.iconify.design", "api.simplesvg.com", "api.unisvg.com")

pytestmark = [
    pytest.mark.plugin_ui,
    pytest.mark.skipif(not (os.environ.get(HEADLAMP_UI) and os.environ.get(HEADLAMP_SERVER)),
                       reason="the plugin in the real Headlamp UI: make test-plugin-ui HEADLAMP_UI=<built frontend> "
                              "HEADLAMP_SERVER=<headlamp-server>"),
]

PF, RP = "portforwards", "resourcepatches"


def drive(world: World, ns: Namespace, **names: str) -> dict[str, Any]:
    """Run drive.mjs against the world's Headlamp; its JSON observations (a failed step fails the test)."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("no `node` on PATH: drive.mjs runs playwright-core from plugin/node_modules", pytrace=False)
    if not (ROOT / "plugin" / "node_modules" / "playwright-core").is_dir():
        pytest.fail("plugin/node_modules/playwright-core missing: `cd plugin && npm ci`", pytrace=False)
    command = [node, str(DRIVER), "--url", world.headlamp_url, "--cluster", ns.config.cluster,
               "--namespace", ns.name, "--screenshots", str(SCREENSHOTS), "--timeout", str(int(ns.within)),
               *(arg for key, value in names.items() for arg in (f"--{key}", value))]
    done = subprocess.run(command, capture_output=True, text=True, timeout=10 * ns.within, check=False)
    try:
        observed: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        pytest.fail(f"drive.mjs exited {done.returncode} without its JSON:\n{done.stdout}\n{done.stderr}",
                    pytrace=False)
    print(json.dumps(observed, indent=1))  # shown by pytest when the test fails
    plugin_errors = [m["text"] for m in observed["console"] if "Plugin execution error in" in m["text"]]
    assert not plugin_errors, f"the plugin threw in Headlamp: {plugin_errors}"
    assert not observed["pageErrors"], f"uncaught errors on the page: {observed['pageErrors']}"
    assert "failed" not in observed, f"drive.mjs: {observed['failed']}\n{done.stderr}"
    return observed


async def test_the_declared_forward_its_stop_and_a_failing_patch_in_the_real_headlamp_ui(
        world: World, ns: Namespace) -> None:
    assert world.headlamp_ui is not None and world.headlamp_server is not None
    credentials = await ns.viewer_secret()
    pod = await ns.echo()
    await ns.create(PF, "echo-forward", {"cluster": ns.config.cluster, "namespace": ns.name, "pod": pod,
                                         "targetPort": 8080, "credentials": credentials})
    target = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "echo", "namespace": ns.name}
    # The API server refuses a negative replica count: the patch fails with InvalidSpec and its message.
    await ns.create(RP, "bad-replicas", {"cluster": ns.config.cluster, "target": target,
                                         "patch": {"spec": {"replicas": -1}}, "credentials": credentials})
    await ns.create(RP, "label-echo", {"cluster": ns.config.cluster, "target": target,
                                       "patch": {"metadata": {"labels": {"patched-by": "headlamp-operator"}}},
                                       "credentials": credentials})
    forward = await ns.wait_ready(PF, "echo-forward")
    failing = await ns.wait_status(RP, "bad-replicas", phase="Failed")
    assert failing["reason"] == "InvalidSpec" and "spec.replicas" in failing["message"], failing
    await ns.wait_status(RP, "label-echo", phase="Applied")
    port, forward_id = str(forward["status"]["port"]), forward["status"]["id"]

    observed = drive(world, ns, forward="echo-forward", failing="bad-replicas", applied="label-echo")
    steps = {step["step"]: step for step in observed["steps"]}

    # 1. The list: the declared forward's row, as `kubectl get hpf` has it.
    row = steps["portforward list"]["row"]
    assert row["Ready"] == "True" and row["Local port"] == port and row["Pod"] == pod, row
    assert row["Target"] == f"pod {ns.name}/{pod}:8080", row
    assert row["Status"] == forward["status"]["message"] == f"forwarding localhost:{port} -> {ns.name}/{pod}:8080"

    # 2. The details: Running, and Headlamp's own forward joined by the status's id, Running on that port.
    details = steps["portforward details"]["details"]
    assert details["phase"] == "Running" and details["state"] == "Running", details
    assert details["forwardId"] == forward_id and details["localPort"] == port, details
    assert details["headlamp"] == {"id": forward_id, "status": "Running", "localPort": port,
                                   "open": f"http://localhost:{port}"}, details
    buttons = {b["label"]: b["disabled"] for b in steps["portforward details"]["buttons"]}
    assert buttons.get("Stop") is False, buttons  # enabled: the UI's user may patch it

    # 3. Stop from the UI: the page shows it stopped, and so do the resource and Headlamp's forward list.
    stopped = steps["stop"]["stopped"]
    assert stopped["phase"] == "Stopped" and stopped["state"] == "Stopped", stopped
    assert steps["stop"]["startButton"], "after the stop, the action offers Start"
    assert "Stop echo-forward: done" in steps["stop"]["snackbar"], steps["stop"]
    obj = await ns.get(PF, "echo-forward")
    assert obj is not None and obj["spec"]["state"] == "Stopped", obj
    status = await ns.wait_status(PF, "echo-forward", phase="Stopped")
    assert status["reason"] == "Stopped" and stopped["message"] == status["message"], (status, stopped)
    entry = await ns.headlamp.forward(forward_id)
    assert entry is not None and entry["status"] == "Stopped", entry
    assert stopped["headlamp"]["status"] == "Stopped", stopped

    # 4. The ResourcePatch list: the failing one's message as the API server gave it; the applied one Ready.
    rows = steps["resourcepatch list"]["rows"]
    assert rows["failing"]["Ready"] == "False" and rows["failing"]["Status"] == failing["message"], rows
    assert rows["applied"]["Ready"] == "True", rows
    assert steps["resourcepatch details"]["details"] == {"phase": "Failed", "reason": "InvalidSpec",
                                                         "message": failing["message"]}
    assert sorted(observed["screenshots"]) == sorted(
        ["ui-portforwards.png", "ui-portforward-details.png", "ui-portforward-headlamp-forward.png",
         "ui-portforward-stopped.png",
         "ui-resourcepatches.png", "ui-resourcepatch-failed.png"])
    others = [m for m in observed["console"] if m["type"] == "error" and not any(b in (m.get("url") or "")
                                                                                  for b in BENIGN)]
    assert not others, f"console errors besides Headlamp's usual ones: {others}"
