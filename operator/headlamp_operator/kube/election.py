"""Leader election on a ``coordination.k8s.io/v1`` Lease: at most one replica acts at any time.

What client-go's ``leaderelection`` does for Flux and cert-manager, with the same rules:

- a Lease is taken or renewed only by a write that carries the resourceVersion the replica read
  (an update with a precondition), so two replicas never both believe they won: one gets a 409;
- another holder's Lease counts as expired only when this replica has seen it unchanged for the
  lease duration by its own clock (no comparison of timestamps written by other machines);
- a leader that could not renew within two thirds of the duration gives up (the operator stops, and
  the Deployment restarts the process as a standby), before anyone else may take the Lease.

kopf's own peering is eventually consistent: replicas that start together could both act
(docs/operations.md#high-availability).
"""
from __future__ import annotations

import asyncio
import dataclasses
import datetime
import logging
import time
import urllib.parse
from typing import Any

from headlamp_operator.kube.api import KubeApi, KubeApiError, KubeError

logger = logging.getLogger("headlamp_operator.kube.election")


class LeadershipLost(Exception):
    """The Lease could not be renewed in time (or another replica holds it now)."""


def _micro_time(moment: datetime.datetime) -> str:
    """A ``MicroTime`` as the API server writes it (RFC 3339, microseconds, UTC)."""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclasses.dataclass(kw_only=True)
class LeaderElector:
    """Takes and holds the Lease ``namespace/name`` for ``identity``; durations in seconds."""

    name: str
    namespace: str
    identity: str
    duration: float = 15.0
    api: KubeApi  # its own session: the Lease is renewed however busy the operator's client is
    _observed: tuple[str, float] | None = None  # (resourceVersion, monotonic time first seen) of another's Lease

    @property
    def request_timeout(self) -> float:
        """Seconds one request to the API server may take: a hung call must not outlive the renewal deadline."""
        return max(1.0, self.duration / 3)

    @property
    def retry_period(self) -> float:
        """Seconds between attempts to take, or renew, the Lease."""
        return max(0.2, min(self.duration / 4, 5.0))

    @property
    def _path(self) -> str:
        namespace, name = (urllib.parse.quote(part, safe="") for part in (self.namespace, self.name))
        return f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{name}"

    async def try_acquire_or_renew(self) -> bool:
        """One attempt: True if this replica holds the Lease afterwards.

        Raises:
            KubeApiError: the API server refused a read or write (other than the 409 of a lost race).
        """
        now = _micro_time(datetime.datetime.now(datetime.UTC))
        lease: dict[str, Any] | None = await self.api.get(self._path)
        if lease is None:
            body = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                    "metadata": {"name": self.name, "namespace": self.namespace},
                    "spec": {"holderIdentity": self.identity, "acquireTime": now, "renewTime": now,
                             "leaseDurationSeconds": int(self.duration), "leaseTransitions": 0}}
            try:
                await self.api.request("POST", self._path.rsplit("/", 1)[0], body=body)
            except KubeApiError as e:
                if e.status == 409:
                    return False  # another replica created it first
                raise
            return True
        spec: dict[str, Any] = dict(lease.get("spec") or {})
        holder = spec.get("holderIdentity")
        if holder and holder != self.identity:
            version = str((lease.get("metadata") or {}).get("resourceVersion") or "")
            if self._observed is None or self._observed[0] != version:
                self._observed = (version, time.monotonic())
                return False  # it changed (renewed) since we last looked: the holder is alive
            if time.monotonic() - self._observed[1] < float(spec.get("leaseDurationSeconds") or self.duration):
                return False
            logger.info("Lease %s/%s of %s expired: taking it over", self.namespace, self.name, holder)
        if holder != self.identity:
            spec["acquireTime"] = now
            spec["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + (1 if holder else 0)
        spec.update(holderIdentity=self.identity, renewTime=now, leaseDurationSeconds=int(self.duration))
        try:  # carries the resourceVersion read: a write by anyone else in between makes it a 409
            await self.api.request("PUT", self._path, body={**lease, "spec": spec})
        except KubeApiError as e:
            if e.status == 409:
                return False  # someone wrote it meanwhile: look again next time
            raise
        self._observed = None
        return True

    async def _attempt(self) -> bool:
        try:
            async with asyncio.timeout(self.request_timeout):
                return await self.try_acquire_or_renew()
        except (KubeError, TimeoutError) as e:  # the API server is away or slow: try again
            logger.warning("Lease %s/%s: %s", self.namespace, self.name, e or type(e).__name__)
            return False

    async def acquire(self) -> None:
        """Return once this replica holds the Lease (it waits as a standby until then)."""
        logger.info("Waiting to hold the Lease %s/%s as %s (standby until then)", self.namespace, self.name,
                    self.identity)
        while not await self._attempt():  # noqa: ASYNC110 (polling the API server, as client-go does)
            await asyncio.sleep(self.retry_period)
        logger.info("Holding the Lease %s/%s as %s: this replica acts", self.namespace, self.name, self.identity)

    async def release(self) -> None:
        """Give the Lease up on a clean stop, so that a standby need not wait for it to expire."""
        try:
            async with asyncio.timeout(self.request_timeout):
                lease = await self.api.get(self._path)
                spec = dict((lease or {}).get("spec") or {})
                if lease is None or spec.get("holderIdentity") != self.identity:
                    return
                # client-go's ReleaseOnCancel: a standby takes over at once
                spec.update(holderIdentity=None, leaseDurationSeconds=1)
                await self.api.request("PUT", self._path, body={**lease, "spec": spec})
        except (KubeError, TimeoutError) as e:
            logger.warning("Lease %s/%s not released: %s", self.namespace, self.name, e or type(e).__name__)
        else:
            logger.info("Released the Lease %s/%s", self.namespace, self.name)

    async def close(self) -> None:
        """Close the client's session (after the last attempt, release or not)."""
        await self.api.close()

    async def hold(self) -> None:
        """Renew the Lease until cancelled; raise :class:`LeadershipLost` if it was not renewed in time."""
        renewed = time.monotonic()
        while True:
            await asyncio.sleep(self.retry_period)
            if await self._attempt():
                renewed = time.monotonic()
            elif time.monotonic() - renewed > self.duration * 2 / 3:
                raise LeadershipLost(f"the Lease {self.namespace}/{self.name} was not renewed for "
                                     f"{time.monotonic() - renewed:.0f}s")
