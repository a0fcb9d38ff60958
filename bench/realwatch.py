"""What the bench reads from the real API server: creation and Ready times (a watch), and its request counts.

On the in-memory API a store hook gives exact commit times; a real API server is only seen from
outside, so the :class:`Watcher` (one watch per kind, as the admin) takes an object's ``ADDED`` and
its first ``Ready=True`` as it receives them: both late by the same watch delay, so apply->Ready is
the same span. The request counts are the API server's own (``apiserver_request_total`` on its
``/metrics``): every client's, the bench's creations and the controllers' included, so they are
reported by verb and resource, for the reader to attribute (see :func:`attribute`).
"""
from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import os
import pathlib
import re
import ssl
import time
from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp

from bench import workload
from bench.process import cpu_seconds

Key = tuple[str, str, str]
SAMPLE = re.compile(r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>[^}]*)\})? (?P<value>\S+)')
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
MODIFY = ("PATCH", "PUT", "APPLY")  # the verbs of a write to an existing object


def is_ready(body: Mapping[str, Any]) -> bool:
    status = body.get("status") or {}
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or ())


class Watcher:
    """Creation and Ready times, the last state and every write of our resources, from one watch per kind."""

    def __init__(self, server: str, headers: Mapping[str, str], tls: ssl.SSLContext) -> None:
        self.server, self.headers, self.tls = server, dict(headers), tls
        self.created: dict[Key, float] = {}
        self.ready: dict[Key, float] = {}
        self.last: dict[Key, dict[str, Any]] = {}
        self.writes: list[float] = []  # arrival times of every event of our resources
        self.restarts = 0  # watches reopened (a closed stream, a 410)
        self._watching = {plural: asyncio.Event() for plural in workload.PLURALS.values()}
        self._tasks: list[asyncio.Task[None]] = []
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Watcher:
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=self.tls),
                                              headers=self.headers, timeout=aiohttp.ClientTimeout())
        self._tasks = [asyncio.ensure_future(self._watch(plural)) for plural in self._watching]
        try:
            await self._started()
        except BaseException:
            await self.__aexit__()
            raise
        return self

    async def _started(self) -> None:
        """Every watch open, unless one ends first (its exception says why) or 30 s pass."""
        async def all_open() -> None:
            for event in self._watching.values():
                await event.wait()

        started = asyncio.ensure_future(all_open())
        try:
            await asyncio.wait([started, *self._tasks], timeout=30, return_when=asyncio.FIRST_COMPLETED)
        finally:
            started.cancel()
        for task in self._tasks:
            if task.done():
                task.result()
                raise RuntimeError("a watch of the bench ended before it began")
        if not all(event.is_set() for event in self._watching.values()):
            raise TimeoutError("the bench's watches did not start within 30 s")

    async def __aexit__(self, *exc_info: object) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    def ready_count(self, keys: Sequence[Key]) -> int:
        return sum(1 for key in keys if key in self.ready)

    async def _watch(self, plural: str) -> None:
        assert self._session is not None
        url = f"{self.server}/apis/{workload.GROUP}/{workload.VERSION}/{plural}"
        version = ""
        while True:
            if not version:  # list first: the watch then starts from that point, nothing missed
                async with self._session.get(url, params={"limit": "1"}) as answer:
                    answer.raise_for_status()
                    version = (await answer.json())["metadata"]["resourceVersion"]
            params = {"watch": "1", "resourceVersion": version, "allowWatchBookmarks": "true"}
            async with self._session.get(url, params=params) as answer:
                answer.raise_for_status()
                self._watching[plural].set()
                async for line in answer.content:
                    if not line.strip():
                        continue
                    event = json.loads(line)
                    body = event["object"]
                    if event["type"] == "ERROR":  # 410 Gone: list again
                        version = ""
                        break
                    version = body["metadata"].get("resourceVersion", version)
                    if event["type"] != "BOOKMARK":
                        self._note(plural, event["type"], body)
            self.restarts += 1

    def _note(self, plural: str, kind: str, body: dict[str, Any]) -> None:
        now = time.monotonic()
        self.writes.append(now)
        key = (plural, body["metadata"].get("namespace", ""), body["metadata"]["name"])
        if kind == "ADDED":
            self.created.setdefault(key, now)
        if kind != "DELETED":
            self.last[key] = body
            if key not in self.ready and is_ready(body):
                self.ready[key] = now


# -- the API server's own counts -------------------------------------------------------------------

async def scrape(server: str, headers: Mapping[str, str], tls: ssl.SSLContext) -> str:
    """The API server's ``/metrics`` text."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=tls)) as session, \
            session.get(f"{server}/metrics", headers=dict(headers)) as answer:
        answer.raise_for_status()
        return await answer.text()


def samples(text: str, name: str) -> list[tuple[dict[str, str], float]]:
    """Every sample of one metric: (labels, value)."""
    found = []
    for line in text.splitlines():
        match = SAMPLE.match(line)
        if match and match["name"] == name:
            found.append((dict(LABEL.findall(match["labels"] or "")), float(match["value"])))
    return found


def requests_by_verb(text: str, *, failed: bool = False) -> dict[str, float]:
    """``apiserver_request_total`` summed by "VERB resource[/subresource]" over codes and scopes; a
    resource name that two API groups share is qualified with its group. With ``failed``: only the
    answers that were no success (neither 2xx nor 101), keyed with their code."""
    rows = samples(text, "apiserver_request_total")
    if failed:
        rows = [(labels, value) for labels, value in rows if not labels.get("code", "").startswith(("2", "101"))]
    groups: dict[str, set[str]] = collections.defaultdict(set)
    for labels, _ in rows:
        groups[labels.get("resource", "")].add(labels.get("group", ""))
    counts: dict[str, float] = collections.defaultdict(float)
    for labels, value in rows:
        resource, group = labels.get("resource", ""), labels.get("group", "")
        name = resource or "(non-resource)"
        if resource and len(groups[resource]) > 1:
            name = f"{resource}.{group or 'core'}"
        if labels.get("subresource"):
            name += "/" + labels["subresource"]
        counts[f"{labels.get('verb', '?')} {name}" + (f" {labels.get('code')}" if failed else "")] += value
    return dict(counts)


def delta(before: Mapping[str, float], after: Mapping[str, float]) -> dict[str, int]:
    """What grew between two readings, largest first."""
    grown = {key: round(value - before.get(key, 0.0)) for key, value in after.items()}
    return dict(sorted(((k, v) for k, v in grown.items() if v > 0), key=lambda kv: (-kv[1], kv[0])))


def longrunning(text: str, verb: str, resource: str, subresource: str = "") -> float:
    """Long-running requests open now (``apiserver_longrunning_requests``): WATCHes, port-forward CONNECTs."""
    return sum(value for labels, value in samples(text, "apiserver_longrunning_requests")
               if labels.get("verb") == verb and labels.get("resource") == resource
               and labels.get("subresource", "") == subresource)


def attribute(counts: Mapping[str, int], created: Mapping[str, int]) -> dict[str, Any]:
    """The counts that have one author in this world, per resource of the kind they concern.

    Writes to our resources other than the bench's creations (POST) are the operator's (kopf's
    finalizer, its annotations, the status); Events are the operator's (nothing else in this world
    runs into trouble); the ConfigMap patches are Headlamp's on the operator's behalf.
    """
    def parts(key: str) -> tuple[str, str, str]:
        verb, _, name = key.partition(" ")
        resource, _, subresource = name.partition("/")
        return verb, resource.split(".")[0], subresource

    result: dict[str, Any] = {}
    total = sum(created.values())
    for kind, plural in workload.PLURALS.items():
        n = created.get(kind, 0)
        if not n:
            continue
        status = sum(v for k, v in counts.items() if parts(k)[0] in MODIFY and parts(k)[1:] == (plural, "status"))
        main = sum(v for k, v in counts.items() if parts(k)[0] in MODIFY and parts(k)[1:] == (plural, ""))
        result[kind] = {"status_patches": status / n, "metadata_patches": main / n, "writes": (status + main) / n}
    if total:
        events = sum(v for k, v in counts.items() if parts(k)[0] in ("POST", *MODIFY) and parts(k)[1] == "events")
        configmaps = sum(v for k, v in counts.items() if parts(k)[0] in MODIFY and parts(k)[1] == "configmaps")
        result["events"] = events / total
        result["configmap_patches"] = configmaps / total
        result["all_requests"] = sum(counts.values()) / total
    return result


# -- the other processes' CPU ----------------------------------------------------------------------

def children_cpu(names: Sequence[str]) -> dict[str, float]:
    """CPU seconds of this process's children by command name (the control plane's processes)."""
    wanted = {name[:15] for name in names}  # /proc/<pid>/comm is cut at 15 characters
    found: dict[str, float] = {}
    me = str(os.getpid())
    for stat in pathlib.Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            raw = stat.read_text()
            comm = raw[raw.index("(") + 1:raw.rindex(")")]
            ppid = raw[raw.rindex(")") + 2:].split()[1]
            if ppid == me and comm in wanted:
                found[comm] = found.get(comm, 0.0) + cpu_seconds(int(stat.parent.name))
    return found
