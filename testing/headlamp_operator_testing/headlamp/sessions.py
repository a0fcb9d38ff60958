"""Session cookies of ``set-token``: names, chunks, attributes, and the tokens they stand for.

Cookie names depend on the contract (:mod:`.contracts`) for clusters whose kept name is over 50 characters:
``scheme`` is ``cut`` (v0.45.0), ``pr7352`` or ``pr6801``; and #7352 clears chunks 0-9 whatever was sent.
"""
from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Mapping

COOKIE_PREFIX = "headlamp-auth-"
CHUNK_SIZE = 3800
MAX_NAME = 50
MAX_CHUNKS_CLEARED = 10  # #7352: clearing writes chunks 0-9 (from the first one not set, after a set-token)
ContextKey = tuple[str, str | None]  # (cluster name, user id of a dynamic cluster or None)


def fnv1a_32(data: bytes) -> int:
    """The 32-bit FNV-1a hash (offset basis 2166136261, prime 16777619), as #7352 hashes a cluster name."""
    value = 2166136261
    for byte in data:
        value = ((value ^ byte) * 16777619) & 0xFFFFFFFF
    return value


def sanitize(cluster: str, scheme: str = "cut") -> str:
    """The cluster name as used in cookie names: ``[a-zA-Z0-9_-]`` only, at most 50 characters.

    v0.45.0 (``cut``) keeps the first 50, so two long names sharing them share their cookies' names.
    Upstream #7352 keeps 41 and appends ``-`` and the 8 hex digits of the FNV-1a hash of the name as sent
    (before sanitizing); #6801 keeps 17 and appends ``-`` and the first 16 bytes of its SHA-256 in hex
    (``SanitizeClusterName`` in ``backend/pkg/auth/cookies.go`` of each pull request). Names of 50 or
    fewer kept characters are the same in all three.
    """
    kept = re.sub(r"[^a-zA-Z0-9_-]", "", cluster)
    if len(kept) <= MAX_NAME:
        return kept
    if scheme == "pr7352":
        return f"{kept[:41]}-{fnv1a_32(cluster.encode()):08x}"
    if scheme == "pr6801":
        return f"{kept[:17]}-{hashlib.sha256(cluster.encode()).hexdigest()[:32]}"
    return kept[:MAX_NAME]


def cookie_name(cluster: str, index: int, scheme: str = "cut") -> str:
    """The name of the ``index``-th chunk of the cluster's session cookie."""
    return f"{COOKIE_PREFIX}{sanitize(cluster, scheme)}.{index}"


def carried_chunks(cluster: str, cookies: Mapping[str, str], scheme: str = "cut") -> list[int]:
    """The chunk indices of this cluster's session cookie a request carried: 0, 1, ... up to the first missing."""
    indices: list[int] = []
    while cookie_name(cluster, len(indices), scheme) in cookies:
        indices.append(len(indices))
    return indices


def token_from_cookies(cluster: str, cookies: Mapping[str, str], scheme: str = "cut") -> str | None:
    """Reassemble the token from chunks ``.0``, ``.1``, ... (up to the first missing one)."""
    return "".join(cookies[cookie_name(cluster, i, scheme)] for i in carried_chunks(cluster, cookies, scheme)) or None


def _header(name: str, value: str, *, path: str, max_age: int, secure: bool) -> str:
    """A ``Set-Cookie`` value as Go's ``http.SetCookie`` writes it: ``Max-Age=0`` for a negative max age
    (the backend clears with -1), the path without ``;`` or control characters."""
    path = "".join(c for c in path if c != ";" and 0x20 <= ord(c) < 0x7F)
    return (f"{name}={value}; Path={path}; Max-Age={max(max_age, 0)}; HttpOnly"
            + ("; Secure" if secure else "") + "; SameSite=Strict")


def clear_cookie_headers(cluster: str, *, path: str, existing: Mapping[str, str], secure: bool = False,
                         scheme: str = "cut", every_chunk: bool = False, first: int = 0) -> list[str]:
    """``Set-Cookie`` values expiring the chunks the request carried, and only those (none: nothing at all).

    v0.45.0's ``ClearTokenCookie`` (``backend/pkg/auth/cookies.go``); recorded in
    ``tests/kit/headlamp/transcripts/headlamp-v0.45.0.json`` (``set-token/null-*``). ``every_chunk`` (#7352):
    chunks ``first`` to 9 whether carried or not, so that stale chunks go even when the request's path
    did not carry them.
    """
    if not sanitize(cluster, scheme):
        return []
    indices = range(first, MAX_CHUNKS_CLEARED) if every_chunk else carried_chunks(cluster, existing, scheme)
    return [_header(cookie_name(cluster, i, scheme), "", path=path, max_age=-1, secure=secure) for i in indices]


def set_cookie_headers(
    cluster: str, token: str, *, path: str, max_age: int, existing: Mapping[str, str], secure: bool = False,
    scheme: str = "cut", every_chunk: bool = False,
) -> list[str]:
    """``Set-Cookie`` values storing a token in 3800-character chunks, after clearing every chunk the request
    carried: a cookie already held is cleared, then set again (two ``Set-Cookie`` of one name), as
    v0.45.0's ``SetTokenCookie`` does. ``secure`` over TLS or behind ``X-Forwarded-Proto: https``.

    ``every_chunk`` (#7352): nothing is cleared first; the chunks are set, then every higher one up to 9 cleared.
    """
    if not sanitize(cluster, scheme) or not token:
        return []
    chunks = [token[i:i + CHUNK_SIZE] for i in range(0, len(token), CHUNK_SIZE)]
    made = [_header(cookie_name(cluster, i, scheme), chunk, path=path, max_age=max_age, secure=secure)
            for i, chunk in enumerate(chunks)]
    if every_chunk:
        return made + clear_cookie_headers(cluster, path=path, existing=existing, secure=secure, scheme=scheme,
                                           every_chunk=True, first=len(chunks))
    return clear_cookie_headers(cluster, path=path, existing=existing, secure=secure, scheme=scheme) + made


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
