"""One ``portforward/list`` call per cluster per sync interval, shared by every PortForward of that cluster.

Health checks of all resources ask this cache; the first caller in an interval makes the request,
concurrent and later callers in the same interval get its answer. A failed request stands for its
interval too (a negative cache): a backend in trouble is asked once per interval, not once per
resource. The work per resource does not grow with the number of resources; the requests grow with
the number of clusters.

While the backend's answer is the same, each new :class:`Listing` holds the same ``by_id`` object
(the same bytes are not even parsed again; Headlamp lists from a Go map, so the same entries may come
in another order, and compare equal): the scheduler passes over a forward it found steady in that
very object with one identity test: idle work that barely grows with resources.
"""
from __future__ import annotations

import dataclasses
import datetime

from headlamp_operator.headlamp import portforward
from headlamp_operator.headlamp.backend import Backend
from headlamp_operator.headlamp.cache import FlightCache
from headlamp_operator.settings import MAX_CACHED
from headlamp_operator.structs import Credentials

Key = tuple[str, str | None]  # (cluster, dynamic-cluster user id)
ById = dict[str, portforward.PortForwardEntry]


@dataclasses.dataclass(frozen=True, slots=True)
class Listing:
    """The backend's forwards of a cluster, by id (each health check looks one up), and when they were asked for."""

    by_id: ById  # the same object while the backend's answer is the same
    fetched: datetime.datetime  # forwards started after this may be missing from it


class ForwardLists:
    """A single-flight cache of the backend's forward lists, valid for ``ttl`` seconds, failures included."""

    def __init__(self, *, ttl: float, max_size: int = MAX_CACHED) -> None:
        self._cache: FlightCache[Key, Listing] = FlightCache(ttl=ttl, failure_ttl=ttl, max_size=max_size)
        self._answers: dict[Key, tuple[portforward.PortForwardList, ById]] = {}  # the last answer per key
        self._max_size = max_size

    @property
    def ttl(self) -> float:
        """How long, in seconds from the request, a list (or its failure) is shared."""
        return self._cache.ttl

    def drop(self) -> None:
        """Forget every cached list (after ``X-Reload``)."""
        self._cache.clear()
        self._answers.clear()

    async def listing(self, backend: Backend, cluster: str, *, credentials: Credentials,
                      since: float | None = None) -> Listing:
        """The forwards of ``cluster`` as of at most ``ttl`` seconds ago (and not before ``since``, monotonic
        seconds, when given: a retry wants an answer newer than the failure it retries); raises the request's error."""
        # The list is backend-wide for configured clusters; a dynamic cluster is per user (kubeconfig).
        if credentials.kubeconfig is not None:
            key: Key = (cluster, credentials.user_id)
            lister = Credentials(kubeconfig=credentials.kubeconfig, user_id=credentials.user_id)
        else:
            key, lister = (cluster, None), Credentials()

        async def load() -> Listing:
            fetched = datetime.datetime.now(datetime.UTC)  # when the request is sent
            before = self._answers.pop(key, None)
            answer = await portforward.read_port_forward_list(backend, cluster, credentials=lister,
                                                              previous=before[0] if before else None)
            if before is not None and answer is before[0]:  # the same bytes: the same entries, not parsed again
                by_id = before[1]
            else:
                # v0.45.0 lists the forwards of every cluster whose name starts with this one's: only its own count.
                by_id = {str(entry.get("id")): entry for entry in answer.entries
                         if str(entry.get("cluster") or cluster) == cluster}
                if before is not None and by_id == before[1]:
                    by_id = before[1]  # the same entries in another order (Headlamp lists a Go map)
            self._answers[key] = (answer, by_id)
            while len(self._answers) > self._max_size:
                del self._answers[next(iter(self._answers))]
            return Listing(by_id=by_id, fetched=fetched)

        return await self._cache.get(key, load, since=since)
