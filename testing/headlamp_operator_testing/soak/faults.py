"""The faults of the soak: a seeded schedule, each fault applied for a while and undone, and the final restore.

The schedule (:func:`plan`) is drawn from its random seed alone: which fault, when (seconds after the faults
begin), for how long, and a seed of its own for its choices (which pods, which namespace, which
status). Faults of different kinds overlap; two of one kind never do (the later waits for the earlier).
Every fault uses the emulators' public knobs (``HeadlampScaffold``: ``stop_listening``, ``delay``,
``hold``, ``fault``, ``fail_next``, ``drop_connections``; ``HeadlampEmulator``: ``restart``,
``stop_contract``, ``start_delay``, ``ready_timeout``; ``KubeCluster``'s pods and refused tokens).

Only transient faults are injected: a 500 with an arbitrary message is a permanent failure (Failed until the
spec or a Secret changes: docs/status.md#retries), so the "5xx" here are 502, 503 and 504, and Headlamp's own
500s come from what it really answers them for (a pod not ready yet, a refused token).
"""
from __future__ import annotations

import asyncio
import collections
import contextvars
import dataclasses
import random
from collections.abc import Awaitable, Callable

from headlamp_operator_testing.headlamp import Fault
from headlamp_operator_testing.soak import world as w
from headlamp_operator_testing.soak.workload import Item

# kind -> (weight in the draw, shortest and longest duration in seconds; 0: a one-off)
KINDS: dict[str, tuple[int, float, float]] = {
    "unreachable": (2, 1.0, 6.0),  # Headlamp stops listening: connection refused
    "dropped-connections": (2, 0.0, 0.0),  # open connections closed, the next requests dropped unanswered
    "slow": (2, 2.0, 8.0),  # every answer delayed, sometimes past the operator's request timeout
    "held": (1, 0.5, 4.0),  # every request held in flight, then let through
    "5xx": (3, 1.0, 5.0),  # 502/503/504, for the next N requests or for a while
    "429": (2, 1.0, 5.0),  # 429 with Retry-After
    "not-ready": (2, 2.0, 8.0),  # slow starts, pods not Ready or not running yet: "not ready yet" answers
    "pod-killed": (3, 1.0, 8.0),  # pods Failed (or deleted, behind a service), then back
    "secret-rotated": (2, 1.0, 8.0),  # a namespace's Secrets to a refused token, then a good one
    "contract-switched": (1, 0.0, 0.0),  # DELETE /portforward read as v0.45.0 ("stopOrDelete") or #6153 ("action")
    "operator-killed": (1, 0.0, 3.0),  # SIGKILL, down for a while, started again
    "headlamp-restarted": (1, 0.0, 0.0),  # forwards and sessions forgotten
}
KIND: contextvars.ContextVar[str] = contextvars.ContextVar("KIND")  # the fault a task applies, for the journal
Action = Callable[[random.Random, float], Awaitable[bool]]  # a fault: (its choices, its duration) -> applied?
SCOPES = (None, "/clusters/*/portforward", "/clusters/*/portforward/list", "/clusters/*/set-token",
          "/clusters/*/api/*")  # which requests a 5xx/429 hits (None: every one)


@dataclasses.dataclass(frozen=True)
class Planned:
    """One fault of the schedule."""

    at: float  # seconds after the faults begin
    kind: str
    duration: float  # seconds (0: a one-off)
    seed: int  # for the fault's own choices


def plan(seconds: float, rng: random.Random) -> list[Planned]:
    """The faults of a ``seconds`` long phase, one every 0.3-1.6 s, drawn from ``rng``."""
    kinds = list(KINDS)
    weights = [KINDS[kind][0] for kind in kinds]
    schedule: list[Planned] = []
    at = rng.uniform(0.0, 1.0)
    while at < seconds:
        kind = rng.choices(kinds, weights)[0]
        low, high = KINDS[kind][1:]
        schedule.append(Planned(at=at, kind=kind, duration=rng.uniform(low, high), seed=rng.randrange(2**32)))
        at += rng.uniform(0.3, 1.6)
    return schedule


class Faults:
    """Applies a schedule to a world, counts what it did, and restores the world afterwards."""

    def __init__(self, world: w.World, items: list[Item]) -> None:
        self.world = world
        self.items = items
        self.counts: collections.Counter[str] = collections.Counter()
        self.locks = {kind: asyncio.Lock() for kind in KINDS}
        self.broken: set[tuple[str, str]] = set()  # pods a fault holds now
        self.rotating: set[str] = set()  # namespaces a fault holds now

    @property
    def total(self) -> int:
        """Faults applied so far."""
        return sum(self.counts.values())

    async def run(self, schedule: list[Planned], seconds: float) -> None:
        """Apply the schedule in time; every fault is undone by ``seconds`` (an operator start may take longer)."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        tasks: list[asyncio.Task[None]] = []
        for planned in schedule:
            await asyncio.sleep(max(0.0, start + planned.at - loop.time()))  # the schedule's own timing
            tasks.append(asyncio.create_task(self._one(planned, end=start + seconds)))
            if len(tasks) % 20 == 0:  # keep the emulators' request logs from growing over a long soak
                self.world.hl.clear_requests()
                self.world.kube.answered.clear()
        await asyncio.gather(*tasks)

    async def _one(self, planned: Planned, *, end: float) -> None:
        async with self.locks[planned.kind]:
            loop = asyncio.get_running_loop()
            if loop.time() >= end:
                return  # its turn came after the faults stopped
            duration = min(planned.duration, max(0.0, end - loop.time()))
            rng = random.Random(planned.seed)  # noqa: S311 (a replayable choice, not a secret)
            action: Action = getattr(self, "_" + planned.kind.replace("-", "_"))
            KIND.set(planned.kind)
            if await action(rng, duration):
                self.counts[planned.kind] += 1

    def _note(self, text: str) -> None:
        """Journal a fault as it is applied (its kind is the current task's, set in :meth:`_one`)."""
        self.world.journal.note(f"fault {KIND.get()}: {text}")

    # -- the faults: each returns whether it was applied --------------------------------------------
    async def _unreachable(self, rng: random.Random, duration: float) -> bool:
        self._note(f"Headlamp stops listening for {duration:.1f} s")
        await self.world.hl.stop_listening()
        try:
            await asyncio.sleep(duration)  # the fault's length
        finally:
            await self.world.hl.start_listening()
            self._note("Headlamp listens again")
        return True

    async def _dropped_connections(self, rng: random.Random, duration: float) -> bool:
        count, scope = rng.randint(1, 10), rng.choice(SCOPES)
        self._note(f"open connections closed, the next {count} requests to {scope or 'any path'} dropped unanswered")
        self.world.hl.fail_next(count, disconnect=True, path=scope)
        await self.world.hl.drop_connections()
        return True

    async def _slow(self, rng: random.Random, duration: float) -> bool:
        hl = self.world.hl
        hl.delay = rng.choice([rng.uniform(0.2, 1.5), rng.uniform(2.5, 4.5)])  # the latter past the request timeout
        self._note(f"every answer {hl.delay:.1f} s late for {duration:.1f} s")
        try:
            await asyncio.sleep(duration)
        finally:
            hl.delay = 0.0
            self._note("answers on time again")
        return True

    async def _held(self, rng: random.Random, duration: float) -> bool:
        self._note(f"every request held for {duration:.1f} s")
        self.world.hl.hold()
        try:
            await asyncio.sleep(duration)
        finally:
            self.world.hl.release()
            self._note("requests let through")
        return True

    async def _answer(self, rng: random.Random, duration: float, fault: Fault) -> bool:
        """``fault`` for the next 1-25 matching requests, or (when no other window runs) for ``duration``."""
        hl = self.world.hl
        what = f"{fault.status} (Retry-After {fault.retry_after}) to {fault.path or 'any path'}"
        if rng.random() < 0.5 or hl.fault is not None:
            count = rng.randint(1, 25)
            self._note(f"{what} for the next {count} requests")
            hl.fail_next(count, status=fault.status, body=str(fault.body), retry_after=fault.retry_after,
                         path=fault.path)
            return True
        self._note(f"{what} for {duration:.1f} s")
        hl.fault = fault
        try:
            await asyncio.sleep(duration)
        finally:
            if hl.fault is fault:
                hl.fault = None
            self._note(f"no more {fault.status}")
        return True

    async def _5xx(self, rng: random.Random, duration: float) -> bool:
        status = rng.choice([502, 503, 504])
        body = {502: "", 503: "service unavailable", 504: "upstream request timeout"}[status]
        return await self._answer(rng, duration, Fault(status=status, body=body, path=rng.choice(SCOPES)))

    async def _429(self, rng: random.Random, duration: float) -> bool:
        retry_after = rng.choice([0.5, 1, 2, 3, 5])
        return await self._answer(rng, duration, Fault(status=429, body="too many requests", retry_after=retry_after,
                                                       path=rng.choice(SCOPES)))

    def _free_pods(self, prefixes: tuple[str, ...]) -> list[tuple[str, str]]:
        return [key for prefix in prefixes for key in self.world.pods(prefix) if key not in self.broken]

    async def _pods(self, rng: random.Random, duration: float, broken: dict[tuple[str, str], str]) -> None:
        """Break the pods (``how`` as :meth:`World.break_pod` takes it) for ``duration``, then bring them back."""
        if broken:
            self._note(", ".join(f"{namespace}/{name} {how}" for (namespace, name), how in broken.items())
                       + f" for {duration:.1f} s")
        self.broken |= set(broken)
        try:
            for key, how in broken.items():
                self.world.break_pod(key, how)
            await asyncio.sleep(duration)
        finally:
            for key in broken:
                self.world.restore_pod(key)
            self.broken -= set(broken)
            if broken:
                self._note(", ".join(f"{namespace}/{name}" for namespace, name in broken) + " Running and Ready again")

    async def _not_ready(self, rng: random.Random, duration: float) -> bool:
        hl = self.world.hl
        hl.start_delay, hl.ready_timeout = rng.uniform(0.2, 2.5), rng.uniform(0.3, 2.0)
        self._note(f"starts take {hl.start_delay:.1f} s, wait {hl.ready_timeout:.1f} s for a pod to run")
        services = self._free_pods(("echo-", "grafana-"))
        singles = self._free_pods(("db-", "desk-"))
        broken = {key: "unready" for key in rng.sample(services, min(len(services), rng.randint(0, 3)))}
        broken |= {key: "pending" for key in rng.sample(singles, min(len(singles), rng.randint(0, 2)))}
        try:
            await self._pods(rng, duration, broken)
        finally:
            hl.start_delay, hl.ready_timeout = 0.0, 0.0
            self._note("starts are quick again")
        return True

    async def _pod_killed(self, rng: random.Random, duration: float) -> bool:
        # A pod behind a service may be deleted (its forwards move to the other pod); a pod named by a pod
        # forward only fails and comes back under its name, as a StatefulSet's does.
        candidates = self._free_pods(("echo-", "grafana-", "redis-", "db-", "desk-"))
        if not candidates:
            return False
        chosen = rng.sample(candidates, min(len(candidates), rng.randint(1, 3)))
        await self._pods(rng, duration, {key: "deleted" if key[1].startswith("echo-") and rng.random() < 0.5
                                         else "failed" for key in chosen})
        return True

    async def _secret_rotated(self, rng: random.Random, duration: float) -> bool:
        free = [namespace for namespace in w.NAMESPACES if namespace not in self.rotating]
        if not free:
            return False
        namespace = rng.choice(free)
        self.rotating.add(namespace)
        try:
            if rng.random() < 0.3:  # a routine rotation: a new good token
                await self.world.rotate(namespace, good=True)
                return True
            await self.world.rotate(namespace, good=False)
            await asyncio.sleep(duration)
            await self.world.rotate(namespace, good=True)
        finally:
            self.rotating.discard(namespace)
        return True

    async def _contract_switched(self, rng: random.Random, duration: float) -> bool:
        hl = self.world.hl
        hl.stop_contract = "action" if hl.stop_contract == "stopOrDelete" else "stopOrDelete"
        self._note(f"DELETE /portforward now read as {hl.stop_contract!r}")
        return True

    async def _operator_killed(self, rng: random.Random, duration: float) -> bool:
        self._note(f"the operator is SIGKILLed and down for {duration:.1f} s")
        await self.world.operator.kill()
        try:
            await asyncio.sleep(duration)  # down for a while: deletions and changes pile up meanwhile
        finally:
            await self.world.operator.start()
        return True

    async def _headlamp_restarted(self, rng: random.Random, duration: float) -> bool:
        self._note("Headlamp restarts: its forwards and sessions are forgotten")
        await self.world.hl.restart()
        return True

    # -- the end ------------------------------------------------------------------------------------
    async def restore(self) -> None:
        """The faults stopped: every knob reset, every wanted pod back, Secrets good, v0.45.0's contract,
        the operator running, and every forward to adopt running again, as a person would restart it in
        Headlamp's UI after Headlamp restarted or its pod died."""
        hl = self.world.hl
        self.world.journal.note("the faults stopped: restoring the world")
        hl.reset_faults()
        await hl.start_listening()
        hl.stop_contract = "stopOrDelete"
        hl.start_delay = hl.ready_timeout = 0.0
        for key in self.world.wanted_pods:
            self.world.restore_pod(key)
        self.broken.clear()
        for namespace in sorted(self.world.bad):
            await self.world.rotate(namespace, good=True)
        if not self.world.operator.running:
            await self.world.operator.start()
        running = {f.id for f in hl.forwards if f.status == "Running"}
        for item in self.items:
            if item.desk is not None and not item.deleted and item.spec.get("state") == "Running" \
                    and item.forward_id not in running:
                await self.world.start_ui_forward(item.forward_id, item.desk)
                self.world.journal.note(f"the UI forward {item.forward_id} started again")
        self.world.journal.note("the world is restored")
