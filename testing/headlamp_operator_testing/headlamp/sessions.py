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


def chunk_indices(cluster: str, cookies: Mapping[str, str]) -> list[int]:
    """The chunk indices of this cluster's session cookie present in a request's cookies."""
    prefix = f"{COOKIE_PREFIX}{sanitize(cluster)}."
    tails = (name[len(prefix):] for name in cookies if name.startswith(prefix))
    return sorted(int(tail) for tail in tails if tail.isdigit())


def token_from_cookies(cluster: str, cookies: Mapping[str, str]) -> str | None:
    """Reassemble the token from chunks ``.0``, ``.1``, ... (up to the first missing one)."""
    chunks: list[str] = []
    while (chunk := cookies.get(cookie_name(cluster, len(chunks)))) is not None:
        chunks.append(chunk)
    return "".join(chunks) or None


def _header(name: str, value: str, *, path: str, max_age: int) -> str:
    path = "".join(c for c in path if c != ";" and 0x20 <= ord(c) < 0x7F)
    return f"{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Strict"


def set_cookie_headers(
    cluster: str, token: str, *, path: str, max_age: int, existing: Mapping[str, str]
) -> list[str]:
    """``Set-Cookie`` values storing a token in 3800-character chunks, expiring stale extra chunks."""
    chunks = [token[i:i + CHUNK_SIZE] for i in range(0, len(token), CHUNK_SIZE)]
    headers = [_header(cookie_name(cluster, i), chunk, path=path, max_age=max_age)
               for i, chunk in enumerate(chunks)]
    stale = [i for i in chunk_indices(cluster, existing) if i >= len(chunks)]
    headers += [_header(cookie_name(cluster, i), "", path=path, max_age=-1) for i in stale]
    return headers


def clear_cookie_headers(cluster: str, *, path: str, existing: Mapping[str, str]) -> list[str]:
    """``Set-Cookie`` values expiring every chunk the client has (chunk 0 at least)."""
    indices = sorted({0, *chunk_indices(cluster, existing)})
    return [_header(cookie_name(cluster, i), "", path=path, max_age=-1) for i in indices]


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
