"""The API server's storage semantics on top of kmock's in-memory objects.

All mutations are synchronous, so each one is atomic on the event loop: a watcher that takes its
snapshot and its log position in one step can never miss a write (kmock 0.8's watch can). Each write names
its field manager (:mod:`.managedfields`), and the built-in kinds are validated as the API server validates
them (:mod:`.workloads`); the change log and its watches are :mod:`.changelog`.
"""
from __future__ import annotations

import base64
import copy
import datetime
import json
import random
import string
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any

import kmock

from headlamp_operator_testing.kubernetes import managedfields, patches, registration, workloads
from headlamp_operator_testing.kubernetes.admission import CustomResourceAdmission
from headlamp_operator_testing.kubernetes.changelog import ChangeLog, WatchEvent, WatchRequest

Body = dict[str, Any]
Key = tuple[kmock.resource, str | None, str]
NAMESPACES = kmock.resource('', 'v1', 'namespaces')
_SERVER_FIELDS = ('name', 'namespace', 'uid', 'creationTimestamp', 'deletionTimestamp',
                  'deletionGracePeriodSeconds', 'generation', 'resourceVersion')


def api_error(status: int, reason: str, message: str,
              details: Mapping[str, Any] | None = None) -> kmock.KubernetesError:
    """An error rendered as a ``kind: Status`` body, as the API server does (``details`` only when given)."""
    return kmock.KubernetesError(status=status, reason=reason, message=message,
                                 details=None if details is None else dict(details))


def about(resource: kmock.resource, name: str) -> dict[str, str]:
    """A Status' ``details`` naming an object as apimachinery's errors do: name, group (not the core's), plural."""
    return {'name': name, **({'group': str(resource.group)} if resource.group else {}), 'kind': str(resource.plural)}


# etcd's default --max-request-bytes. A write whose stored object would reach it is refused with a 500,
# as kube-apiserver 1.36 + etcd 3.6 answer (measured by the real-peer suite: the largest custom resource
# stored was 1,572,837 bytes as JSON; etcd's request adds its own framing).
ETCD_REQUEST_LIMIT = 1_572_864
ETCD_FRAMING = 360


def now_rfc3339() -> str:
    """The current time in the API server's timestamp format."""
    return datetime.datetime.now(datetime.UTC).strftime('%Y-%m-%dT%H:%M:%SZ')


def _api_version(resource: kmock.resource) -> str:
    return f'{resource.group}/{resource.version}' if resource.group else f'{resource.version}'


def _qualified(resource: kmock.resource) -> str:
    return f'{resource.plural}.{resource.group}' if resource.group else f'{resource.plural}'


def _kind(resource: kmock.resource, info: kmock.ResourceInfo) -> str:
    return info.kind or str(resource.plural).capitalize()


def _key(resource: kmock.resource, info: kmock.ResourceInfo, namespace: str | None, name: str) -> Key:
    namespaced = info.namespaced
    if namespaced and not namespace:
        raise api_error(404, 'NotFound', f'{_qualified(resource)} is namespaced: use a namespaced URL')
    if namespaced is False and namespace:
        raise api_error(404, 'NotFound', f'{_qualified(resource)} is cluster-scoped: no namespace in the URL')
    return (resource, namespace if namespaced is not False else None, name)


class ClusterState:
    """Objects with server-set metadata, one global resourceVersion counter and a change log."""

    def __init__(self, objects: kmock.ObjectsArray, resources: kmock.ResourcesArray, *,
                 history_limit: int = 10_000) -> None:
        self.objects = objects
        self.resources = resources
        self.changes = ChangeLog(history_limit=history_limit)
        self.hooks: list[Callable[[WatchEvent], None]] = []  # called with every write, as it is made
        self.admission = CustomResourceAdmission()  # CRD schemas: pruning, defaults, validation
        self._rv = 0
        self._defaulted_on_read: set[Key] = set()  # served with defaults that etcd's bytes lack (:meth:`reread`)

    @property
    def resource_version(self) -> str:
        """The newest resourceVersion, as list responses and bookmarks report it."""
        return str(self._rv)

    # -- resource metadata -------------------------------------------------------------------
    def info(self, resource: kmock.resource) -> kmock.ResourceInfo:
        """The discovery info of a registered resource; 404 for resources the server does not serve."""
        if resource.plural is None or resource not in self.resources:
            raise api_error(404, 'NotFound', 'the server could not find the requested resource '
                                             f'({_qualified(resource)}/{resource.version})')
        return self.resources[resource]

    def has_status(self, resource: kmock.resource) -> bool:
        """Whether the resource has the status subresource (then .status is written only there)."""
        return 'status' in self.info(resource).subresources

    def kind(self, resource: kmock.resource) -> str:
        """The kind of the resource's objects."""
        return _kind(resource, self.info(resource))

    def key(self, resource: kmock.resource, namespace: str | None, name: str) -> Key:
        """The storage key; rejects namespaced paths for cluster-scoped resources and vice versa."""
        return _key(resource, self.info(resource), namespace, name)

    # -- reads -------------------------------------------------------------------------------
    def _current(self, key: Key) -> Body | None:
        """The stored object itself (its top-level dict is kmock's copy, the rest is shared): read-only."""
        if key not in self.objects:
            return None
        stored = self.objects[key]
        return None if stored.deleted else stored.raw

    def _existing(self, key: Key) -> Body:
        """The stored object, read-only as :meth:`_current`'s; with its name (and namespace) in metadata."""
        body = self._current(key)
        if body is None:
            raise api_error(404, 'NotFound', f'{_qualified(key[0])} "{key[2]}" not found', about(key[0], key[2]))
        meta = body.get('metadata')
        if not isinstance(meta, dict) or 'name' not in meta or (key[1] is not None and 'namespace' not in meta):
            # objects put straight into kmock's `objects` may lack them (`body` is kmock's top-level copy)
            body['metadata'] = meta = dict(meta or {})
            meta.setdefault('name', key[2])
            if key[1] is not None:
                meta.setdefault('namespace', key[1])
        return body

    def get(self, resource: kmock.resource, namespace: str | None, name: str) -> Body | None:
        """A copy of the object, or None if it does not exist (or is deleted)."""
        return copy.deepcopy(self._current(self.key(resource, namespace, name)))

    def fetch(self, resource: kmock.resource, namespace: str | None, name: str) -> Body:
        """The object a GET answers with (read-only, as :meth:`stored`), else the API server's 404."""
        return self._existing(self.key(resource, namespace, name))

    def stored(self, resource: kmock.resource, namespace: str | None, name: str) -> Body | None:
        """The stored object itself (its top-level dict a copy, everything below shared), or None.

        Read it; change it only to drift an object behind the API server's back (no resourceVersion, no
        event), as a test does to play a person editing etcd. Every other change is a write.
        """
        return self._current(self.key(resource, namespace, name))

    def iter_objects(self, resource: kmock.resource | None = None,
                     namespace: str | None = None) -> Iterator[tuple[Key, Body]]:
        """The live objects (not copies) of one resource or of all, optionally of one namespace."""
        for key, obj in list(self.objects.items()):
            if (resource is None or key[0] == resource) and (namespace is None or key[1] == namespace):
                if not obj.deleted:
                    yield key, obj.raw

    def list(self, resource: kmock.resource, namespace: str | None,
             matcher: Callable[[Mapping[str, Any]], bool]) -> list[Body]:
        """Copies of the matching objects, sorted by namespace and name as the API server sorts them."""
        self.info(resource)
        found = [(key, body) for key, body in self.iter_objects(resource, namespace) if matcher(body)]
        found.sort(key=lambda item: (item[0][1] or '', item[0][2]))
        return [copy.deepcopy(body) for _, body in found]

    def reread(self, resource: kmock.resource) -> int:
        """After the CRD serving ``resource`` changed: its stored objects as kube-apiserver reads them from
        then on (it defaults what it reads from etcd with the current schema). Not a write: no new
        resourceVersion, no watch event. etcd's bytes still lack the defaults, so the next write of such an
        object is a write even when it changes nothing else (kube-apiserver compares the bytes it would store
        with etcd's). Returns how many objects gained a default."""
        gained = 0
        for key, body in list(self.iter_objects(resource)):
            read = self.admission.read(resource, body)
            if read is not body:
                self.objects[key].create(read)  # a new version of kmock's object, as _commit makes it
                self._defaulted_on_read.add(key)
                gained += 1
        return gained

    # -- writes ------------------------------------------------------------------------------
    def create(self, resource: kmock.resource, namespace: str | None, body: Any, *,
               dry_run: bool = False, manager: str | None = None) -> Body:
        """POST: validate the name and namespace, set uid/creationTimestamp/generation, store.

        ``manager``: the field manager the write is recorded under in managedFields (None: none recorded)."""
        if not isinstance(body, dict) or not isinstance(body.get('metadata', {}), dict):
            raise api_error(400, 'BadRequest', 'the body must be a JSON object with an object metadata')
        body = copy.deepcopy(body)
        meta = body.setdefault('metadata', {})
        if namespace and meta.get('namespace') not in (None, namespace):
            raise api_error(400, 'BadRequest', 'the namespace of the provided object does not match '
                                               'the namespace sent on the request')
        name = meta.get('name') or (meta.get('generateName') and self._generate_name(meta['generateName']))
        if not name:
            raise api_error(422, 'Invalid', 'metadata.name: Required value: name or generateName is required')
        if meta.get('resourceVersion'):
            raise api_error(422, 'Invalid', 'metadata.resourceVersion: must be empty on creation')
        info = self.info(resource)
        key = _key(resource, info, namespace, name)
        if self._current(key) is not None:
            raise api_error(409, 'AlreadyExists', f'{_qualified(resource)} "{name}" already exists',
                            about(resource, name))
        if key[1] is not None:
            self._require_namespace(key[1])
        for field in _SERVER_FIELDS:
            meta.pop(field, None)
        meta.update(name=name, uid=str(uuid.uuid4()), creationTimestamp=now_rfc3339())
        if resource not in registration.WITHOUT_GENERATION:
            meta['generation'] = 1
        if key[1] is not None:
            meta['namespace'] = key[1]
        body.setdefault('apiVersion', _api_version(resource))
        body.setdefault('kind', _kind(resource, info))
        if 'status' in info.subresources:
            body.pop('status', None)
        if resource == NAMESPACES:
            body['status'] = {'phase': 'Active'}
        _fold_string_data(resource, body)
        body = self.admission.decode(resource, body)
        self.admission.validate(resource, None, body, None)
        workloads.validate(resource, body)
        if manager is not None:
            body['metadata']['managedFields'] = managedfields.update(
                None, body, manager=manager, api_version=_api_version(resource))
        return body if dry_run else self._commit(key, 'ADDED', body)

    def update(self, resource: kmock.resource, namespace: str | None, name: str,
               change: Callable[[Body], Any], *, subresource: str | None = None,
               dry_run: bool = False, manager: str | None = None) -> Body:
        """PATCH/PUT: apply ``change`` to a copy, keep server-owned fields, honour the status subresource.

        ``manager``: the field manager the write is recorded under in managedFields (None: none recorded)."""
        info = self.info(resource)
        key = _key(resource, info, namespace, name)
        if subresource not in (None, 'status', 'scale') or (subresource and subresource not in info.subresources):
            raise api_error(404, 'NotFound', f'{_qualified(resource)} has no subresource {subresource!r}')
        old = self._existing(key)  # the stored object: read-only, and never handed out
        try:
            candidate = change(copy.deepcopy(old))
        except patches.PatchError as e:
            raise api_error(422, 'Invalid', f'the patch cannot be applied: {e}') from e
        if not isinstance(candidate, dict) or not isinstance(candidate.get('metadata', {}), dict):
            raise api_error(422, 'Invalid', 'the patched object is not a JSON object with metadata')
        candidate = self.admission.decode(resource, candidate)
        new = self._merge_server_fields(resource, info, old, candidate, subresource)
        _fold_string_data(resource, new)
        self.admission.validate(resource, old, new, subresource)
        workloads.validate(resource, new)
        if manager is not None:
            new['metadata']['managedFields'] = managedfields.update(
                old, new, manager=manager, api_version=_api_version(resource), subresource=subresource)
        if new == old and key not in self._defaulted_on_read:
            return copy.deepcopy(old)  # a no-op write: no new resourceVersion, no watch event
        if dry_run:
            return new
        if self._releasable(key, new):
            # The write that removes the last finalizer deletes the object; kube-apiserver answers with
            # it as written, at the resourceVersion it had (the DELETED event carries the new one).
            previous = old['metadata'].get('resourceVersion')
            answer = self._commit(key, 'DELETED', new)
            answer['metadata']['resourceVersion'] = previous
            return answer
        return self._commit(key, 'MODIFIED', new)

    def delete(self, resource: kmock.resource, namespace: str | None, name: str, *,
               preconditions: Mapping[str, Any] | None = None, dry_run: bool = False) -> Body:
        """DELETE: mark with deletionTimestamp while finalizers remain, remove once they are gone."""
        key = self.key(resource, namespace, name)
        old = self._existing(key)
        for field in ('uid', 'resourceVersion'):
            expected = (preconditions or {}).get(field)
            if expected is not None and expected != old['metadata'].get(field):
                raise api_error(409, 'Conflict', f'Precondition failed: {field} in precondition: {expected}')
        if dry_run or old['metadata'].get('deletionTimestamp'):
            return copy.deepcopy(old)
        new = copy.deepcopy(old)
        new['metadata']['deletionTimestamp'] = now_rfc3339()
        new['metadata']['deletionGracePeriodSeconds'] = 0
        if resource == NAMESPACES:
            new['status'] = dict(new.get('status') or {}, phase='Terminating')
        if self._releasable(key, new):
            return self._commit(key, 'DELETED', new)
        if resource not in registration.WITHOUT_GENERATION:
            new['metadata']['generation'] = old['metadata'].get('generation', 0) + 1
        result = self._commit(key, 'MODIFIED', new)
        if resource == NAMESPACES:
            for content_key, _ in list(self.iter_objects(namespace=name)):
                self.delete(content_key[0], content_key[1], content_key[2])
        current = self._current(key) if resource == NAMESPACES else None
        return result if current is None else copy.deepcopy(current)

    def purge(self, resource: kmock.resource) -> None:
        """Drop every object of a resource (its CRD is gone), with DELETED events for the watchers."""
        for key, body in list(self.iter_objects(resource)):
            self._commit(key, 'DELETED', copy.deepcopy(body))
        for key in [key for key in self.objects if key[0] == resource]:
            del self.objects[key]

    # -- internals of writing ----------------------------------------------------------------
    def _generate_name(self, prefix: str) -> str:
        return prefix + ''.join(random.choices(string.ascii_lowercase + string.digits, k=5))  # noqa: S311

    def _require_namespace(self, namespace: str) -> None:
        body = self._current((NAMESPACES, None, namespace))
        if body is None:
            raise api_error(404, 'NotFound', f'namespaces "{namespace}" not found')
        if body['metadata'].get('deletionTimestamp'):
            raise api_error(403, 'Forbidden', f'unable to create new content in namespace {namespace} '
                                              'because it is being terminated')

    def _merge_server_fields(self, resource: kmock.resource, info: kmock.ResourceInfo, old: Body, candidate: Body,
                             subresource: str | None) -> Body:
        """The object to store: ``candidate`` (private to this write) with what the client may not change
        taken from ``old`` (the stored object: copied, never shared)."""
        meta: dict[str, Any] = dict(candidate.get('metadata') or {})
        if meta.get('resourceVersion') not in (None, old['metadata'].get('resourceVersion')):
            name = old['metadata'].get('name', '')
            raise api_error(409, 'Conflict', f'Operation cannot be fulfilled on {_qualified(resource)} "{name}": '
                                             'the object has been modified; please apply your changes to the latest '
                                             'version and try again', about(resource, name))
        if subresource == 'status':
            new = {key: copy.deepcopy(value) for key, value in old.items() if key != 'status'}
            if candidate.get('status') is not None:
                new['status'] = candidate['status']
            return new
        new = dict(candidate, apiVersion=old.get('apiVersion', _api_version(resource)),
                   kind=old.get('kind', _kind(resource, info)))
        has_status = 'status' in info.subresources
        if has_status:
            new.pop('status', None)
            if 'status' in old:
                new['status'] = copy.deepcopy(old['status'])
        for field in _SERVER_FIELDS:
            meta.pop(field, None)
            if field in old['metadata']:
                meta[field] = old['metadata'][field]
        new['metadata'] = meta
        if old['metadata'].get('deletionTimestamp'):
            added = set(meta.get('finalizers') or []) - set(old['metadata'].get('finalizers') or [])
            if added:
                raise api_error(422, 'Invalid', f'metadata.finalizers: Forbidden: no new finalizers can be '
                                                f'added if the object is being deleted, found {sorted(added)}')
        ignored = {'metadata', 'apiVersion', 'kind'} | ({'status'} if has_status else set())
        content_changed = {k: v for k, v in new.items() if k not in ignored} != \
            {k: v for k, v in old.items() if k not in ignored}
        if content_changed and resource not in registration.WITHOUT_GENERATION:
            meta['generation'] = old['metadata'].get('generation', 0) + 1
        return new

    def _releasable(self, key: Key, body: Body) -> bool:
        """A deleting object goes once its finalizers are gone (and, for namespaces, its content)."""
        if not body['metadata'].get('deletionTimestamp') or body['metadata'].get('finalizers'):
            return False
        return key[0] != NAMESPACES or next(self.iter_objects(namespace=key[2]), None) is None

    def _commit(self, key: Key, event_type: str, body: Body) -> Body:
        if event_type != 'DELETED' and \
                len(json.dumps(body, separators=(',', ':'))) + ETCD_FRAMING > ETCD_REQUEST_LIMIT:
            raise api_error(500, 'InternalError', 'etcdserver: request is too large')
        self._rv += 1
        body['metadata']['resourceVersion'] = str(self._rv)
        self._defaulted_on_read.discard(key)  # etcd now holds what is served
        # `body` is this write's own object (built from copies): it becomes the stored version and the
        # watch event's object, both read-only from now on; the caller gets a copy.
        if key not in self.objects:
            self.objects[key] = body
        elif event_type == 'DELETED':
            self.objects[key].delete()
        else:
            self.objects[key].create(body)  # appends a new version to kmock's history
        self._emit(WatchEvent(self._rv, key[0], key[1], event_type, body))
        if event_type == 'DELETED' and key[1] is not None:
            namespace = self._current((NAMESPACES, None, key[1]))
            if namespace is not None and self._releasable((NAMESPACES, None, key[1]), namespace):
                self._commit((NAMESPACES, None, key[1]), 'DELETED', copy.deepcopy(namespace))
        return copy.deepcopy(body)

    def _emit(self, event: WatchEvent) -> None:
        self.changes.append(event)
        for hook in list(self.hooks):
            hook(event)

    # -- watching ----------------------------------------------------------------------------
    def expire_history(self) -> None:
        """Forget the change log: a watch resuming from an older resourceVersion gets 410 Gone and re-lists."""
        self.changes.expire(self._rv)  # older positions are gone; a fresh list (at _rv) can watch on

    def watch(self, resource: kmock.resource, namespace: str | None, name: str | None, *,
              matcher: Callable[[Mapping[str, Any]], bool], since: str | None,
              initial_events: bool, bookmarks: bool, bookmark_interval: float,
              server_timeout: float | None, closed: Callable[[], bool]) -> AsyncIterator[Body]:
        """Stream watch events: the current objects (or a replay after ``since``), then live changes."""
        request = WatchRequest(resource=resource, namespace=namespace, name=name, matcher=matcher,
                               api_version=_api_version(resource), kind=self.kind(resource))

        def snapshot() -> tuple[int, list[Body]]:
            return self._rv, [copy.deepcopy(body) for key, body in self.iter_objects(resource)
                              if request.relevant(key[1], body)]

        return self.changes.watch(request, since=since, snapshot=snapshot, initial_events=initial_events,
                                  bookmarks=bookmarks, bookmark_interval=bookmark_interval,
                                  server_timeout=server_timeout, closed=closed)


def _fold_string_data(resource: kmock.resource, body: dict[str, Any]) -> None:
    """A Secret's write-only ``stringData`` goes into ``data`` base64-encoded, as the API server does."""
    if resource.plural != 'secrets' or resource.group != '' or not isinstance(body.get('stringData'), dict):
        return
    data = body.setdefault('data', {}) or {}
    for key, value in body.pop('stringData').items():
        data[key] = base64.b64encode(str(value).encode()).decode()
    body['data'] = data
