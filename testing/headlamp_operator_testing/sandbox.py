"""``headlamp-operator-sandbox`` (``make run``): the operator against an in-memory Kubernetes API and Headlamp.

Everything runs in this process on loopback: kmock's Kubernetes emulator with this project's CRDs,
the Headlamp backend emulator seeded as the samples expect, and the operator itself. The samples
in ``manifests/samples/`` are applied, and a table shows each resource's phase as it changes. A
kubeconfig is written so that a person can ``kubectl apply`` more resources while it runs.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import pathlib
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TextIO

import kmock
import kopf
import yaml

from headlamp_operator import crds, runner
from headlamp_operator.settings import BackendSettings, ReconcileSettings, Settings
from headlamp_operator_testing import scenery
from headlamp_operator_testing.headlamp import HeadlampEmulator
from headlamp_operator_testing.kopf_harness import kopf_operator
from headlamp_operator_testing.kubernetes import KubeClient, KubernetesEmulator, write_kubeconfig

GROUP, VERSION, PLURALS = crds.GROUP, crds.VERSION, crds.PLURALS
BUILTINS = {"Namespace": ("", "v1", "namespaces"), "Secret": ("", "v1", "secrets")}
ONCE_TIMEOUT = 60.0
Key = tuple[str, str, str]  # (kind, namespace, name)


def find_manifests() -> pathlib.Path:
    """The repository's ``manifests/`` (the sandbox runs from a checkout: ``make run``)."""
    for base in (pathlib.Path.cwd(), *pathlib.Path(__file__).resolve().parents):
        if (base / "manifests" / "crds").is_dir() and (base / "manifests" / "samples").is_dir():
            return base / "manifests"
    raise FileNotFoundError("manifests/crds and manifests/samples not found: run from the repository")


def documents(directory: pathlib.Path) -> Iterator[dict[str, Any]]:
    """Every YAML document of the directory's files, in file-name order."""
    for path in sorted(directory.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if isinstance(document, dict):
                yield document


@dataclasses.dataclass(frozen=True)
class Row:
    """One line of the table."""

    kind: str
    namespace: str
    name: str
    cluster: str
    phase: str
    reason: str
    message: str
    ready: bool

    @classmethod
    def of(cls, kind: str, body: Mapping[str, Any]) -> Row:
        """The row for a resource's current state."""
        status = body.get("status") or {}
        ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or ())
        generation = (body.get("metadata") or {}).get("generation")
        ready = ready and status.get("observedGeneration") == generation
        return cls(kind=kind, namespace=body["metadata"]["namespace"], name=body["metadata"]["name"],
                   cluster=str((body.get("spec") or {}).get("cluster", "")), phase=status.get("phase") or "-",
                   reason=status.get("reason") or "-", message=status.get("message") or "", ready=ready)


FORMAT = "{:<14} {:<8} {:<26} {:<9} {:<8} {:<12} {}"


def header() -> str:
    """The table's header line."""
    return FORMAT.format("KIND", "NS", "NAME", "CLUSTER", "PHASE", "REASON", "MESSAGE")


def line(row: Row) -> str:
    """One row as text (the message cut so that a row stays on one line of a wide terminal)."""
    message = row.message if len(row.message) <= 90 else row.message[:87] + "..."
    return FORMAT.format(row.kind, row.namespace, row.name, row.cluster, row.phase, row.reason, message)


def snapshot(kube: KubernetesEmulator) -> dict[Key, Row]:
    """Every PortForward and ResourcePatch in the emulator, as rows."""
    rows: dict[Key, Row] = {}
    for kind, plural in PLURALS.items():
        for body in kube.list_objects(GROUP, VERSION, plural):
            row = Row.of(kind, body)
            rows[(kind, row.namespace, row.name)] = row
    return rows


async def apply(api: KubeClient, directory: pathlib.Path) -> list[Key]:
    """Create every document of the directory (namespaces and Secrets first, as their files are ordered)."""
    applied: list[Key] = []
    for document in documents(directory):
        kind = document.get("kind", "")
        namespace = str((document.get("metadata") or {}).get("namespace") or "")
        if kind in PLURALS:
            await api.create(GROUP, VERSION, PLURALS[kind], namespace, document)
            applied.append((kind, namespace, document["metadata"]["name"]))
        elif kind in BUILTINS:
            await api.create(*BUILTINS[kind], namespace or None, document)
    return applied


async def show(kube: KubernetesEmulator, samples: list[Key], *, once: bool, out: TextIO) -> int:
    """Print rows as they change; with ``once``, return 0 when every sample is Ready, 1 otherwise."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ONCE_TIMEOUT
    shown: dict[Key, Row] = {}
    print(header(), file=out, flush=True)
    while True:
        rows = snapshot(kube)
        for key, row in rows.items():
            if shown.get(key) != row:
                print(line(row), file=out, flush=True)
        shown = rows
        if once:
            failed = [rows[k] for k in samples if k in rows and rows[k].phase == "Failed"]
            waiting = [k for k in samples if k not in rows or not rows[k].ready]
            if failed:
                for row in failed:
                    print(f"FAILED: {row.kind} {row.namespace}/{row.name}: {row.reason}: {row.message}", file=out)
                return 1
            if not waiting:
                print(f"\nall {len(samples)} samples are Ready", file=out, flush=True)
                print(header(), file=out)
                for key in samples:
                    print(line(rows[key]), file=out)
                return 0
            if loop.time() >= deadline:
                for kind, namespace, name in waiting:
                    late = rows.get((kind, namespace, name))
                    state = f"{late.phase} {late.reason}: {late.message}" if late else "not found"
                    print(f"NOT READY after {ONCE_TIMEOUT:.0f}s: {kind} {namespace}/{name}: {state}", file=out)
                return 1
        await asyncio.sleep(0.2)


COLUMNS = ("KIND:.kind,NAMESPACE:.metadata.namespace,NAME:.metadata.name,CLUSTER:.spec.cluster,"
           "PHASE:.status.phase,READY:.status.conditions[?(@.type==\"Ready\")].status,STATUS:.status.message")


def banner(url: str, headlamp_url: str, kubeconfig: pathlib.Path, *, once: bool) -> str:
    """What the sandbox prints first: where things are, how to use kubectl on it, and where its in-memory
    API still differs from a real API server for kubectl (and how to do those things here)."""
    kubectl = f"kubectl --kubeconfig {kubeconfig}"
    return (
        f"Kubernetes API (in memory): {url}\nHeadlamp backend (emulated): {headlamp_url}\n"
        f"Try:  {kubectl} get headlamp -A\n"
        f"      {kubectl} apply --validate=false -f my-portforward.yaml\n"
        "The in-memory API validates as a real one does (the CRDs' schemas and CEL rules: 422 Invalid),\n"
        "but for kubectl it differs from a real API server:\n"
        "- --validate=false is needed: it serves no OpenAPI document, which kubectl's default validation\n"
        "  downloads first. An unknown field is then pruned silently; a real API server refuses it\n"
        "  (kubectl's default --validate=strict: 'strict decoding error: unknown field \"spec.x\"').\n"
        "- kubectl get shows NAME and AGE only (it serves no Table, so no printer columns); instead:\n"
        f"  {kubectl} get headlamp -A -o custom-columns='{COLUMNS}'\n"
        "- kubectl explain does not work (no OpenAPI): read manifests/crds/*.yaml.\n"
        "- kubectl create secret fails (kubectl sends built-in kinds as protobuf); pipe it as YAML:\n"
        "  kubectl create secret generic NAME --from-literal=token=TOKEN --dry-run=client -o yaml \\\n"
        f"    | {kubectl} -n NAMESPACE apply --validate=false -f -\n"
        "- kubectl get -w stops at once (its watch is not a JSON stream to kubectl): repeat kubectl get.\n"
        + ("" if once else "Stop with Ctrl-C.\n"))


async def main(*, once: bool, out: TextIO = sys.stdout, manifests: pathlib.Path | None = None,
               workdir: pathlib.Path | None = None) -> int:
    """Run the sandbox; returns the exit code (``--once``), or runs until cancelled (Ctrl-C)."""
    manifests = manifests or find_manifests()
    async with contextlib.AsyncExitStack() as stack:
        if workdir is None:  # a folder of its own, removed on every exit (Ctrl-C too): no dead kubeconfigs
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="headlamp-operator-sandbox-"))
            workdir = pathlib.Path(folder)
        hl = await stack.enter_async_context(HeadlampEmulator())
        await scenery.seed_sandbox(hl)
        kube = await stack.enter_async_context(KubernetesEmulator())
        server = await stack.enter_async_context(kmock.Server(kube))
        for crd in documents(manifests / "crds"):
            kube.register_crd(crd)
        url = str(server.url).rstrip("/")
        kubeconfig = write_kubeconfig(url, workdir / "kubeconfig", namespace="demo")
        settings = Settings(backend=BackendSettings(url=str(hl.url)),
                            reconcile=ReconcileSettings(sync_interval=5.0, allow_anonymous=False))
        registry, _ = runner.build_registry(settings, with_login=False, connect=lambda: kopf.ConnectionInfo(server=url))
        harness = await stack.enter_async_context(kopf_operator(kube, server=server, registry=registry,
                                                                clusterwide=True))
        print(banner(url, str(hl.url), kubeconfig, once=once), file=out, flush=True)
        async with harness.client() as api:
            samples = await apply(api, manifests / "samples")
        return await show(kube, samples, once=once, out=out)
    return 1  # pragma: no cover  (the exit stack does not swallow exceptions)


def run(*, once: bool) -> int:
    """Run the sandbox until Ctrl-C (or, with ``once``, until every sample is Ready); the exit code."""
    try:
        return asyncio.run(main(once=once))
    except KeyboardInterrupt:
        return 0


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``headlamp-operator-sandbox``."""
    parser = argparse.ArgumentParser(
        prog="headlamp-operator-sandbox",
        description="Try headlamp-operator without a cluster: an in-memory Kubernetes API, an emulated Headlamp "
                    "backend and the operator, with the samples applied and their status shown as it changes; "
                    "a kubeconfig is printed for kubectl.")
    parser.add_argument("--once", action="store_true", help="exit 0 once every sample is Ready (60 s at most)")
    return parser


def cli(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``headlamp-operator-sandbox`` console script."""
    return run(once=build_parser().parse_args(argv).once)
