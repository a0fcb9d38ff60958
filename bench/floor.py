"""The floor: a plain aiohttp script making only the unavoidable calls, for comparison with the operator.

Per resource: one Headlamp call (PortForward: ``POST /clusters/{c}/portforward`` to a known pod and
port; ResourcePatch: the ``PATCH`` of its target) plus one status patch to the Kubernetes API, at
the same concurrency as the operator's per-cluster bound. No watch, no discovery, no session, no
finalizer, no event. It runs as its own process, as the operator does, against fresh emulators
that already hold the resources::

    python -m bench.floor --kube URL --headlamp URL --n 500 --concurrency 32

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

from bench import workload

MERGE_PATCH = "application/merge-patch+json"


def _status(item: workload.Item, answer: Any) -> dict[str, Any]:
    """A status of the same shape as the operator writes (phase, reason, message, three conditions)."""
    moment = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if item.kind == "PortForward":
        phase, reason = "Running", "Started"
        message = f"forwarding 127.0.0.1:{answer.get('port', '?')} -> monitoring/grafana-0:3000"
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


async def run_floor(kube_url: str, headlamp_url: str, items: Sequence[workload.Item], *,
                    concurrency: int) -> dict[str, Any]:
    """Make the two unavoidable calls per item, ``concurrency`` items at a time; measure."""
    semaphore = asyncio.Semaphore(concurrency)
    headers = {"Accept": "application/json", "Content-Type": "application/json"}
    errors: list[str] = []
    latencies: list[float] = []
    connector = aiohttp.TCPConnector(limit=concurrency * 2)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def handle(item: workload.Item) -> None:
            async with semaphore:
                started = time.monotonic()
                if item.kind == "PortForward":
                    payload = {"id": f"floor-{item.namespace}-{item.name}", "namespace": "monitoring",
                               "pod": "grafana-0", "service": "grafana", "serviceNamespace": "monitoring",
                               "targetPort": "3000", "port": "", "address": ""}
                    request = session.post(f"{headlamp_url}/clusters/{workload.CLUSTER}/portforward",
                                           data=json.dumps(payload), headers=headers)
                else:
                    path = (f"/clusters/{workload.CLUSTER}/apis/apps/v1/namespaces/shop/deployments/"
                            f"{item.deployment}")
                    request = session.patch(headlamp_url + path,
                                            data=json.dumps({"spec": {"replicas": item.replicas}}),
                                            headers={**headers, "Content-Type": MERGE_PATCH})
                async with request as response:
                    answer = await response.json(content_type=None) if response.status < 300 else {}
                    if response.status >= 300:
                        errors.append(f"headlamp {response.status}")
                path = (f"/apis/{workload.GROUP}/{workload.VERSION}/namespaces/{item.namespace}/"
                        f"{item.plural}/{item.name}/status")
                async with session.patch(kube_url + path, data=json.dumps({"status": _status(item, answer)}),
                                         headers={"Content-Type": MERGE_PATCH}) as response:
                    await response.read()
                    if response.status >= 300:
                        errors.append(f"kubernetes {response.status}")
                latencies.append(time.monotonic() - started)

        started = time.monotonic()
        await asyncio.gather(*(handle(item) for item in items))
        seconds = time.monotonic() - started
    return {"resources": len(items), "concurrency": concurrency, "seconds": seconds,
            "throughput": len(items) / seconds if seconds > 0 else None,
            "requests": {"headlamp": len(items), "kubernetes": len(items)},
            "latency": {"p50": _percentile(latencies, 50), "p99": _percentile(latencies, 99)},
            "errors": errors[:20], "error_count": len(errors)}


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q / 100.0 * len(ordered) + 0.5) - 1))]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.floor", description=__doc__.split("\n\n")[0])
    parser.add_argument("--kube", required=True, help="base URL of the Kubernetes API")
    parser.add_argument("--headlamp", required=True, help="base URL of the Headlamp backend")
    parser.add_argument("--n", type=int, required=True, help="N PortForwards and N ResourcePatches")
    parser.add_argument("--prefix", default="", help="name prefix of the resources (as created)")
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args(argv)
    result = asyncio.run(run_floor(args.kube.rstrip("/"), args.headlamp.rstrip("/"),
                                   workload.items(args.n, prefix=args.prefix), concurrency=args.concurrency))
    json.dump(result, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
