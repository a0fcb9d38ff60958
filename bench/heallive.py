"""What ``python -m bench --heal`` reads and does while it measures: :class:`Live` and :class:`Prober`.

:class:`Live` is one aiohttp session to the real API server (as the admin: the bench deletes and creates
pods, creates and reads the PortForwards), to Headlamp (its ``/portforward/list``, which neither backend
counts against the operator) and to the operator's metrics (its requests to Headlamp). :class:`Prober` is
the client that keeps connecting through a forward's local port, and keeps what each attempt gave, so that
a heal can ask when bytes flowed and how long they did not.
"""
from __future__ import annotations

import asyncio
import collections
import dataclasses
import json
import time
from typing import Any

import aiohttp

from bench import workload
from bench.realwatch import samples
from bench.realworld import BenchWorld
from headlamp_operator_testing.realpeers.world import CLUSTER

PAYLOAD = b"heal bench: bytes through the forward\n"
REQUESTS = "headlamp_operator_backend_requests_total"


class Live:
    """The API server, Headlamp's forward list and the operator's metrics, as the heal bench reads them."""

    def __init__(self, world: BenchWorld, namespace: str) -> None:
        self.world = world
        self.namespace = namespace
        self.session: aiohttp.ClientSession | None = None
        self.forwards = f"{world.server}/apis/{workload.GROUP}/{workload.VERSION}/namespaces/{namespace}/portforwards"
        self.pods_url = f"{world.server}/api/v1/namespaces/monitoring/pods"

    async def __aenter__(self) -> Live:
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=self.world.tls()),
                                             timeout=aiohttp.ClientTimeout(total=10))
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self.session is not None:
            await self.session.close()

    async def _call(self, method: str, url: str, *, body: Any = None, admin: bool = True) -> tuple[int, Any]:
        assert self.session is not None
        headers = self.world.admin_headers() if admin else {}
        async with self.session.request(method, url, json=body, headers=headers) as answer:
            text = await answer.text()
        try:
            return answer.status, json.loads(text) if text.strip() else None
        except ValueError:
            return answer.status, text

    async def create_forward(self, manifest: dict[str, Any]) -> None:
        status, body = await self._call("POST", self.forwards, body=manifest)
        if status != 201:
            raise RuntimeError(f"creating PortForward {manifest['metadata']['name']}: {status} {body}")

    async def status(self, name: str) -> dict[str, Any]:
        """The PortForward's status (empty when it has none or cannot be read)."""
        code, body = await self._call("GET", f"{self.forwards}/{name}")
        return dict((body or {}).get("status") or {}) if code == 200 and isinstance(body, dict) else {}

    @staticmethod
    def claims_running(status: dict[str, Any]) -> bool:
        """Whether the status says the forward runs: phase Running or condition Ready=True."""
        ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])
        return status.get("phase") == "Running" or ready

    async def wait_port(self, name: str, *, within: float) -> int:
        """The forward's local port once it is Running (its first: the port every heal must keep)."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            status = await self.status(name)
            if status.get("phase") == "Running" and status.get("port"):
                return int(status["port"])
            await asyncio.sleep(0.2)
        raise TimeoutError(f"PortForward {self.namespace}/{name} not Running within {within:g} s: {status}")

    async def backend(self) -> dict[str, dict[str, Any]]:
        """Headlamp's ``/portforward/list`` of the cluster, by forward id (empty when it does not answer)."""
        try:
            code, body = await self._call("GET", f"{self.world.headlamp_url}/clusters/{CLUSTER}/portforward/list",
                                          admin=False)
        except (aiohttp.ClientError, TimeoutError):
            return {}
        return {str(f.get("id")): f for f in body or []} if code == 200 and isinstance(body, list) else {}

    async def pods(self) -> dict[str, dict[str, str]]:
        """The Running pods of namespace monitoring not being deleted: name -> uid and app label."""
        code, body = await self._call("GET", self.pods_url)
        if code != 200 or not isinstance(body, dict):
            return {}
        return {p["metadata"]["name"]: {"uid": p["metadata"]["uid"], "app": (p["metadata"].get("labels") or {})
                                        .get("app", "")}
                for p in body.get("items") or []
                if (p.get("status") or {}).get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")}

    async def delete_pod(self, name: str) -> float:
        """Delete the pod at once (``gracePeriodSeconds=0``); the monotonic time of the API server's answer."""
        code, body = await self._call("DELETE", f"{self.pods_url}/{name}?gracePeriodSeconds=0")
        answered = time.monotonic()
        if code not in (200, 202):
            raise RuntimeError(f"deleting pod monitoring/{name}: {code} {body}")
        return answered

    async def create_pod(self, manifest: dict[str, Any]) -> None:
        code, body = await self._call("POST", self.pods_url, body=manifest)
        if code != 201:
            raise RuntimeError(f"creating pod monitoring/{manifest['metadata']['name']}: {code} {body}")

    async def operator_requests(self) -> dict[str, float]:
        """The operator's requests to Headlamp so far, by HTTP method (its ``/metrics``)."""
        assert self.session is not None
        async with self.session.get(f"http://127.0.0.1:{self.world.metrics_port}/metrics") as answer:
            text = await answer.text()
        by_method: collections.Counter[str] = collections.Counter()
        for labels, value in samples(text, REQUESTS):
            by_method[labels.get("method", "")] += int(value)
        return dict(by_method)


@dataclasses.dataclass(frozen=True)
class Attempt:
    started: float
    ended: float
    ok: bool
    error: str


class Prober:
    """A client loop through ``127.0.0.1:port``: connect, write :data:`PAYLOAD`, read it back, close; a new attempt
    every ``gap`` seconds, each given ``within`` seconds, side by side: a connection that hangs (accepted by a
    listener as it closes) does not hold up the next ones, so the first echo after a heal is seen when it comes.
    Every attempt is kept (a few thousand per run)."""

    def __init__(self, port: int, *, gap: float = 0.05, within: float = 2.0) -> None:
        self.port, self.gap, self.within = port, gap, within
        self.attempts: list[Attempt] = []
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Prober:
        self._task = asyncio.create_task(self._loop())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _once(self) -> str:
        """'' when the bytes came back, else what went wrong."""
        try:
            async with asyncio.timeout(self.within):
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                try:
                    writer.write(PAYLOAD)
                    await writer.drain()
                    return "" if await reader.readexactly(len(PAYLOAD)) == PAYLOAD else "other bytes"
                finally:
                    writer.close()
        except ConnectionRefusedError:
            return "refused"
        except TimeoutError:
            return "timeout"
        except (OSError, asyncio.IncompleteReadError) as e:
            return type(e).__name__

    async def _attempt(self) -> None:
        started = time.monotonic()
        error = await self._once()
        self.attempts.append(Attempt(started, time.monotonic(), not error, error))

    async def _loop(self) -> None:
        running: set[asyncio.Task[None]] = set()
        try:
            while True:
                task = asyncio.create_task(self._attempt())
                running.add(task)
                task.add_done_callback(running.discard)
                await asyncio.sleep(self.gap)
        finally:
            for task in list(running):
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)

    def ok_since(self, moment: float) -> bool:
        """Whether an attempt started after ``moment`` and every one since has echoed."""
        recent = [a for a in self.attempts if a.started >= moment]
        return bool(recent) and all(a.ok for a in recent)

    async def success_after(self, moment: float, *, until: float) -> float | None:
        """When the first attempt started at or after ``moment`` echoed (its end), waiting until ``until``."""
        while time.monotonic() < until:
            for attempt in self.attempts:
                if attempt.started >= moment and attempt.ok:
                    return attempt.ended
            await asyncio.sleep(self.gap / 2)
        return None

    def outage(self, start: float, end: float) -> tuple[float, int]:
        """Seconds between ``start`` and ``end`` during which connections failed (from a failed attempt's start
        to the next echoing attempt's start), and how many attempts failed."""
        total, down_since, failed = 0.0, None, 0
        for attempt in sorted(self.attempts, key=lambda a: a.started):
            if attempt.started < start or attempt.started > end:
                continue
            if not attempt.ok:
                failed += 1
                down_since = attempt.started if down_since is None else down_since
            elif down_since is not None:
                total += attempt.started - down_since
                down_since = None
        if down_since is not None:
            total += end - down_since
        return total, failed
