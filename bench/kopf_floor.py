"""The kopf floor: the least a kopf operator can do for the burst, to tell kopf's cost from ours.

One ``on.create`` handler for both kinds makes the floor's Headlamp call (:func:`bench.floor.headlamp_call`)
and puts the floor's status into kopf's patch; kopf writes it, with its own state in status.kopf as
our operator's settings have it. No finalizer, no event, no timer, no credentials, no discovery,
no validation. The bench runs it as a process, as it runs the operator::

    python -m kopf run --standalone --all-namespaces --liveness URL -m bench.kopf_floor

with ``KUBECONFIG`` and ``HEADLAMP_URL`` in the environment.
"""
from __future__ import annotations

import os
from typing import Any

import aiohttp
import kopf

from bench import floor, workload

_sessions: list[aiohttp.ClientSession] = []


@kopf.on.startup()
async def startup(settings: kopf.OperatorSettings, **_: Any) -> None:
    """kopf's state in the status (one write per resource, as in the operator); no events."""
    settings.persistence.progress_storage = kopf.StatusProgressStorage(name="kopf")
    settings.persistence.diffbase_storage = kopf.StatusDiffBaseStorage(name="kopf")
    settings.posting.enabled = False
    _sessions.append(aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=32)))


@kopf.on.cleanup()
async def cleanup(**_: Any) -> None:
    """Close the shared session."""
    while _sessions:
        await _sessions.pop().close()


def _item(body: kopf.Body) -> workload.Item:
    name = str(body["metadata"]["name"])
    return workload.Item(body["kind"], body["metadata"]["namespace"], name, int(name.rsplit("-", 1)[1]))


@kopf.on.create(workload.GROUP, workload.VERSION, workload.PLURALS["PortForward"])
@kopf.on.create(workload.GROUP, workload.VERSION, workload.PLURALS["ResourcePatch"])
async def create(body: kopf.Body, patch: kopf.Patch, **_: Any) -> None:
    """The one Headlamp call, and the status kopf then writes."""
    errors: list[str] = []
    item = _item(body)
    answer = await floor.headlamp_call(_sessions[0], os.environ["HEADLAMP_URL"].rstrip("/"), item, errors=errors)
    if errors:
        raise kopf.TemporaryError(errors[0], delay=1)
    patch.status.update(floor.status(item, answer))
