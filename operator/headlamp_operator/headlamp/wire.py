"""What goes over the wire and comes back: the headers every request carries, an answer read whole, an exchange.

The models of the request layer, as httpx keeps them apart from its client: :class:`Response` (an
answer, read whole: aiohttp's own response never leaves :mod:`.backend`), :class:`Exchange` (what one
request did, for observers), and the few helpers :meth:`.backend.Backend.fetch` sends with (which
header values to redact, why no answer came, an answer's body read up to a bound).
"""
from __future__ import annotations

import dataclasses
import http.cookies
import json
import ssl
from collections.abc import Iterable, Mapping
from typing import Any

import aiohttp
import yarl
from multidict import CIMultiDictProxy

import headlamp_operator
from headlamp_operator.headlamp import errors

JSON_HEADERS: Mapping[str, str] = {"Accept": "application/json", "Content-Type": "application/json"}
# Named in Headlamp's own logs; the real backend replaces it toward the API server with its own, so the
# operator's changes are named by a PATCH's ``fieldManager`` instead
# (docs/headlamp-backend.md#what-the-operator-sends, :mod:`.resources`).
USER_AGENT = f"headlamp-operator/{headlamp_operator.version()}"
ERROR_BODY_LIMIT = 64 * 1024
_SECRET_HEADERS = ("Authorization", "Cookie", "KUBECONFIG", "X-HEADLAMP_BACKEND-TOKEN", "X-BACKSTAGE-TOKEN")


@dataclasses.dataclass(frozen=True)
class Response:
    """A finished answer, read whole; aiohttp's own response never leaves :mod:`.backend`."""

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


def header_secrets(headers: Mapping[str, str]) -> Iterable[str]:
    """The credential values in ``headers`` (a Bearer token alone, each cookie's value too): never shown."""
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


def check_headers(headers: Mapping[str, str]) -> None:
    """Refuse a header value with a line break (it would split the request): :class:`errors.InvalidArgument`."""
    for key, value in headers.items():
        if any(c in value for c in "\r\n\0"):
            raise errors.InvalidArgument(f"the {key} header would contain a line break: refused")


async def read_body(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """The answer's body, up to ``limit`` bytes (:class:`errors.InvalidResponseError` beyond)."""
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



@dataclasses.dataclass(frozen=True)
class Exchange:
    """What one request did, for observers such as metrics (never headers or bodies)."""

    cluster: str | None
    method: str
    status: int  # 408/502 when no answer came, as the frontend reports them
    seconds: float
