"""Choosing the reaction that answers a request: kmock's rule, with its sorting and matching cached.

kmock sorts every reaction by priority and applies their filters to every request (filters are
general: slices, unions, callables, the request history). Over a burst of thousands of requests
that was most of the emulator's CPU, which a benchmark on a shared machine then charges to
whatever it measures. The answer is the same as kmock's:

- the priority order is kept until the reactions change (kmock recomputes it per request);
- while only the emulator's own reactions exist, the first one that matched a request of the same
  signature is remembered. Those reactions select by method and action, and by the path only for
  URLs that name no resource (discovery), so the signature is (method, action, that path).

A test that adds a reaction of its own gets kmock's full matching for every request.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aiohttp.web
import kmock
from kmock._internal.rendering import ReactionMismatchError  # not re-exported by kmock

Signature = tuple[Any, Any, str | None]
MEMO_LIMIT = 512  # signatures remembered (discovery URLs are few; odd URLs must not grow it)


def _same(a: Sequence[Any], b: Sequence[Any]) -> bool:
    """The same reactions in the same order, by identity (reactions compare equal by their fields)."""
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))


def _ordered(payloads: Sequence[Any]) -> list[Any]:
    """kmock's order: by priority, highest first; mixed-depth priorities padded with zeroes."""
    priorities = [tuple(-p for p in payload.priorities) for payload in payloads]
    depth = max((len(p) for p in priorities), default=0)
    padded = [p + (0,) * (depth - len(p)) for p in priorities]
    return [payloads[index] for index in sorted(range(len(payloads)), key=lambda index: padded[index])]


class Dispatcher:
    """Finds and calls the reaction for a request, as ``kmock.RawHandler._handle`` does."""

    def __init__(self) -> None:
        self._snapshot: tuple[Any, ...] | None = None  # the reactions the order below was made from
        self._ordered: list[Any] = []
        self._own: tuple[Any, ...] | None = None
        self._only_own = False
        self._memo: dict[Signature, int] = {}

    def seal(self, payloads: Sequence[Any]) -> None:
        """Declare ``payloads`` the emulator's own reactions (call once they are all registered)."""
        self._own = tuple(payloads)
        self._snapshot = None  # judged again at the next request

    def _refresh(self, payloads: Sequence[Any]) -> bool:
        """Re-sort when the reactions changed; whether only the emulator's own reactions exist."""
        if self._snapshot is None or not _same(payloads, self._snapshot):
            self._snapshot = tuple(payloads)
            self._ordered = _ordered(self._snapshot)
            self._only_own = self._own is not None and _same(self._own, self._snapshot)
            self._memo.clear()
        return self._only_own

    def only_own(self, payloads: Sequence[Any]) -> bool:
        """Whether only the emulator's own reactions exist (then every GET of an object is the fallback's)."""
        return self._refresh(payloads)

    async def handle(self, request: kmock.Request, payloads: Sequence[Any]) -> aiohttp.web.StreamResponse:
        """Answer with the first matching, enabled reaction in priority order (kmock's contract)."""
        only_own = self._refresh(payloads)
        names_plural = request.resource is not None and bool(request.resource.plural)
        signature: Signature = (request.method, request.action, None if names_plural else request.url.path)
        start = self._memo.get(signature) if only_own else None
        for index in range(start or 0, len(self._ordered)):
            payload = self._ordered[index]
            if index != start and request not in payload._source:
                continue
            if payload._disabled.is_set():
                continue
            if only_own and start is None and len(self._memo) < MEMO_LIMIT:
                self._memo[signature] = start = index
            try:
                response: aiohttp.web.StreamResponse = await payload(request)
                return response
            except ReactionMismatchError:  # either a mismatch or a depletion
                payload._disabled.set()
            except NotImplementedError:  # matched, but nothing to answer with
                pass
        raise NotImplementedError('Undefined server behaviour: no reaction matches the request.')
