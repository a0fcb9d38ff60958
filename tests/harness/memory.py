"""The operator, for real, against kmock's Kubernetes emulator and the Headlamp emulator over loopback."""
from __future__ import annotations

import base64
import dataclasses
import pathlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import kmock
import kopf
import pytest
import yaml

from headlamp_operator import runner
from headlamp_operator.scheduling.state import Runtime
from headlamp_operator.settings import BackendSettings, ReconcileSettings, Settings, WebhookSettings
from headlamp_operator_testing import scenery
from headlamp_operator_testing.headlamp import HeadlampEmulator
from headlamp_operator_testing.kopf_harness import OperatorHarness, kopf_operator, wait_until
from headlamp_operator_testing.kubernetes import KubeClient, KubernetesEmulator

ROOT = pathlib.Path(__file__).parents[2]
GROUP, VERSION = "headlamp-operator.dev", "v1alpha1"
NAMESPACES = ("team-a", "team-b")
TOKEN_A = "team-a-token-0123456789abcdef"
TOKEN_B = "team-b-token-fedcba9876543210"
SYNC = 1.0  # seconds between health checks in these tests


def seed(hl: HeadlampEmulator) -> None:
    """The cluster 'prod' behind the Headlamp emulator: a service with two pods, a pod, a deployment."""
    scenery.seed_cluster(hl, "prod")


@dataclasses.dataclass
class Env:
    """One running operator and everything around it."""

    harness: OperatorHarness
    hl: HeadlampEmulator
    runtime: Runtime
    api: KubeClient

    @property
    def kube(self) -> KubernetesEmulator:
        return self.harness.kube

    async def create(self, plural: str, namespace: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
        kind = {"portforwards": "PortForward", "resourcepatches": "ResourcePatch"}[plural]
        body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": kind,
                "metadata": {"name": name, "namespace": namespace}, "spec": spec}
        return await self.api.create(GROUP, VERSION, plural, namespace, body)

    async def patch_spec(self, plural: str, namespace: str, name: str, spec: dict[str, Any]) -> None:
        await self.api.patch(GROUP, VERSION, plural, namespace, name, {"spec": spec})

    async def delete(self, plural: str, namespace: str, name: str) -> None:
        await self.api.delete(GROUP, VERSION, plural, namespace, name)

    def get(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        return self.kube.get_object(GROUP, VERSION, plural, namespace, name)

    def status(self, plural: str, namespace: str, name: str) -> dict[str, Any]:
        return dict((self.get(plural, namespace, name) or {}).get("status") or {})

    async def wait_status(self, plural: str, namespace: str, name: str, *, within: float = 10.0,
                          **expected: Any) -> dict[str, Any]:
        def check() -> dict[str, Any] | None:
            status = self.status(plural, namespace, name)
            return status if all(status.get(k) == v for k, v in expected.items()) else None
        try:
            return await wait_until(check, within=within, message=f"{plural} {namespace}/{name} status {expected}")
        except TimeoutError as e:
            raise AssertionError(f"{e}; last status: {self.status(plural, namespace, name)}") from None

    async def wait_gone(self, plural: str, namespace: str, name: str, *, within: float = 10.0) -> None:
        await wait_until(lambda: self.get(plural, namespace, name) is None, within=within,
                         message=f"{plural} {namespace}/{name} deleted")

    async def put_secret(self, namespace: str, name: str, **data: str) -> None:
        """Create or update a Secret over the Kubernetes API, as a user rotating a token would."""
        encoded = {key: base64.b64encode(value.encode()).decode() for key, value in data.items()}
        if await self.api.get("", "v1", "secrets", namespace, name) is None:
            await self.api.create("", "v1", "secrets", namespace, {
                "apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": namespace},
                "type": "Opaque", "data": encoded})
        else:
            await self.api.patch("", "v1", "secrets", namespace, name, {"data": encoded})

    def relax_crds(self) -> None:
        """Register both CRDs again without their schema, as an old or hand-made CRD would be: the API then
        stores specs that ours refuse (422), so that the operator's own re-validation can be tested."""
        anything = {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
        for crd in crds():
            for version in crd["spec"]["versions"]:
                version["schema"] = anything
            self.kube.register_crd(crd)

    async def wait_pod_watch(self, namespace: str = "monitoring", *, cluster: str = "prod",
                             within: float = 10.0) -> None:
        """Wait until the operator watches the pods of ``namespace`` (docs/portforward.md#watching-pods): its
        requests made, so that a count of requests from now on is of what happens next only."""
        api = self.hl.clusters[cluster].api
        await wait_until(lambda: api.watching("", "v1", "pods", namespace) > 0, within=within,
                         message=f"the operator watches the pods of {namespace}")

    def events(self, name: str) -> list[dict[str, Any]]:
        return [e for e in self.kube.events() if (e.get("involvedObject") or {}).get("name") == name]

    async def wait_events(self, name: str, expected: list[tuple[str, str]], *, within: float = 5.0) -> None:
        """Wait until the (type, reason) of the object's events are exactly ``expected`` (kopf posts them async)."""
        def seen() -> list[tuple[str, str]]:
            return [(e["type"], e["reason"]) for e in self.events(name)]
        try:
            await wait_until(lambda: seen() == expected, within=within, message=f"events of {name}")
        except TimeoutError:
            raise AssertionError(f"events of {name}: {seen()} != {expected}") from None


def crds() -> list[dict[str, Any]]:
    return [yaml.safe_load(path.read_text()) for path in sorted((ROOT / "manifests" / "crds").glob("*.yaml"))]


def make_settings(hl: HeadlampEmulator, *, webhook: WebhookSettings | None = None,
                  backend: dict[str, Any] | None = None, **reconcile: Any) -> Settings:
    values: dict[str, Any] = {"sync_interval": SYNC, "backoff_min": 0.2, "backoff_max": 2.0, "finalizer_timeout": 5.0}
    values.update(reconcile)
    return Settings(backend=BackendSettings(**{"url": str(hl.url), "request_timeout": 2.0, **(backend or {})}),
                    reconcile=ReconcileSettings(**values), webhook=webhook or WebhookSettings())


@pytest.fixture()
async def hl(request: pytest.FixtureRequest) -> AsyncIterator[HeadlampEmulator]:
    """The Headlamp emulator, v0.45.0 unless a test asks for a contract variant
    (docs/headlamp-backend.md#upstream-changes-in-flight) with
    ``@pytest.mark.parametrize("hl", ["pr7273", ...], indirect=True)``: each parameter is a contract
    (``"pr7273,pr7020"``) or a dict of ``HeadlampEmulator`` knobs (``{"contract": ..., "reconnect_delays": ...}``)."""
    knobs = getattr(request, "param", None) or {}
    async with HeadlampEmulator(**({"contract": knobs} if isinstance(knobs, str) else knobs)) as emulator:
        seed(emulator)
        yield emulator


@pytest.fixture()
async def kube(tmp_path: pathlib.Path) -> AsyncIterator[tuple[KubernetesEmulator, kmock.Server]]:
    async with KubernetesEmulator() as emulator, kmock.Server(emulator) as server:
        emulator.register_builtin()
        for crd in crds():
            emulator.register_crd(crd)
        yield emulator, server


OperatorFactory = Callable[..., Any]


@pytest.fixture()
def start_operator(hl: HeadlampEmulator, kube: tuple[KubernetesEmulator, kmock.Server]) -> OperatorFactory:
    """Start (and on exit stop) the operator with settings overrides; usable several times per test."""
    emulator, server = kube

    def start(*, webhook: WebhookSettings | None = None, backend: dict[str, Any] | None = None,
              **reconcile: Any) -> Any:
        import contextlib

        @contextlib.asynccontextmanager
        async def running() -> AsyncIterator[Env]:
            settings = make_settings(hl, webhook=webhook, backend=backend, **reconcile)
            url = str(server.url).rstrip("/")  # the operator's own calls (Secrets, statuses) go there too
            registry, runtime = runner.build_registry(settings, with_login=False,
                                                      connect=lambda: kopf.ConnectionInfo(server=url))
            async with kopf_operator(emulator, server=server, registry=registry, namespaces=NAMESPACES) as harness, \
                    harness.client() as api:
                yield Env(harness=harness, hl=hl, runtime=runtime, api=api)
        return running()
    return start


@pytest.fixture()
async def env(start_operator: OperatorFactory) -> AsyncIterator[Env]:
    async with start_operator() as running:
        await running.put_secret("team-a", "viewer", token=TOKEN_A)
        await running.put_secret("team-b", "viewer", token=TOKEN_B)
        yield running
