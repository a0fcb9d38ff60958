"""The bench's emulated world: the collector of the bench process stays out of a measured phase."""
from __future__ import annotations

import gc
import pathlib
import weakref

from bench.world import world


class _Node:
    partner: _Node | None = None


async def test_the_collector_is_paused_while_a_world_lives_and_frees_its_cycles_after(tmp_path: pathlib.Path) -> None:
    assert gc.isenabled()
    async with world(tmp_path, credentials="token"):
        assert not gc.isenabled()  # no collection pause in the middle of a burst
        node = _Node()
        node.partner = node  # a reference cycle: only the collector frees it
        freed = weakref.ref(node)
        del node
        garbage = [[index] for index in range(100_000)]  # allocations that would trigger a collection
        del garbage
        assert freed() is not None
    assert gc.isenabled()
    assert freed() is None  # the phase's cyclic garbage is collected when it ends
