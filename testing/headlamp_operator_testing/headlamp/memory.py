"""The emulated backend's in-memory clusters: each a :class:`~headlamp_operator_testing.kubernetes.KubeCluster`,
reached over HTTP as headlamp-server reaches a real API server.

The backend is a client of each cluster's API server (an :class:`.upstream.UpstreamCluster` of its URL): its
proxy, its port-forward permission check (a SelfSubjectAccessReview), its look at a forward's pod and its
look for a Service's ready pod are HTTP requests to it, made with the request's token. Two things stay
in-process, because no HTTP answer can carry them:

- the forward itself: there is no kubelet behind the in-memory API, so a forward listens on localhost and
  closes every connection it accepts (:mod:`.localhost`);
- the pod monitor: v0.45.0 checks a forward's pod every 5 seconds; here each write of the cluster's store is
  seen as it is made (:meth:`.forwardtable.ForwardTable.on_change`), so a test that kills a pod finds its
  forwards stopped at once, with no waiting.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import aiohttp

from headlamp_operator_testing.kubernetes import KubeCluster, WatchEvent

from .upstream import PodProblem, UpstreamCluster

# Who a request without a token is to the cluster: the backend's own identity (Headlamp's in-cluster account)
BACKEND_USER = "system:serviceaccount:headlamp:headlamp"


class InMemoryApis:
    """The backend's clients of its in-memory clusters' API servers, each served from its first use on."""

    def __init__(self) -> None:
        self._clients: dict[KubeCluster, UpstreamCluster] = {}
        self._lock = asyncio.Lock()
        self._serving: set[asyncio.Task[UpstreamCluster]] = set()

    def prepare(self, cluster: KubeCluster) -> None:
        """Start serving the cluster now, in the background (as a real API server is up before Headlamp is asked),
        when an event loop runs; else it is served on its first use."""
        with contextlib.suppress(RuntimeError):  # no running loop
            self._serving.add(asyncio.get_running_loop().create_task(self.of(cluster)))

    async def of(self, cluster: KubeCluster) -> UpstreamCluster:
        """The client of that cluster's API server (serving it first, if it is not served yet)."""
        if (served := self._clients.get(cluster)) is not None:
            return served
        async with self._lock:
            client = self._clients.get(cluster)
            if client is None:
                url = await cluster.serve()
                client = self._clients[cluster] = UpstreamCluster(cluster.name, server=url, ca_data=None, token=None,
                                                                  kubectl="")
            return client

    async def check_start(self, cluster: KubeCluster, token: str | None, namespace: str,
                          pod: str) -> tuple[str | None, PodProblem | None]:
        """The backend's checks of a start: its permission check (None: allowed) and, if allowed, what its pod's
        state is. Both requests go at once: they read and change nothing, and a burst of starts then takes one
        round trip apiece to the API server instead of two."""
        api = await self.of(cluster)
        denied, problem = await asyncio.gather(api.portforward_denial(token, namespace, pod),
                                               api.pod_problem(token, namespace, pod))
        return denied, None if denied is not None else problem

    async def close(self) -> None:
        """Close every client and stop serving its cluster."""
        await asyncio.gather(*self._serving, return_exceptions=True)
        self._serving.clear()
        async with self._lock:
            clients, self._clients = self._clients, {}
        for cluster, client in clients.items():
            await client.close()
            await cluster.close()


def pod_problem_of(event: WatchEvent) -> str | None:
    """Why a write leaves a pod unfit to forward to (v0.45.0's words, as its pod check would say), or None."""
    if event.type == "DELETED":
        return f'pods "{event.object["metadata"]["name"]}" not found'
    return None if (event.object.get("status") or {}).get("phase") == "Running" else "pod is not running"


async def wait_running(api: UpstreamCluster, token: str | None, namespace: str, pod: str) -> None:
    """Return once the pod runs, watching it through its API server (the watch starts with the pod as it is).

    The caller bounds the wait (the backend's ready timeout); a watch that ends is watched again.
    """
    url = f"{api.server}/api/v1/namespaces/{quote(namespace)}/pods"
    params = {"watch": "true", "fieldSelector": f"metadata.name={pod}"}
    while True:
        async with api.session().get(url, params=params, headers=api.authorization(token)) as stream:
            async for line in stream.content:
                event: Mapping[str, Any] = json.loads(line) if line.strip() else {}
                status = (event.get("object") or {}).get("status") or {}
                if event.get("type") in ("ADDED", "MODIFIED") and status.get("phase") == "Running":
                    return


async def ready_pod(api: UpstreamCluster, token: str | None, namespace: str, service: str) -> tuple[str, str] | None:
    """The pod an EndpointSlice of the Service would list first as ready, (namespace, name), or None.

    The in-memory API runs no endpoints controller: this is what it would list, read through the API server:
    the pods of the Service's namespace its selector selects, Running, Ready and not being deleted, the first by
    name (upstream #7273 reads the EndpointSlices: :meth:`.upstream.UpstreamCluster.ready_endpoint`).
    """
    base = f"{api.server}/api/v1/namespaces/{quote(namespace)}"
    headers = api.authorization(token)
    try:
        async with api.session().get(f"{base}/services/{quote(service)}", headers=headers) as answer:
            found = await answer.json() if answer.status == 200 else {}
        selector = (found.get("spec") or {}).get("selector") or {}
        if not selector:
            return None
        labels = ",".join(f"{key}={value}" for key, value in sorted(selector.items()))
        async with api.session().get(f"{base}/pods", params={"labelSelector": labels}, headers=headers) as answer:
            pods = (await answer.json()).get("items") or [] if answer.status == 200 else []
    except aiohttp.ClientError:
        return None
    for item in pods:
        status = item.get("status") or {}
        ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])
        if status.get("phase") == "Running" and ready and not item["metadata"].get("deletionTimestamp"):
            return namespace, str(item["metadata"]["name"])
    return None
