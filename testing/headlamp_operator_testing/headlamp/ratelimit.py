"""The ``set-token`` rate limit of upstream #7020: a token bucket per client address.

docs/headlamp-backend.md#upstream-changes-in-flight: #7020 limits ``/clusters/{c}/set-token`` (and
``/auth/set-token``, a route this emulator does not serve) to 5 requests per second per client address,
burst 10. Its diff wraps the handler in a middleware keyed by the host part of the request's remote address
(``golang.org/x/time/rate``'s ``NewLimiter(5, 10)`` and ``Allow()``, ``backend/cmd/headlamp.go``), and answers
a refused request with Go's ``http.Error(w, "Too many requests", 429)``: plain text, no ``Retry-After``.
An operator is one address: it stays under the limit only by reusing its sessions.
"""
from __future__ import annotations

import dataclasses
import time

TOO_MANY = "Too many requests"  # #7020's words (Go's http.Error: the text plus a newline)


@dataclasses.dataclass
class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` held; a request takes one or is refused."""

    rate: float
    burst: int
    tokens: float = -1.0  # full on first use
    stamp: float = 0.0

    def allow(self, now: float) -> bool:
        """Take a token at monotonic time ``now``, if there is one."""
        if self.tokens < 0:
            self.tokens, self.stamp = float(self.burst), now
        self.tokens = min(float(self.burst), self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class SetTokenLimiter:
    """One :class:`TokenBucket` per client address; ``refused`` counts the 429s it caused."""

    def __init__(self, *, rate: float = 5.0, burst: int = 10) -> None:
        self.rate = rate
        self.burst = burst
        self.buckets: dict[str, TokenBucket] = {}
        self.refused = 0

    def allow(self, address: str) -> bool:
        """Whether a set-token from ``address`` goes through now."""
        bucket = self.buckets.setdefault(address, TokenBucket(self.rate, self.burst))
        allowed = bucket.allow(time.monotonic())
        self.refused += not allowed
        return allowed

    def reset(self) -> None:
        """Forget every address (a backend restart: the limiters live in the process)."""
        self.buckets.clear()
