"""The request layer's shared state: one aiohttp session, per-cluster limits, what it remembers of answers.

One :class:`Backend` lives as long as the operator: opened once (:meth:`Backend.open`, or ``async
with``) and closed once. What it remembers of the backend's answers (a credential's login at a
cluster, with its cookie jar; API discovery) is keyed by cluster and credential, so one tenant's
session is never used for another's request. That state is reached through methods only, and
dropped on ``X-Reload``, on logout, or by its owner; the layers above register listeners
(:meth:`Backend.on_reload`, :meth:`Backend.on_forget`, :meth:`Backend.on_exchange`) to drop what
they derived themselves, or to observe requests.

Nothing of a credential outlives it: a logout drops what it had at that cluster, and when a
credential is gone for good (:meth:`Backend.retire`: one of the Secrets it came from changed, so a
rotated token is never used again) everything kept for it goes, on every cluster. Logins are also
bounded in number (the least recently used go first), a last guard against what nobody retires.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

import aiohttp
import yarl

from headlamp_operator.headlamp.cache import FlightCache
from headlamp_operator.settings import BackendSettings
from headlamp_operator.structs import Credentials, Source

logger = logging.getLogger("headlamp_operator.headlamp")

CacheKey = tuple[str, str]  # (cluster, credentials.key)
DiscoveryKey = tuple[str, str, str]  # (cluster, credentials.key, apiVersion)
Discovery = dict[str, Any]  # kind -> what discovery says of it (resources.ApiResource)
PROBE_TTL = 60.0  # seconds a look at whether Headlamp knows a cluster is kept (fetch's _probe)


@dataclasses.dataclass(frozen=True)
class Exchange:
    """What one request did, for observers such as metrics (never headers or bodies)."""

    cluster: str | None
    method: str
    status: int  # 408/502 when no answer came, as the frontend reports them
    seconds: float


def _jar() -> aiohttp.CookieJar:
    return aiohttp.CookieJar(unsafe=True)  # the default drops cookies of IP-address hosts (127.0.0.1)


@dataclasses.dataclass(eq=False)
class Login:
    """One credential's login at one cluster: the cookies ``set-token`` set, and the lock of logging in.

    The lock makes a login single-flight: concurrent requests of one credential log in once.
    """

    jar: aiohttp.CookieJar = dataclasses.field(default_factory=_jar)
    lock: asyncio.Lock = dataclasses.field(default_factory=asyncio.Lock)


class Backend:
    """The Headlamp backend as the operator sees it: settings, the shared session, and what it remembers."""

    def __init__(self, settings: BackendSettings, *, session: aiohttp.ClientSession | None = None,
                 max_logins: int | None = None) -> None:
        self.settings = settings
        self.max_logins = max_logins if max_logins is not None else settings.max_cached
        self._session = session
        self._own_session = session is None
        self._limits: dict[str, asyncio.Semaphore] = {}
        self._logins: dict[CacheKey, Login] = {}
        # Discovery answers per group/version, kept until dropped; failures are not kept (a cluster may
        # serve the group a moment later) but shared by the callers waiting on them.
        self._discovery: FlightCache[DiscoveryKey, Discovery] = FlightCache(failure_ttl=0)
        # Whether Headlamp knows a cluster, per (cluster, dynamic user id): who answered a plain 404 (fetch).
        self._probes: FlightCache[tuple[str, str | None], str] = FlightCache(ttl=PROBE_TTL, failure_ttl=0)
        self._sources: dict[str, frozenset[Source]] = {}  # credentials.key -> the Secrets it came from
        self._secrets: dict[str, tuple[str, ...]] = {}  # credentials.key -> what to redact (kubeconfigs parsed)
        self._reload_listeners: list[Callable[[], None]] = []
        self._forget_listeners: list[Callable[[str | None, str], None]] = []
        self._observers: list[Callable[[Exchange], None]] = []

    # -- lifetime ---------------------------------------------------------------------------------

    async def open(self) -> Backend:
        """Create the shared session (unless one was given); returns the Backend itself."""
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=max(100, self.settings.max_concurrency * 4),
                                             limit_per_host=0, enable_cleanup_closed=True)
            # Cookies are kept per credential (Login), never in a session-wide jar.
            self._session = aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())
        return self

    async def close(self) -> None:
        """Close the shared session if this object created it."""
        if self._session is not None and self._own_session:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> Backend:
        return await self.open()

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    @property
    def session(self) -> aiohttp.ClientSession:
        """The one shared aiohttp session (connection pooling for every request of the operator)."""
        if self._session is None:
            raise RuntimeError("the Backend is not open: use `async with Backend(settings) as backend`")
        return self._session

    @property
    def shown_url(self) -> str:
        """The backend's URL as a message may show it (no user or password, should the URL carry them)."""
        return str(yarl.URL(self.settings.url).with_user(None))

    async def probed(self, key: tuple[str, str | None], load: Callable[[], Awaitable[str]]) -> str:
        """What a look at a cluster found (kept a minute, one look in flight per cluster): see ``fetch._probe``."""
        return await self._probes.get(key, load)

    def limit(self, cluster: str) -> asyncio.Semaphore:
        """The semaphore bounding requests in flight for one cluster (``HEADLAMP_MAX_CONCURRENCY``)."""
        semaphore = self._limits.get(cluster)
        if semaphore is None:
            semaphore = self._limits[cluster] = asyncio.Semaphore(self.settings.max_concurrency)
        return semaphore

    # -- listeners --------------------------------------------------------------------------------

    def on_reload(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` whenever the backend sends ``X-Reload`` (drop what was derived from it)."""
        self._reload_listeners.append(listener)

    def on_forget(self, listener: Callable[[str | None, str], None]) -> None:
        """Call ``listener(cluster, key)`` whenever a credential's state is dropped: at one cluster after a
        logout, at every cluster (``cluster`` None) when the credential is retired."""
        self._forget_listeners.append(listener)

    def on_exchange(self, observer: Callable[[Exchange], None]) -> None:
        """Call ``observer(exchange)`` after every request (metrics)."""
        self._observers.append(observer)

    def reload(self) -> None:
        """The backend sent ``X-Reload``: drop everything derived from its earlier answers."""
        logger.info("the backend asked for a reload: dropping cached discovery and resolved pods")
        self._discovery.clear()
        self._probes.clear()
        for listener in list(self._reload_listeners):
            listener()

    def forget(self, cluster: str, key: str) -> None:
        """Drop the login and the cached discovery of one credential for one cluster (after a logout)."""
        self._logins.pop((cluster, key), None)
        self._discovery.discard_where(lambda found: found[:2] == (cluster, key))
        for listener in list(self._forget_listeners):
            listener(cluster, key)

    def retire(self, key: str) -> None:
        """A credential is gone for good: drop everything kept for it, on every cluster (and tell the listeners)."""
        for found in [found for found in self._logins if found[1] == key]:
            del self._logins[found]
        self._discovery.discard_where(lambda found: found[1] == key)
        self._sources.pop(key, None)
        self._secrets.pop(key, None)
        for listener in list(self._forget_listeners):
            listener(None, key)

    def retire_source(self, namespace: str, name: str) -> None:
        """A Secret changed (or went): retire every credential that came from it (a rotated token, say)."""
        source = (namespace, name)
        for key in [key for key, sources in self._sources.items() if source in sources]:
            logger.info("a Secret of credential %s changed: dropping what was kept for it", key[:8])
            self.retire(key)

    def remembers(self, key: str) -> bool:
        """Whether anything at all is kept for a credential (a login, discovery, its secrets, where it came from)."""
        return self.logins(key) > 0 or self.discoveries(key) > 0 or key in self._sources or key in self._secrets

    def secrets_of(self, credentials: Credentials) -> tuple[str, ...]:
        """Every value to redact from what a request of ``credentials`` reports (:meth:`Credentials.secrets`).

        A kubeconfig is parsed for the user credentials inside it once per credential, not per
        request: kept by credential (the same values loaded again by another reconcile find it),
        bounded like the logins, and dropped when the credential is retired.
        """
        if credentials.kubeconfig is None:
            return tuple(credentials.secrets())  # nothing to parse
        self._note(credentials)
        key = credentials.key
        found = self._secrets.pop(key, None)
        if found is None:
            found = tuple(credentials.secrets())
        self._secrets[key] = found  # to the end: the least recently used are the first
        while len(self._secrets) > self.max_logins:
            del self._secrets[next(iter(self._secrets))]
        return found

    def _note(self, credentials: Credentials) -> None:
        """Remember where a credential came from, before anything is kept for it."""
        if credentials.sources:
            key = credentials.key
            sources = self._sources.pop(key, frozenset()) | credentials.sources
            self._sources[key] = sources  # to the end: the least recently used are the first
            while len(self._sources) > self.max_logins:
                del self._sources[next(iter(self._sources))]

    def observe(self, exchange: Exchange) -> None:
        """Tell every observer (metrics) about one finished request."""
        for observer in self._observers:
            observer(exchange)

    # -- logins -----------------------------------------------------------------------------------

    def login(self, cluster: str, credentials: Credentials) -> Login:
        """The login of ``credentials`` at ``cluster``, created (no cookies yet) if there is none.

        At most ``max_logins`` are kept: past that, the least recently used one goes (it logs in
        again when next needed).
        """
        self._note(credentials)
        found = self._logins.pop((cluster, credentials.key), None) or Login()
        self._logins[(cluster, credentials.key)] = found  # to the end: the least recently used are the first
        while len(self._logins) > self.max_logins:
            del self._logins[next(iter(self._logins))]
        return found

    def find_login(self, cluster: str, key: str) -> Login | None:
        """The login of credential ``key`` at ``cluster``, if there is one."""
        return self._logins.get((cluster, key))

    def logins(self, key: str | None = None) -> int:
        """How many logins are kept (cookie jars and their locks): of one credential, or of all."""
        return sum(1 for _, owner in self._logins if key is None or owner == key)

    # -- discovery --------------------------------------------------------------------------------

    async def discovered(self, cluster: str, credentials: Credentials, api_version: str,
                         load: Callable[[], Awaitable[Discovery]]) -> Discovery:
        """The discovery answer of a group/version as a credential sees it: kept, in flight, or ``load()``-ed."""
        self._note(credentials)
        return await self._discovery.get((cluster, credentials.key, api_version), load)

    def forget_discovery(self, cluster: str, key: str, api_version: str) -> None:
        """Drop one group/version from the discovery cache (after a 404 on one of its resources)."""
        self._discovery.discard((cluster, key, api_version))

    def discoveries(self, key: str | None = None) -> int:
        """How many discovery answers are kept (or in flight): of one credential, or of all."""
        return sum(1 for _, owner, _ in self._discovery if key is None or owner == key)
