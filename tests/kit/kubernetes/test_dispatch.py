"""The emulator's cached dispatch answers exactly as kmock's full matching, and yields to tests' reactions."""
from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import kmock
import pytest

from headlamp_operator_testing.kubernetes import KubeApiError, KubeClient, KubernetesEmulator

SECRETS = ('', 'v1', 'secrets')
VOLATILE = re.compile(r'"(uid|creationTimestamp|deletionTimestamp|resourceVersion|time)": "[^"]*"')

# Discovery at every depth (but '/', which lists the reactions' paths), every verb, errors, an unknown path.
SCRIPT: list[tuple[str, str, Any]] = [
    ('GET', '/version', None), ('GET', '/api', None), ('GET', '/apis', None),
    ('GET', '/api/v1', None), ('GET', '/apis/apiextensions.k8s.io', None),
    ('GET', '/apis/apiextensions.k8s.io/v1', None),
    ('POST', '/api/v1/namespaces/default/secrets', {'metadata': {'name': 'a'}, 'data': {'k': 'dg=='}}),
    ('POST', '/api/v1/namespaces/default/secrets', {'metadata': {'name': 'a'}}),  # 409
    ('GET', '/api/v1/namespaces/default/secrets/a', None),
    ('GET', '/api/v1/namespaces/default/secrets/missing', None),  # 404
    ('GET', '/api/v1/namespaces/default/secrets', None),
    ('GET', '/api/v1/secrets', None),
    ('PATCH', '/api/v1/namespaces/default/secrets/a', {'metadata': {'labels': {'x': 'y'}}}),
    ('PUT', '/api/v1/namespaces/default/secrets/a', {'metadata': {'name': 'a'}, 'data': {}}),
    ('GET', '/api/v1/namespaces/default', None),
    ('DELETE', '/api/v1/namespaces/default/secrets/a', None),
    ('DELETE', '/api/v1/namespaces/default/secrets/a', None),  # 404
    ('GET', '/no/such/path', None),
]


async def run_script(kube: KubernetesEmulator) -> list[tuple[int, str]]:
    """Each request of the script twice (the second meets a remembered choice); status and body."""
    answers: list[tuple[int, str]] = []
    async with kmock.Server(kube) as server, KubeClient(str(server.url)) as client:
        for method, path, body in SCRIPT + SCRIPT:
            headers = {'Content-Type': 'application/merge-patch+json' if method == 'PATCH' else 'application/json'}
            async with client.session.request(method, client.base_url + path, json=body, headers=headers) as response:
                answers.append((response.status, VOLATILE.sub(r'"\1": "-"', await response.text())))
    return answers


async def test_cached_dispatch_answers_as_full_matching_does() -> None:
    async with KubernetesEmulator() as fast:
        cached = await run_script(fast)
    async with KubernetesEmulator() as slow:
        slow['get /never-requested'] << 204  # a test's own reaction: every request gets kmock's full matching
        matched = await run_script(slow)
    assert [status for status, _ in cached][:len(SCRIPT)] == [
        200, 200, 200, 200, 200, 200, 201, 409, 200, 404, 200, 200, 200, 200, 200, 200, 404, 404]
    assert cached == matched


@pytest.fixture
async def served() -> AsyncIterator[tuple[KubernetesEmulator, KubeClient]]:
    async with KubernetesEmulator() as kube, kmock.Server(kube) as server, KubeClient(str(server.url)) as client:
        yield kube, client


async def test_a_reaction_added_later_wins_over_the_remembered_default(
        served: tuple[KubernetesEmulator, KubeClient]) -> None:
    kube, client = served
    for name in ('a', 'b'):
        await client.create(*SECRETS, 'default', {'metadata': {'name': name}})
    assert (await client.get(*SECRETS, 'default', 'a') or {})['metadata']['name'] == 'a'  # remembered now
    kube['get /api/v1/namespaces/default/secrets/a'] << 418
    with pytest.raises(KubeApiError) as caught:
        await client.get(*SECRETS, 'default', 'a')
    assert caught.value.status == 418
    assert (await client.get(*SECRETS, 'default', 'b') or {})['metadata']['name'] == 'b'  # the default still answers
