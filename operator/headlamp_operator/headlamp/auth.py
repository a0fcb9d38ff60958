"""Sessions at the backend: Headlamp frontend's ``setToken``/``setCookieToken`` and ``logout``
(docs/headlamp-backend.md#sessions-and-cookies), one jar per credential.

The backend starts a port-forward as the user of the session cookies set by ``set-token`` (never
from an ``Authorization`` header), so a token credential logs in once per (cluster, token) and keeps
the cookies in a jar of its own (its :class:`Login` in the Backend); jars are never shared between
credentials. The jar is aiohttp's ``CookieJar`` (``unsafe=True``: the default silently drops cookies
from IP-address hosts such as ``127.0.0.1``), which also honours ``Max-Age``: expired cookies make
the next call log in again.
"""
from __future__ import annotations

import json
import logging

import aiohttp
import yarl

from headlamp_operator.headlamp import errors, paths
from headlamp_operator.headlamp.backend import Backend, Login
from headlamp_operator.structs import Credentials

logger = logging.getLogger("headlamp_operator.headlamp")

COOKIE_PREFIX = "headlamp-auth-"


async def set_token(backend: Backend, cluster: str, token: str | None, *, credentials: Credentials) -> None:
    """Log in (``token``) or out (``None``) at the backend for one cluster, keeping the cookies per credential.

    ``credentials`` names whose jar receives the cookies; the request itself carries the cookies of
    that jar so that a clearing call reaches the same session.
    """
    key = credentials.key
    login = backend.login(cluster, credentials) if token is not None else backend.find_login(cluster, key)
    await _set_token(backend, cluster, token, login=login, credentials=credentials)


async def _set_token(backend: Backend, cluster: str, token: str | None, *, login: Login | None,
                     credentials: Credentials) -> None:
    headers = {}
    if login is not None and (cookie := _cookie_header(backend, login.jar, cluster)):
        headers["Cookie"] = cookie
    try:
        response = await backend.cluster_fetch(
            "/set-token", cluster=cluster, method="POST", headers=headers,
            body=json.dumps({"token": token}).encode(), credentials=credentials)
    finally:
        if token is None and login is not None:
            login.jar.clear()
    if token is not None and login is not None:
        login.jar.update_cookies(response.cookies, response.url)


async def logout(backend: Backend, cluster: str, *, credentials: Credentials) -> None:
    """The seed's logout: clear the token at the backend, then drop every cache derived from the session.

    The caches are dropped even if the backend cannot be told (it may be the reason of the failure).
    """
    try:
        await set_token(backend, cluster, None, credentials=credentials)
    except errors.ApiError as e:
        logger.warning("could not clear the session of cluster %r at the backend: %s", cluster, e)
    finally:
        backend.forget(cluster, credentials.key)


def _url(backend: Backend, cluster: str) -> yarl.URL:
    base = yarl.URL(backend.settings.url)
    path = paths.cluster_path(cluster, "/")
    return base.with_path(base.raw_path.rstrip("/") + path, encoded=True)


def _cookie_header(backend: Backend, jar: aiohttp.CookieJar, cluster: str) -> str | None:
    cookies = jar.filter_cookies(_url(backend, cluster))
    pairs = [f"{morsel.key}={morsel.value}" for morsel in cookies.values()]
    if not any(morsel.key.startswith(COOKIE_PREFIX) for morsel in cookies.values()):
        return None
    return "; ".join(pairs)


async def session_cookies(backend: Backend, cluster: str, *, credentials: Credentials) -> str | None:
    """The ``Cookie`` header carrying this credential's session for ``cluster``, logging in when needed.

    ``None`` for a credential without a token: the backend then acts with its own identity (or the
    dynamic cluster's kubeconfig user). Concurrent callers share one login.
    """
    if credentials.token is None:
        return None
    login = backend.login(cluster, credentials)
    if header := _cookie_header(backend, login.jar, cluster):
        return header
    async with login.lock:
        header = _cookie_header(backend, login.jar, cluster)
        if header is None:
            # Into this login's jar even if a logout drops it meanwhile: this request still needs it.
            await _set_token(backend, cluster, str(credentials.token), login=login, credentials=credentials)
            header = _cookie_header(backend, login.jar, cluster)
    if header is None:
        raise errors.InvalidResponseError(
            "OK - the backend accepted set-token but set no session cookie", status=200, cluster=cluster)
    return header
