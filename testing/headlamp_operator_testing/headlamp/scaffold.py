"""The server part of the Headlamp emulator: lifecycle, request log, fault knobs, backend token.

Nothing here knows about clusters or port-forwards; :class:`HeadlampEmulator` builds on it.
"""
from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import hmac
import logging
import socket
from collections.abc import Callable
from types import TracebackType
from typing import Self
from urllib.parse import unquote

import yarl
from aiohttp import web

from .records import GO_TEXT, Fault, RecordedRequest, go_error

logger = logging.getLogger(__name__)

BACKEND_TOKEN_HEADER = "X-HEADLAMP_BACKEND-TOKEN"
MAX_HEADER_BYTES = 1 << 20


MAX_BODY = 64 * 1024 * 1024  # bytes: effectively unbounded for what the operator sends, yet finite


@dataclasses.dataclass(kw_only=True)
class _Pending:
    remaining: int
    fault: Fault


class HeadlampScaffold:
    """An aiohttp server on loopback that records requests and can fail on demand.

    Subclasses answer the requests in :meth:`handle`; this class decides whether they get there.
    """

    def __init__(
        self,
        *,
        backend_token: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        base_path: str = "",
    ) -> None:
        self.backend_token = backend_token
        self.host = host
        self.base_path = "/" + base_path.strip("/") if base_path.strip("/") else ""
        self._port = port
        self.requests: list[RecordedRequest] = []
        # Called with each request once answered (status set): a log outside the process, e.g. -request-log.
        self.on_answered: list[Callable[[RecordedRequest], None]] = []
        self.errors: list[BaseException] = []  # exceptions raised by the emulator itself (bugs)
        self.in_flight: collections.Counter[str] = collections.Counter()
        self.max_in_flight: collections.Counter[str] = collections.Counter()
        # Fault knobs, all settable at runtime:
        self.fault: Fault | None = None  # answers every matching request
        self.delay: float = 0.0  # seconds before every answer
        self.reload: bool = False  # adds `X-Reload: reload` to every answer
        self._pending: list[_Pending] = []  # from fail_next()
        self._gate = asyncio.Event()
        self._gate.set()
        self._changed = asyncio.Condition()
        self._server: web.Server | None = None
        self._runner: web.ServerRunner | None = None
        self._site: web.SockSite | None = None

    # -- lifecycle --------------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Start serving on ``host`` (a free port unless one was given)."""
        # Go's net/http takes up to 1 MB of headers (long tokens make long Cookie headers).
        self._server = web.Server(self._serve, handler_cancellation=True,
                                  max_line_size=MAX_HEADER_BYTES, max_field_size=MAX_HEADER_BYTES)
        self._runner = web.ServerRunner(self._server, handle_signals=False, access_log=None,
                                        shutdown_timeout=0.5)
        await self._runner.setup()
        await self.start_listening()

    async def stop(self) -> None:
        """Stop serving, dropping every connection."""
        self._gate.set()
        await self.cleanup()
        if self._runner is not None:
            await self._runner.cleanup()
        self._runner = self._server = self._site = None

    async def cleanup(self) -> None:
        """Release what subclasses hold (listeners, tasks) when the server stops."""

    async def start_listening(self) -> None:
        """Listen (again) on the same port; clients connect once more."""
        if self._runner is None:
            raise RuntimeError("The emulator is not started.")
        if self._site is not None:
            return
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._port))
        sock.setblocking(False)
        self._port = sock.getsockname()[1]
        self._site = web.SockSite(self._runner, sock)
        await self._site.start()

    async def stop_listening(self) -> None:
        """Close the listening socket and open connections: clients get "connection refused"."""
        if self._site is not None:
            await self._site.stop()
            self._site = None
        await self.drop_connections()

    async def drop_connections(self) -> None:
        """Close every open connection (idle keep-alive ones included), as a dying process would."""
        if self._server is not None:
            for conn in self._server.connections:
                conn.force_close()
        for _ in range(3):  # let the loop deliver the closes, to the clients on this loop too
            await asyncio.sleep(0)

    @property
    def port(self) -> int:
        """The port served on (kept across stop_listening/start_listening)."""
        return self._port

    @property
    def url(self) -> yarl.URL:
        """The base URL to give to clients (the base path included)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return yarl.URL(f"http://{host}:{self._port}{self.base_path}")

    @property
    def listening(self) -> bool:
        """Whether the listening socket is open."""
        return self._site is not None

    # -- knobs ------------------------------------------------------------------------------------

    def fail_next(
        self,
        n: int = 1,
        *,
        status: int = 503,
        body: str | bytes = "",
        retry_after: float | None = None,
        content_type: str | None = None,
        method: str | None = None,
        path: str | None = None,
        disconnect: bool = False,
    ) -> Fault:
        """Answer the next ``n`` matching requests with a canned failure instead of the real answer."""
        fault = Fault(status=status, body=body, retry_after=retry_after, method=method, path=path,
                      disconnect=disconnect, content_type=content_type or GO_TEXT)
        self._pending.append(_Pending(remaining=n, fault=fault))
        return fault

    def reset_faults(self) -> None:
        """Forget every fault knob: pending failures, the persistent fault, delay, reload, hold."""
        self._pending.clear()
        self.fault = None
        self.delay = 0.0
        self.reload = False
        self._gate.set()

    def hold(self) -> None:
        """Keep every new request waiting (in flight) until :meth:`release`."""
        self._gate.clear()

    def release(self) -> None:
        """Let held requests proceed."""
        self._gate.set()

    def clear_requests(self) -> None:
        """Forget the request log and the in-flight maxima."""
        self.requests.clear()
        self.max_in_flight.clear()

    def requests_for(
        self, *, method: str | None = None, path: str | None = None, cluster: str | None = None
    ) -> list[RecordedRequest]:
        """The recorded requests with this method, exact decoded path, and/or cluster."""
        return [
            r for r in self.requests
            if (method is None or r.method == method.upper())
            and (path is None or r.path == path)
            and (cluster is None or r.cluster == cluster)
        ]

    async def wait_until(self, predicate: Callable[[], bool], *, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until ``predicate()`` holds; it is re-checked whenever a request arrives or ends."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(predicate)

    async def notify(self) -> None:
        """Wake up :meth:`wait_until` callers after a state change."""
        async with self._changed:
            self._changed.notify_all()

    # -- serving ----------------------------------------------------------------------------------

    def route_path(self, path: str) -> str | None:
        """The path below the base path, or None when the request is outside of it."""
        if not self.base_path:
            return path
        if path == self.base_path or path.startswith(self.base_path + "/"):
            return path[len(self.base_path):] or "/"
        return None

    def cluster_of(self, raw_path: str) -> str | None:
        """The ``{cluster}`` of a ``/clusters/{cluster}/...`` request path (raw), decoded."""
        route = self.route_path(raw_path)
        parts = (route or "").split("/")
        if len(parts) >= 3 and parts[1] == "clusters" and parts[2]:
            return unquote(parts[2])
        return None

    async def _serve(self, request: web.BaseRequest) -> web.StreamResponse:
        # Go's net/http (and so headlamp-server's proxy) sets no body limit; aiohttp's default is 1 MiB.
        request = request.clone(client_max_size=MAX_BODY)
        body = await request.read()
        cluster = self.cluster_of(request.rel_url.raw_path)
        record = RecordedRequest.capture(request, body, cluster=cluster)
        self.requests.append(record)
        key = cluster or ""
        self.in_flight[key] += 1
        self.max_in_flight[key] = max(self.max_in_flight[key], self.in_flight[key])
        await self.notify()
        try:
            response = await self._answer(request, record)
        finally:
            self.in_flight[key] -= 1
        if self.reload:
            response.headers["X-Reload"] = "reload"
        record.status = None if record.dropped else response.status
        for hook in self.on_answered:
            hook(record)
        await self.notify()
        return response

    async def _answer(self, request: web.BaseRequest, record: RecordedRequest) -> web.StreamResponse:
        await self._gate.wait()
        if self.delay > 0:
            await asyncio.sleep(self.delay)
        fault = self._take_fault(record)
        if fault is not None:
            if fault.disconnect:
                record.dropped = True
                with contextlib.suppress(Exception):
                    request.protocol.force_close()
            return fault.response()
        route = self.route_path(record.path)
        if route is None:
            return go_error(404, "404 page not found")
        if record.cluster is not None and not self._backend_token_ok(request):
            return go_error(403, "access denied")
        try:
            return await self.handle(request, record, route)
        except Exception as exc:
            logger.exception("The Headlamp emulator failed on %s %s", record.method, record.path)
            self.errors.append(exc)
            return go_error(500, f"emulator error: {exc!r}")

    def _take_fault(self, record: RecordedRequest) -> Fault | None:
        for entry in self._pending:
            if entry.remaining > 0 and entry.fault.matches(record):
                entry.remaining -= 1
                self._pending = [e for e in self._pending if e.remaining > 0]
                return entry.fault
        if self.fault is not None and self.fault.matches(record):
            return self.fault
        return None

    def _backend_token_ok(self, request: web.BaseRequest) -> bool:
        if self.backend_token is None:
            return True
        values = request.headers.getall(BACKEND_TOKEN_HEADER, [])
        return len(values) == 1 and hmac.compare_digest(values[0].encode(), self.backend_token.encode())

    async def handle(self, request: web.BaseRequest, record: RecordedRequest, route: str) -> web.StreamResponse:
        """Answer a request that passed the faults and the backend-token check; overridden below."""
        return go_error(404, "404 page not found")
