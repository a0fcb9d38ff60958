"""Talking to the emulator over HTTP: a small JSON client for tests and a kubeconfig writer."""
from __future__ import annotations

import json
import os
import pathlib
import tempfile
from collections.abc import AsyncGenerator, Mapping
from types import TracebackType
from typing import Any

import aiohttp
import yaml

from headlamp_operator_testing.kubernetes import patches

Body = dict[str, Any]


def resource_path(group: str, version: str, plural: str, namespace: str | None = None,
                  name: str | None = None, subresource: str | None = None) -> str:
    """The API path of a resource, an object or its subresource (``group=''`` for core/v1)."""
    path = f'/apis/{group}/{version}' if group else f'/api/{version}'
    path += f'/namespaces/{namespace}' if namespace else ''
    path += f'/{plural}'
    path += f'/{name}' if name else ''
    return path + (f'/{subresource}' if subresource else '')


def write_kubeconfig(server_url: str, path: str | os.PathLike[str] | None = None, *,
                     namespace: str = 'default', token: str | None = None) -> pathlib.Path:
    """Write a kubeconfig pointing at ``server_url`` (for kubectl or the ``kubernetes`` client); return its path."""
    if path is None:
        fd, name = tempfile.mkstemp(prefix='kmock-', suffix='.kubeconfig')
        os.close(fd)
        path = name
    config = {
        'apiVersion': 'v1', 'kind': 'Config', 'preferences': {},
        'clusters': [{'name': 'emulator', 'cluster': {'server': str(server_url)}}],
        'users': [{'name': 'emulator', 'user': {'token': token} if token else {}}],
        'contexts': [{'name': 'emulator',
                      'context': {'cluster': 'emulator', 'user': 'emulator', 'namespace': namespace}}],
        'current-context': 'emulator',
    }
    result = pathlib.Path(path)
    result.write_text(yaml.safe_dump(config, sort_keys=False), encoding='utf-8')
    result.chmod(0o600)
    return result


class KubeApiError(Exception):
    """A non-2xx answer of the API server, with its HTTP status and ``kind: Status`` body."""

    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.body = body
        self.reason = body.get('reason') if isinstance(body, Mapping) else None
        message = body.get('message') if isinstance(body, Mapping) else body
        super().__init__(f'HTTP {status} {self.reason or ""}: {message}')


class KubeClient:
    """A minimal async JSON client for a Kubernetes API (no auth unless a token is given)."""

    def __init__(self, base_url: str, *, token: str | None = None) -> None:
        self.base_url = str(base_url).rstrip('/')
        self._headers = {'Authorization': f'Bearer {token}'} if token else {}
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> KubeClient:
        self._session = aiohttp.ClientSession(headers=self._headers)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        """The open HTTP session (only inside ``async with``)."""
        if self._session is None:
            raise RuntimeError('use the client as `async with KubeClient(url) as client:`')
        return self._session

    async def request(self, method: str, path: str, *, body: Any = None, content_type: str | None = None,
                      params: Mapping[str, str] | None = None) -> Any:
        """Send one request; return the decoded JSON answer or raise `KubeApiError`."""
        headers = {'Content-Type': content_type or 'application/json'} if body is not None else {}
        data = json.dumps(body) if body is not None else None
        async with self.session.request(method, self.base_url + path, data=data, headers=headers,
                                        params=dict(params or {})) as response:
            text = await response.text()
            try:
                payload = json.loads(text) if text else None
            except ValueError:
                payload = text
            if response.status >= 400:
                raise KubeApiError(response.status, payload)
            return payload

    async def create(self, group: str, version: str, plural: str, namespace: str | None, body: Body) -> Body:
        """POST a new object; returns it as stored (with uid, resourceVersion, generation)."""
        return dict(await self.request('POST', resource_path(group, version, plural, namespace), body=body))

    async def get(self, group: str, version: str, plural: str, namespace: str | None, name: str) -> Body | None:
        """GET one object, or None if it does not exist."""
        try:
            return dict(await self.request('GET', resource_path(group, version, plural, namespace, name)))
        except KubeApiError as e:
            if e.status == 404:
                return None
            raise

    async def list(self, group: str, version: str, plural: str, namespace: str | None = None, *,
                   label_selector: str | None = None) -> Body:
        """GET the list (``items`` and the list's ``metadata.resourceVersion``)."""
        params = {'labelSelector': label_selector} if label_selector else {}
        return dict(await self.request('GET', resource_path(group, version, plural, namespace), params=params))

    async def patch(self, group: str, version: str, plural: str, namespace: str | None, name: str,
                    patch: Any, *, subresource: str | None = None,
                    content_type: str = patches.MERGE_PATCH) -> Body:
        """PATCH an object or its subresource (merge patch unless another content type is given)."""
        path = resource_path(group, version, plural, namespace, name, subresource)
        return dict(await self.request('PATCH', path, body=patch, content_type=content_type))

    async def replace(self, group: str, version: str, plural: str, namespace: str | None, name: str,
                      body: Body, *, subresource: str | None = None) -> Body:
        """PUT a whole object (or its status)."""
        path = resource_path(group, version, plural, namespace, name, subresource)
        return dict(await self.request('PUT', path, body=body))

    async def delete(self, group: str, version: str, plural: str, namespace: str | None, name: str) -> Body:
        """DELETE an object; returns it (with ``deletionTimestamp`` if finalizers hold it)."""
        return dict(await self.request('DELETE', resource_path(group, version, plural, namespace, name)))

    async def watch(self, group: str, version: str, plural: str, namespace: str | None = None, *,
                    resource_version: str | None = None, timeout_seconds: float | None = None,
                    bookmarks: bool = False) -> AsyncGenerator[Body, None]:
        """Stream watch events (dicts with ``type`` and ``object``) until the server ends the stream."""
        params = {'watch': 'true', 'allowWatchBookmarks': 'true'} if bookmarks else {'watch': 'true'}
        if resource_version is not None:
            params['resourceVersion'] = resource_version
        if timeout_seconds is not None:
            params['timeoutSeconds'] = str(timeout_seconds)
        url = self.base_url + resource_path(group, version, plural, namespace)
        async with self.session.get(url, params=params) as response:
            if response.status >= 400:
                raise KubeApiError(response.status, await response.text())
            async for line in response.content:
                if line.strip():
                    yield dict(json.loads(line))
