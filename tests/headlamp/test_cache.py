"""The single-flight cache: one load per key at a time, answers kept ``ttl``, failures by each cache's rule."""
from __future__ import annotations

import asyncio

import pytest

from headlamp_operator.headlamp.cache import FlightCache


class Clock:
    """A clock the test moves by hand: expiry without sleeping."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Loader:
    """A load that counts its calls and, if told, waits for a gate or fails."""

    def __init__(self, *, gate: asyncio.Event | None = None, fail: bool = False) -> None:
        self.calls = 0
        self.started = asyncio.Event()
        self.gate = gate
        self.fail = fail

    async def __call__(self) -> int:
        self.calls += 1
        call = self.calls
        self.started.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise LookupError(f"failure {call}")
        return call


async def test_concurrent_callers_share_one_load() -> None:
    gate = asyncio.Event()
    load, cache = Loader(gate=gate), FlightCache[str, int](ttl=10)
    waiting = [asyncio.ensure_future(cache.get("k", load)) for _ in range(20)]
    await load.started.wait()
    gate.set()
    assert await asyncio.gather(*waiting) == [1] * 20
    assert load.calls == 1


async def test_an_answer_is_kept_for_its_ttl_counted_from_the_start_of_its_load() -> None:
    clock, load = Clock(), Loader()
    cache = FlightCache[str, int](ttl=2.0, clock=clock)
    assert await cache.get("k", load) == 1
    clock.now += 1.9
    assert await cache.get("k", load) == 1
    clock.now += 0.1
    assert await cache.get("k", load) == 2


async def test_a_load_running_longer_than_the_ttl_is_not_joined() -> None:
    clock, gate = Clock(), asyncio.Event()
    load = Loader(gate=gate)
    cache = FlightCache[str, int](ttl=2.0, clock=clock)
    first = asyncio.ensure_future(cache.get("k", load))
    await load.started.wait()
    clock.now += 2.0
    second = asyncio.ensure_future(cache.get("k", load))
    gate.set()
    assert (await first, await second) == (1, 2)


async def test_fresh_loads_again() -> None:
    load, cache = Loader(), FlightCache[str, int](ttl=60)
    assert await cache.get("k", load) == 1
    assert await cache.get("k", load, fresh=True) == 2
    assert await cache.get("k", load) == 2


async def test_a_failure_reaches_every_waiter_and_by_default_is_not_kept() -> None:
    gate = asyncio.Event()
    load, cache = Loader(gate=gate, fail=True), FlightCache[str, int](ttl=60)
    waiting = [asyncio.ensure_future(cache.get("k", load)) for _ in range(3)]
    await load.started.wait()
    gate.set()
    results = await asyncio.gather(*waiting, return_exceptions=True)
    assert [str(r) for r in results] == ["failure 1"] * 3
    assert len(cache) == 0  # not kept: the next caller asks again
    with pytest.raises(LookupError, match="failure 2"):
        await cache.get("k", load)


async def test_a_failure_is_kept_for_the_failure_ttl_when_a_cache_says_so() -> None:
    clock, load = Clock(), Loader(fail=True)
    cache = FlightCache[str, int](ttl=60, failure_ttl=5, clock=clock)
    for _ in range(3):
        with pytest.raises(LookupError, match="failure 1"):
            await cache.get("k", load)
    clock.now += 5
    with pytest.raises(LookupError, match="failure 2"):
        await cache.get("k", load)


async def test_an_invalidation_during_a_load_answers_its_waiters_but_keeps_nothing() -> None:
    gate = asyncio.Event()
    load, cache = Loader(gate=gate), FlightCache[tuple[str, str], int]()
    waiting = asyncio.ensure_future(cache.get(("prod", "alice"), load))
    await load.started.wait()
    cache.discard_where(lambda key: key[1] == "alice")
    gate.set()
    assert await waiting == 1
    assert len(cache) == 0
    assert await cache.get(("prod", "alice"), load) == 2


async def test_a_cancelled_caller_does_not_cancel_the_load_for_the_others() -> None:
    gate = asyncio.Event()
    load, cache = Loader(gate=gate), FlightCache[str, int]()
    leaving = asyncio.ensure_future(cache.get("k", load))
    staying = asyncio.ensure_future(cache.get("k", load))
    await load.started.wait()
    leaving.cancel()
    gate.set()
    assert await staying == 1
    assert leaving.cancelled()
    assert await cache.get("k", load) == 1  # and its answer is kept


async def test_the_size_bound_drops_expired_entries_then_the_oldest() -> None:
    clock, load = Clock(), Loader()
    cache = FlightCache[int, int](ttl=10, max_size=3, clock=clock)
    for key in range(3):
        await cache.get(key, load)
        clock.now += 4
    assert list(cache) == [0, 1, 2]
    await cache.get(3, load)  # 0 expired (12 s old)
    assert list(cache) == [1, 2, 3]
    await cache.get(4, load)  # none expired: the oldest goes
    assert list(cache) == [2, 3, 4]


async def test_clear_and_discard() -> None:
    load, cache = Loader(), FlightCache[str, int]()
    await cache.get("a", load)
    await cache.get("b", load)
    cache.discard("a")
    assert list(cache) == ["b"]
    cache.clear()
    assert len(cache) == 0
