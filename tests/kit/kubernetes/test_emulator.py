"""The in-memory Kubernetes API: each gap of kmock 0.8 that it fills, and a real kopf operator on it."""
from __future__ import annotations

import asyncio
import copy
import re
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import kmock
import kopf
import pytest

from headlamp_operator_testing.kopf_harness import kopf_operator, wait_until
from headlamp_operator_testing.kubernetes import KubeApiError, KubeClient, KubernetesEmulator, patches, write_kubeconfig

GROUP, VERSION, PLURAL = 'test.headlamp-operator.dev', 'v1', 'widgets'
WIDGETS = (GROUP, VERSION, PLURAL)
SECRETS = ('', 'v1', 'secrets')
NAMESPACES = ('', 'v1', 'namespaces')
JSON_PATCH = 'application/json-patch+json'
STRATEGIC = 'application/strategic-merge-patch+json'


def widget_crd(*, versions: tuple[str, ...] = (VERSION,), storage: str = VERSION) -> dict[str, Any]:
    return {
        'apiVersion': 'apiextensions.k8s.io/v1', 'kind': 'CustomResourceDefinition',
        'metadata': {'name': f'{PLURAL}.{GROUP}'},
        'spec': {
            'group': GROUP, 'scope': 'Namespaced',
            'names': {'plural': PLURAL, 'singular': 'widget', 'kind': 'Widget',
                      'shortNames': ['wd'], 'categories': ['headlamp-test']},
            'versions': [{'name': name, 'served': True, 'storage': name == storage,
                          'subresources': {'status': {}},
                          'schema': {'openAPIV3Schema': {'type': 'object',
                                                         'x-kubernetes-preserve-unknown-fields': True}}}
                         for name in versions],
        },
    }


def widget(name: str, **spec: Any) -> dict[str, Any]:
    return {'apiVersion': f'{GROUP}/{VERSION}', 'kind': 'Widget', 'metadata': {'name': name}, 'spec': spec}


@pytest.fixture
async def kube() -> AsyncIterator[KubernetesEmulator]:
    async with KubernetesEmulator() as emulator:
        emulator.register_crd(widget_crd())
        yield emulator


@pytest.fixture
async def api(kube: KubernetesEmulator) -> AsyncIterator[KubeClient]:
    async with kmock.Server(kube) as server, KubeClient(str(server.url)) as client:
        yield client


async def test_namespaces_can_be_listed_fetched_and_watched(kube: KubernetesEmulator, api: KubeClient) -> None:
    listed = await api.list(*NAMESPACES)
    assert {'default', 'kube-system'} <= {ns['metadata']['name'] for ns in listed['items']}
    assert listed['kind'] == 'NamespaceList'

    created = await api.create(*NAMESPACES, None, {'metadata': {'name': 'team-a'}})
    fetched = await api.get(*NAMESPACES, None, 'team-a')
    assert fetched is not None and fetched['metadata']['uid'] == created['metadata']['uid']
    assert fetched['status'] == {'phase': 'Active'}
    assert await api.get(*NAMESPACES, None, 'nope') is None

    stream = api.watch(*NAMESPACES, resource_version=listed['metadata']['resourceVersion'])
    event = await asyncio.wait_for(anext(stream), 5)
    await stream.aclose()
    assert (event['type'], event['object']['metadata']['name']) == ('ADDED', 'team-a')


async def test_namespaced_objects_need_an_existing_namespace(api: KubeClient) -> None:
    with pytest.raises(KubeApiError) as error:
        await api.create(*WIDGETS, 'missing', widget('w1'))
    assert error.value.status == 404 and 'namespaces "missing" not found' in str(error.value)


async def test_server_sets_uid_timestamps_generation_and_resource_versions(api: KubeClient) -> None:
    created = await api.create(*WIDGETS, 'default', widget('w1', size=1))
    meta = created['metadata']
    assert uuid.UUID(meta['uid']).version == 4
    assert re.fullmatch(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ', meta['creationTimestamp'])
    assert meta['generation'] == 1 and meta['namespace'] == 'default'

    labelled = await api.patch(*WIDGETS, 'default', 'w1', {'metadata': {'labels': {'a': 'b'}}})
    assert labelled['metadata']['generation'] == 1  # metadata-only: no new generation
    assert int(labelled['metadata']['resourceVersion']) > int(meta['resourceVersion'])

    resized = await api.patch(*WIDGETS, 'default', 'w1', {'spec': {'size': 2}})
    assert resized['metadata']['generation'] == 2
    assert resized['metadata']['uid'] == meta['uid']

    secret = await api.create(*SECRETS, 'default', {'metadata': {'name': 's1'}})  # one counter for all
    assert int(secret['metadata']['resourceVersion']) == int(resized['metadata']['resourceVersion']) + 1
    listed = await api.list(*WIDGETS, 'default')
    assert listed['metadata']['resourceVersion'] == secret['metadata']['resourceVersion']

    same = await api.patch(*WIDGETS, 'default', 'w1', {'spec': {'size': 2}})  # a no-op write
    assert same['metadata']['resourceVersion'] == resized['metadata']['resourceVersion']

    with pytest.raises(KubeApiError) as error:  # optimistic concurrency with a stale resourceVersion
        await api.patch(*WIDGETS, 'default', 'w1', {'metadata': {'resourceVersion': meta['resourceVersion']}})
    assert error.value.status == 409


async def test_generate_name_and_conflicts(api: KubeClient) -> None:
    first = await api.create(*SECRETS, 'default', {'metadata': {'generateName': 'tok-'}})
    assert re.fullmatch(r'tok-[a-z0-9]{5}', first['metadata']['name'])
    await api.create(*SECRETS, 'default', {'metadata': {'name': 'fixed'}})
    with pytest.raises(KubeApiError) as error:
        await api.create(*SECRETS, 'default', {'metadata': {'name': 'fixed'}})
    assert (error.value.status, error.value.reason) == (409, 'AlreadyExists')


async def test_status_subresource_separates_status_from_the_rest(api: KubeClient) -> None:
    resources = await api.request('GET', f'/apis/{GROUP}/{VERSION}')
    assert {'widgets', 'widgets/status'} <= {r['name'] for r in resources['resources']}

    created = await api.create(*WIDGETS, 'default', dict(widget('w1', size=1), status={'dropped': True}))
    assert 'status' not in created  # status is not settable on creation either

    main = await api.patch(*WIDGETS, 'default', 'w1', {'spec': {'size': 2}, 'status': {'phase': 'Lost'}})
    assert main['spec'] == {'size': 2} and 'status' not in main

    status = await api.patch(*WIDGETS, 'default', 'w1', {'spec': {'size': 99}, 'status': {'phase': 'Ready'}},
                             subresource='status')
    assert status['status'] == {'phase': 'Ready'} and status['spec'] == {'size': 2}
    assert status['metadata']['generation'] == main['metadata']['generation']
    fetched = await api.request('GET', f'/apis/{GROUP}/{VERSION}/namespaces/default/widgets/w1/status')
    assert fetched['status'] == {'phase': 'Ready'}

    await api.create(*SECRETS, 'default', {'metadata': {'name': 's1'}})
    with pytest.raises(KubeApiError) as error:  # secrets have no status subresource
        await api.patch(*SECRETS, 'default', 's1', {'status': {}}, subresource='status')
    assert error.value.status == 404


async def test_merge_patch_deletes_keys_with_null_and_replaces_lists(api: KubeClient) -> None:
    await api.create(*WIDGETS, 'default', widget('w1', keep=1, drop={'deep': 1, 'keep': 2}, items=[1, 2, 3]))
    patched = await api.patch(*WIDGETS, 'default', 'w1', {'spec': {'drop': {'deep': None}, 'items': [9],
                                                                   'gone': None, 'new': {'a': 1}}})
    assert patched['spec'] == {'keep': 1, 'drop': {'keep': 2}, 'items': [9], 'new': {'a': 1}}
    removed = await api.patch(*WIDGETS, 'default', 'w1', {'spec': {'drop': None}})
    assert 'drop' not in removed['spec']


async def test_json_patch_applies_operations_and_fails_its_tests_with_422(api: KubeClient) -> None:
    created = await api.create(*WIDGETS, 'default', widget('w1', items=['a', 'c'], old=1))
    rv = created['metadata']['resourceVersion']
    ops = [{'op': 'test', 'path': '/metadata/resourceVersion', 'value': rv},
           {'op': 'add', 'path': '/spec/items/1', 'value': 'b'},
           {'op': 'add', 'path': '/metadata/finalizers', 'value': ['x/y']},
           {'op': 'move', 'from': '/spec/old', 'path': '/spec/new'},
           {'op': 'replace', 'path': '/spec/new', 'value': 2}]
    patched = await api.patch(*WIDGETS, 'default', 'w1', ops, content_type=JSON_PATCH)
    assert patched['spec'] == {'items': ['a', 'b', 'c'], 'new': 2}
    assert patched['metadata']['finalizers'] == ['x/y']

    stale = [{'op': 'test', 'path': '/metadata/resourceVersion', 'value': rv},
             {'op': 'remove', 'path': '/metadata/finalizers'}]
    with pytest.raises(KubeApiError) as error:  # kopf's optimistic lock for finalizers expects 422
        await api.patch(*WIDGETS, 'default', 'w1', stale, content_type=JSON_PATCH)
    assert error.value.status == 422


async def test_strategic_merge_patch_is_for_builtins_only(api: KubeClient) -> None:
    await api.create(*SECRETS, 'default', {'metadata': {'name': 's1', 'finalizers': ['a/b']}, 'data': {'k': 'dg=='}})
    patched = await api.patch(*SECRETS, 'default', 's1', {'metadata': {'finalizers': ['c/d']}, 'data': {'k': None}},
                              content_type=STRATEGIC)
    assert patched['metadata']['finalizers'] == ['a/b', 'c/d'] and patched['data'] == {}
    await api.create(*WIDGETS, 'default', widget('w1'))
    with pytest.raises(KubeApiError) as error:
        await api.patch(*WIDGETS, 'default', 'w1', {'spec': {}}, content_type=STRATEGIC)
    assert error.value.status == 415


async def test_watch_replays_writes_made_between_the_list_and_the_watch(api: KubeClient) -> None:
    await api.create(*WIDGETS, 'default', widget('before'))
    listed = await api.list(*WIDGETS, 'default')
    await api.create(*WIDGETS, 'default', widget('between'))  # the write kmock 0.8 can lose
    await api.patch(*WIDGETS, 'default', 'before', {'spec': {'x': 1}})

    stream = api.watch(*WIDGETS, 'default', resource_version=listed['metadata']['resourceVersion'])
    events = [await asyncio.wait_for(anext(stream), 5) for _ in range(2)]
    await api.create(*WIDGETS, 'default', widget('after'))
    events.append(await asyncio.wait_for(anext(stream), 5))
    await stream.aclose()
    assert [(e['type'], e['object']['metadata']['name']) for e in events] == [
        ('ADDED', 'between'), ('MODIFIED', 'before'), ('ADDED', 'after')]


async def test_watch_without_resource_version_lists_then_streams_without_gaps(
        kube: KubernetesEmulator, api: KubeClient) -> None:
    await api.create(*WIDGETS, 'default', widget('w0'))

    async def writer() -> None:  # writes race with the watch's start; none may be lost
        for index in range(1, 30):
            kube.create_object(*WIDGETS, 'default', widget(f'w{index}'))
            await asyncio.sleep(0)

    task = asyncio.create_task(writer())
    names: set[str] = set()
    async for event in api.watch(*WIDGETS, 'default', timeout_seconds=5):
        names.add(event['object']['metadata']['name'])
        if len(names) == 30:
            break
    await task
    assert names == {f'w{index}' for index in range(30)}


async def test_watch_from_a_compacted_resource_version_is_gone(api: KubeClient) -> None:
    async with KubernetesEmulator(history_limit=4) as small, kmock.Server(small) as server:
        async with KubeClient(str(server.url)) as client:
            for index in range(10):
                await client.create(*SECRETS, 'default', {'metadata': {'name': f's{index}'}})
            event = await anext(client.watch(*SECRETS, 'default', resource_version='1'))
    assert event['type'] == 'ERROR' and event['object']['code'] == 410


async def test_watch_sends_bookmarks_and_ends_after_timeout_seconds(kube: KubernetesEmulator,
                                                                    api: KubeClient) -> None:
    kube.bookmark_interval = 0.05
    created = await api.create(*SECRETS, 'default', {'metadata': {'name': 's1'}})
    events = [event async for event in api.watch(*SECRETS, 'default', timeout_seconds=0.3, bookmarks=True,
                                                 resource_version=created['metadata']['resourceVersion'])]
    assert events and {event['type'] for event in events} == {'BOOKMARK'}
    assert events[-1]['object']['metadata']['resourceVersion'] == created['metadata']['resourceVersion']


async def test_put_replaces_and_selectors_filter(api: KubeClient) -> None:
    labelled = dict(widget('w1', a=1), metadata={'name': 'w1', 'labels': {'app': 'x'}})
    first = await api.create(*WIDGETS, 'default', labelled)
    await api.create(*WIDGETS, 'default', dict(widget('w2'), metadata={'name': 'w2', 'labels': {'app': 'y'}}))
    replaced = await api.replace(*WIDGETS, 'default', 'w1', dict(first, spec={'b': 2}))
    assert replaced['spec'] == {'b': 2} and replaced['metadata']['generation'] == 2
    with pytest.raises(KubeApiError) as error:
        await api.replace(*WIDGETS, 'default', 'w1', dict(first, spec={'c': 3}))  # stale resourceVersion
    assert error.value.status == 409
    selected = await api.list(*WIDGETS, 'default', label_selector='app in (x, z),!missing')
    assert [item['metadata']['name'] for item in selected['items']] == ['w1']
    paged = await api.request('GET', f'/apis/{GROUP}/{VERSION}/widgets', params={'limit': '1'})
    rest = await api.request('GET', f'/apis/{GROUP}/{VERSION}/widgets',
                             params={'limit': '1', 'continue': paged['metadata']['continue']})
    assert [i['metadata']['name'] for i in paged['items'] + rest['items']] == ['w1', 'w2']
    assert 'continue' not in rest['metadata']


async def test_finalizers_hold_deletion_until_they_are_removed(api: KubeClient) -> None:
    created = await api.create(*WIDGETS, 'default', dict(widget('w1'), metadata={
        'name': 'w1', 'finalizers': ['test/hold']}))
    stream = api.watch(*WIDGETS, 'default', resource_version=created['metadata']['resourceVersion'])

    deleting = await api.delete(*WIDGETS, 'default', 'w1')
    assert deleting['metadata']['deletionTimestamp'] and deleting['metadata']['finalizers'] == ['test/hold']
    assert await api.get(*WIDGETS, 'default', 'w1') is not None
    again = await api.delete(*WIDGETS, 'default', 'w1')  # idempotent while it is being deleted
    assert again['metadata']['resourceVersion'] == deleting['metadata']['resourceVersion']

    with pytest.raises(KubeApiError) as error:
        await api.patch(*WIDGETS, 'default', 'w1', {'metadata': {'finalizers': ['test/hold', 'test/new']}})
    assert error.value.status == 422

    await api.patch(*WIDGETS, 'default', 'w1', {'status': {'phase': 'Bye'}}, subresource='status')
    await api.patch(*WIDGETS, 'default', 'w1', {'metadata': {'finalizers': None}})
    assert await api.get(*WIDGETS, 'default', 'w1') is None
    types = [(await asyncio.wait_for(anext(stream), 5))['type'] for _ in range(3)]
    await stream.aclose()
    assert types == ['MODIFIED', 'MODIFIED', 'DELETED']


async def test_delete_and_release_answer_as_kube_apiserver_does(kube: KubernetesEmulator) -> None:
    """Found by tests/kit/kubernetes/test_differential_real.py: DELETE of an object held by a finalizer answers
    200 (not 202), and the write that removes the last finalizer answers with the object at the
    resourceVersion it had."""
    async with kmock.Server(kube) as server, aiohttp.ClientSession() as session:
        base = f'{server.url}/apis/{GROUP}/{VERSION}/namespaces/default/{PLURAL}'
        async with session.post(base, json=dict(widget('w1'), metadata={'name': 'w1', 'finalizers': ['t/h']})):
            pass
        async with session.delete(f'{base}/w1') as deleting:
            assert deleting.status == 200
            held = await deleting.json()
        async with session.patch(f'{base}/w1', data='{"metadata": {"finalizers": null}}',
                                 headers={'Content-Type': 'application/merge-patch+json'}) as released:
            assert released.status == 200
            answer = await released.json()
        assert answer['metadata']['resourceVersion'] == held['metadata']['resourceVersion']
        assert answer['metadata'].get('finalizers') is None
        async with session.get(f'{base}/w1') as gone:
            assert gone.status == 404


async def test_deleting_a_namespace_deletes_its_content(kube: KubernetesEmulator, api: KubeClient) -> None:
    await api.create(*NAMESPACES, None, {'metadata': {'name': 'doomed'}})
    await api.create(*SECRETS, 'doomed', {'metadata': {'name': 'plain'}})
    await api.create(*WIDGETS, 'doomed', dict(widget('held'), metadata={'name': 'held', 'finalizers': ['t/x']}))
    await api.delete(*NAMESPACES, None, 'doomed')
    namespace = kube.get_object(*NAMESPACES, None, 'doomed')
    assert namespace is not None and namespace['status']['phase'] == 'Terminating'
    assert kube.get_object(*SECRETS, 'doomed', 'plain') is None
    with pytest.raises(KubeApiError) as error:
        await api.create(*SECRETS, 'doomed', {'metadata': {'name': 'late'}})
    assert error.value.status == 403
    await api.patch(*WIDGETS, 'doomed', 'held', {'metadata': {'finalizers': []}})
    assert kube.get_object(*NAMESPACES, None, 'doomed') is None


async def test_events_are_stored_and_readable(kube: KubernetesEmulator, api: KubeClient) -> None:
    await api.create('', 'v1', 'events', 'default', {
        'metadata': {'generateName': 'kopf-event-'}, 'type': 'Normal', 'reason': 'Tested',
        'message': 'hello', 'involvedObject': {'kind': 'Widget', 'name': 'w1', 'namespace': 'default'}})
    assert [event['reason'] for event in kube.events('default')] == ['Tested']
    assert kube.events('other') == []


async def test_crd_registration_is_discoverable(kube: KubernetesEmulator, api: KubeClient) -> None:
    kube.register_crd(widget_crd(versions=('v1alpha1', 'v1', 'v2beta1'), storage='v1'))
    group = await api.request('GET', f'/apis/{GROUP}')
    assert group['preferredVersion']['version'] == 'v1'
    assert [v['version'] for v in group['versions']] == ['v1', 'v2beta1', 'v1alpha1']
    resources = await api.request('GET', f'/apis/{GROUP}/v1alpha1')
    widgets = next(r for r in resources['resources'] if r['name'] == 'widgets')
    assert widgets['kind'] == 'Widget' and widgets['namespaced'] is True
    assert widgets['shortNames'] == ['wd'] and widgets['categories'] == ['headlamp-test']
    assert {'list', 'watch', 'patch'} <= set(widgets['verbs'])

    crd = kube.get_object('apiextensions.k8s.io', 'v1', 'customresourcedefinitions', None, f'{PLURAL}.{GROUP}')
    established = {c['type']: c['status'] for c in (crd or {}).get('status', {}).get('conditions', [])}
    assert established == {'NamesAccepted': 'True', 'Established': 'True'}
    core = await api.request('GET', '/api/v1')
    assert core['groupVersion'] == 'v1'
    assert {r['name']: r['namespaced'] for r in core['resources']}['namespaces'] is False

    await api.request('DELETE', f'/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{PLURAL}.{GROUP}')
    with pytest.raises(KubeApiError) as error:
        await api.request('GET', f'/apis/{GROUP}')
    assert error.value.status == 404


async def test_kubeconfig_serves_the_kubernetes_client(kube: KubernetesEmulator, tmp_path: Any) -> None:
    kubernetes = pytest.importorskip('kubernetes')
    async with kmock.Server(kube) as server:
        path = write_kubeconfig(str(server.url), tmp_path / 'config')

        def list_namespaces() -> list[str]:
            client = kubernetes.config.new_client_from_config(config_file=str(path))
            with client:
                return [ns.metadata.name for ns in kubernetes.client.CoreV1Api(client).list_namespace().items]

        assert 'default' in await asyncio.to_thread(list_namespaces)


@pytest.mark.parametrize('initial_streaming', [False, True], ids=['list-then-watch', 'streaming-list'])
async def test_kopf_operator_handles_create_status_finalizers_and_events(
        kube: KubernetesEmulator, initial_streaming: bool) -> None:
    registry = kopf.OperatorRegistry()

    def configure(settings: kopf.OperatorSettings) -> None:
        settings.watching.initial_streaming = initial_streaming

    @kopf.on.create(*WIDGETS, registry=registry)
    def create_widget(body: kopf.Body, patch: kopf.Patch, spec: kopf.Spec, **_: Any) -> None:
        patch.status['observedSize'] = spec.get('size')
        kopf.info(body, reason='Created', message='the widget is ready')

    @kopf.on.delete(*WIDGETS, registry=registry)
    def delete_widget(**_: Any) -> None:
        pass

    async with kopf_operator(kube, registry=registry, namespaces=['default'], settings=configure) as harness:
        async with harness.client() as api:
            await api.create(*WIDGETS, 'default', widget('w1', size=3))
            status = await wait_until(
                lambda: (kube.get_object(*WIDGETS, 'default', 'w1') or {}).get('status', {}).get('observedSize'),
                within=10, message='the status written by the kopf handler')
            assert status == 3
            body = kube.get_object(*WIDGETS, 'default', 'w1')
            assert body is not None and body['metadata']['finalizers'] == [harness.settings.persistence.finalizer]

            deleting = await api.delete(*WIDGETS, 'default', 'w1')
            assert deleting['metadata']['deletionTimestamp']
            await wait_until(lambda: kube.get_object(*WIDGETS, 'default', 'w1') is None,
                             within=10, message='kopf releasing its finalizer')
            events = await wait_until(lambda: kube.events('default'), message='the event posted by kopf')
    assert [(e['reason'], e['involvedObject']['name']) for e in events] == [('Created', 'w1')]


async def test_secret_string_data_is_folded_into_data() -> None:
    import base64

    from headlamp_operator_testing.kubernetes import KubernetesEmulator
    async with KubernetesEmulator() as kube:
        kube.create_object('', 'v1', 'namespaces', None, {'metadata': {'name': 'demo'}})
        created = kube.create_object('', 'v1', 'secrets', 'demo', {
            'metadata': {'name': 's'}, 'stringData': {'token': 'abc'}, 'data': {'other': 'eA=='}})
        assert 'stringData' not in created
        assert created['data'] == {'other': 'eA==', 'token': base64.b64encode(b'abc').decode()}


async def test_subresources_carry_no_categories_so_kubectl_get_by_category_works() -> None:
    import pathlib

    import kmock
    import yaml

    from headlamp_operator_testing.kubernetes import KubeClient, KubernetesEmulator
    crd = yaml.safe_load((pathlib.Path(__file__).parents[3] / 'manifests/crds/portforwards.yaml').read_text())
    async with KubernetesEmulator() as kube, kmock.Server(kube) as server:
        kube.register_crd(crd)
        async with KubeClient(str(server.url).rstrip('/')) as api:
            listing = await api.request('GET', '/apis/headlamp-operator.dev/v1alpha1')
    entries = {entry['name']: entry for entry in listing['resources']}
    assert entries['portforwards']['categories'] == ['headlamp'] and entries['portforwards']['shortNames'] == ['hpf']
    assert entries['portforwards/status']['categories'] == [] and entries['portforwards/status']['shortNames'] == []


async def test_object_and_request_size_limits_are_kube_apiservers(kube: KubernetesEmulator) -> None:
    """Measured on kube-apiserver 1.36 + etcd 3.6 by the real-peer suite: a stored object reaching etcd's
    1,572,864 bytes answers 500 'etcdserver: request is too large'; a body over 3 MiB answers 413."""
    async with kmock.Server(kube) as server, aiohttp.ClientSession() as session:
        base = f'{server.url}/apis/{GROUP}/{VERSION}/namespaces/default/{PLURAL}'

        async def create(name: str, size: int) -> tuple[int, dict[str, Any]]:
            async with session.post(base, json=dict(widget(name), blob='x' * size)) as answer:
                return answer.status, await answer.json()

        assert (await create('fits', 1_572_000))[0] == 201
        status, body = await create('etcd', 1_572_864)
        assert (status, body['message']) == (500, 'etcdserver: request is too large')
        status, body = await create('body', 3 * 1024 * 1024 + 1)
        assert (status, body['message']) == (413, 'Request entity too large: limit is 3145728')


def _deface(value: Any) -> None:
    """Change every dict and list inside ``value``, at every depth."""
    if isinstance(value, dict):
        for item in list(value.values()):
            _deface(item)
        value['defaced'] = True
    elif isinstance(value, list):
        for item in list(value):
            _deface(item)
        value.append('defaced')


async def test_nothing_handed_out_shares_anything_with_the_stored_objects(kube: KubernetesEmulator) -> None:
    """The store keeps the object a write builds (it is also the watch event's object) and hands out
    copies: defacing an answer, the caller's body, or the body a change function gets, changes nothing
    stored, in the current version or in the history."""
    state, resource = kube.state, kmock.resource(*WIDGETS)
    emitted: list[tuple[dict[str, Any], dict[str, Any]]] = []  # each event's object, and a copy of it then
    state.hooks.append(lambda event: emitted.append((event.object, copy.deepcopy(event.object))))

    def merge(patch: dict[str, Any]) -> Callable[[dict[str, Any]], Any]:
        return lambda body: patches.merge_patch(body, patch)

    def vandal(body: dict[str, Any]) -> Any:
        _deface(body)
        return []  # refused: not an object

    body = dict(widget('w', tags=['a'], nested={'x': [1, {'y': 2}]}), metadata={'name': 'w', 'finalizers': ['t/x']})
    answers = [kube.create_object(*WIDGETS, 'default', body)]
    _deface(body)
    answers.append(state.update(resource, 'default', 'w', merge({'spec': {'n': 1}})))
    answers.append(state.update(resource, 'default', 'w', merge({'status': {'s': [{'a': 1}]}}), subresource='status'))
    answers.append(state.update(resource, 'default', 'w', merge({'spec': {'n': 1}})))  # a no-op write
    answers.append(state.update(resource, 'default', 'w', merge({'spec': {'n': 2}}), dry_run=True))
    with pytest.raises(kmock.KubernetesError):
        state.update(resource, 'default', 'w', vandal)
    answers.append(state.delete(resource, 'default', 'w'))
    answers.append(state.delete(resource, 'default', 'w'))  # already being deleted
    answers += [state.get(resource, 'default', 'w'), *state.list(resource, 'default', lambda _: True)]
    expected = copy.deepcopy(kube.get_object(*WIDGETS, 'default', 'w'))
    for answer in answers:
        _deface(answer)
    assert kube.get_object(*WIDGETS, 'default', 'w') == expected
    _deface(state.update(resource, 'default', 'w', merge({'metadata': {'finalizers': None}})))  # deleted
    assert [event for event, then in emitted if event != then] == []
    assert len(emitted) == 5  # ADDED, spec, status, deleting, DELETED
    history = state.objects[resource, 'default', 'w'].history
    assert [dict(version.raw) if version is not None else None for version in history] == [
        then for _, then in emitted[:4]] + [None]
