"""One named in-memory cluster: a :class:`KubernetesEmulator` served over HTTP on loopback, with what a test
does to a cluster without the API (seeding objects, breaking pods, refusing tokens).

It is what stands behind each cluster of the Headlamp emulator: the emulator proxies to its URL as
headlamp-server proxies to a real API server. Objects are named by their resource's plural name
(``cluster.get("deployments", "shop", "web")``); the built-in kind of that name is meant.
"""
from __future__ import annotations

import asyncio
import contextlib
import copy
from collections.abc import Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, Self

import aiohttp.web
import kmock

from headlamp_operator_testing.kubernetes import seeds
from headlamp_operator_testing.kubernetes.emulator import KubernetesEmulator
from headlamp_operator_testing.kubernetes.store import NAMESPACES

Body = dict[str, Any]
MAX_HEADER_BYTES = 1 << 20


class KubeCluster:
    """A named in-memory Kubernetes API: its objects, its token knobs, and its server (from :meth:`serve` on)."""

    def __init__(self, name: str = 'in-memory', *, api: KubernetesEmulator | None = None) -> None:
        self.name = name
        self.api = api if api is not None else KubernetesEmulator()
        self._url: str | None = None
        self._stack: contextlib.AsyncExitStack | None = None
        self._lock = asyncio.Lock()

    # -- the server -------------------------------------------------------------------------------

    async def serve(self) -> str:
        """Serve the API on loopback (once; later calls find it served) and return its URL.

        A plain aiohttp server, not kmock's ``Server``: that one hooks aiohttp's resolver for its lifetime, and
        servers started and stopped out of order (one per cluster, started on first use) would break its chain.
        """
        async with self._lock:
            if self._url is None:
                stack = contextlib.AsyncExitStack()
                await stack.enter_async_context(self.api)
                # Go's net/http (kube-apiserver) reads up to 1 MB of headers: a long bearer token fits.
                server = aiohttp.web.Server(self.api, max_line_size=MAX_HEADER_BYTES, max_field_size=MAX_HEADER_BYTES)
                runner = aiohttp.web.ServerRunner(server, handle_signals=False, access_log=None, shutdown_timeout=0.5)
                await runner.setup()
                stack.push_async_callback(runner.cleanup)
                site = aiohttp.web.TCPSite(runner, '127.0.0.1', 0)
                await site.start()
                host, port = runner.addresses[0][:2]
                self._url, self._stack = f'http://{host}:{port}', stack
        return self._url

    @property
    def url(self) -> str:
        """The API server's URL (``http://127.0.0.1:PORT``), once served."""
        if self._url is None:
            raise RuntimeError(f'The cluster {self.name!r} is not served: await serve() first.')
        return self._url

    async def close(self) -> None:
        """Stop serving (open watches end)."""
        async with self._lock:
            stack, self._stack, self._url = self._stack, None, None
        if stack is not None:
            await stack.aclose()

    async def __aenter__(self) -> Self:
        await self.serve()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    # -- objects ----------------------------------------------------------------------------------

    def resource(self, plural: str) -> kmock.resource:
        """The served resource of that plural name: the core group's, else the first group's by name."""
        found = sorted((r for r in self._served() if r.plural == plural), key=lambda r: (r.group != '', str(r.group)))
        if not found:
            raise KeyError(f'The cluster {self.name!r} serves no resource {plural!r}.')
        return found[0]

    def get(self, plural: str, namespace: str | None, name: str) -> Body | None:
        """The stored object, or None. Not a copy: change its fields only to drift it behind the API
        server's back, as a person editing etcd would; every other change is :meth:`put`."""
        return self.api.state.stored(self.resource(plural), namespace, name)

    def list(self, plural: str, namespace: str | None = None) -> list[Body]:
        """Copies of the objects of a resource, in one namespace or all, sorted by namespace and name."""
        return self.api.state.list(self.resource(plural), namespace, lambda _: True)

    def put(self, obj: Mapping[str, Any], *, manager: str | None = None) -> Body:
        """Create or replace an object, its status included (the namespace is made if missing; ``default``
        when the object names none). ``manager``: the field manager managedFields name (None: none)."""
        state, body = self.api.state, copy.deepcopy(dict(obj))
        resource = self._resource_of(body)
        meta = body.setdefault('metadata', {})
        for field in ('resourceVersion', 'uid', 'creationTimestamp', 'generation'):
            meta.pop(field, None)
        namespace = (meta.get('namespace') or 'default') if state.info(resource).namespaced else None
        if namespace is not None and state.stored(NAMESPACES, None, namespace) is None:
            self.add_namespace(namespace)
        status = body.get('status')
        if state.stored(resource, namespace, meta['name']) is None:
            stored = state.create(resource, namespace, body, manager=manager)
        else:
            stored = state.update(resource, namespace, meta['name'], lambda old: body, manager=manager)
        if status is not None and state.has_status(resource) and stored.get('status') != status:
            stored = state.update(resource, namespace, meta['name'], lambda old: dict(old, status=status),
                                  subresource='status', manager=manager)
        return stored

    def delete(self, plural: str, namespace: str | None, name: str) -> Body | None:
        """Delete an object (once its finalizers are gone); returns it, or None if there was none."""
        resource = self.resource(plural)
        if self.api.state.stored(resource, namespace, name) is None:
            return None
        return self.api.state.delete(resource, namespace, name)

    def _served(self) -> Sequence[kmock.resource]:
        return [resource for resource in self.api.state.resources if isinstance(resource, kmock.resource)]

    def _resource_of(self, obj: Mapping[str, Any]) -> kmock.resource:
        """The resource of an object's apiVersion and kind."""
        api_version, kind = str(obj.get('apiVersion', '')), obj.get('kind')
        group, _, version = api_version.rpartition('/')
        for resource in self._served():
            if (resource.group, resource.version) == (group, version) and self.api.state.kind(resource) == kind:
                return resource
        raise ValueError(f'The cluster {self.name!r} does not serve {api_version}/{kind}.')

    # -- seeding (see .seeds for what each object holds) ------------------------------------------

    def add_namespace(self, name: str, *, labels: Mapping[str, str] | None = None) -> Body:
        """Seed a namespace (namespaced seeds make theirs on demand)."""
        return self.put(seeds.namespace(name, labels=labels))

    def add_deployment(self, namespace: str, name: str, *, replicas: int = 1, labels: Mapping[str, str] | None = None,
                       image: str = 'nginx', ports: Sequence[Mapping[str, Any]] = (),
                       status: Mapping[str, Any] | None = None) -> Body:
        """Seed a Deployment; its status says every replica is ready unless ``status`` is given."""
        return self.put(seeds.deployment(namespace, name, replicas=replicas, labels=labels, image=image, ports=ports,
                                         status=status))

    def add_service(self, namespace: str, name: str, *, selector: Mapping[str, str] | None = None,
                    ports: Sequence[Mapping[str, Any]] = ({'name': 'http', 'port': 80, 'targetPort': 80},),
                    type: str = 'ClusterIP') -> Body:
        """Seed a Service selecting pods by labels (``{"app": name}`` unless given)."""
        return self.put(seeds.service(namespace, name, selector=selector, ports=ports, type=type))

    def add_pod(self, namespace: str, name: str, *, labels: Mapping[str, str] | None = None,
                ports: Sequence[Mapping[str, Any]] = (), phase: str = 'Running', ready: bool = True) -> Body:
        """Seed a Pod with one container exposing ``ports`` (``[{"name": "web", "containerPort": 3000}]``)."""
        return self.put(seeds.pod(namespace, name, labels=labels, ports=ports, phase=phase, ready=ready))

    def add_configmap(self, namespace: str, name: str, *, data: Mapping[str, str] | None = None) -> Body:
        """Seed a ConfigMap."""
        return self.put(seeds.configmap(namespace, name, data=data))

    def add_secret(self, namespace: str, name: str, *, data: Mapping[str, str | bytes] | None = None,
                   type: str = 'Opaque') -> Body:
        """Seed a Secret; ``data`` values are given plain and stored base64-encoded."""
        return self.put(seeds.secret(namespace, name, data=data, type=type))

    def kill_pod(self, namespace: str, name: str, *, delete: bool = False) -> None:
        """Make a pod fail (its phase ``Failed``, not Ready), or ``delete`` it."""
        pod = self.get('pods', namespace, name)
        if pod is None:
            raise KeyError(f'No pod {namespace}/{name} in cluster {self.name!r}.')
        if delete:
            self.delete('pods', namespace, name)
            return
        status = dict(pod.get('status') or {}, phase='Failed', conditions=[{'type': 'Ready', 'status': 'False'}])
        self.put(dict(pod, status=status))

    # -- tokens (see .access) -----------------------------------------------------------------------

    def refuse_token(self, token: str | None) -> None:
        """Answer 401 Unauthorized to every request with that token (None: requests without one)."""
        self.api.access.refuse_token(token)

    def forbid_token(self, token: str | None, *, verbs: Iterable[str] | None = None) -> None:
        """Answer 403 Forbidden to that token's requests (for these verbs only, if given)."""
        self.api.access.forbid_token(token, verbs=verbs)

    def deny_portforward(self, token: str | None) -> None:
        """Make the port-forward permission check fail for that token."""
        self.api.access.deny_portforward(token)

    def allow_token(self, token: str | None) -> None:
        """Undo refuse_token, forbid_token and deny_portforward for that token."""
        self.api.access.allow_token(token)

    def name_token(self, token: str | None, user: str) -> None:
        """Say whose token it is: the API server names that user in its refusals."""
        self.api.access.name_token(token, user)
