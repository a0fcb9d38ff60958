"""kmock's ``KubernetesEmulator`` with the API server behaviour that kopf, the operator and Headlamp rely on.

Headlamp's proxy passes the API server's answers on untouched, so they are the API server's to the byte where
a client can tell: ``Status`` documents with ``details`` only when kube-apiserver sends them, ``Content-Type:
application/json``, built-in list items without ``kind``, the mux's plain-text 404 (:mod:`.discovery`). Every
request is authenticated and authorized with the token knobs of :mod:`.access`; every write is recorded in
managedFields under its field manager (:mod:`.managedfields`).
"""
from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp.web
import attrs
import kmock
from kmock._internal.apps import KMockError
from kmock._internal.rendering import Response, StreamingError  # not re-exported by kmock

from headlamp_operator_testing.kubernetes import admission, discovery, paging, registration, workloads, writes
from headlamp_operator_testing.kubernetes.access import Access, bearer_token
from headlamp_operator_testing.kubernetes.changelog import WatchEvent
from headlamp_operator_testing.kubernetes.dispatch import Dispatcher
from headlamp_operator_testing.kubernetes.parsing import parse_request
from headlamp_operator_testing.kubernetes.selectors import Matcher, SelectorError, parse_selectors
from headlamp_operator_testing.kubernetes.store import NAMESPACES, ClusterState, api_error

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
    access: Access = attrs.field(factory=Access, init=False)  # the token knobs: refused, forbidden, named

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
        return self._state.changes.active_watches[kmock.resource(group, version, plural), namespace]

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
                return _without_charset(await self._handle(request))
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

    async def _render_error(self, exc: Exception) -> aiohttp.web.StreamResponse:
        """An API error as kube-apiserver writes it: a ``Status`` with ``details`` only when it has some."""
        if not isinstance(exc, kmock.KubernetesError):
            return await super()._render_error(exc)
        document: Body = {'kind': 'Status', 'apiVersion': 'v1', 'metadata': {}, 'status': 'Failure',
                          'message': exc.message or repr(exc), 'reason': exc.reason or type(exc).__name__,
                          'code': exc.status}
        if exc.details is not None:
            document['details'] = exc.details
        return aiohttp.web.Response(status=exc.status, body=json.dumps(document).encode(),
                                    content_type='application/json')

    def _admit(self, request: kmock.Request) -> aiohttp.web.StreamResponse | None:
        """Authentication, the mux's routes, authorization; the answer of a SelfSubjectAccessReview."""
        token = bearer_token(request.headers)
        self.access.authenticate(token)
        resource = request.resource
        if resource is None:
            return None
        declared = [r for r in self._resources if isinstance(r, kmock.resource)]  # kmock's full list is costly
        if not discovery.routed(resource, declared) and not discovery.routed(resource, self._get_resources()):
            return discovery.page_not_found()
        if not resource.plural:
            return None  # discovery: every authenticated user may read it
        verb = writes.verb_of(request)
        if resource == registration.SELF_SUBJECT_ACCESS_REVIEWS and verb == 'create':
            return aiohttp.web.Response(status=201, body=json.dumps(self.access.review(token, request.data)).encode(),
                                        content_type='application/json')
        if verb is not None:
            self.access.authorize(token, verb, resource, subresource=request.subresource,
                                  namespace=request.namespace, name=request.name)
        return None

    async def _handle(self, request: kmock.Request) -> aiohttp.web.StreamResponse:
        # Writes change the state even if a user reaction answers the request (as kmock does);
        # the default (fallback) reactions then answer with the stored result.
        if (admitted := self._admit(request)) is not None:
            return admitted
        if request.action == kmock.action.FETCH and self._dispatcher.only_own(self._payloads):
            return aiohttp.web.json_response(await self._serve_fetch(request))  # the fallback's answer, sooner
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
        manager = writes.field_manager(request)
        if request.action == kmock.action.CREATE:
            if resource == CRDS:
                self._validate_crd(request.data)
            return Response(status=201, payload=self._state.create(
                resource, namespace, request.data, dry_run=dry_run, manager=manager))
        assert name is not None
        if request.action == kmock.action.DELETE:
            options = request.data if isinstance(request.data, dict) else {}
            body = self._state.delete(resource, namespace, name, dry_run=dry_run,
                                      preconditions=options.get('preconditions'))
            # 200 whether the object went at once or waits for its finalizers, as kube-apiserver
            # answers (202 only with the deprecated orphanDependents=false).
            return Response(status=200, payload=body)
        change = writes.change_of(request, self._state.admission, custom=self._custom(resource))
        result = self._state.update(resource, namespace, name, change, subresource=request.subresource,
                                    dry_run=dry_run, manager=manager)
        return workloads.scale_of(result) if request.subresource == 'scale' else result

    def _custom(self, resource: kmock.resource) -> bool:
        """Whether a resource is served from a CRD (else it is a built-in kind)."""
        return any(resource in served for served in self._crd_resources.values())

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
        sub = request.subresource
        if sub not in (None, 'status', 'scale') or (sub and sub not in self._state.info(request.resource).subresources):
            raise api_error(404, 'NotFound', f'no subresource {request.subresource!r}')
        body = self._state.fetch(request.resource, request.namespace, request.name)
        return workloads.scale_of(body) if sub == 'scale' else body

    async def _serve_list(self, request: kmock.Request) -> kmock.Payload:
        resource, matcher = self._read_scope(request)
        items, metadata = paging.page(self._state.list(resource, request.namespace, matcher), request.params,
                                      self._state.resource_version)
        if not self._custom(resource):  # the API server leaves kind and apiVersion out of a built-in's items
            items = [{k: v for k, v in item.items() if k not in ('kind', 'apiVersion')} for item in items]
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

    # -- discovery: the preferred version of a group is the CRD's storage version --------------
    async def _serve_server_version(self, request: kmock.Request) -> kmock.Payload:
        return dict(discovery.VERSION)

    async def _serve_apis(self, request: kmock.Request) -> kmock.Payload:
        return discovery.groups_document(self._get_resources(), self._preferred)

    async def _serve_group(self, request: kmock.Request) -> kmock.Payload:
        assert request.resource is not None
        groups = registration.group_versions(self._get_resources(), self._preferred)
        group = request.resource.group
        if group not in groups:
            raise api_error(404, 'NotFound', f'the server could not find the requested resource ({group})')
        return dict(discovery.group_document(group, groups[group]), apiVersion='v1', kind='APIGroup')

    async def _serve_version(self, request: kmock.Request) -> kmock.Payload:
        document = await super()._serve_version(request)
        return discovery.resource_list(document) if isinstance(document, dict) else document

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
                self._state.reread(resource)  # objects stored before a new default are read with it
            if (storage := registration.crd_storage_version(event.object)) is not None:
                self._preferred[event.object['spec']['group']] = storage
            self._crd_resources[name] = new
        for resource in old - new:
            self._state.purge(resource)
            del self._resources[resource]
        status = registration.crd_status(event.object)
        if event.type != 'DELETED' and new and event.object.get('status') != status:
            self._state.update(CRDS, None, name, lambda body: dict(body, status=status), subresource='status',
                               manager='kube-apiserver')


def _without_charset(response: aiohttp.web.StreamResponse) -> aiohttp.web.StreamResponse:
    """A JSON answer typed ``application/json``, as kube-apiserver types it (kmock adds ``; charset=utf-8``)."""
    if not response.prepared and response.content_type == 'application/json':
        response.charset = None
    return response
