"""The Headlamp backend emulator: set-token cookies, port-forwards, and the clusters' Kubernetes APIs.

Built from docs/headlamp-backend.md and the recorded transcript only. Usage::

    async with HeadlampEmulator(backend_token="bt") as hl:
        prod = hl.add_cluster("prod")
        prod.add_pod("default", "web-0", labels={"app": "web"}, ports=[{"name": "web", "containerPort": 3000}])
        ...  # talk HTTP to hl.url, then assert on hl.requests, hl.forwards, prod.get("pods", "default", "web-0")

Each cluster is an in-memory Kubernetes API (:class:`~headlamp_operator_testing.kubernetes.KubeCluster`,
reached over HTTP: :mod:`.memory`) or a real API server (:mod:`.upstream`); the emulator proxies to either
alike, as headlamp-server proxies to its clusters.
"""
from __future__ import annotations

import asyncio
import dataclasses
import functools
from collections.abc import Awaitable, Callable, Iterable, Sequence
from urllib.parse import unquote

from aiohttp import web

from headlamp_operator_testing.kubernetes import KubeCluster, WatchEvent

from . import memory, monitor, ratelimit
from .contracts import STOPPED_BY_REQUEST, Contract
from .dynamic import KubeconfigError, load_context
from .forwards import (
    ECHOED,
    Forward,
    ForwardError,
    cache_key_of,
    go_decode,
    go_struct,
    parse_start,
    parse_stop,
    parse_stop_action,
)
from .forwardtable import ForwardTable
from .plugins import Plugins
from .records import RecordedRequest, go_error, json_response
from .scaffold import HeadlampScaffold
from .sessions import ContextKey, SessionStore, clear_cookie_headers, set_cookie_headers, token_from_cookies
from .upstream import UpstreamCluster

KUBECONFIG_HEADER = "KUBECONFIG"
USER_ID_HEADER = "X-HEADLAMP-USER-ID"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Context:
    """The backend context a request is for: a configured cluster, or a dynamic one from a kubeconfig."""

    name: str
    user_id: str | None  # set for dynamic clusters only
    backing: KubeCluster | UpstreamCluster | None  # who serves its objects; None: unknown / unreachable
    cache_key: str  # the backend's context key ("" for a KUBECONFIG without a context of that name)
    known: bool  # whether the backend has that context (else: "key not found")
    token: str | None = None  # the kubeconfig user's token of a dynamic cluster
    server: str = ""
    dynamic: bool = False

    @property
    def key(self) -> ContextKey:
        """What port-forwards and sessions are keyed by."""
        return (self.name, self.user_id)


class HeadlampEmulator(HeadlampScaffold):
    """An emulated Headlamp backend serving any number of emulated clusters over real HTTP."""

    def __init__(
        self,
        *,
        backend_token: str | None = None,
        session_ttl: int = 86400,
        start_delay: float = 0.0,
        ready_timeout: float = 0.0,
        dynamic_clusters: bool = True,
        stale_session_status: int | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        base_path: str = "",
        monitor_interval: float = 5.0,
        contract: str | Iterable[str] | Contract | None = None,
        stop_contract: str | None = None,
        reconnect_delays: Sequence[float] = monitor.RECONNECT_DELAYS,
        set_token_rate: float = 5.0,
        set_token_burst: int = 10,
    ) -> None:
        super().__init__(backend_token=backend_token, host=host, port=port, base_path=base_path)
        self.session_ttl = session_ttl  # Max-Age of the session cookies
        self.start_delay = start_delay  # seconds a port-forward takes to start (for "already starting")
        self.ready_timeout = ready_timeout  # seconds to wait for the pod to run (the backend's 30 s)
        self.dynamic_clusters = dynamic_clusters  # honour KUBECONFIG headers
        self.stale_session_status = stale_session_status  # a fault: answer cookies no live session set with it
        self.monitor_interval = monitor_interval  # seconds between pod checks of a real forward (Headlamp's 5 s)
        self.apis = memory.InMemoryApis()  # the backend's clients of its in-memory clusters' API servers
        self.table = ForwardTable(notify=self.notify, reconnect_delays=reconnect_delays, apis=self.apis)
        # Which backend this is: v0.45.0, or v0.45.0 with upstream pull requests applied (.contracts). The
        # settable `contract` (and `stop_contract`, the knob of #6153 alone from before) keep the table in step.
        self.contract = Contract.parse(contract)
        if stop_contract is not None:
            self.stop_contract = stop_contract
        # #7020's set-token limit (the rate and burst are knobs: 5 a second, burst 10 upstream)
        self.set_token_limiter = ratelimit.SetTokenLimiter(rate=set_token_rate, burst=set_token_burst)
        self.clusters: dict[str, KubeCluster] = {}
        self._monitors: dict[str, Callable[[WatchEvent], None]] = {}  # each in-memory cluster's pod monitor
        self.upstreams: dict[str, UpstreamCluster] = {}  # clusters served by a real API server
        self.bare: dict[str, Context] = {}  # dynamic clusters stored under their bare name (no user id)
        self.plugins = Plugins()  # GET /plugins, and the X-Reload of a plugin change (.plugins)
        self.sessions = SessionStore()
        self.restarts = 0

    @property
    def contract(self) -> Contract:
        """The upstream pull requests this backend has (empty: v0.45.0); settable at runtime."""
        return self.table.contract

    @contract.setter
    def contract(self, value: str | Iterable[str] | Contract | None) -> None:
        self.table.contract = Contract.parse(value)

    @property
    def stop_contract(self) -> str:
        """How DELETE /portforward reads its body: ``stopOrDelete`` (v0.45.0's inverted flag) or ``action``
        (upstream #6153, which refuses a body without it); setting it adds or removes ``pr6153``."""
        return "action" if self.contract.stop_by_action else "stopOrDelete"

    @stop_contract.setter
    def stop_contract(self, value: str) -> None:
        if value not in ("action", "stopOrDelete"):
            raise ValueError(f"stop_contract is 'action' or 'stopOrDelete', not {value!r}")
        self.contract = self.contract.with_pr("pr6153", value == "action")

    # -- clusters and state -----------------------------------------------------------------------

    def add_cluster(self, name: str) -> KubeCluster:
        """Configure a cluster with an in-memory API of its own (proxied under ``/clusters/{name}/``; served on
        loopback from now on, or its first use). A request without a token is the backend's own identity there."""
        if name in self.clusters:
            raise ValueError(f"Cluster {name!r} exists already.")
        cluster = self.clusters[name] = KubeCluster(name)
        cluster.api.access.anonymous = memory.BACKEND_USER
        self._monitors[name] = functools.partial(self.table.on_change, cluster)
        cluster.api.state.hooks.append(self._monitors[name])
        self.apis.prepare(cluster)
        return cluster

    def add_upstream_cluster(self, upstream: UpstreamCluster) -> UpstreamCluster:
        """Configure a cluster served by a real API server (see :mod:`.upstream`)."""
        if upstream.name in self.clusters or upstream.name in self.upstreams:
            raise ValueError(f"Cluster {upstream.name!r} exists already.")
        self.upstreams[upstream.name] = upstream
        return upstream

    def remove_cluster(self, name: str) -> None:
        """Forget a configured cluster (requests for it then fail as for an unknown cluster)."""
        cluster = self.clusters.pop(name)
        cluster.api.state.hooks.remove(self._monitors.pop(name))

    @property
    def forwards(self) -> list[Forward]:
        """Every port-forward the backend has in its cache, of every cluster and user."""
        return self.table.all()

    def forwards_for(self, cluster: str, *, user_id: str | None = None) -> list[Forward]:
        """The port-forwards of one cluster (of one user, for a dynamic cluster)."""
        return list(self.table.of((cluster, user_id)).values())

    def forward(self, fid: str) -> Forward:
        """The port-forward with that id (KeyError if there is none)."""
        for forward in self.table.all():
            if forward.id == fid:
                return forward
        raise KeyError(fid)

    def session_tokens(self, cluster: str, *, user_id: str | None = None) -> set[str]:
        """The tokens that currently have a live session (set-token) for that cluster."""
        return self.sessions.tokens((cluster, user_id))

    async def restart(self) -> None:
        """Simulate a backend restart: forwards and sessions forgotten, open connections dropped."""
        self.restarts += 1
        self.table.forget_all()
        self.sessions.clear()
        self.bare.clear()
        self.plugins.reset()
        self.set_token_limiter.reset()
        await self.drop_connections()
        await self.notify()

    async def cleanup(self) -> None:
        """Close the forwards' local listeners and the API servers' sessions, and stop the in-memory ones."""
        self.table.forget_all()
        for upstream in self.upstreams.values():
            await upstream.close()
        await self.apis.close()

    # -- routing ----------------------------------------------------------------------------------

    async def handle(self, request: web.BaseRequest, record: RecordedRequest, route: str) -> web.StreamResponse:
        """Dispatch ``/clusters/{cluster}/...`` to set-token, port-forward, or the Kubernetes API.

        Only a path outside these routes gets the router's ``404 page not found``; a cluster the backend does
        not know gets its context store's ``key not found`` (404 on the proxy, 500 on a start).
        """
        raw = self.route_path(record.raw_path) or ""
        segments = [unquote(s) for s in raw.split("/")[1:]]
        if record.method == "GET" and segments == ["plugins"]:
            return self.plugins.answer_list()
        if len(segments) < 3 or segments[0] != "clusters" or not segments[1]:
            return go_error(404, "404 page not found")
        name, rest = segments[1], segments[2:]
        match record.method, rest:
            case "POST", ["set-token"]:
                if self.contract.limits_set_token and not self.set_token_limiter.allow(request.remote or ""):
                    return go_error(429, ratelimit.TOO_MANY)  # #7020, before the body is read
                return self._set_token(record, name)
        context = self._context(record, name)
        if isinstance(context, web.Response):
            return context
        cookie_token, stale = self._cookie_token(record, context)
        bearer = self._bearer(record)
        if stale and self.stale_session_status is not None and (rest[:1] == ["portforward"] or bearer is None):
            return go_error(self.stale_session_status, "unauthorized")
        try:
            match record.method, rest:
                case "POST", ["portforward"]:
                    return await self._start(record, context, cookie_token)
                case "DELETE", ["portforward"]:
                    return self._stop(record, context)
                case "GET", ["portforward"]:
                    return self._get(record, context)
                case _, ["portforward", "list"]:  # any method; a prefix match on the context key
                    return json_response([f.listing() for f in self.table.listing(context.cache_key)])
        except ForwardError as exc:
            return go_error(exc.status, exc.message)
        finally:
            await self.notify()
        if not context.known:
            return go_error(404, "key not found")
        # The session cookie's token REPLACES an Authorization header; without a cookie the header goes
        # through as sent; with neither, the context's own user (docs/headlamp-backend.md#sessions-and-cookies).
        token = cookie_token or bearer or context.token
        backing = context.backing
        if isinstance(backing, KubeCluster):
            backing = await self.apis.of(backing)
        if backing is None:  # a dynamic cluster's API server the backend cannot reach
            return web.Response(status=502)  # Go's ReverseProxy
        # "/clusters/{cluster}/{path}" -> "/{path}", still encoded
        return await backing.proxy(
            method=record.method, raw_path="/" + raw.split("/", 3)[3], query_string=request.rel_url.raw_query_string,
            body=record.body, headers=record.headers, token=token, request=request, mark=self.plugins.mark)

    def _context(self, record: RecordedRequest, name: str) -> Context | web.Response:
        """The backend context of a request, as v0.45.0's context store finds it (``backend/cmd/stateless.go``).

        A ``KUBECONFIG`` request stores its context under the cluster name plus NUL and the user id; without a
        user id, under the bare name, where every later request finds it, ``KUBECONFIG`` or not (recorded:
        ``dynamic/bare-name-known``). Not emulated: the store's expiry (5 minutes, 20 s after each later use)
        and its keeping the first context stored under a key.
        """
        encoded = record.headers.get(KUBECONFIG_HEADER)
        configured = self.clusters.get(name) or self.upstreams.get(name)
        if not encoded or not self.dynamic_clusters:
            if configured is None and name in self.bare:
                return self.bare[name]
            return Context(name=name, user_id=None, backing=configured, cache_key=name, known=configured is not None)
        user_id = record.headers.get(USER_ID_HEADER, "")
        try:
            loaded = load_context(encoded, name)
        except KubeconfigError as exc:
            return go_error(400, str(exc))
        if loaded is None:  # no context of that name: the backend goes on with the empty context key
            return Context(name=name, user_id=user_id, dynamic=True, backing=None, cache_key="", known=False)
        backing: KubeCluster | UpstreamCluster | None = self.clusters.get(loaded.cluster)
        if backing is None:  # a real API server the backend can reach: one of the configured upstreams' servers
            backing = next((u for u in self.upstreams.values() if u.server == loaded.server.rstrip("/")), None)
        context = Context(name=name, user_id=user_id, dynamic=True, backing=backing, token=loaded.token,
                          server=loaded.server, cache_key=cache_key_of((name, user_id)), known=True)
        if not user_id and configured is None:
            self.bare.setdefault(name, context)
        return context

    def _session_key(self, record: RecordedRequest, name: str) -> ContextKey:
        if self.dynamic_clusters and KUBECONFIG_HEADER in record.headers:
            return (name, record.headers.get(USER_ID_HEADER, ""))
        return (name, None)

    def _cookie_token(self, record: RecordedRequest, context: Context) -> tuple[str | None, bool]:
        """The token of the request's session cookies, and whether no live session of this process set them.

        The cookies ARE the token: v0.45.0 keeps no session, so cookies from before a restart or a logout
        elsewhere still stand for their token (recorded: ``proxy/cookie-over-bearer``, after
        ``set-token/null-with-cookie`` of the same token). Only the ``stale_session_status`` knob refuses them.
        """
        token = token_from_cookies(context.name, record.cookies, self.contract.cookie_scheme)
        if token is None:
            return None, False
        return token, not self.sessions.valid(context.key, token)

    # -- set-token --------------------------------------------------------------------------------

    def _set_token(self, record: RecordedRequest, name: str) -> web.Response:
        try:  # Go's decoder: the first JSON value, keys matched case-insensitively; null is no token
            doc = go_decode(record.body)
            fields = go_struct(doc, "setTokenRequest", {"token": str}) if doc is not None else {}
        except ValueError:
            return go_error(400, "Invalid JSON")
        token: str | None = fields.get("token")
        key = self._session_key(record, name)
        path = f"{self.base_path}/clusters/{name}"
        secure = record.headers.get("X-Forwarded-Proto") == "https"  # the emulator itself serves no TLS
        scheme, every = self.contract.cookie_scheme, self.contract.clears_every_chunk  # #7352, #6801
        if token:
            headers = set_cookie_headers(name, token, path=path, max_age=self.session_ttl, existing=record.cookies,
                                         secure=secure, scheme=scheme, every_chunk=every)
            self.sessions.open(key, token, ttl=self.session_ttl)
        else:
            headers = clear_cookie_headers(name, path=path, existing=record.cookies, secure=secure, scheme=scheme,
                                           every_chunk=every)
            self.sessions.close(key, token_from_cookies(name, record.cookies, scheme))
        response = web.Response(status=200)
        for header in headers:
            response.headers.add("Set-Cookie", header)
        return response

    # -- port-forwards ----------------------------------------------------------------------------

    async def _start(self, record: RecordedRequest, context: Context, cookie_token: str | None) -> web.Response:
        request, address = parse_start(record.body)
        token = cookie_token if cookie_token is not None else context.token  # v0.45.0: never the Authorization
        bearer = self._bearer(record)
        if self.contract.start_reads_bearer and bearer is not None:  # #7273: the header first, then the cookies
            token = bearer
        starting: Awaitable[Forward]
        if isinstance(context.backing, UpstreamCluster):
            starting = self.table.start_upstream(
                context.key, request, upstream=context.backing, token=token, context=context.cache_key,
                address=address, ready_timeout=self.ready_timeout or 30.0, monitor_interval=self.monitor_interval)
        else:
            refusal = None  # what the backend answers in place of a forward it cannot make
            if not context.known:
                refusal = "key not found"
            elif context.backing is None:
                refusal = (f'permission check failed: failed to check permissions: Post "{context.server}/apis/'
                           'authorization.k8s.io/v1/selfsubjectaccessreviews": dial tcp: connect: connection refused')
            starting = self.table.start(context.key, request, backing=context.backing, token=token,
                                        context=context.cache_key, refusal=refusal, address=address,
                                        start_delay=self.start_delay, ready_timeout=self.ready_timeout)
        # Go's handler runs to its end when the client goes away (only the request's context ends; the forward's
        # goroutine does not watch it): a start the operator gave up waiting for still makes its forward.
        task = asyncio.ensure_future(starting)
        task.add_done_callback(lambda done: done.cancelled() or done.exception())
        forward = await asyncio.shield(task)
        echo = {**{name: request[name] for name in ECHOED}, "id": forward.id, "port": forward.port}
        if self.contract.monitor_tied_to_request:  # #7258: the request's context ends with its answer
            forward.close(error=STOPPED_BY_REQUEST)
        return json_response(echo)

    def _stop(self, record: RecordedRequest, context: Context) -> web.Response:
        if self.contract.stop_by_action:  # docs/headlamp-backend.md#upstream-changes-in-flight, #6153
            fid, action = parse_stop_action(record.body)
            try:
                self.table.stop(context.cache_key, fid, stop=action == "stop")
            except ForwardError as e:
                raise ForwardError(e.status, f"failed to {action} port forward: "
                                             + e.message.removeprefix("failed to delete port forward ")) from e
            return web.Response(status=200, text="stopped" if action == "stop" else "deleted",
                                content_type="text/plain", charset="utf-8")
        fid, stop = parse_stop(record.body)  # v0.45.0: the flag alone (an "action" is ignored)
        self.table.stop(context.cache_key, fid, stop=stop)
        return web.Response(status=200, text="stopped", content_type="text/plain", charset="utf-8")

    def _get(self, record: RecordedRequest, context: Context) -> web.Response:
        fid = record.query.get("id", "")
        if not fid:
            raise ForwardError(400, "id is required")
        forward = self.table.get(context.cache_key, fid)  # Stopped ones too: 200 is no sign of Running
        if forward is None:
            raise ForwardError(404, f"no portforward running with id {fid}")
        return json_response(forward.summary(context.name))

    # -- the Kubernetes API proxy -----------------------------------------------------------------

    @staticmethod
    def _bearer(record: RecordedRequest) -> str | None:
        scheme, _, token = record.headers.get("Authorization", "").partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None
