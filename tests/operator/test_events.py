"""The operator's Events: posted in the background over its own session, as the API server wants them."""
from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import AsyncIterator
from typing import Any

import kmock
import kopf
import pytest

from headlamp_operator.kube import api as kubeapi
from headlamp_operator.kube import events
from headlamp_operator_testing.kopf_harness import wait_until
from headlamp_operator_testing.kubernetes import KubernetesEmulator

Kube = tuple[KubernetesEmulator, kmock.Server]
SOURCE = events.EventSource(component="headlamp-operator", instance="pod-1", name_prefix="headlamp-operator-")


def portforward(name: str, namespace: str = "team-a") -> dict[str, Any]:
    return {"apiVersion": "headlamp-operator.dev/v1alpha1", "kind": "PortForward",
            "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{name}", "generation": 1}}


@pytest.fixture()
async def api(kube: Kube) -> AsyncIterator[kubeapi.KubeApi]:
    emulator, server = kube
    for namespace in ("team-a", "team-b"):
        emulator.create_object("", "v1", "namespaces", None, {"metadata": {"name": namespace}})
    api = kubeapi.KubeApi(lambda: kopf.ConnectionInfo(server=str(server.url).rstrip("/")))
    yield api
    await api.close()


def posted(emulator: KubernetesEmulator, namespace: str) -> list[str]:
    """The paths of the Event POSTs the emulator answered for ``namespace``, in order."""
    return [r.url.path for r in emulator.answered
            if r.method == "POST" and r.url.path == f"/api/v1/namespaces/{namespace}/events"]


async def test_an_event_is_posted_as_recorded(kube: Kube, api: kubeapi.KubeApi) -> None:
    emulator, _ = kube
    recorder = events.EventRecorder(api, source=SOURCE)
    before = datetime.datetime.now(datetime.UTC)
    recorder.record(portforward("web"), type="Normal", reason="Started", message="forward 8080 -> web:80")
    [event] = await wait_until(lambda: emulator.events("team-a"), within=5)
    await recorder.aclose()
    assert event["metadata"]["name"].startswith("headlamp-operator-")
    assert event["involvedObject"] == {"apiVersion": "headlamp-operator.dev/v1alpha1", "kind": "PortForward",
                                       "namespace": "team-a", "name": "web", "uid": "uid-web"}
    assert (event["type"], event["reason"], event["message"], event["action"]) == (
        "Normal", "Started", "forward 8080 -> web:80", "Reconcile")
    assert (event["source"], event["reportingComponent"], event["reportingInstance"]) == (
        {"component": "headlamp-operator"}, "headlamp-operator", "pod-1")
    stamped = datetime.datetime.fromisoformat(event["eventTime"])
    assert before <= stamped <= datetime.datetime.now(datetime.UTC)
    assert event["firstTimestamp"] == event["lastTimestamp"] == event["eventTime"]


async def test_a_long_message_is_cut_in_the_middle(kube: Kube, api: kubeapi.KubeApi) -> None:
    emulator, _ = kube
    recorder = events.EventRecorder(api, source=SOURCE)
    message = "start-" + "x" * 3000 + "-end"
    recorder.record(portforward("web"), type="Warning", reason="Failed", message=message)
    await recorder.aclose()
    [event] = emulator.events("team-a")
    assert len(event["message"]) == events.MAX_MESSAGE_LENGTH
    assert event["message"].startswith("start-x") and event["message"].endswith("x-end") and "..." in event["message"]


async def test_a_refused_event_is_logged_and_the_others_still_go(
        kube: Kube, api: kubeapi.KubeApi, caplog: pytest.LogCaptureFixture) -> None:
    emulator, _ = kube
    emulator["post /api/v1/namespaces/team-b/events"] << 403
    recorder = events.EventRecorder(api, source=SOURCE, workers=1)
    with caplog.at_level(logging.WARNING, logger="headlamp_operator.kube.events"):
        recorder.record(portforward("api", "team-b"), type="Warning", reason="Failed", message="refused")
        recorder.record(portforward("web"), type="Normal", reason="Started", message="ok")
        await recorder.aclose()
    assert len(posted(emulator, "team-b")) == 1  # a 403 is not tried again
    assert [e["reason"] for e in emulator.events("team-a")] == ["Started"]
    assert "posting the Event Warning Failed for team-b/api failed: 403" in caplog.text


async def test_an_unavailable_api_server_is_tried_three_times(
        kube: Kube, api: kubeapi.KubeApi, caplog: pytest.LogCaptureFixture) -> None:
    emulator, _ = kube
    emulator["post /api/v1/namespaces/team-b/events"] << 503
    recorder = events.EventRecorder(api, source=SOURCE, retry_delays=(0.01, 0.01))
    with caplog.at_level(logging.WARNING, logger="headlamp_operator.kube.events"):
        recorder.record(portforward("api", "team-b"), type="Normal", reason="Started", message="ok")
        await recorder.aclose()
    assert len(posted(emulator, "team-b")) == 3
    assert "failed: 503" in caplog.text


async def test_a_full_queue_drops_and_says_so_once(
        kube: Kube, api: kubeapi.KubeApi, caplog: pytest.LogCaptureFixture) -> None:
    emulator, _ = kube
    recorder = events.EventRecorder(api, source=SOURCE, capacity=2)
    with caplog.at_level(logging.WARNING, logger="headlamp_operator.kube.events"):
        for name in ("a", "b", "c", "d"):  # no await in between: the workers have not taken any yet
            recorder.record(portforward(name), type="Normal", reason="Started", message="ok")
        await recorder.aclose()
    assert sorted(e["involvedObject"]["name"] for e in emulator.events("team-a")) == ["a", "b"]
    assert caplog.text.count("Events are queued faster than the API server takes them") == 1


async def test_nothing_is_posted_once_closed(kube: Kube, api: kubeapi.KubeApi) -> None:
    emulator, _ = kube
    recorder = events.EventRecorder(api, source=SOURCE)
    recorder.record(portforward("web"), type="Normal", reason="Started", message="before")
    await recorder.aclose()
    recorder.record(portforward("web"), type="Normal", reason="Stopped", message="after")  # a handler late at exit
    await recorder.aclose()
    assert [e["message"] for e in emulator.events("team-a")] == ["before"]
    assert posted(emulator, "team-a") == ["/api/v1/namespaces/team-a/events"]


async def test_a_posting_task_outlives_a_failure_of_another_kind(caplog: pytest.LogCaptureFixture) -> None:
    def no_login() -> kopf.ConnectionInfo:
        raise kopf.LoginError("no credentials")

    api = kubeapi.KubeApi(no_login)
    recorder = events.EventRecorder(api, source=SOURCE, workers=1)
    with caplog.at_level(logging.WARNING, logger="headlamp_operator.kube.events"):
        for name in ("a", "b", "c"):
            recorder.record(portforward(name), type="Normal", reason="Started", message="ok")
        await recorder.aclose()
    await api.close()
    assert [r.getMessage() for r in caplog.records] == [
        f"posting the Event Normal Started for team-a/{name} failed" for name in ("a", "b", "c")]


async def test_events_wait_for_a_quiet_moment_or_their_longest_delay(kube: Kube, api: kubeapi.KubeApi) -> None:
    emulator, _ = kube
    recorder = events.EventRecorder(api, source=SOURCE, settle=0.2, max_delay=0.6)
    recorder.record(portforward("first"), type="Normal", reason="Started", message="ok")
    for name in ("a", "b", "c", "d"):  # a burst: another Event every 0.1 s, never 0.2 s of quiet
        await asyncio.sleep(0.1)
        recorder.record(portforward(name), type="Normal", reason="Started", message="ok")
    assert emulator.events("team-a") == []  # the burst goes first
    first = await wait_until(lambda: emulator.events("team-a"), within=2)  # the first, after its longest delay
    assert first[0]["involvedObject"]["name"] == "first"
    await wait_until(lambda: len(emulator.events("team-a")) == 5, within=2)  # the rest once it is quiet
    await recorder.aclose()


async def test_closing_posts_the_queued_events_without_waiting(kube: Kube, api: kubeapi.KubeApi) -> None:
    emulator, _ = kube
    recorder = events.EventRecorder(api, source=SOURCE, settle=30.0, max_delay=60.0)
    recorder.record(portforward("web"), type="Normal", reason="Started", message="ok")
    await asyncio.sleep(0)
    await asyncio.wait_for(recorder.aclose(), timeout=2)
    assert [e["involvedObject"]["name"] for e in emulator.events("team-a")] == ["web"]


async def test_one_objects_events_are_posted_in_the_order_recorded(kube: Kube, api: kubeapi.KubeApi) -> None:
    emulator, _ = kube
    recorder = events.EventRecorder(api, source=SOURCE, workers=4, settle=0.05)
    reasons = ["Started", "Stopped", "Started", "Stopped", "Started"]
    for reason in reasons:  # all waiting for the same quiet moment, then posted together
        recorder.record(portforward("web"), type="Normal", reason=reason, message="ok")
        recorder.record(portforward("api"), type="Normal", reason=reason, message="ok")
    await wait_until(lambda: len(emulator.events("team-a")) == 10, within=5)
    await recorder.aclose()
    for name in ("web", "api"):
        assert [e["reason"] for e in emulator.events("team-a") if e["involvedObject"]["name"] == name] == reasons
