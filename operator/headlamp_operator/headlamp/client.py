"""The request layer's shared state: one aiohttp session, per-cluster limits, caches derived from answers.

One :class:`Backend` lives as long as the operator. Everything cached from the backend's answers
(session cookie jars, API discovery) is keyed by cluster and credential, so one tenant's session
is never used for another's request; it is dropped on ``X-Reload``, on logout, or by its owner.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from types import TracebackType
from typing import Any

import aiohttp

from headlamp_operator.headlamp.cache import FlightCache
from headlamp_operator.settings import BackendSettings

logger = logging.getLogger("headlamp_operator.headlamp")

CacheKey = tuple[str, str]  # (cluster, credentials.key)
DiscoveryKey = tuple[str, str, str]  # (cluster, credentials.key, apiVersion)


@dataclasses.dataclass(frozen=True)
class Exchange:
    """What one request did, for observers such as metrics (never headers or bodies)."""

    cluster: str | None
    method: str
    status: int  # 408/502 when no answer came, as the frontend reports them
    seconds: float


class Backend:
    """The Headlamp backend as the operator sees it: settings, the shared session, and what it remembers."""

    def __init__(self, settings: BackendSettings, *, session: aiohttp.ClientSession | None = None) -> None:
        self.settings = settings
        self._session = session
        self._own_session = session is None
        self._limits: dict[str, asyncio.Semaphore] = {}
        self.jars: dict[CacheKey, aiohttp.CookieJar] = {}
        self.login_locks: dict[CacheKey, asyncio.Lock] = {}
        # Discovery answers (kind -> resource) per group/version, kept until dropped; failures are not
        # kept (a cluster may serve the group a moment later) but shared by the callers waiting on them.
        self.discovery: FlightCache[DiscoveryKey, dict[str, Any]] = FlightCache(failure_ttl=0)
        self.reload_listeners: list[Callable[[], None]] = []
        self.logout_listeners: list[Callable[[str, str], None]] = []
        self.observers: list[Callable[[Exchange], None]] = []

    async def __aenter__(self) -> Backend:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=max(100, self.settings.max_concurrency * 4),
                                             limit_per_host=0, enable_cleanup_closed=True)
            # Cookies are kept per credential by auth.py, never in a session-wide jar.
            self._session = aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the shared session if this object created it."""
        if self._session is not None and self._own_session:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        """The one shared aiohttp session (connection pooling for every request of the operator)."""
        if self._session is None:
            raise RuntimeError("the Backend is not entered: use `async with Backend(settings) as backend`")
        return self._session

    def limit(self, cluster: str) -> asyncio.Semaphore:
        """The semaphore bounding requests in flight for one cluster (``HEADLAMP_MAX_CONCURRENCY``)."""
        semaphore = self._limits.get(cluster)
        if semaphore is None:
            semaphore = self._limits[cluster] = asyncio.Semaphore(self.settings.max_concurrency)
        return semaphore

    def reload(self) -> None:
        """The backend sent ``X-Reload``: drop everything derived from its earlier answers."""
        logger.info("the backend asked for a reload: dropping cached discovery and resolved pods")
        self.discovery.clear()
        for listener in list(self.reload_listeners):
            listener()

    def forget(self, cluster: str, key: str) -> None:
        """Drop the session and the cached discovery of one credential for one cluster (after a logout)."""
        self.jars.pop((cluster, key), None)
        self.discovery.discard_where(lambda found: found[:2] == (cluster, key))
        for listener in list(self.logout_listeners):
            listener(cluster, key)

    def observe(self, exchange: Exchange) -> None:
        """Tell every observer (metrics) about one finished request."""
        for observer in self.observers:
            observer(exchange)
