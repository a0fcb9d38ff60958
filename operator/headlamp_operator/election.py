"""Leader election on a ``coordination.k8s.io/v1`` Lease: at most one replica acts at any time.

What client-go's ``leaderelection`` does for Flux and cert-manager, with the same rules:

- a Lease is taken or renewed only by a write that carries the resourceVersion the replica read
  (an update with a precondition), so two replicas never both believe they won: one gets a 409;
- another holder's Lease counts as expired only when this replica has seen it unchanged for the
  lease duration by its own clock (no comparison of timestamps written by other machines);
- a leader that could not renew within two thirds of the duration gives up (the operator stops, and
  the Deployment restarts the process as a standby), before anyone else may take the Lease.

kopf's own peering is eventually consistent: replicas that start together could both act (SPEC 8).
"""
from __future__ import annotations

import asyncio
import dataclasses
import datetime
import logging
import time

import urllib3
from kubernetes import client
from kubernetes.client.exceptions import ApiException

logger = logging.getLogger("headlamp_operator.election")


class LeadershipLost(Exception):
    """The Lease could not be renewed in time (or another replica holds it now)."""


@dataclasses.dataclass(kw_only=True)
class LeaderElector:
    """Takes and holds the Lease ``namespace/name`` for ``identity``; durations in seconds."""

    name: str
    namespace: str
    identity: str
    duration: float = 15.0
    _observed: tuple[str, float] | None = None  # (resourceVersion, monotonic time first seen) of another's Lease
    _api: client.CoordinationV1Api | None = None

    @property
    def request_timeout(self) -> float:
        """Seconds one request to the API server may take: a hung call must not outlive the renewal deadline."""
        return max(1.0, self.duration / 3)

    @property
    def retry_period(self) -> float:
        """Seconds between attempts to take, or renew, the Lease."""
        return max(0.2, min(self.duration / 4, 5.0))

    def _coordination(self) -> client.CoordinationV1Api:
        if self._api is None:
            self._api = client.CoordinationV1Api()
        return self._api

    def try_acquire_or_renew(self) -> bool:
        """One attempt (blocking): True if this replica holds the Lease afterwards."""
        api = self._coordination()
        now = datetime.datetime.now(datetime.UTC)
        try:
            lease = api.read_namespaced_lease(self.name, self.namespace, _request_timeout=self.request_timeout)
        except ApiException as e:
            if e.status != 404:
                raise
            body = client.V1Lease(metadata=client.V1ObjectMeta(name=self.name, namespace=self.namespace),
                                  spec=client.V1LeaseSpec(holder_identity=self.identity, acquire_time=now,
                                                          renew_time=now, lease_duration_seconds=int(self.duration),
                                                          lease_transitions=0))
            try:
                api.create_namespaced_lease(self.namespace, body, _request_timeout=self.request_timeout)
            except ApiException as e2:
                if e2.status == 409:
                    return False  # another replica created it first
                raise
            return True
        spec = lease.spec or client.V1LeaseSpec()
        holder = spec.holder_identity
        if holder and holder != self.identity:
            version = str(lease.metadata.resource_version if lease.metadata else "")
            if self._observed is None or self._observed[0] != version:
                self._observed = (version, time.monotonic())
                return False  # it changed (renewed) since we last looked: the holder is alive
            if time.monotonic() - self._observed[1] < (spec.lease_duration_seconds or self.duration):
                return False
            logger.info("Lease %s/%s of %s expired: taking it over", self.namespace, self.name, holder)
        if holder != self.identity:
            spec.acquire_time = now
            spec.lease_transitions = (spec.lease_transitions or 0) + (1 if holder else 0)
        spec.holder_identity = self.identity
        spec.renew_time = now
        spec.lease_duration_seconds = int(self.duration)
        lease.spec = spec
        try:
            # carries the resourceVersion read: a write by anyone else in between makes it a 409
            api.replace_namespaced_lease(self.name, self.namespace, lease, _request_timeout=self.request_timeout)
        except ApiException as e:
            if e.status == 409:
                return False  # someone wrote it meanwhile: look again next time
            raise
        self._observed = None
        return True

    async def _attempt(self) -> bool:
        try:
            return await asyncio.to_thread(self.try_acquire_or_renew)
        except (ApiException, OSError, urllib3.exceptions.HTTPError) as e:  # the API server is away or slow: again
            logger.warning("Lease %s/%s: %s", self.namespace, self.name, getattr(e, "reason", None) or e)
            return False

    async def acquire(self) -> None:
        """Return once this replica holds the Lease (it waits as a standby until then)."""
        logger.info("Waiting to hold the Lease %s/%s as %s (standby until then)", self.namespace, self.name,
                    self.identity)
        while not await self._attempt():  # noqa: ASYNC110 (polling the API server, as client-go does)
            await asyncio.sleep(self.retry_period)
        logger.info("Holding the Lease %s/%s as %s: this replica acts", self.namespace, self.name, self.identity)

    def _release(self) -> None:
        api = self._coordination()
        lease = api.read_namespaced_lease(self.name, self.namespace, _request_timeout=self.request_timeout)
        if lease.spec is None or lease.spec.holder_identity != self.identity:
            return
        lease.spec.holder_identity = None  # client-go's ReleaseOnCancel: a standby takes over at once
        lease.spec.lease_duration_seconds = 1
        api.replace_namespaced_lease(self.name, self.namespace, lease, _request_timeout=self.request_timeout)

    async def release(self) -> None:
        """Give the Lease up on a clean stop, so that a standby need not wait for it to expire."""
        try:
            await asyncio.to_thread(self._release)
        except (ApiException, OSError, urllib3.exceptions.HTTPError) as e:
            logger.warning("Lease %s/%s not released: %s", self.namespace, self.name, getattr(e, "reason", None) or e)
        else:
            logger.info("Released the Lease %s/%s", self.namespace, self.name)

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
