"""One ``portforward/list`` call per cluster per sync interval, shared by every PortForward of that cluster.

Health checks of all resources ask this cache; the first caller in an interval makes the request,
concurrent and later callers in the same interval get its answer (or its error). The work per
resource does not grow with the number of resources; the requests grow with the number of clusters.
"""
from __future__ import annotations

import asyncio
import dataclasses
import datetime
import time

from headlamp_operator.headlamp import portforward
from headlamp_operator.headlamp.client import Backend
from headlamp_operator.structs import Credentials

Key = tuple[str, str | None]  # (cluster, dynamic-cluster user id)


@dataclasses.dataclass
class _Entry:
    at: float
    fetched: datetime.datetime  # when the request was sent: the list says nothing of later starts
    task: asyncio.Task[list[portforward.PortForwardEntry]]


class ForwardLists:
    """A single-flight cache of the backend's forward lists, valid for ``ttl`` seconds."""

    def __init__(self, *, ttl: float) -> None:
        self.ttl = ttl
        self._entries: dict[Key, _Entry] = {}

    def drop(self) -> None:
        """Forget every cached list (after ``X-Reload``)."""
        self._entries.clear()

    async def get(self, backend: Backend, cluster: str, *,
                  credentials: Credentials) -> list[portforward.PortForwardEntry]:
        """The forwards of ``cluster`` as of at most ``ttl`` seconds ago; raises the request's error."""
        entries, _ = await self.listing(backend, cluster, credentials=credentials)
        return entries

    async def listing(self, backend: Backend, cluster: str, *,
                      credentials: Credentials) -> tuple[list[portforward.PortForwardEntry], datetime.datetime]:
        """Like :meth:`get`, with the time the list was asked for (forwards started later may be missing)."""
        # The list is backend-wide for configured clusters; a dynamic cluster is per user (kubeconfig).
        if credentials.kubeconfig is not None:
            key: Key = (cluster, credentials.user_id)
            lister = Credentials(kubeconfig=credentials.kubeconfig, user_id=credentials.user_id)
        else:
            key, lister = (cluster, None), Credentials()
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is None or now - entry.at >= self.ttl:  # a failed call also stands for its interval
            task = asyncio.ensure_future(portforward.list_port_forwards(backend, cluster, credentials=lister))
            entry = self._entries[key] = _Entry(at=now, fetched=datetime.datetime.now(datetime.UTC), task=task)
        return await asyncio.shield(entry.task), entry.fetched
