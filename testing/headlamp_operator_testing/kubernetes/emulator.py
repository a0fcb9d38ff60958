"""kmock's ``KubernetesEmulator`` with the API server behaviour that kopf and the operator rely on."""
from __future__ import annotations

import asyncio
import base64
import binascii
import copy
import json
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import aiohttp.web
import attrs
import kmock
from kmock._internal.apps import KMockError
from kmock._internal.rendering import Response, StreamingError  # not re-exported by kmock

from headlamp_operator_testing.kubernetes import admission, patches, registration
from headlamp_operator_testing.kubernetes.dispatch import Dispatcher
from headlamp_operator_testing.kubernetes.parsing import parse_request
from headlamp_operator_testing.kubernetes.selectors import Matcher, SelectorError, parse_selectors
from headlamp_operator_testing.kubernetes.store import NAMESPACES, ClusterState, WatchEvent, api_error

Body = dict[str, Any]
CRDS = registration.CRDS
EVENTS = kmock.resource('', 'v1', 'events')
_WRITES = frozenset({kmock.action.CREATE, kmock.action.UPDATE, kmock.action.DELETE})


MAX_REQUEST_BODY = 3 * 1024 * 1024  # kube-apiserver's limit on a request body


@attrs.define(kw_only=True)
class KubernetesEmulator(kmock.KubernetesEmulator):
    """An in-memory Kubernetes API server: kmock's emulator with real metadata, patch types,
    the status subresource, finalizers, lossless watches (replay from ``resourceVersion``) and CRDs."""

    bookmark_interval: float = 30.0  # seconds between BOOKMARKs on watches that allow them
    history_limit: int = 10_000  # watch-log entries kept; older resourceVersions get 410 Gone
    default_namespaces: tuple[str, ...] = ('default', 'kube-system')

    _state: ClusterState = attrs.field(init=False)
    _results: dict[kmock.Request, kmock.Payload] = attrs.field(factory=dict, init=False)
    _preferred: dict[str, str] = attrs.field(factory=dict, init=False)
    _watch_transports: set[asyncio.Transport] = attrs.field(factory=set, init=False)
    answered: list[kmock.Request] = attrs.field(factory=list, init=False)  # every answered request, in order
    _crd_resources: dict[str, set[kmock.resource]] = attrs.field(factory=dict, init=False)
    _dispatcher: Dispatcher = attrs.field(factory=Dispatcher, init=False)

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        self._state = ClusterState(self._objects, self._resources, history_limit=self.history_limit)
        self._state.hooks.append(self._on_change)
        self.fallback[kmock.method.PUT] << self._serve_replace
        self._dispatcher.seal(self._payloads)
        self.register_builtin()

    # -- public helpers for tests and the sandbox --------------------------------------------
    @property
    def state(self) -> ClusterState:
        """The storage behind the HTTP API (objects, resourceVersion counter, watch log)."""
        return self._state

    @property
    def resource_version(self) -> str:
        """The newest resourceVersion of the whole server."""
        return self._state.resource_version

    def register_builtin(self) -> None:
        """Serve namespaces, secrets, configmaps, events and CRDs, and create the default namespaces."""
        for resource, info in registration.builtin_resources():
            self._resources[resource] = info
        for name in self.default_namespaces:
            if self._state.get(NAMESPACES, None, name) is None:
                self._state.create(NAMESPACES, None, {'metadata': {'name': name}})

    def register_crd(self, crd: Mapping[str, Any]) -> Body:
        """Store a CustomResourceDefinition manifest (as ``kubectl apply`` would) and serve its resources."""
        body: Body = copy.deepcopy(dict(crd))
        body.setdefault('apiVersion', 'apiextensions.k8s.io/v1')
        body.setdefault('kind', 'CustomResourceDefinition')
        body['metadata'] = dict(body.get('metadata') or {}, name=registration.crd_name(body))
        registration.crd_resources(body)  # validate before storing anything
        admission.check_crd(body)
        name = body['metadata']['name']
        if self._state.get(CRDS, None, name) is None:
            self._state.create(CRDS, None, body)
        else:
            self._state.update(CRDS, None, name, lambda old: dict(body, metadata=old['metadata']))
        result = self._state.get(CRDS, None, name)
        assert result is not None
        return result

    def get_object(self, group: str, version: str, plural: str,
                   namespace: str | None, name: str) -> Body | None:
        """A copy of a stored object, or None if absent; ``namespace=None`` for cluster-scoped ones."""
        return self._state.get(kmock.resource(group, version, plural), namespace, name)

    def list_objects(self, group: str, version: str, plural: str, namespace: str | None = None) -> list[Body]:
        """Copies of all objects of a resource, in one namespace or in all."""
        return self._state.list(kmock.resource(group, version, plural), namespace, lambda _: True)

    def create_object(self, group: str, version: str, plural: str, namespace: str | None,
                      body: Mapping[str, Any]) -> Body:
        """Create an object with the same rules as ``POST`` (for seeding a test without HTTP)."""
        return self._state.create(kmock.resource(group, version, plural), namespace, dict(body))

    def events(self, namespace: str | None = None) -> list[Body]:
        """The core/v1 Events posted so far (kopf posts them), oldest first."""
        found = self._state.list(EVENTS, namespace, lambda _: True)
        return sorted(found, key=lambda event: int(event.get('metadata', {}).get('resourceVersion') or 0))

    def watching(self, group: str, version: str, plural: str, namespace: str | None = None) -> int:
        """How many watch streams are open on a resource (``namespace=None``: cluster-wide ones)."""
        return self._state.active_watches[kmock.resource(group, version, plural), namespace]

    # -- request plumbing --------------------------------------------------------------------
    async def __call__(self, raw_request: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        """kmock's entry point, re-done only to parse namespace URLs correctly (see parsing.py).

        API errors (404, 409, 422...) are answers, not server failures: they are not accumulated
        into ``errors``, so ``strict=True`` only fails on real emulator or reaction crashes.

        Answered requests move from kmock's history to ``answered``: kmock picks a reaction with
        ``request in payload._source``, which walks the whole history for every request, O(n^2) over
        a burst. Only requests in flight (watches) stay there; the default reactions never filter
        by history, so the answers are unchanged."""
        # kube-apiserver reads request bodies up to 3 MiB (aiohttp's default would stop at 1 MiB)
        raw_request = raw_request.clone(client_max_size=MAX_REQUEST_BODY)
        try:
            await raw_request.read()
        except aiohttp.web.HTTPRequestEntityTooLarge:
            return aiohttp.web.json_response(status=413, data={
                'kind': 'Status', 'apiVersion': 'v1', 'metadata': {}, 'status': 'Failure', 'code': 413,
                'reason': 'RequestEntityTooLarge', 'message': f'Request entity too large: limit is {MAX_REQUEST_BODY}'})
        raw_response: aiohttp.web.StreamResponse | None = None
        request: kmock.Request | None = None
        try:
            if self.limit is not None and len(self._requests) + len(self.answered) >= self.limit:
                raise KMockError('Too many requests have been served so far.')
            request = await parse_request(raw_request, id=len(self._requests) + len(self.answered))
            self._requests.append(request)
            try:
                return await self._handle(request)
            except StreamingError as e:
                raw_response = e.args[0]
                if e.__cause__ is None:
                    raise
                raise e.__cause__  # noqa: B904  # unwrap, as kmock does
        except Exception as e:
            if not self._errors:
                raise
            if not isinstance(e, kmock.KubernetesError):
                self._errors[-1].append(e)
            if raw_response is None or not raw_response.prepared:
                return await self._render_error(e)
            await self._stream_error(e, raw_response)
            await raw_response.write_eof()
            return raw_response
        finally:
            for index, pending in enumerate(self._requests):
                if pending is request:  # by identity: equal requests are distinct requests
                    self.answered.append(self._requests.pop(index))
                    break

    async def _handle(self, request: kmock.Request) -> aiohttp.web.StreamResponse:
        # Writes change the state even if a user reaction answers the request (as kmock does);
        # the default (fallback) reactions then answer with the stored result.
        is_put = request.method == kmock.method.PUT and request.name is not None
        if request.resource is not None and (request.action in _WRITES or is_put):
            self._results[request] = self._write(request)
        try:
            return await self._dispatcher.handle(request, self._payloads)
        finally:
            self._results.pop(request, None)

    def _write(self, request: kmock.Request) -> kmock.Payload:
        resource, namespace, name = request.resource, request.namespace, request.name
        assert resource is not None
        dry_run = request.params.get('dryRun') == 'All'
        if request.action == kmock.action.CREATE:
            if resource == CRDS:
                self._validate_crd(request.data)
            return Response(status=201, payload=self._state.create(
                resource, namespace, request.data, dry_run=dry_run))
        assert name is not None
        if request.action == kmock.action.DELETE:
            options = request.data if isinstance(request.data, dict) else {}
            body = self._state.delete(resource, namespace, name, dry_run=dry_run,
                                      preconditions=options.get('preconditions'))
            # 200 whether the object went at once or waits for its finalizers, as kube-apiserver
            # answers (202 only with the deprecated orphanDependents=false).
            return Response(status=200, payload=body)
        change = self._replacement(request) if request.action is None else self._patcher(request)
        return self._state.update(resource, namespace, name, change,
                                  subresource=request.subresource, dry_run=dry_run)

    def _replacement(self, request: kmock.Request) -> Callable[[Body], Any]:
        body = request.data
        if not isinstance(body, dict) or (body.get('metadata') or {}).get('name') not in (None, request.name):
            raise api_error(400, 'BadRequest', 'the name of the object does not match the name on the URL')
        assert request.resource is not None and request.name is not None
        self._state.admission.check_replace(request.resource, request.name, body)
        return lambda old: copy.deepcopy(body)

    def _patcher(self, request: kmock.Request) -> Callable[[Body], Any]:
        headers = {key.lower(): value for key, value in request.headers.items()}
        content_type = headers.get('content-type', '').split(';')[0].strip().lower()
        data = request.data
        if content_type == patches.JSON_PATCH:
            return lambda old: patches.json_patch(old, data)
        if content_type not in (patches.MERGE_PATCH, patches.STRATEGIC_MERGE_PATCH):
            raise api_error(415, 'UnsupportedMediaType', f'the body of the request was in an unknown format'
                            f' ({content_type!r}) - accepted media types include: {patches.JSON_PATCH}, '
                            f'{patches.MERGE_PATCH}, {patches.STRATEGIC_MERGE_PATCH}')
        if not isinstance(data, dict):
            raise api_error(400, 'BadRequest', 'a merge patch must be a JSON object')
        if content_type == patches.MERGE_PATCH:
            return lambda old: patches.merge_patch(old, data)
        if any(request.resource in resources for resources in self._crd_resources.values()):
            raise api_error(415, 'UnsupportedMediaType', 'strategic merge patch is not supported '
                                                         'for custom resources; use a merge patch')
        return lambda old: patches.strategic_merge_patch(old, data)

    # -- the default answers (kmock's fallback reactions) ------------------------------------
    async def _serve_create(self, request: kmock.Request) -> kmock.Payload:
        return self._results[request]

    async def _serve_update(self, request: kmock.Request) -> kmock.Payload:
        return self._results[request]

    async def _serve_delete(self, request: kmock.Request) -> kmock.Payload:
        return self._results[request]

    async def _serve_replace(self, request: kmock.Request) -> kmock.Payload:
        if request.resource is None or request.name is None:
            raise kmock.KubernetesEndpointNotFoundError()
        return self._results[request]

    async def _serve_fetch(self, request: kmock.Request) -> kmock.Payload:
        assert request.resource is not None and request.name is not None
        if request.subresource not in (None, 'status'):
            raise api_error(404, 'NotFound', f'no subresource {request.subresource!r}')
        body = self._state.get(request.resource, request.namespace, request.name)
        if body is None:
            raise api_error(404, 'NotFound', f'{request.resource.plural} "{request.name}" not found')
        return body

    async def _serve_list(self, request: kmock.Request) -> kmock.Payload:
        resource, matcher = self._read_scope(request)
        items = self._state.list(resource, request.namespace, matcher)
        rv, after = self._decode_continue(request.params.get('continue'))
        if after is not None:
            items = [item for item in items if self._sort_key(item) > after]
        metadata: Body = {'resourceVersion': rv or self._state.resource_version}
        limit = request.params.get('limit', '0')
        if not limit.isdigit():
            raise api_error(400, 'BadRequest', f'invalid limit: {limit!r}')
        if int(limit) and len(items) > int(limit):
            metadata['remainingItemCount'] = len(items) - int(limit)
            items = items[:int(limit)]
            token = json.dumps({'rv': metadata['resourceVersion'], 'after': self._sort_key(items[-1])})
            metadata['continue'] = base64.urlsafe_b64encode(token.encode()).decode()
        api_version = f'{resource.group}/{resource.version}' if resource.group else str(resource.version)
        return {'apiVersion': api_version, 'kind': f'{self._state.kind(resource)}List',
                'metadata': metadata, 'items': items}

    async def _serve_watch(self, request: kmock.Request) -> AsyncIterator[kmock.Payload]:
        resource, matcher = self._read_scope(request)  # errors here still become plain HTTP errors
        params = request.params
        try:
            timeout = float(params['timeoutSeconds']) if params.get('timeoutSeconds') else None
        except ValueError:
            raise api_error(400, 'BadRequest', 'invalid timeoutSeconds') from None
        raw = request._raw_request

        def closed() -> bool:
            transport = raw.transport if raw is not None else None
            return transport is None or transport.is_closing()

        if raw is not None and raw.transport is not None:
            self._watch_transports.add(raw.transport)

        yield b''  # send the headers now: the stream is open even if nothing happens
        async for event in self._state.watch(
                resource, request.namespace, request.name, matcher=matcher,
                since=params.get('resourceVersion'), server_timeout=timeout, closed=closed,
                initial_events=params.get('sendInitialEvents') == 'true',
                bookmarks=params.get('allowWatchBookmarks') == 'true',
                bookmark_interval=self.bookmark_interval):
            yield event

    def cut_watches(self, *, expire: bool = False) -> int:
        """Drop every open watch connection abruptly (a network cut); ``expire`` also forces a re-list (410)."""
        if expire:
            self._state.expire_history()
        transports = [t for t in self._watch_transports if not t.is_closing()]
        self._watch_transports.clear()
        for transport in transports:
            transport.abort()
        return len(transports)

    def _read_scope(self, request: kmock.Request) -> tuple[kmock.resource, Matcher]:
        resource = request.resource
        assert resource is not None
        if self._state.info(resource).namespaced is False and request.namespace:
            raise api_error(404, 'NotFound', f'{resource.plural} is cluster-scoped: no namespace in the URL')
        try:
            matcher = parse_selectors(request.params.get('labelSelector'), request.params.get('fieldSelector'))
        except SelectorError as e:
            raise api_error(400, 'BadRequest', str(e)) from e
        return resource, matcher

    @staticmethod
    def _sort_key(item: Body) -> list[str]:
        meta = item.get('metadata') or {}
        return [meta.get('namespace') or '', meta.get('name') or '']

    @staticmethod
    def _decode_continue(token: str | None) -> tuple[str | None, list[str] | None]:
        if not token:
            return None, None
        try:
            data = json.loads(base64.urlsafe_b64decode(token.encode()))
            return str(data['rv']), list(data['after'])
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise api_error(400, 'BadRequest', 'invalid continue token') from None

    # -- discovery: the preferred version of a group is the CRD's storage version --------------
    async def _serve_apis(self, request: kmock.Request) -> kmock.Payload:
        groups = registration.group_versions(self._get_resources(), self._preferred)
        return {'apiVersion': 'v1', 'kind': 'APIGroupList',
                'groups': [self._group_doc(group, versions) for group, versions in groups.items()]}

    async def _serve_group(self, request: kmock.Request) -> kmock.Payload:
        assert request.resource is not None
        groups = registration.group_versions(self._get_resources(), self._preferred)
        group = request.resource.group
        if group not in groups:
            raise api_error(404, 'NotFound', f'the server could not find the requested resource ({group})')
        return dict(self._group_doc(group, groups[group]), apiVersion='v1', kind='APIGroup')

    async def _serve_version(self, request: kmock.Request) -> kmock.Payload:
        document = await super()._serve_version(request)
        if isinstance(document, dict):  # kmock says "/v1" for the core group; the API server says "v1"
            document['groupVersion'] = str(document['groupVersion']).lstrip('/')
            for entry in document.get('resources') or ():
                if '/' in str(entry.get('name')):  # a subresource: no short names or categories of its own
                    entry.update(singularName='', shortNames=[], categories=[], verbs=['get', 'patch', 'update'])
        return document

    @staticmethod
    def _group_doc(group: str, versions: list[str]) -> Body:
        docs = [{'groupVersion': f'{group}/{version}', 'version': version} for version in versions]
        return {'name': group, 'versions': docs, 'preferredVersion': docs[0]}

    # -- CRDs: storing one serves its resources; deleting one removes them -------------------
    @staticmethod
    def _validate_crd(crd: Any) -> None:
        try:
            registration.crd_resources(crd if isinstance(crd, dict) else {})
            admission.check_crd(crd)
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise api_error(422, 'Invalid', f'invalid CustomResourceDefinition: {e!r}') from e

    def _on_change(self, event: WatchEvent) -> None:
        if event.resource != CRDS:
            return
        name = event.object['metadata']['name']
        self._state.admission.observe(name, None if event.type == 'DELETED' else event.object)
        old = self._crd_resources.pop(name, set())
        new: set[kmock.resource] = set()
        if event.type != 'DELETED':
            try:
                served = registration.crd_resources(event.object)
            except (ValueError, KeyError, TypeError, AttributeError):
                served = []  # an invalid CRD (e.g. patched into nonsense) serves nothing
            for resource, info in served:
                self._resources[resource] = info
                new.add(resource)
            if (storage := registration.crd_storage_version(event.object)) is not None:
                self._preferred[event.object['spec']['group']] = storage
            self._crd_resources[name] = new
        for resource in old - new:
            self._state.purge(resource)
            del self._resources[resource]
        status = registration.crd_status(event.object)
        if event.type != 'DELETED' and new and event.object.get('status') != status:
            self._state.update(CRDS, None, name, lambda body: dict(body, status=status), subresource='status')
