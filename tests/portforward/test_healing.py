"""How a lost forward is healed (scheduling/healing.py), without kopf: one health check's verdict against the
Headlamp emulator over HTTP, and what the backend received because of it."""
from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest

from headlamp_operator.headlamp import portforward as hp
from headlamp_operator.headlamp.backend import Backend
from headlamp_operator.reconciling import portforward, specs
from headlamp_operator.reconciling.forwardlists import ForwardLists
from headlamp_operator.scheduling import healing
from headlamp_operator.settings import BackendSettings, ReconcileSettings
from headlamp_operator.status import outcomes
from headlamp_operator.structs import Credentials, Secret
from headlamp_operator_testing.headlamp import HeadlampEmulator
from headlamp_operator_testing.process import free_port
from tests.harness.memory import TOKEN_A

SETTINGS = ReconcileSettings(backoff_min=0.2, backoff_max=2.0)
STARTS = {"method": "POST", "path": "/clusters/prod/portforward"}


def context(backend: Backend) -> portforward.Context:
    spec = specs.portforward({"cluster": "prod", "namespace": "monitoring", "pod": "grafana-0", "targetPort": "3000"})
    assert isinstance(spec, specs.PortForwardSpec)
    return portforward.Context(backend=backend, settings=SETTINGS, spec=spec, namespace="team-a", uid="uid-web",
                               credentials=Credentials(token=Secret(TOKEN_A)), lists=ForwardLists(ttl=0.0))


@pytest.fixture()
async def running(hl: HeadlampEmulator) -> AsyncIterator[tuple[portforward.Context, dict[str, Any]]]:
    """A forward the reconciler started, and the status it recorded."""
    async with Backend(BackendSettings(url=str(hl.url), request_timeout=2.0)) as backend:
        ctx = context(backend)
        started = await portforward.run(ctx)
        assert started.outcome.phase == "Running", started.outcome.message
        fields = started.outcome.fields
        # as scheduling/forwards.context builds it for a health check: what the status recorded
        yield dataclasses.replace(ctx, previous_port=fields["port"], previous_pod=fields["pod"]), \
            {"phase": "Running", "port": fields["port"], "pod": fields["pod"]}


async def test_a_forward_running_as_recorded_is_steady(
        running: tuple[portforward.Context, dict[str, Any]], hl: HeadlampEmulator) -> None:
    ctx, status = running
    before = len(hl.requests_for(**STARTS))
    assert await healing.judge(ctx, status=status) == healing.STEADY
    assert len(hl.requests_for(**STARTS)) == before


@pytest.mark.parametrize(("stop", "problem"), [
    (True, "the backend reports the forward Stopped"),
    # v0.45.0 keeps a deleted forward listed, Stopped (docs/headlamp-backend.md#stop-and-delete)
    (False, "the backend reports the forward Stopped: Port forward stopped."),
])
async def test_a_forward_the_backend_stopped_is_started_again_on_its_port(
        running: tuple[portforward.Context, dict[str, Any]], hl: HeadlampEmulator, stop: bool, problem: str) -> None:
    ctx, status = running
    await hp.stop_or_delete_port_forward(ctx.backend, "prod", ctx.id, stop=stop, credentials=ctx.credentials)
    verdict = await healing.judge(ctx, status=status)
    assert isinstance(verdict, healing.Verdict) and verdict.restarted
    outcome = verdict.result.outcome
    assert outcome.phase == "Running" and outcome.message.startswith(f"restarted ({problem}")
    assert outcome.fields["port"] == status["port"]  # the local port a user connects to is kept
    [entry] = [f for f in hl.forwards_for("prod") if f.id == ctx.id]
    assert entry.status == "Running"


async def test_a_forward_stopped_after_each_start_is_started_again_only_after_a_backoff(
        running: tuple[portforward.Context, dict[str, Any]], hl: HeadlampEmulator) -> None:
    """Past RESTARTS_TOLERATED restarts that did not last, no start now: the status says why, the retry waits."""
    ctx, status = running
    await hp.stop_or_delete_port_forward(ctx.backend, "prod", ctx.id, stop=True, credentials=ctx.credentials)
    before = len(hl.requests_for(**STARTS))
    verdict = await healing.judge(ctx, status=status, restarts=healing.RESTARTS_TOLERATED)
    assert isinstance(verdict, healing.Verdict) and verdict.restarted and verdict.result.transient
    assert verdict.result.retry_in == outcomes.delay(SETTINGS, 0)
    assert (verdict.result.outcome.phase, verdict.result.outcome.reason) == ("Pending", "Stopped")
    assert f"after each of its last {healing.RESTARTS_TOLERATED} starts" in verdict.result.outcome.message
    assert len(hl.requests_for(**STARTS)) == before


async def test_a_list_that_failed_says_nothing_of_the_forward() -> None:
    """No answer: the forward is looked at again with backoff, never failed or restarted for it."""
    async with Backend(BackendSettings(url=f"http://127.0.0.1:{free_port()}", request_timeout=1.0)) as backend:
        verdict = await healing.judge(context(backend), status={"phase": "Running", "port": "8080"}, attempt=1)
    assert isinstance(verdict, healing.Verdict)
    assert verdict.check and not verdict.synced and not verdict.restarted
    assert verdict.result.outcome.phase == "Pending" and verdict.result.retry_in == outcomes.delay(SETTINGS, 1)
