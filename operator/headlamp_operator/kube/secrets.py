"""Reading Secrets from the Kubernetes API with the operator's own client (:mod:`headlamp_operator.kube.api`).

The reader uses the credentials of the operator's login (the same service account or kubeconfig as
kopf's), one session for the operator's life. It reads one Secret by namespace and name, never a listing, never another
namespace than the resource's. A burst of resources naming the same Secret costs one read: reads
are single-flight and kept for ``ttl`` seconds, so a rotated Secret takes effect within that time.
A missing Secret is an answer (None), kept like any other; a failed read is not kept: the callers
waiting on it share its error, the next caller reads again.

The reader also notices a Secret whose data (or uid) differs from its previous read, or that is
gone, and tells its listeners (:meth:`SecretReader.on_change`): the request layer then drops
everything it kept for the credentials that came from it, so a rotated token leaves nothing behind.
"""
from __future__ import annotations

import base64
import dataclasses
import hashlib
import logging
import urllib.parse
from collections.abc import Callable, Mapping

from headlamp_operator.headlamp.cache import FlightCache
from headlamp_operator.kube.api import KubeApi
from headlamp_operator.settings import MAX_CACHED

Key = tuple[str, str]  # (namespace, name)
Fingerprint = tuple[str, str] | None  # (uid, digest of the data), None for a missing Secret

logger = logging.getLogger("headlamp_operator")


@dataclasses.dataclass(frozen=True, kw_only=True)
class SecretValue:
    """The parts of a Secret the operator uses."""

    uid: str
    resource_version: str
    data: Mapping[str, bytes]


def decode_secret_data(data: Mapping[str, str] | None) -> dict[str, bytes]:
    """A Secret's ``data`` (base64 strings) as bytes; undecodable entries are skipped."""
    decoded: dict[str, bytes] = {}
    for key, value in (data or {}).items():
        try:
            decoded[key] = base64.b64decode(value, validate=True)
        except (ValueError, TypeError):
            continue
    return decoded


def _fingerprint(value: SecretValue | None) -> Fingerprint:
    if value is None:
        return None
    digest = hashlib.sha256()
    for key, data in sorted(value.data.items()):
        digest.update(b"%d:%s%d:" % (len(key), key.encode(), len(data)) + data)
    return value.uid, digest.hexdigest()


class SecretReader:
    """A :data:`credentials.SecretReader`: single-flight, cached for ``ttl`` seconds, failures not cached."""

    def __init__(self, api: KubeApi, *, ttl: float = 2.0, max_size: int = MAX_CACHED) -> None:
        self._api = api
        self._cache: FlightCache[Key, SecretValue | None] = FlightCache(ttl=ttl, failure_ttl=0, max_size=max_size)
        self.max_size = max_size
        self._seen: dict[Key, Fingerprint] = {}  # what each Secret held when last read (never its values)
        self._listeners: list[Callable[[str, str], None]] = []

    def on_change(self, listener: Callable[[str, str], None]) -> Callable[[], None]:
        """Call ``listener(namespace, name)`` when a read finds a Secret changed or gone; returns the undo."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    @property
    def ttl(self) -> float:
        """How long, in seconds from the read, a Secret is served from memory."""
        return self._cache.ttl

    async def _read(self, namespace: str, name: str) -> SecretValue | None:
        path = "/".join(urllib.parse.quote(part, safe="") for part in (namespace, "secrets", name))
        secret = await self._api.get(f"/api/v1/namespaces/{path}")
        if secret is None:
            return None
        metadata = secret.get("metadata") or {}
        data = {str(key): str(value) for key, value in (secret.get("data") or {}).items()}
        return SecretValue(uid=str(metadata.get("uid") or ""),
                           resource_version=str(metadata.get("resourceVersion") or ""), data=decode_secret_data(data))

    async def __call__(self, namespace: str, name: str) -> SecretValue | None:
        """One Secret of the resource's namespace, or None if it does not exist."""
        return await self._cache.get((namespace, name), lambda: self._load(namespace, name))

    async def _load(self, namespace: str, name: str) -> SecretValue | None:
        value = await self._read(namespace, name)
        key, now = (namespace, name), _fingerprint(value)
        before = self._seen.pop(key, now)  # a first read changes nothing
        self._seen[key] = now  # to the end: the Secrets read least recently are the first to be forgotten
        while len(self._seen) > self.max_size:
            del self._seen[next(iter(self._seen))]
        if before != now:
            logger.info("Secret %s/%s %s", namespace, name, "changed" if value is not None else "is gone")
            for listener in list(self._listeners):
                listener(namespace, name)
        return value
