"""Fixtures for the request layer: a real Headlamp emulator on loopback and a Backend pointed at it."""
from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable

import pytest

from headlamp_operator.headlamp.backend import Backend
from headlamp_operator.settings import BackendSettings
from headlamp_operator.structs import Credentials, Secret
from headlamp_operator_testing.headlamp import HeadlampEmulator

TOKEN_A = "token-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
TOKEN_B = "token-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster: {server: "https://prod.example:6443"}
users:
- name: alice
  user: {token: kubeconfig-user-token-1234567890}
contexts:
- name: dyn
  context: {cluster: prod, user: alice}
current-context: dyn
"""


@pytest.fixture()
async def hl() -> AsyncIterator[HeadlampEmulator]:
    async with HeadlampEmulator() as emulator:
        cluster = emulator.add_cluster("prod")
        cluster.add_pod("monitoring", "grafana-0", labels={"app": "grafana"},
                        ports=[{"name": "web", "containerPort": 3000}])
        cluster.add_deployment("shop", "web", replicas=1)
        yield emulator


@pytest.fixture()
def make_backend(hl: HeadlampEmulator) -> Callable[..., Backend]:
    def make(**overrides: object) -> Backend:
        values: dict[str, object] = {"url": str(hl.url), "request_timeout": 5.0}
        values.update(overrides)
        return Backend(BackendSettings(**values))  # type: ignore[arg-type]
    return make


@pytest.fixture()
async def backend(make_backend: Callable[..., Backend]) -> AsyncIterator[Backend]:
    async with make_backend() as b:
        yield b


@pytest.fixture()
def alice() -> Credentials:
    return Credentials(token=Secret(TOKEN_A))


@pytest.fixture()
def bob() -> Credentials:
    return Credentials(token=Secret(TOKEN_B))


@pytest.fixture()
def dynamic() -> Credentials:
    return Credentials(kubeconfig=Secret(KUBECONFIG), user_id="user-1")


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()
