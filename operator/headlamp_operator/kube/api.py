"""The few Kubernetes API calls the operator makes itself, over aiohttp, with kopf's credentials.

kopf talks to the API server for everything it watches and patches. Besides, the operator reads
Secrets (docs/credentials.md), writes the status of resources between kopf's handler calls (its schedulers) and
holds a Lease (leader election): a handful of plain REST calls, made here with aiohttp and a
:class:`Connection` (what :class:`kopf.ConnectionInfo` offers: ``as_ssl_context``, ``as_http_headers``), which
:func:`headlamp_operator.kube.login.connect` gets from kopf's own login functions. This module imports no kopf.
Not with the official ``kubernetes`` package: importing it (kopf imports it too whenever it is
installed) costs an idle operator more memory than it needs for thousands of resources.

The same credentials serve kopf (the operator's login handler returns them) and this client. A 401 (an
expired token, e.g. a rotated service-account token) logs in again once.
"""
from __future__ import annotations

import json
import logging
import ssl
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import aiohttp

logger = logging.getLogger("headlamp_operator.kube.api")

MERGE_PATCH = "application/merge-patch+json"


class Connection(Protocol):
    """Where the API server is and how to authenticate to it: the part of :class:`kopf.ConnectionInfo` used here."""

    @property
    def server(self) -> str:
        """The API server's URL, e.g. ``https://10.0.0.1:443``."""

    @property
    def trust_env(self) -> bool:
        """Whether proxies come from the environment (``HTTPS_PROXY``), as aiohttp's ``trust_env``."""

    def as_ssl_context(self) -> ssl.SSLContext:
        """The TLS context: the cluster's CA, the client certificate if any."""

    def as_http_headers(self) -> dict[str, str]:
        """The headers that authenticate a request (``Authorization``)."""


class KubeError(Exception):
    """A call to the API server that did not succeed::

        KubeError
        ├── KubeUnreachable   no answer: connection refused, DNS, TLS, reset, timed out (the cause chained)
        └── KubeApiError      an answer other than 2xx (status, reason, message)
    """


class KubeUnreachable(KubeError):
    """No answer from the API server; aiohttp's exception is the ``__cause__``."""


class KubeApiError(KubeError):
    """The API server refused a request: ``status``, and the ``Status`` object's reason and message."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"{status} {reason}: {message}" if message else f"{status} {reason}")
        self.status, self.reason, self.message = status, reason, message


class KubeApi:
    """A small async client of the Kubernetes API: JSON in, JSON out, one session for the process's life.

    ``connect`` gives the credentials (:func:`headlamp_operator.kube.login.connect` in the operator); it is
    called on first use and after a 401. Open it inside the event loop that uses it; :meth:`close` it at the end.
    """

    def __init__(self, connect: Callable[[], Connection], *, timeout: float = 30.0) -> None:
        self._connect = connect
        self._timeout = timeout
        self._info: Connection | None = None
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> tuple[Connection, aiohttp.ClientSession]:
        if self._info is None or self._session is None or self._session.closed:
            info = self._connect()
            context: ssl.SSLContext | bool = info.as_ssl_context() if info.server.startswith("https:") else False
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context, limit=32),
                                                  headers=info.as_http_headers(), trust_env=info.trust_env)
            self._info = info
        return self._info, self._session

    async def close(self) -> None:
        """Close the session (a later call opens a new one)."""
        if self._session is not None:
            await self._session.close()
        self._session, self._info = None, None

    async def request(self, method: str, path: str, *, body: Any = None, content_type: str = "application/json") -> Any:
        """Send one request (``path`` from the server's root, e.g. ``/api/v1/...``); the answer as JSON.

        Every request has the client's timeout (``timeout`` seconds); wrap a call in ``asyncio.timeout``
        for a shorter one.

        Raises:
            KubeApiError: an answer other than 2xx (after one new login on a 401).
            KubeUnreachable: no answer.
        """
        try:
            return await self._send(method, path, body=body, content_type=content_type)
        except KubeApiError as e:
            if e.status != 401:
                raise
            await self.close()  # expired credentials (a rotated service-account token): log in again, once
            return await self._send(method, path, body=body, content_type=content_type)

    async def _send(self, method: str, path: str, *, body: Any, content_type: str) -> Any:
        info, session = self._open()
        data = None if body is None else json.dumps(body)
        headers = {"Accept": "application/json"} | ({"Content-Type": content_type} if data is not None else {})
        try:
            async with session.request(method, info.server.rstrip("/") + path, data=data, headers=headers,
                                       timeout=aiohttp.ClientTimeout(total=self._timeout)) as response:
                text = await response.text()
        except (aiohttp.ClientError, OSError, TimeoutError) as e:  # translated once, here, keeping the cause
            raise KubeUnreachable(f"{method} {path}: no answer from {info.server} ({type(e).__name__})") from e
        if response.status >= 400:
            raise _error(response.status, response.reason or "", text)
        return json.loads(text) if text else None

    async def get(self, path: str) -> Any:
        """GET ``path``; None for a 404 (the object does not exist)."""
        try:
            return await self.request("GET", path)
        except KubeApiError as e:
            if e.status == 404:
                return None
            raise

    async def merge_patch(self, path: str, body: Mapping[str, Any]) -> Any:
        """PATCH ``path`` with a JSON merge patch."""
        return await self.request("PATCH", path, body=dict(body), content_type=MERGE_PATCH)


def _error(status: int, reason: str, text: str) -> KubeApiError:
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if isinstance(document, Mapping):
        return KubeApiError(status, str(document.get("reason") or reason), str(document.get("message") or ""))
    return KubeApiError(status, reason, text.strip()[:512])
