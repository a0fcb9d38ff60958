"""What a result becomes on the resource (status/report.py), without kopf: the status, when it is written, its Event."""
from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import kmock
import kopf
import pytest

from headlamp_operator.kube.api import KubeApi
from headlamp_operator.kube.events import EventRecorder
from headlamp_operator.settings import ReconcileSettings
from headlamp_operator.status import outcomes, report
from headlamp_operator.status.outcomes import Result
from headlamp_operator.status.render import Outcome
from headlamp_operator_testing.kopf_harness import wait_until
from headlamp_operator_testing.kubernetes import KubernetesEmulator

Kube = tuple[KubernetesEmulator, kmock.Server]
Recorded = tuple[EventRecorder, KubernetesEmulator]


def resource(status: dict[str, Any] | None = None, *, generation: int = 2, **annotations: str) -> dict[str, Any]:
    return {"apiVersion": "headlamp-operator.dev/v1alpha1", "kind": "PortForward",
            "metadata": {"name": "web", "namespace": "team-a", "uid": "uid-web", "generation": generation,
                         "annotations": annotations},
            "status": status or {}}


RUNNING = Result(outcome=Outcome(phase="Running", reason="Started", message="forwarding localhost:8080 -> web:80",
                                 fields={"id": "fwd", "port": "8080"}))


@pytest.fixture()
async def events(kube: Kube) -> AsyncIterator[tuple[EventRecorder, KubernetesEmulator]]:
    emulator, server = kube
    emulator.create_object("", "v1", "namespaces", None, {"metadata": {"name": "team-a"}})
    api = KubeApi(lambda: kopf.ConnectionInfo(server=str(server.url).rstrip("/")))
    recorder = EventRecorder(api)
    yield recorder, emulator
    await recorder.aclose()
    await api.close()


async def test_a_new_phase_is_a_status_and_one_event(events: Recorded) -> None:
    recorder, emulator = events
    new = report.status_update(resource({"phase": "Pending"}), RUNNING, events=recorder)
    assert new is not None
    assert (new["phase"], new["reason"], new["observedGeneration"], new["port"]) == ("Running", "Started", 2, "8080")
    [event] = await wait_until(lambda: emulator.events("team-a"), within=5)
    assert (event["type"], event["reason"], event["message"]) == ("Normal", "Started", RUNNING.outcome.message)


async def test_the_same_outcome_again_writes_nothing(events: Recorded) -> None:
    """Quiet when idle: the status as it is needs no write, and no Event says it again."""
    recorder, emulator = events
    first = report.status_update(resource(), RUNNING, events=recorder)
    assert first is not None
    await wait_until(lambda: len(emulator.events("team-a")) == 1, within=5)
    assert report.status_update(resource(first), RUNNING, events=recorder) is None
    again = report.status_update(resource(first), RUNNING, events=recorder, time_field="lastSyncTime")
    assert again is not None and "lastSyncTime" in again  # a sync is recorded when asked for: it is news
    await recorder.aclose()
    assert len(emulator.events("team-a")) == 1


async def test_a_transient_failure_is_a_warning_with_its_retry(events: Recorded) -> None:
    recorder, emulator = events
    result = outcomes.retrying("the backend did not answer", reason="Unreachable", settings=ReconcileSettings(),
                               attempt=0)
    new = report.status_update(resource({"phase": "Running"}), result, events=recorder)
    assert new is not None and new["phase"] == "Pending" and result.retry_in == 1.0
    assert "retrying in 1s" in new["message"]
    [event] = await wait_until(lambda: emulator.events("team-a"), within=5)
    assert (event["type"], event["reason"]) == ("Warning", "Unreachable")


def test_a_retry_request_is_recorded_once() -> None:
    """Flux's convention: the requestedAt value acted on becomes ``lastHandledReconcileAt``, once."""
    key = report.REQUESTED_AT
    assert report.handled_request(resource(**{key: "2026-12-07T05:00:00Z"})) == "2026-12-07T05:00:00Z"
    handled = resource({"lastHandledReconcileAt": "2026-12-07T05:00:00Z"}, **{key: "2026-12-07T05:00:00Z"})
    assert report.handled_request(handled) is None
    assert report.handled_request(resource()) is None


def test_a_status_of_an_older_generation_is_stale() -> None:
    assert report.stale(resource({"observedGeneration": 1}, generation=2))
    assert report.stale(resource({}, generation=2))  # wiped by hand: the outcome was lost
    assert not report.stale(resource({"observedGeneration": 2}, generation=2))
    assert report.stale_filter(resource({"observedGeneration": 1}), type="resume")
