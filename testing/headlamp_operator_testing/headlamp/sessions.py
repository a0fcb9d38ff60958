"""Session cookies of ``set-token``: names, chunks, attributes, and the tokens they stand for."""
from __future__ import annotations

import re
import time
from collections.abc import Mapping

COOKIE_PREFIX = "headlamp-auth-"
CHUNK_SIZE = 3800
MAX_NAME = 50
ContextKey = tuple[str, str | None]  # (cluster name, user id of a dynamic cluster or None)


def sanitize(cluster: str) -> str:
    """The cluster name as used in cookie names: ``[a-zA-Z0-9_-]`` only, at most 50 characters."""
    return re.sub(r"[^a-zA-Z0-9_-]", "", cluster)[:MAX_NAME]


def cookie_name(cluster: str, index: int) -> str:
    """The name of the ``index``-th chunk of the cluster's session cookie."""
    return f"{COOKIE_PREFIX}{sanitize(cluster)}.{index}"


def carried_chunks(cluster: str, cookies: Mapping[str, str]) -> list[int]:
    """The chunk indices of this cluster's session cookie a request carried: 0, 1, ... up to the first missing."""
    indices: list[int] = []
    while cookie_name(cluster, len(indices)) in cookies:
        indices.append(len(indices))
    return indices


def token_from_cookies(cluster: str, cookies: Mapping[str, str]) -> str | None:
    """Reassemble the token from chunks ``.0``, ``.1``, ... (up to the first missing one)."""
    return "".join(cookies[cookie_name(cluster, i)] for i in carried_chunks(cluster, cookies)) or None


def _header(name: str, value: str, *, path: str, max_age: int, secure: bool) -> str:
    """A ``Set-Cookie`` value as Go's ``http.SetCookie`` writes it: ``Max-Age=0`` for a negative max age
    (the backend clears with -1), the path without ``;`` or control characters."""
    path = "".join(c for c in path if c != ";" and 0x20 <= ord(c) < 0x7F)
    return (f"{name}={value}; Path={path}; Max-Age={max(max_age, 0)}; HttpOnly"
            + ("; Secure" if secure else "") + "; SameSite=Strict")


def clear_cookie_headers(cluster: str, *, path: str, existing: Mapping[str, str], secure: bool = False) -> list[str]:
    """``Set-Cookie`` values expiring the chunks the request carried, and only those (none: nothing at all).

    v0.45.0's ``ClearTokenCookie`` (``backend/pkg/auth/cookies.go``); recorded in
    ``tests/headlamp/transcripts/headlamp-v0.45.0.json`` (``set-token/null-*``).
    """
    if not sanitize(cluster):
        return []
    return [_header(cookie_name(cluster, i), "", path=path, max_age=-1, secure=secure)
            for i in carried_chunks(cluster, existing)]


def set_cookie_headers(
    cluster: str, token: str, *, path: str, max_age: int, existing: Mapping[str, str], secure: bool = False
) -> list[str]:
    """``Set-Cookie`` values storing a token in 3800-character chunks, after clearing every chunk the request
    carried: a cookie already held is cleared, then set again (two ``Set-Cookie`` of one name), as
    v0.45.0's ``SetTokenCookie`` does. ``secure`` over TLS or behind ``X-Forwarded-Proto: https``."""
    if not sanitize(cluster) or not token:
        return []
    chunks = [token[i:i + CHUNK_SIZE] for i in range(0, len(token), CHUNK_SIZE)]
    return clear_cookie_headers(cluster, path=path, existing=existing, secure=secure) + [
        _header(cookie_name(cluster, i), chunk, path=path, max_age=max_age, secure=secure)
        for i, chunk in enumerate(chunks)]


class SessionStore:
    """Which (context, token) sessions the backend handed out and until when.

    A backend restart forgets them all, so cookies from before it stand for nothing.
    """

    def __init__(self) -> None:
        self.expiry: dict[tuple[ContextKey, str], float] = {}

    def open(self, key: ContextKey, token: str, *, ttl: float) -> None:
        """Remember a session created by ``set-token``."""
        self.expiry[key, token] = time.monotonic() + ttl

    def close(self, key: ContextKey, token: str | None) -> None:
        """Forget a session cleared by ``set-token`` with a null token."""
        if token is not None:
            self.expiry.pop((key, token), None)

    def valid(self, key: ContextKey, token: str) -> bool:
        """Whether that token's cookies come from a live session of this backend process."""
        deadline = self.expiry.get((key, token))
        return deadline is not None and deadline > time.monotonic()

    def tokens(self, key: ContextKey) -> set[str]:
        """The tokens with a live session for that context (for assertions)."""
        return {token for (k, token) in self.expiry if k == key and self.valid(k, token)}

    def clear(self) -> None:
        """Forget every session (a backend restart)."""
        self.expiry.clear()
