"""The floor: a plain aiohttp script making only the unavoidable calls, for comparison with the operator.

Per resource: one Headlamp call (PortForward: ``POST /clusters/{c}/portforward`` to a known pod and
port; ResourcePatch: the ``PATCH`` of its target) plus one status patch to the Kubernetes API, at
the same concurrency as the operator's per-cluster bound. No discovery, no session, no finalizer,
no event. It runs as its own process, as the operator does, against fresh emulators, in one of
two ways::

    python -m bench.floor --kube URL --headlamp URL --n 500 --concurrency 32          # resources exist
    python -m bench.floor --kube URL --headlamp URL --n 500 --concurrency 32 --react  # being created

With ``--react`` it learns of each resource from a watch (one stream per kind) while the bench
creates them, as the operator does: the same burst, timed by the same clock as the operator's.

and prints one JSON document: seconds, throughput, request counts.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import sys
import time
from collections.abc import Sequence
from typing import Any

import aiohttp

from bench import burst, workload

MERGE_PATCH = "application/merge-patch+json"
COLLECTION = f"/apis/{workload.GROUP}/{workload.VERSION}"


def status(item: workload.Item, answer: Any) -> dict[str, Any]:
    """A status of the same shape as the operator writes (phase, reason, message, three conditions)."""
    moment = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if item.kind == "PortForward":
        phase, reason = "Running", "Started"
        message = f"forwarding localhost:{answer.get('port', '?')} -> monitoring/grafana-0:3000"
        fields: dict[str, Any] = {"id": answer.get("id", ""), "port": str(answer.get("port", "")),
                                  "pod": "grafana-0", "lastSyncTime": moment}
    else:
        phase, reason = "Applied", "Applied"
        message = f"patched apps/v1 Deployment shop/{item.deployment}"
        metadata = answer.get("metadata") or {}
        fields = {"target": {"uid": metadata.get("uid", ""), "resourceVersion": metadata.get("resourceVersion", "")},
                  "lastAppliedTime": moment}

    def condition(kind: str, status: bool, why: str, text: str) -> dict[str, Any]:
        return {"type": kind, "status": "True" if status else "False", "reason": why, "message": text,
                "lastTransitionTime": moment, "observedGeneration": 1}

    return {"phase": phase, "reason": reason, "message": message, "observedGeneration": 1,
            "conditions": [condition("Ready", True, reason, message), condition("Reconciling", False, "Done", ""),
                           condition("Stalled", False, "Healthy", "")], **fields}


async def headlamp_call(session: aiohttp.ClientSession, headlamp_url: str, item: workload.Item, *,
                        errors: list[str]) -> Any:
    """The one Headlamp call of a resource: start its forward (to a known pod and port) or patch its
    target; returns the decoded answer ({} on an error, which is noted in ``errors``)."""
    headers = {"Accept": "application/json", "Content-Type": "application/json"}
    if item.kind == "PortForward":
        payload = {"id": f"floor-{item.namespace}-{item.name}", "namespace": "monitoring",
                   "pod": "grafana-0", "service": "grafana", "serviceNamespace": "monitoring",
                   "targetPort": "3000", "port": "", "address": ""}
        request = session.post(f"{headlamp_url}/clusters/{workload.CLUSTER}/portforward",
                               data=json.dumps(payload), headers=headers)
    else:
        path = f"/clusters/{workload.CLUSTER}/apis/apps/v1/namespaces/shop/deployments/{item.deployment}"
        request = session.patch(headlamp_url + path, data=json.dumps({"spec": {"replicas": item.replicas}}),
                                headers={**headers, "Content-Type": MERGE_PATCH})
    async with request as response:
        if response.status >= 300:
            errors.append(f"headlamp {response.status}")
            return {}
        return await response.json(content_type=None)


class Floor:
    """The two unavoidable calls for one resource, ``concurrency`` resources at a time, measured."""

    def __init__(self, session: aiohttp.ClientSession, kube_url: str, headlamp_url: str, *, concurrency: int) -> None:
        self.session, self.kube_url, self.headlamp_url = session, kube_url, headlamp_url
        self.semaphore = asyncio.Semaphore(concurrency)
        self.errors: list[str] = []
        self.latencies: list[float] = []

    async def handle(self, item: workload.Item) -> None:
        """One Headlamp call (start the forward, or patch the target), then the status patch."""
        async with self.semaphore:
            started = time.monotonic()
            answer = await headlamp_call(self.session, self.headlamp_url, item, errors=self.errors)
            path = f"{COLLECTION}/namespaces/{item.namespace}/{item.plural}/{item.name}/status"
            async with self.session.patch(self.kube_url + path, data=json.dumps({"status": status(item, answer)}),
                                          headers={"Content-Type": MERGE_PATCH}) as response:
                await response.read()
                if response.status >= 300:
                    self.errors.append(f"kubernetes {response.status}")
            self.latencies.append(time.monotonic() - started)

    def result(self, items: Sequence[workload.Item], seconds: float, **extra: Any) -> dict[str, Any]:
        """The measurement as one JSON-able document."""
        return {"resources": len(items), "seconds": seconds,
                "throughput": len(items) / seconds if seconds > 0 else None,
                "requests": {"headlamp": len(items), "kubernetes": len(items), **extra.pop("requests", {})},
                "latency": {"p50": burst.percentile(self.latencies, 50), "p99": burst.percentile(self.latencies, 99)},
                "errors": self.errors[:20], "error_count": len(self.errors), **extra}


async def run_floor(kube_url: str, headlamp_url: str, items: Sequence[workload.Item], *,
                    concurrency: int) -> dict[str, Any]:
    """The resources exist already: make the two calls for each, ``concurrency`` at a time."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency * 2)) as session:
        floor = Floor(session, kube_url, headlamp_url, concurrency=concurrency)
        started = time.monotonic()
        await asyncio.gather(*(floor.handle(item) for item in items))
        seconds = time.monotonic() - started
    return floor.result(items, seconds, concurrency=concurrency)


async def react(kube_url: str, headlamp_url: str, items: Sequence[workload.Item], *,
                concurrency: int) -> dict[str, Any]:
    """The resources are being created: learn of each from a watch (one stream per kind, as an
    operator must), then make the same two calls. Ends when every item has been handled."""
    wanted = {item.key: item for item in items}
    pending: set[asyncio.Task[None]] = set()
    seen: set[tuple[str, str, str]] = set()
    events = 0
    finished = asyncio.Event()

    def handled(task: asyncio.Task[None]) -> None:
        pending.discard(task)
        if len(seen) == len(wanted) and not pending:
            finished.set()

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency * 2 + 2)) as session:
        floor = Floor(session, kube_url, headlamp_url, concurrency=concurrency)
        started: float | None = None

        async def watch(plural: str) -> None:
            nonlocal events, started
            url = f"{kube_url}{COLLECTION}/{plural}"
            async with session.get(url, params={"watch": "true"}, timeout=aiohttp.ClientTimeout()) as response:
                async for line in response.content:
                    if not line.strip():
                        continue
                    events += 1
                    event = json.loads(line)
                    metadata = event["object"]["metadata"]
                    key = (plural, metadata.get("namespace", ""), metadata["name"])
                    if event["type"] == "ADDED" and key in wanted and key not in seen:
                        started = time.monotonic() if started is None else started
                        seen.add(key)
                        task = asyncio.ensure_future(floor.handle(wanted[key]))
                        pending.add(task)
                        task.add_done_callback(handled)

        watchers = [asyncio.ensure_future(watch(plural)) for plural in sorted({item.plural for item in items})]
        waiting = asyncio.ensure_future(finished.wait())
        await asyncio.wait([waiting, *watchers], return_when=asyncio.FIRST_COMPLETED)
        if not finished.is_set():
            waiting.cancel()
            raise RuntimeError("a watch ended before every resource was handled")
        seconds = time.monotonic() - (started or time.monotonic())
        for watcher in watchers:
            watcher.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)
    return floor.result(items, seconds, concurrency=concurrency, requests={"watch_streams": len(watchers),
                                                                           "watch_events": events})


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.floor", description=__doc__.split("\n\n")[0])
    parser.add_argument("--kube", required=True, help="base URL of the Kubernetes API")
    parser.add_argument("--headlamp", required=True, help="base URL of the Headlamp backend")
    parser.add_argument("--n", type=int, required=True, help="N PortForwards and N ResourcePatches")
    parser.add_argument("--prefix", default="", help="name prefix of the resources (as created)")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--react", action="store_true",
                        help="learn of the resources from watches while they are created (else they exist)")
    args = parser.parse_args(argv)
    run = react if args.react else run_floor
    result = asyncio.run(run(args.kube.rstrip("/"), args.headlamp.rstrip("/"),
                             workload.items(args.n, prefix=args.prefix), concurrency=args.concurrency))
    json.dump(result, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
