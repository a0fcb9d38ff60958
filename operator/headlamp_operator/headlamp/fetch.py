"""The seed's fetch functions ``backend_fetch`` and ``cluster_fetch``: where every request is sent.

(aiohttp also appears in :mod:`.client`, which owns the session, and in :mod:`.auth`, which keeps
cookie jars; no request is sent from either.) Each function has one job, as in the frontend, without
its flaws: ``backend_fetch`` joins the URL, adds the common headers, sends, translates aiohttp's
exceptions once, keeping them as the cause (502 unreachable, saying whether the connection was
refused, the name did not resolve or TLS failed; 408 timed out), honours
``X-Reload`` and raises the right :mod:`errors` class for a non-2xx answer. ``cluster_fetch`` adds the
``/clusters/{cluster}`` prefix, the backend-token and dynamic-cluster headers, bounds concurrency per
cluster and tags errors with the cluster.
"""
from __future__ import annotations

import dataclasses
import http.cookies
import json
import logging
import ssl
import time
from collections.abc import Iterable, Mapping
from typing import Any

import aiohttp
import yarl
from multidict import CIMultiDict, CIMultiDictProxy

import headlamp_operator
from headlamp_operator.headlamp import errors, paths
from headlamp_operator.headlamp.client import Backend, Exchange
from headlamp_operator.structs import ANONYMOUS, Credentials

logger = logging.getLogger("headlamp_operator.headlamp")

JSON_HEADERS: Mapping[str, str] = {"Accept": "application/json", "Content-Type": "application/json"}
# Named in Headlamp's own logs; the real backend replaces it toward the API server with its own, so the
# operator's changes are named by a PATCH's ``fieldManager`` instead
# (docs/headlamp-backend.md#what-the-operator-sends, :mod:`.resources`).
USER_AGENT = f"headlamp-operator/{headlamp_operator.version()}"
ERROR_BODY_LIMIT = 64 * 1024
_SECRET_HEADERS = ("Authorization", "Cookie", "KUBECONFIG", "X-HEADLAMP_BACKEND-TOKEN", "X-BACKSTAGE-TOKEN")


@dataclasses.dataclass(frozen=True)
class Response:
    """A finished answer, read whole; aiohttp's own response never leaves this module."""

    status: int
    reason: str
    headers: CIMultiDictProxy[str]
    body: bytes
    url: yarl.URL
    cookies: http.cookies.SimpleCookie

    def text(self) -> str:
        """The body as text (undecodable bytes replaced: a hostile answer must not crash us)."""
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body as JSON, or :class:`errors.InvalidResponseError` if it is not."""
        try:
            return json.loads(self.body)
        except ValueError:
            raise errors.InvalidResponseError(
                f"{self.reason} - the backend's answer is not JSON", status=self.status) from None


def transport_detail(error: BaseException) -> str:
    """Why no answer came, in a few words: refused, a name that does not resolve, TLS, a cut connection.

    The reason stays ``Unreachable`` (docs/status.md#reasons-and-troubleshooting); the words tell a person where to
    look.
    """
    where = ""
    if isinstance(error, aiohttp.ClientConnectorError):
        where = f"{error.host}:{error.port}"
    if isinstance(error, aiohttp.ClientConnectorDNSError):
        return f"DNS: the name {error.host} does not resolve"
    if isinstance(error, aiohttp.ClientConnectorCertificateError):
        return f"TLS: the certificate of {where} is not trusted ({error.certificate_error})"
    if isinstance(error, aiohttp.ClientSSLError) or isinstance(error, ssl.SSLError):
        return f"TLS: the handshake with {where or 'the backend'} failed"
    if isinstance(error, aiohttp.ClientConnectorError):
        if isinstance(error.os_error, ConnectionRefusedError):
            return f"connection refused by {where}"
        return f"cannot connect to {where}: {error.os_error.strerror or type(error.os_error).__name__}"
    if isinstance(error, aiohttp.ServerDisconnectedError):
        return "the backend closed the connection without answering"
    if isinstance(error, ConnectionResetError):
        return "the connection was reset"
    if isinstance(error, aiohttp.ClientPayloadError):
        return "the answer was cut off"
    return type(error).__name__


def _header_secrets(headers: Mapping[str, str]) -> Iterable[str]:
    for name in _SECRET_HEADERS:
        value = headers.get(name)
        if not value:
            continue
        yield value
        if name == "Authorization" and " " in value:
            yield value.split(" ", 1)[1]
        if name == "Cookie":
            for pair in value.split(";"):
                yield pair.partition("=")[2].strip()


def _check_headers(headers: Mapping[str, str]) -> None:
    for key, value in headers.items():
        if any(c in value for c in "\r\n\0"):
            raise errors.InvalidArgument(f"the {key} header would contain a line break: refused")


async def _read(response: aiohttp.ClientResponse, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise errors.InvalidResponseError(
                f"{response.reason or response.status} - the backend's answer is larger than {limit} bytes",
                status=response.status)
        chunks.append(chunk)
    return b"".join(chunks)


async def backend_fetch(backend: Backend, path: str, *, method: str = "GET",
                        headers: Mapping[str, str] | None = None, body: bytes | None = None,
                        query: Mapping[str, str] | None = None, secrets: Iterable[str] = (),
                        cluster: str | None = None) -> Response:
    """Send one request to the backend and return its answer, or raise the matching :class:`errors.ApiError`.

    ``path`` is joined to the configured base URL (which may carry a path prefix); the request can
    never leave that backend. ``secrets`` are values to redact from any error message, besides the
    credential headers themselves.
    """
    settings = backend.settings
    sent = CIMultiDict(JSON_HEADERS)
    sent["User-Agent"] = USER_AGENT
    sent.update(headers or {})
    if settings.backstage_token:
        sent["X-BACKSTAGE-TOKEN"] = str(settings.backstage_token)
    _check_headers(sent)
    hidden = [*secrets, *_header_secrets(sent)]
    base = yarl.URL(settings.url)
    url = base.with_path(base.raw_path.rstrip("/") + path, encoded=True)
    if query:
        url = url.with_query(query)
    started = time.monotonic()
    status = 502
    try:
        async with backend.session.request(
                method, url, headers=sent, data=body, allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=settings.request_timeout)) as raw:
            status = raw.status
            if "reload" in raw.headers.get("X-Reload", ""):
                backend.reload()
            if raw.status >= 400:
                error_body = await raw.content.read(ERROR_BODY_LIMIT)
                raise errors.from_status(raw.status, raw.reason or "", error_body, headers=raw.headers,
                                         secrets=hidden, cluster=cluster)
            response = Response(status=raw.status, reason=raw.reason or "", headers=raw.headers,
                                body=await _read(raw, settings.max_body_size), url=raw.url,
                                cookies=raw.cookies)
    except TimeoutError as e:
        status = 408
        raise errors.RequestTimeoutError(cluster=cluster) from e
    except aiohttp.ClientResponseError as e:  # a malformed answer (bad status line, bad headers)
        raise errors.UnreachableError(f"Unreachable - {errors.redact(e.message, hidden)}", cluster=cluster) from e
    except (aiohttp.ClientError, OSError) as e:
        status = 502
        raise errors.UnreachableError(f"Unreachable - {errors.redact(transport_detail(e), hidden)}",
                                      cluster=cluster) from e
    finally:
        elapsed = time.monotonic() - started
        backend.observe(Exchange(cluster=cluster, method=method, status=status, seconds=elapsed))
        logger.debug("%s %s -> %s in %.3fs", method, path.split("?", 1)[0], status, elapsed)
    return response


async def cluster_fetch(backend: Backend, path: str, *, cluster: str, method: str = "GET",
                        headers: Mapping[str, str] | None = None, body: bytes | None = None,
                        query: Mapping[str, str] | None = None,
                        credentials: Credentials = ANONYMOUS) -> Response:
    """A request under ``/clusters/{cluster}``: backend token, dynamic-cluster headers, the per-cluster bound."""
    full_path = paths.cluster_path(cluster, path)
    sent = dict(headers or {})
    if backend.settings.backend_token:
        sent["X-HEADLAMP_BACKEND-TOKEN"] = str(backend.settings.backend_token)
    kubeconfig = credentials.kubeconfig_header
    if kubeconfig is not None and credentials.user_id:
        sent["KUBECONFIG"] = kubeconfig
        sent["X-HEADLAMP-USER-ID"] = credentials.user_id
    async with backend.limit(cluster):
        try:
            return await backend_fetch(backend, full_path, method=method, headers=sent, body=body,
                                       query=query, secrets=backend.secrets_of(credentials), cluster=cluster)
        except errors.PageNotFoundError as e:
            e.cluster = cluster
            unexplained = e
        except errors.ApiError as e:
            e.cluster = cluster
            raise
    # Outside the per-cluster bound: the look at the cluster is a request of its own.
    raise await _who_answered(backend, unexplained, method=method, path=path, cluster=cluster,
                              headers=sent) from unexplained


SERVED, UNKNOWN, NO_ROUTE = "served", "unknown", "no route"  # what :func:`_probe` finds


async def _probe(backend: Backend, cluster: str, headers: Mapping[str, str]) -> str:
    """Whether Headlamp knows ``cluster``: ``GET /clusters/{cluster}/version``, the cluster's API server's version.

    Any answer of the API server (2xx, or its own 401/403) says the cluster is known; v0.45.0's 404
    ``key not found`` says it is not; a plain ``404 page not found`` says no ``/clusters/`` route is
    there at all (Headlamp behind a base path that ``HEADLAMP_URL`` lacks).

    Raises:
        errors.ApiError: the look itself failed otherwise (unreachable, timed out, 5xx): that error
            says more than the 404 did, and a transient one is retried.
    """
    sent = {key: value for key, value in headers.items() if key.lower() != "authorization"}
    try:
        await backend_fetch(backend, paths.cluster_path(cluster, "/version"), headers=sent, cluster=cluster)
    except (errors.UnauthorizedError, errors.ForbiddenError):
        return SERVED
    except errors.UnknownClusterError:
        return UNKNOWN
    except errors.PageNotFoundError:
        return NO_ROUTE
    return SERVED


async def _who_answered(backend: Backend, error: errors.PageNotFoundError, *, method: str, path: str,
                        cluster: str, headers: Mapping[str, str]) -> errors.ApiError:
    """Who answered a plain ``404 page not found``, as an error that says it and what to do
    (docs/headlamp-backend.md#errors).

    The cluster is looked at once per ``client.PROBE_TTL`` (:func:`_probe`); then the 404 is the API
    server's for a group/version it does not serve (a Kubernetes API path of a known cluster), Headlamp's
    router for a route it lacks, or an unknown cluster.
    """
    key = (cluster, headers.get("X-HEADLAMP-USER-ID"))
    try:
        found = await backend.probed(key, lambda: _probe(backend, cluster, headers))
    except errors.ApiError as e:
        return e
    where = backend.shown_url
    if found == UNKNOWN:
        return errors.UnknownClusterError(error.message, status=404, cluster=cluster)
    parts = path.split("?", 1)[0].strip("/").split("/")
    if found == SERVED and parts[0] in ("api", "apis") and len(parts) >= 2:
        served = parts[1] if parts[0] == "api" else "/".join(parts[1:3])
        return errors.ApiNotServedError(f"Not Found - the cluster serves no {served} (is its CRD installed?)",
                                        status=404, cluster=cluster)
    return errors.NoRouteError(
        f"Not Found - Headlamp at {where} has no route {method} {paths.cluster_path(cluster, path)} "
        f"(does HEADLAMP_URL miss a base path? is it another Headlamp release?)", status=404, cluster=cluster)
