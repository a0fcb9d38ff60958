"""The e2e suite's own skip logic and configuration (not marked e2e: runs in every `make test`)."""
from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest
import yaml

from tests.harness.e2e.cluster import is_ready
from tests.harness.e2e.config import DEFAULT_IMAGE, DEFAULT_TIMEOUT, E2EConfig, E2EConfigError, e2e_config

ROOT = pathlib.Path(__file__).parents[2]


@pytest.fixture()
def kubeconfig(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "kind-e2e",
        "clusters": [{"name": "kind-e2e", "cluster": {"server": "https://127.0.0.1:6443"}}],
        "users": [{"name": "admin", "user": {"token": "t"}}],
        "contexts": [{"name": "kind-e2e", "context": {"cluster": "kind-e2e", "user": "admin"}},
                     {"name": "other", "context": {"cluster": "kind-e2e", "user": "admin"}}]}))
    return path


def env(kubeconfig: pathlib.Path, **extra: str) -> dict[str, str]:
    return {"E2E_KUBECONFIG": str(kubeconfig), "E2E_HEADLAMP_URL": "http://localhost:4466/", **extra}


@pytest.mark.parametrize("environ", [
    {},
    {"E2E_KUBECONFIG": "/some/kubeconfig"},
    {"E2E_HEADLAMP_URL": "http://localhost:4466"},
    {"E2E_KUBECONFIG": "  ", "E2E_HEADLAMP_URL": ""},  # blank counts as unset
], ids=["none", "no-url", "no-kubeconfig", "blank"])
def test_unset_variables_give_a_reason_naming_both(environ: dict[str, str]) -> None:
    reason = e2e_config(environ)
    assert isinstance(reason, str)
    assert "E2E_KUBECONFIG" in reason and "E2E_HEADLAMP_URL" in reason
    missing = [name for name in ("E2E_KUBECONFIG", "E2E_HEADLAMP_URL") if not environ.get(name, "").strip()]
    assert f"unset: {', '.join(missing)}" in reason


def test_defaults(kubeconfig: pathlib.Path) -> None:
    config = e2e_config(env(kubeconfig))
    assert config == E2EConfig(kubeconfig=kubeconfig, context=None, headlamp_url="http://localhost:4466",
                               cluster="kind-e2e", operator="deployed", image=DEFAULT_IMAGE, token=None,
                               backend_token=None, timeout=DEFAULT_TIMEOUT, keep_namespaces=False)


def test_every_variable(kubeconfig: pathlib.Path) -> None:
    config = e2e_config(env(kubeconfig, E2E_CONTEXT="other", E2E_CLUSTER="main", E2E_OPERATOR="Local",
                            E2E_IMAGE="nginx:1.27", E2E_TOKEN="tok", E2E_HEADLAMP_BACKEND_TOKEN="backend",
                            E2E_TIMEOUT="30", E2E_KEEP_NAMESPACES="yes"))
    assert isinstance(config, E2EConfig)
    assert (config.context, config.cluster, config.operator, config.image) == ("other", "main", "local", "nginx:1.27")
    assert (config.token, config.backend_token, config.timeout, config.keep_namespaces) == ("tok", "backend", 30, True)
    assert "tok" not in repr(config) and "backend" not in repr(config)  # tokens never printed


def test_the_cluster_defaults_to_the_chosen_context(kubeconfig: pathlib.Path) -> None:
    config = e2e_config(env(kubeconfig, E2E_CONTEXT="other"))
    assert isinstance(config, E2EConfig) and config.cluster == "other"


@pytest.mark.parametrize(("extra", "variable"), [
    ({"E2E_OPERATOR": "helm"}, "E2E_OPERATOR"),
    ({"E2E_TIMEOUT": "soon"}, "E2E_TIMEOUT"),
    ({"E2E_TIMEOUT": "0"}, "E2E_TIMEOUT"),
    ({"E2E_HEADLAMP_URL": "localhost:4466"}, "E2E_HEADLAMP_URL"),
    ({"E2E_HEADLAMP_URL": "http://localhost:4466/?x=1"}, "E2E_HEADLAMP_URL"),
    ({"E2E_CONTEXT": "nope"}, "E2E_CONTEXT"),
    ({"E2E_KEEP_NAMESPACES": "maybe"}, "E2E_KEEP_NAMESPACES"),
    ({"E2E_KUBECONFIG": "/does/not/exist"}, "E2E_KUBECONFIG"),
    ({"E2E_KUBECONFIG": f"/a{os.pathsep}/b"}, "E2E_KUBECONFIG"),
])
def test_set_but_unusable_is_an_error_not_a_skip(kubeconfig: pathlib.Path, extra: dict[str, str],
                                                   variable: str) -> None:
    with pytest.raises(E2EConfigError, match=variable):
        e2e_config(env(kubeconfig, **extra))


def test_a_kubeconfig_without_current_context_needs_e2e_context(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "contexts": [{"name": "a", "context": {}}]}))
    with pytest.raises(E2EConfigError, match="E2E_CONTEXT"):
        e2e_config(env(path))
    config = e2e_config(env(path, E2E_CONTEXT="a"))
    assert isinstance(config, E2EConfig) and config.cluster == "a"


@pytest.mark.parametrize(("obj", "ready"), [
    (None, False),
    ({"metadata": {"generation": 2}, "status": {}}, False),
    ({"metadata": {"generation": 2}, "status": {"conditions": [{"type": "Ready", "status": "True",
                                                                "observedGeneration": 2}]}}, True),
    ({"metadata": {"generation": 2}, "status": {"conditions": [{"type": "Ready", "status": "True",
                                                                "observedGeneration": 1}]}}, False),
    ({"metadata": {"generation": 2}, "status": {"observedGeneration": 1,
                                                "conditions": [{"type": "Ready", "status": "True"}]}}, False),
    ({"metadata": {"generation": 2}, "status": {"observedGeneration": 2,
                                                "conditions": [{"type": "Ready", "status": "True"}]}}, True),
    ({"metadata": {"generation": 1}, "status": {"conditions": [{"type": "Ready", "status": "False",
                                                                "observedGeneration": 1}]}}, False),
], ids=["absent", "no-conditions", "current", "stale-condition", "stale-status", "status-generation", "not-ready"])
def test_ready_reads_like_kubectl_wait(obj: dict[str, object] | None, ready: bool) -> None:
    assert is_ready(obj) is ready


def test_without_the_variables_the_suite_is_collected_and_skipped_with_the_reason() -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("E2E_")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-m", "e2e", "-q", "-rs", "-p", "no:cacheprovider"],
        cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert " passed" not in output and "error" not in output.lower(), output
    skipped = [line for line in output.splitlines() if line.startswith("SKIPPED")]
    assert skipped and all("E2E_KUBECONFIG" in line and "E2E_HEADLAMP_URL" in line for line in skipped), output
    assert "skipped" in output.splitlines()[-1], output
