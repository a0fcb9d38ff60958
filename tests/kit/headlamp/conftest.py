"""Fixtures of the emulator's tests: a Headlamp emulator on loopback, its cluster ``prod``, a cookie-less client."""
from collections.abc import AsyncIterator

import aiohttp
import pytest

from headlamp_operator_testing.headlamp import HeadlampEmulator, KubeCluster


@pytest.fixture
async def hl() -> AsyncIterator[HeadlampEmulator]:
    async with HeadlampEmulator() as emulator:
        yield emulator


@pytest.fixture
def prod(hl: HeadlampEmulator) -> KubeCluster:
    cluster = hl.add_cluster("prod")
    cluster.add_deployment("default", "web", replicas=2)
    cluster.add_service("default", "web", selector={"app": "web"},
                        ports=[{"name": "http", "port": 80, "targetPort": "web"}])
    cluster.add_pod("default", "web-0", labels={"app": "web"}, ports=[{"name": "web", "containerPort": 3000}])
    return cluster


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    # No cookie jar: every test passes the cookies it means to send, explicitly.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        yield session

