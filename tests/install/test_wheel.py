"""The operator's wheel holds the operator only, and its CLI works with the runtime dependencies alone.

The test kit (emulators, in-memory API, kopf harness, sandbox) is ``testing/``, a distribution of its
own; the image installs ``pip install .`` and nothing else. Here the wheel is built, read, installed
into a fresh virtual environment with its runtime dependencies only (from the package index), and its
``headlamp-operator run`` reconciles a ResourcePatch against the emulators served from this process.
"""
from __future__ import annotations

import ast
import pathlib
import subprocess
import sys
import venv
import zipfile
from collections.abc import AsyncIterator, Iterator

import kmock
import pytest
import yaml

from headlamp_operator_testing.headlamp import HeadlampEmulator
from headlamp_operator_testing.kopf_harness import wait_until
from headlamp_operator_testing.kubernetes import KubernetesEmulator, write_kubeconfig
from headlamp_operator_testing.process import operator_process

ROOT = pathlib.Path(__file__).resolve().parents[2]
TEST_KIT = ("headlamp_operator_testing", "kmock", "celpy")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--wheel-dir", str(out), str(ROOT)], check=True, timeout=300)
    [built] = out.glob("headlamp_operator-*.whl")
    return built


@pytest.fixture(scope="module")
def runtime(wheel: pathlib.Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[pathlib.Path]:
    """A fresh virtual environment with the wheel and its runtime dependencies only: its bin/ folder."""
    home = tmp_path_factory.mktemp("runtime-venv")
    venv.create(home, with_pip=True)
    python = home / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(wheel)],
                   check=True, timeout=600)
    yield home / "bin"


def test_the_wheel_holds_the_operator_and_nothing_of_the_test_kit(wheel: pathlib.Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        modules = {name: archive.read(name).decode() for name in names if name.endswith(".py")}
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert {name.split("/")[0] for name in names} == {"headlamp_operator", wheel.name.split("-py3")[0] + ".dist-info"}
    assert not [name for name in names if "testing" in name or "sandbox" in name], names
    for name, source in modules.items():
        imported = {alias.name.split(".")[0] for node in ast.walk(ast.parse(source))
                    for alias in getattr(node, "names", ()) if isinstance(node, ast.Import)}
        imported |= {node.module.split(".")[0] for node in ast.walk(ast.parse(source))
                     if isinstance(node, ast.ImportFrom) and node.module and node.level == 0}
        assert not imported & set(TEST_KIT), (name, imported & set(TEST_KIT))
    required = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    runtime = [line for line in required if "extra ==" not in line]
    assert not [line for line in runtime if any(kit in line for kit in ("kmock", "cel-python", "kubernetes"))]
    assert 'Requires-Dist: kubernetes>=30; extra == "kubernetes"' in required  # exec-plugin kubeconfigs only


def test_every_command_of_the_installed_cli_runs_with_the_runtime_dependencies_only(runtime: pathlib.Path) -> None:
    installed = subprocess.run([str(runtime / "python"), "-m", "pip", "list", "--format=freeze"],
                               capture_output=True, text=True, check=True).stdout.lower()
    assert "kmock" not in installed and "kubernetes==" not in installed and "cel-python" not in installed
    assert not (runtime / "headlamp-operator-sandbox").exists()
    version = subprocess.run([str(runtime / "headlamp-operator"), "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("headlamp-operator "), version.stderr
    for args in (["--help"], ["run", "--help"]):
        done = subprocess.run([str(runtime / "headlamp-operator"), *args], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    refused = subprocess.run([str(runtime / "headlamp-operator"), "run", "--headlamp-url", "ftp://x"],
                             capture_output=True, text=True)
    assert refused.returncode == 2 and "argument --headlamp-url" in refused.stderr


@pytest.fixture
async def world(tmp_path: pathlib.Path) -> AsyncIterator[tuple[KubernetesEmulator, kmock.Server, HeadlampEmulator]]:
    async with KubernetesEmulator() as kube, kmock.Server(kube) as server, HeadlampEmulator() as hl:
        kube.register_builtin()
        for path in sorted((ROOT / "manifests" / "crds").glob("*.yaml")):
            kube.register_crd(yaml.safe_load(path.read_text()))
        hl.add_cluster("prod").add_deployment("shop", "web", replicas=1)
        yield kube, server, hl


async def test_the_installed_operator_reconciles_with_the_runtime_dependencies_only(
        runtime: pathlib.Path, world: tuple[KubernetesEmulator, kmock.Server, HeadlampEmulator],
        tmp_path: pathlib.Path) -> None:
    kube, server, hl = world
    kubeconfig = write_kubeconfig(str(server.url).rstrip("/"), tmp_path / "kubeconfig", token="runtime-token")
    kube.create_object("", "v1", "namespaces", None, {"metadata": {"name": "team-a"}})
    kube.create_object("headlamp-operator.dev", "v1alpha1", "resourcepatches", "team-a", {
        "apiVersion": "headlamp-operator.dev/v1alpha1", "kind": "ResourcePatch",
        "metadata": {"name": "scale-web", "namespace": "team-a"},
        "spec": {"cluster": "prod", "patch": {"spec": {"replicas": 3}},
                 "target": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "namespace": "shop"}}})
    async with operator_process(kubeconfig=kubeconfig, headlamp_url=str(hl.url), workdir=tmp_path,
                                command=[str(runtime / "headlamp-operator")],
                                env={"HEADLAMP_ALLOW_ANONYMOUS": "true"}) as operator:
        def applied() -> bool:
            body = kube.get_object("headlamp-operator.dev", "v1alpha1", "resourcepatches", "team-a", "scale-web")
            return ((body or {}).get("status") or {}).get("phase") == "Applied"

        await wait_until(applied, within=60, message=f"the patch applied:\n{operator.log()[-2000:]}")
    assert hl.clusters["prod"].get("deployments", "shop", "web")["spec"]["replicas"] == 3
    assert "kubernetes" not in operator.log().lower().replace("kubernetes api", "")  # no client import warnings
