"""The PortForward health pass: every ``HEADLAMP_SYNC_INTERVAL`` seconds, one look at every known forward; and the
task that runs it beside the PortForwards' retries (:func:`start`).

docs/portforward.md#health-and-self-healing: one ``portforward/list`` request per cluster and interval refreshes
every Running forward; a forward the list shows as recorded is passed over (:func:`healing.steady`), any other is
looked at (:func:`healing.tick`, which says how it is healed). Pending forwards are not the pass's business: each
has a retry scheduled (:mod:`~headlamp_operator.scheduling.retries`).
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

from headlamp_operator import crds
from headlamp_operator.headlamp import errors
from headlamp_operator.reconciling import specs
from headlamp_operator.scheduling import forwards, healing, podwatch
from headlamp_operator.scheduling import state as rt
from headlamp_operator.scheduling.retries import Retries, Retry
from headlamp_operator.status import outcomes
from headlamp_operator.status.write import StatusWriter
from headlamp_operator.structs import ANONYMOUS

logger = logging.getLogger("headlamp_operator.portforwards")

LIST_FAILURES_TOLERATED = 2  # passes in a row a configured cluster's list may fail before its forwards report it


def _steady(runtime: rt.Runtime, uid: str, tracked: rt.TrackedForward, by_id: Mapping[str, Any]) -> bool:
    """The shared list shows the forward as recorded: nothing to do (see :func:`healing.steady`).

    Found steady in this very ``by_id`` before (the backend's answer unchanged since), it still is:
    one identity test, so a pass over thousands of idle forwards costs next to nothing.
    """
    if tracked.steady_in is by_id:
        return True
    spec = tracked.spec
    if not isinstance(spec, specs.PortForwardSpec) or forwards.retries(runtime).get(uid) is not None \
            or not healing.steady(spec, tracked.body["status"], uid=uid, by_id=by_id):
        return False
    tracked.steady_in = by_id
    runtime.restarts.pop(uid, None)  # it lasted a health check
    return True


async def _tick_all(runtime: rt.Runtime, batch: list[tuple[str, rt.TrackedForward]],
                    by_id: Mapping[str, Any] | None, write_status: StatusWriter) -> bool:
    """One cluster's forwards that need a look, one after the other: a steady one is passed over, others ticked.

    Returns whether every one of them was found steady.
    """
    all_steady = True
    for uid, tracked in batch:
        metadata = tracked.body["metadata"]
        try:
            if tracked.listed and by_id is not None and _steady(runtime, uid, tracked, by_id):
                continue
            all_steady = False
            verdict = await healing.tick(runtime, uid, tracked)
            if verdict is not None:
                await healing.record(runtime, uid, tracked, verdict, write_status=write_status, attempt=0)
        except Exception:  # one resource's trouble never stops the others' checks
            all_steady = False
            logger.exception("PortForward %s/%s: health check failed", metadata["namespace"], metadata["name"])
    return all_steady


async def _listed(runtime: rt.Runtime, cluster: str) -> Mapping[str, Any] | errors.ApiError:
    """A configured cluster's forwards by id (the backend's list, asked for without credentials), or its error."""
    try:
        return (await runtime.lists.listing(runtime.open_backend, cluster, credentials=ANONYMOUS)).by_id
    except errors.ApiError as e:
        return e


@dataclasses.dataclass
class Pass:
    """What the last health-check pass derived from the table of forwards (rebuilt when its version changes)."""

    version: int = -1
    forwards: list[tuple[str, rt.TrackedForward]] = dataclasses.field(default_factory=list)
    clusters: list[str] = dataclasses.field(default_factory=list)  # the configured ones: each has one list
    secrets: set[tuple[str, str]] = dataclasses.field(default_factory=set)  # (namespace, name)
    lists: dict[str, Mapping[str, Any] | None] = dataclasses.field(default_factory=dict)  # cluster -> by_id
    all_steady: bool = False  # every forward was found steady in ``lists``
    failures: dict[str, int] = dataclasses.field(default_factory=dict)  # cluster -> its list's failures in a row


def _note_failures(last: Pass, answers: Mapping[str, Mapping[str, Any] | errors.ApiError]) -> set[str]:
    """Count each configured cluster's failed lists in a row; the clusters whose forwards wait for the next pass.

    A list the backend failed says nothing about the forwards in it: taken as each forward's failure,
    one 503 would flip every Running forward to Pending and back, two status writes and two Events
    each. The forwards keep their status, and are
    checked one by one (and report the failure) once the list failed more than
    :data:`LIST_FAILURES_TOLERATED` passes in a row, as a probe's ``failureThreshold`` does.
    """
    waiting = set()
    for cluster, answer in answers.items():
        if not isinstance(answer, errors.ApiError):
            if last.failures.pop(cluster, 0):
                logger.info("PortForward health checks: the backend lists cluster %s again", cluster)
            continue
        failures = last.failures[cluster] = last.failures.get(cluster, 0) + 1
        if failures <= LIST_FAILURES_TOLERATED:
            waiting.add(cluster)
        if failures in (1, LIST_FAILURES_TOLERATED + 1):
            logger.warning("PortForward health checks: the backend's list of cluster %s failed (%s); %s", cluster,
                           answer, "its forwards keep their status for now" if failures == 1 else
                           f"{failures} times in a row: its forwards report it")
    return waiting


async def check_all(runtime: rt.Runtime, write_status: StatusWriter, last: Pass) -> None:
    """One health-check pass over every known PortForward (docs/portforward.md#health-and-self-healing), the clusters
    side by side; updates ``last``.

    A configured cluster's list is asked for once (a dynamic cluster's is per user: the full check of
    each of its forwards loads its credentials). A forward found steady in the very list it was found
    steady in before (the backend's answer unchanged, :class:`ForwardLists`) is passed over; when no
    forward changed and no list did since a pass that found every forward steady, the pass is the list
    requests and the Secret reads, however many forwards there are. The others are looked at one
    after the other per cluster, a slow cluster not holding up the rest. A cluster whose list failed
    leaves its forwards for the next pass, up to :data:`LIST_FAILURES_TOLERATED` passes (:func:`_note_failures`).
    """
    table = runtime.forwards
    if last.version != table.version:
        last.version, last.forwards = table.version, table.items()
        last.clusters = list({tracked.cluster for _, tracked in last.forwards if tracked.listed})
        last.secrets = set().union(*(tracked.secrets for _, tracked in last.forwards))
        last.all_steady = False
    answered = dict(zip(last.clusters, await asyncio.gather(*(_listed(runtime, cluster) for cluster in last.clusters)),
                        strict=True))
    lists = {cluster: None if isinstance(answer, errors.ApiError) else answer for cluster, answer in answered.items()}
    waiting = _note_failures(last, answered)
    if not (last.all_steady and all(lists[cluster] is last.lists.get(cluster) for cluster in lists)):
        version, unsettled = last.version, dict[str, list[tuple[str, rt.TrackedForward]]]()
        for uid, tracked in [(uid, tracked) for uid, tracked in last.forwards
                             if tracked.steady_in is None or tracked.steady_in is not lists.get(tracked.cluster)]:
            if not (tracked.listed and tracked.cluster in waiting):
                unsettled.setdefault(tracked.cluster, []).append((uid, tracked))
        steady = await asyncio.gather(*(_tick_all(runtime, batch, lists.get(cluster), write_status)
                                        for cluster, batch in unsettled.items()))
        # (a forward tracked meanwhile, or a cluster's forwards left for a list that failed: look again)
        last.all_steady = all(steady) and table.version == version and not waiting
    last.lists = lists
    # The forwards' Secrets are read, each once per interval however many use it (many of them are
    # cached reads of this pass): a rotated token is noticed, and what the old one left in the
    # request layer goes (SecretReader.on_change).
    for namespace, name in last.secrets:
        try:
            await runtime.read_secret(namespace, name)
        except Exception as e:  # the forwards using it report it when they next need it
            logger.warning("reading Secret %s/%s for the health checks failed: %s", namespace, name, e)


async def schedule(runtime: rt.Runtime, write_status: StatusWriter) -> None:
    """Every ``HEADLAMP_SYNC_INTERVAL`` seconds, :func:`check_all`; runs until cancelled."""
    last = Pass()
    while True:
        await asyncio.sleep(runtime.settings.reconcile.sync_interval)
        await check_all(runtime, write_status, last)


def start(runtime: rt.Runtime) -> None:
    """Start the health pass, the retries and the pod watches of PortForwards, one task (once: the first handler
    to run starts them)."""
    if runtime.forward_scheduler is not None and not runtime.forward_scheduler.done():
        return
    writer = StatusWriter(runtime.kube, crds.GROUP, crds.VERSION)
    settings = runtime.settings.reconcile

    async def run(uid: str, due: Retry) -> None:
        await healing.retry(runtime, uid, due, write_status=writer)

    retries = runtime.forward_retries = Retries(run, backoff=lambda attempt: outcomes.delay(settings, attempt),
                                                name="PortForward")
    watches = runtime.pod_watches = podwatch.PodWatches(runtime)

    async def serve() -> None:
        await asyncio.gather(schedule(runtime, writer), retries.serve(), watches.serve())

    runtime.forward_scheduler = asyncio.create_task(serve(), name="PortForward health checks and retries")
