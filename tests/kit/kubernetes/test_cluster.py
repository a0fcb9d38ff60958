"""A named in-memory cluster (KubeCluster), spoken to over HTTP as a client of kube-apiserver speaks to it:
the built-in kinds a cluster behind Headlamp holds, the token knobs, managedFields, the mux's 404."""
from __future__ import annotations

import datetime
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from headlamp_operator_testing.kubernetes import KubeCluster, managedfields

MERGE = 'application/merge-patch+json'
DEPLOY = '/apis/apps/v1/namespaces/shop/deployments/web'


@pytest.fixture
async def cluster() -> AsyncIterator[KubeCluster]:
    async with KubeCluster('test') as served:
        served.add_deployment('shop', 'web', replicas=2)
        served.add_pod('shop', 'web-0', labels={'app': 'web'})
        served.add_configmap('shop', 'settings', data={'mode': 'a'})
        yield served


async def call(cluster: KubeCluster, method: str, path: str, *, token: str | None = None,
               **kwargs: Any) -> tuple[int, str, Any]:
    headers = dict(kwargs.pop('headers', {}))
    if token is not None:
        headers['Authorization'] = f'Bearer {token}'
    async with aiohttp.ClientSession() as http, \
            http.request(method, cluster.url + path, headers=headers, **kwargs) as answer:
        text = await answer.text()
        body = await answer.json() if answer.content_type == 'application/json' else text
        return answer.status, answer.headers['Content-Type'], body


async def test_objects_are_the_api_servers_own(cluster: KubeCluster) -> None:
    status, content_type, version = await call(cluster, 'GET', '/version')
    assert (status, content_type, version['gitVersion']) == (200, 'application/json', 'v1.36.3')
    _, _, configmaps = await call(cluster, 'GET', '/api/v1/namespaces/shop/configmaps')
    [item] = configmaps['items']
    assert 'kind' not in item and 'generation' not in item['metadata']  # a built-in's list item; no generation
    _, _, deployment = await call(cluster, 'GET', DEPLOY)
    assert (deployment['kind'], deployment['metadata']['generation']) == ('Deployment', 1)
    status, content_type, text = await call(cluster, 'GET', '/apis/example.com/v1/namespaces/shop/widgets')
    assert (status, content_type, text) == (404, 'text/plain; charset=utf-8', '404 page not found\n')
    status, _, missing = await call(cluster, 'GET', '/api/v1/namespaces/shop/configmaps/nope')
    assert (status, missing['message'], missing['details']) == (
        404, 'configmaps "nope" not found', {'name': 'nope', 'kind': 'configmaps'})


async def test_a_deployments_scale_is_its_replicas_and_a_negative_count_is_refused(cluster: KubeCluster) -> None:
    _, _, scale = await call(cluster, 'GET', DEPLOY + '/scale')
    assert (scale['kind'], scale['spec'], scale['status']['selector']) == ('Scale', {'replicas': 2}, 'app=web')
    status, _, scale = await call(cluster, 'PATCH', DEPLOY + '/scale', json={'spec': {'replicas': 4}},
                                  headers={'Content-Type': MERGE})
    assert (status, scale['spec']) == (200, {'replicas': 4})
    assert cluster.get('deployments', 'shop', 'web')['spec']['replicas'] == 4
    status, _, refused = await call(cluster, 'PATCH', DEPLOY, json={'spec': {'replicas': -1}},
                                    headers={'Content-Type': MERGE})
    assert (status, refused['message']) == (
        422, 'Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0')


async def test_tokens_refused_forbidden_or_denied_a_port_forward(cluster: KubeCluster) -> None:
    cluster.refuse_token('revoked')
    cluster.forbid_token('viewer', verbs=['patch'])
    cluster.name_token('viewer', 'system:serviceaccount:shop:viewer')
    cluster.deny_portforward('no-forward')
    status, _, body = await call(cluster, 'GET', '/version', token='revoked')
    assert (status, body) == (401, {'kind': 'Status', 'apiVersion': 'v1', 'metadata': {}, 'status': 'Failure',
                                    'message': 'Unauthorized', 'reason': 'Unauthorized', 'code': 401})
    assert (await call(cluster, 'GET', DEPLOY, token='viewer'))[0] == 200
    status, _, body = await call(cluster, 'PATCH', DEPLOY, token='viewer', json={}, headers={'Content-Type': MERGE})
    assert (status, body['message'], body['details']) == (
        403, 'deployments.apps "web" is forbidden: User "system:serviceaccount:shop:viewer" cannot patch resource '
             '"deployments" in API group "apps" in the namespace "shop"',
        {'name': 'web', 'group': 'apps', 'kind': 'deployments'})
    attributes = {'namespace': 'shop', 'verb': 'create', 'resource': 'pods', 'subresource': 'portforward'}
    review = {'apiVersion': 'authorization.k8s.io/v1', 'kind': 'SelfSubjectAccessReview',
              'spec': {'resourceAttributes': attributes}}
    ssar = '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews'
    verdicts = [(await call(cluster, 'POST', ssar, token=token, json=review))[2]['status']['allowed']
                for token in ('viewer', 'no-forward', None)]
    assert verdicts == [True, False, True]
    cluster.allow_token('no-forward')
    assert (await call(cluster, 'POST', ssar, token='no-forward', json=review))[2]['status']['allowed'] is True


async def test_managed_fields_follow_each_write(cluster: KubeCluster) -> None:
    status, _, patched = await call(cluster, 'PATCH', '/api/v1/namespaces/shop/configmaps/settings',
                                    params={'fieldManager': 'editor'}, json={'data': {'mode': 'b'}},
                                    headers={'Content-Type': MERGE})
    assert status == 200
    assert [(e['manager'], e['operation'], e['fieldsV1']) for e in patched['metadata']['managedFields']] == [
        ('editor', 'Update', {'f:data': {'f:mode': {}}})]  # seeding names no manager
    _, _, again = await call(cluster, 'PATCH', '/api/v1/namespaces/shop/configmaps/settings', json={'data': {'x': '1'}},
                             headers={'Content-Type': MERGE, 'User-Agent': 'kubectl/v1.36.3 (linux/amd64)'})
    assert {e['manager']: e['fieldsV1'] for e in again['metadata']['managedFields']} == {
        'editor': {'f:data': {'f:mode': {}}}, 'kubectl': {'f:data': {'f:x': {}}}}


def test_an_update_takes_the_fields_it_changes_from_their_last_manager() -> None:
    """The transcript's case (tests/kit/headlamp/transcripts/headlamp-v0.45.0.json, proxy/merge-patch)."""
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    created = {'apiVersion': 'v1', 'kind': 'ConfigMap', 'data': {'mode': 'a'},
               'metadata': {'name': 'settings', 'namespace': 't', 'uid': 'u', 'labels': {'transcript': 'yes'}}}
    created['metadata']['managedFields'] = managedfields.update(None, created, manager='kubectl-create',
                                                                api_version='v1', now=now)
    assert created['metadata']['managedFields'] == [{
        'manager': 'kubectl-create', 'operation': 'Update', 'apiVersion': 'v1', 'time': '2026-01-01T00:00:00Z',
        'fieldsType': 'FieldsV1',
        'fieldsV1': {'f:data': {'.': {}, 'f:mode': {}}, 'f:metadata': {'f:labels': {'.': {}, 'f:transcript': {}}}}}]
    patched = {**created, 'data': {'mode': 'b'}}
    entries = managedfields.update(created, patched, manager='transcript', api_version='v1', now=now)
    assert [(e['manager'], e['fieldsV1']) for e in entries] == [
        ('kubectl-create', {'f:data': {}, 'f:metadata': {'f:labels': {'.': {}, 'f:transcript': {}}}}),
        ('transcript', {'f:data': {'f:mode': {}}})]
    assert managedfields.manager_of('Headlamp 0.45.0 (linux/amd64)') == 'Headlamp 0.45.0 (linux'


async def test_seeding_and_killing_pods_without_the_api(cluster: KubeCluster) -> None:
    pod = cluster.get('pods', 'shop', 'web-0')
    assert pod is not None and pod['status']['phase'] == 'Running'  # a seed's status is kept as given
    cluster.kill_pod('shop', 'web-0')
    assert cluster.get('pods', 'shop', 'web-0')['status']['phase'] == 'Failed'
    cluster.kill_pod('shop', 'web-0', delete=True)
    assert cluster.get('pods', 'shop', 'web-0') is None and cluster.delete('pods', 'shop', 'web-0') is None
    cluster.add_configmap('elsewhere', 'made')  # its namespace is made on demand
    assert [ns['metadata']['name'] for ns in cluster.list('namespaces')] == ['default', 'elsewhere', 'kube-system',
                                                                             'shop']
