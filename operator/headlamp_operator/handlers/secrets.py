"""Reading Secrets from the Kubernetes API with the official client (in a thread: it is synchronous).

The operator logs in once (kopf's login via the same kubeconfig or in-cluster service account);
this reader uses the client configured by that login, one client (one connection pool) for the
operator's life. It reads one Secret by namespace and name, never a listing, never another
namespace than the resource's. A burst of resources naming the same Secret costs one read: reads
are single-flight and kept for ``ttl`` seconds, so a rotated Secret takes effect within that time.
"""
from __future__ import annotations

import asyncio
import time

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from headlamp_operator.reconciling.credentials import SecretValue, decode_secret_data

Key = tuple[str, str]  # (namespace, name)


class SecretReader:
    """A :data:`credentials.SecretReader`: single-flight, cached for ``ttl`` seconds, failures not cached."""

    def __init__(self, *, ttl: float = 2.0) -> None:
        self.ttl = ttl
        self._api: client.CoreV1Api | None = None
        self._cache: dict[Key, tuple[float, asyncio.Future[SecretValue | None]]] = {}

    def _read(self, namespace: str, name: str) -> SecretValue | None:
        if self._api is None:  # after kopf's login has configured the client
            self._api = client.CoreV1Api()
        try:
            secret = self._api.read_namespaced_secret(name, namespace)
        except ApiException as e:
            if e.status == 404:
                return None
            raise
        metadata = secret.metadata
        data = {str(key): str(value) for key, value in (secret.data or {}).items()}
        return SecretValue(uid=(metadata.uid if metadata else None) or "",
                           resource_version=(metadata.resource_version if metadata else None) or "",
                           data=decode_secret_data(data))

    async def __call__(self, namespace: str, name: str) -> SecretValue | None:
        """One Secret of the resource's namespace, or None if it does not exist."""
        key = (namespace, name)
        now = time.monotonic()
        entry = self._cache.get(key)
        if entry is None or now - entry[0] >= self.ttl or (entry[1].done() and entry[1].exception()):
            future = asyncio.ensure_future(asyncio.to_thread(self._read, namespace, name))
            entry = self._cache[key] = (now, future)
            if len(self._cache) > 4096:  # forget what expired long ago: memory stays bounded
                self._cache = {k: v for k, v in self._cache.items() if now - v[0] < self.ttl}
                self._cache[key] = entry
        return await asyncio.shield(entry[1])
