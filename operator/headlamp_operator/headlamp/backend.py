"""The Headlamp backend as the operator talks to it: one object that owns the session, what it remembers, and send.

As httpx's ``Client`` owns its state and its ``send()``, one :class:`Backend` lives as long as the
operator (opened once, :meth:`Backend.open` or ``async with``, closed once) and every request goes
through it: :meth:`Backend.fetch` (Headlamp frontend's ``backendFetch``: the base URL joined, the
common headers, aiohttp's exceptions translated once into :mod:`.errors` with the cause kept,
``X-Reload`` honoured) and :meth:`Backend.cluster_fetch` (``clusterFetch``: ``/clusters/{cluster}``,
the backend-token and dynamic-cluster headers, the per-cluster bound, a plain 404 read by who answered
it). The per-action modules (:mod:`.auth`, :mod:`.portforward`, :mod:`.proxy`, :mod:`.resources`) are
built on these two (docs/headlamp-backend.md#what-the-operator-sends).

What it remembers of the backend's answers (a credential's login at a cluster, with its cookie jar; API
discovery; whether a cluster is known) is keyed by cluster and credential, so one tenant's session is
never used for another's request; it is reached through methods only, and dropped on ``X-Reload``, on
logout, or by its owner. The layers above register listeners (:meth:`Backend.on_reload`,
:meth:`Backend.on_forget`, :meth:`Backend.on_exchange`) to drop what they derived themselves, or to
observe requests. Nothing of a credential outlives it: a logout drops what it had at that cluster, and
when a credential is gone for good (:meth:`Backend.retire`: one of the Secrets it came from changed)
everything kept for it goes, on every cluster; logins are also bounded in number.
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from types import TracebackType
from typing import Any

import aiohttp
import yarl
from multidict import CIMultiDict

from headlamp_operator.headlamp import errors, notfound, paths, wire
from headlamp_operator.headlamp.cache import FlightCache
from headlamp_operator.headlamp.wire import Exchange
from headlamp_operator.settings import BackendSettings
from headlamp_operator.structs import ANONYMOUS, Credentials, Source

logger = logging.getLogger("headlamp_operator.headlamp")

CacheKey = tuple[str, str]  # (cluster, credentials.key)
DiscoveryKey = tuple[str, str, str]  # (cluster, credentials.key, apiVersion)
Discovery = dict[str, Any]  # kind -> what discovery says of it (resources.ApiResource)
PROBE_TTL = 60.0  # seconds a look at whether Headlamp knows a cluster is kept (notfound.probe)


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
        self._streams: aiohttp.ClientSession | None = None  # long-lived reads (watches), apart from requests
        self._limits: dict[str, asyncio.Semaphore] = {}
        self._logins: dict[CacheKey, Login] = {}
        # Discovery answers per group/version, kept until dropped; failures are not kept (a cluster may
        # serve the group a moment later) but shared by the callers waiting on them.
        self._discovery: FlightCache[DiscoveryKey, Discovery] = FlightCache(failure_ttl=0)
        # Whether Headlamp knows a cluster, per (cluster, dynamic user id): who answered a plain 404 (_who_answered).
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
            self._streams = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                                  cookie_jar=aiohttp.DummyCookieJar())
        return self

    async def close(self) -> None:
        """Close the shared session if this object created it."""
        if self._session is not None and self._own_session:
            await self._session.close()
            self._session = None
        if self._streams is not None:
            await self._streams.close()
            self._streams = None

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
    def streams(self) -> aiohttp.ClientSession:
        """The session of long-lived reads (:meth:`stream`): the shared session when one was given."""
        return self._streams or self.session

    @property
    def shown_url(self) -> str:
        """The backend's URL as a message may show it (no user or password, should the URL carry them)."""
        return str(yarl.URL(self.settings.url).with_user(None))

    async def probed(self, key: tuple[str, str | None], load: Callable[[], Awaitable[str]]) -> str:
        """What a look at a cluster found (kept a minute, one in flight per cluster): see :func:`notfound.probe`."""
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

    # -- sending ---------------------------------------------------------------------------------

    def _outgoing(self, path: str, *, headers: Mapping[str, str] | None, query: Mapping[str, str] | None,
                  secrets: Iterable[str]) -> tuple[yarl.URL, CIMultiDict[str], list[str]]:
        """A request's URL (``path`` joined to the base URL), its headers (the common ones added and checked),
        and every value to redact from what its answer reports."""
        sent = CIMultiDict(wire.JSON_HEADERS)
        sent["User-Agent"] = wire.USER_AGENT
        sent.update(headers or {})
        if self.settings.backstage_token:
            sent["X-BACKSTAGE-TOKEN"] = str(self.settings.backstage_token)
        wire.check_headers(sent)
        base = yarl.URL(self.settings.url)
        url = base.with_path(base.raw_path.rstrip("/") + path, encoded=True)
        return (url.with_query(query) if query else url), sent, [*secrets, *wire.header_secrets(sent)]

    def _cluster_headers(self, headers: Mapping[str, str] | None, credentials: Credentials) -> dict[str, str]:
        """The headers of a request under ``/clusters/{cluster}``: the backend token, a dynamic cluster's."""
        sent = dict(headers or {})
        if self.settings.backend_token:
            sent["X-HEADLAMP_BACKEND-TOKEN"] = str(self.settings.backend_token)
        kubeconfig = credentials.kubeconfig_header
        if kubeconfig is not None and credentials.user_id:
            sent["KUBECONFIG"] = kubeconfig
            sent["X-HEADLAMP-USER-ID"] = credentials.user_id
        return sent

    @contextlib.asynccontextmanager
    async def stream(self, path: str, *, cluster: str, headers: Mapping[str, str] | None = None,
                     query: Mapping[str, str] | None = None,
                     credentials: Credentials = ANONYMOUS,
                     read_timeout: float | None = None) -> AsyncIterator[aiohttp.ClientResponse]:
        """A GET under ``/clusters/{cluster}`` whose answer is read as it comes (a Kubernetes watch), for as long
        as the caller reads it.

        Sent as :meth:`cluster_fetch` sends (the same headers), but on a session of its own (a stream
        holds its connection for minutes: it never takes one of the requests' pool) and outside the
        per-cluster bound. No total timeout: connecting is bounded by ``HEADLAMP_REQUEST_TIMEOUT``, and each
        read by ``read_timeout`` seconds (a stream silent for longer is taken as dead: kopf #1267).

        Raises:
            errors.ApiError: a non-2xx answer (as :meth:`fetch` raises it), or the stream failed, also
                while the caller reads it (:class:`errors.TransportError`).
        """
        settings = self.settings
        url, sent, hidden = self._outgoing(paths.cluster_path(cluster, path),
                                           headers=self._cluster_headers(headers, credentials), query=query,
                                           secrets=self.secrets_of(credentials))
        try:
            async with self.streams.get(url, headers=sent, allow_redirects=False, timeout=aiohttp.ClientTimeout(
                    total=None, sock_connect=settings.request_timeout, sock_read=read_timeout)) as raw:
                self.observe(Exchange(cluster=cluster, method="GET", status=raw.status, seconds=0.0))
                await self._answered(raw, hidden=hidden, cluster=cluster)
                yield raw
        except TimeoutError as e:
            raise errors.RequestTimeoutError(cluster=cluster) from e
        except (aiohttp.ClientError, OSError) as e:
            raise errors.UnreachableError(f"Unreachable - {errors.redact(wire.transport_detail(e), hidden)}",
                                          cluster=cluster) from e

    async def _answered(self, raw: aiohttp.ClientResponse, *, hidden: Iterable[str], cluster: str | None) -> None:
        """What every answer's head says: ``X-Reload`` honoured, a non-2xx status raised as its error."""
        if "reload" in raw.headers.get("X-Reload", ""):
            self.reload()
        if raw.status >= 400:
            error_body = await raw.content.read(wire.ERROR_BODY_LIMIT)
            raise errors.from_status(raw.status, raw.reason or "", error_body, headers=raw.headers,
                                     secrets=hidden, cluster=cluster)

    async def fetch(self, path: str, *, method: str = "GET", headers: Mapping[str, str] | None = None,
                    body: bytes | None = None, query: Mapping[str, str] | None = None, secrets: Iterable[str] = (),
                    cluster: str | None = None) -> wire.Response:
        """Send one request to the backend and return its answer, or raise the matching :class:`errors.ApiError`.

        ``path`` is joined to the configured base URL (which may carry a path prefix); the request can
        never leave that backend. ``secrets`` are values to redact from any error message, besides the
        credential headers themselves.
        """
        settings = self.settings
        url, sent, hidden = self._outgoing(path, headers=headers, query=query, secrets=secrets)
        started = time.monotonic()
        status = 502
        try:
            async with self.session.request(
                    method, url, headers=sent, data=body, allow_redirects=False,
                    timeout=aiohttp.ClientTimeout(total=settings.request_timeout)) as raw:
                status = raw.status
                await self._answered(raw, hidden=hidden, cluster=cluster)
                response = wire.Response(status=raw.status, reason=raw.reason or "", headers=raw.headers,
                                         body=await wire.read_body(raw, settings.max_body_size), url=raw.url,
                                         cookies=raw.cookies)
        except TimeoutError as e:
            status = 408
            raise errors.RequestTimeoutError(cluster=cluster) from e
        except aiohttp.ClientResponseError as e:  # a malformed answer (bad status line, bad headers)
            raise errors.UnreachableError(f"Unreachable - {errors.redact(e.message, hidden)}", cluster=cluster) from e
        except (aiohttp.ClientError, OSError) as e:
            status = 502
            raise errors.UnreachableError(f"Unreachable - {errors.redact(wire.transport_detail(e), hidden)}",
                                          cluster=cluster) from e
        finally:
            elapsed = time.monotonic() - started
            self.observe(Exchange(cluster=cluster, method=method, status=status, seconds=elapsed))
            logger.debug("%s %s -> %s in %.3fs", method, path.split("?", 1)[0], status, elapsed)
        return response

    async def cluster_fetch(self, path: str, *, cluster: str, method: str = "GET",
                            headers: Mapping[str, str] | None = None, body: bytes | None = None,
                            query: Mapping[str, str] | None = None,
                            credentials: Credentials = ANONYMOUS) -> wire.Response:
        """A request under ``/clusters/{cluster}``: backend token, dynamic-cluster headers, the per-cluster bound."""
        full_path = paths.cluster_path(cluster, path)
        sent = self._cluster_headers(headers, credentials)
        async with self.limit(cluster):
            try:
                return await self.fetch(full_path, method=method, headers=sent, body=body, query=query,
                                        secrets=self.secrets_of(credentials), cluster=cluster)
            except errors.PageNotFoundError as e:
                e.cluster = cluster
                unexplained = e
            except errors.ApiError as e:
                e.cluster = cluster
                raise
        # Outside the per-cluster bound: the look at the cluster is a request of its own.
        raise await notfound.who_answered(self, unexplained, method=method, path=path, cluster=cluster,
                                          headers=sent) from unexplained
