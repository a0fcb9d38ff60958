"""The port-forward calls against the emulator: echo, the inverted stop/delete flag, answers and errors."""
from __future__ import annotations

import contextlib
import socket

import pytest

from headlamp_operator.headlamp import errors, portforward
from headlamp_operator.headlamp.backend import Backend
from headlamp_operator_testing.headlamp import HeadlampEmulator

FORWARD = {"namespace": "monitoring", "pod": "grafana-0", "target_port": "3000"}


async def test_start_echoes_the_request_with_id_and_port_filled(hl: HeadlampEmulator, backend: Backend) -> None:
    answer = await portforward.start_port_forward(backend, "prod", service="grafana",
                                                  service_namespace="monitoring", address="127.0.0.1", **FORWARD)
    assert answer["id"]  # a new id from the backend
    assert answer["port"].isdigit() and 0 < int(answer["port"]) < 65536
    assert answer["pod"] == "grafana-0" and answer["namespace"] == "monitoring"
    assert answer["targetPort"] == "3000" and answer["service"] == "grafana"
    [start] = hl.requests
    assert start.json == {"id": "", "namespace": "monitoring", "pod": "grafana-0", "service": "grafana",
                          "serviceNamespace": "monitoring", "targetPort": "3000", "port": "",
                          "address": "127.0.0.1"}


async def test_start_with_our_id_and_port(backend: Backend) -> None:
    with socket.socket() as probe:  # a port nothing else on this machine holds right now
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    answer = await portforward.start_port_forward(backend, "prod", id="my-id", port=port, **FORWARD)
    assert answer["id"] == "my-id"
    assert answer["port"] == port


async def test_stop_sends_true_and_keeps_the_entry_stopped(hl: HeadlampEmulator, backend: Backend) -> None:
    await portforward.start_port_forward(backend, "prod", id="pf-1", **FORWARD)
    text = await portforward.stop_or_delete_port_forward(backend, "prod", "pf-1")  # stop=True by default
    assert text.strip() == "stopped"
    assert hl.requests[-1].method == "DELETE"
    assert hl.requests[-1].json == {"id": "pf-1", "stopOrDelete": True, "action": "stop"}
    [entry] = await portforward.list_port_forwards(backend, "prod")
    assert entry["id"] == "pf-1" and entry["status"] == "Stopped"


async def test_delete_sends_false(hl: HeadlampEmulator, backend: Backend) -> None:
    """A delete; v0.45.0 may list the entry again once, Stopped (#7389): the operator deletes it again."""
    await portforward.start_port_forward(backend, "prod", id="pf-1", **FORWARD)
    text = await portforward.stop_or_delete_port_forward(backend, "prod", "pf-1", stop=False)
    assert text == "stopped"
    assert hl.requests[-1].json == {"id": "pf-1", "stopOrDelete": False, "action": "delete"}
    assert all(e["status"] == "Stopped" for e in await portforward.list_port_forwards(backend, "prod"))


async def test_get_and_list(backend: Backend) -> None:
    await portforward.start_port_forward(backend, "prod", id="pf-1", **FORWARD)
    entry = await portforward.get_port_forward(backend, "prod", "pf-1")
    assert entry["id"] == "pf-1" and entry["pod"] == "grafana-0"
    [listed] = await portforward.list_port_forwards(backend, "prod")
    assert listed["status"] == "Running"
    with pytest.raises(errors.NotFoundError) as err:
        await portforward.get_port_forward(backend, "prod", "nope")
    assert err.value.message == "Not Found - no portforward running with id nope"
    assert err.value.cluster == "prod"


async def test_plain_text_errors_are_kept(backend: Backend) -> None:
    await portforward.start_port_forward(backend, "prod", id="pf-1", **FORWARD)
    with pytest.raises(errors.ConflictError) as err:
        await portforward.start_port_forward(backend, "prod", id="pf-1", **FORWARD)
    assert err.value.status == 409
    assert err.value.message == "Conflict - portforward with this ID is already running"
    with pytest.raises(errors.ForwardNotFoundError) as err2:  # named once, by the request layer
        await portforward.stop_or_delete_port_forward(backend, "prod", "unknown-id")
    assert err2.value.status == 500  # what the backend answered is kept
    assert err2.value.message.startswith(
        "Internal Server Error - failed to delete port forward failed to get portforward from cache")
    assert not err2.value.transient
    with pytest.raises(errors.ForwardNotFoundError) as err3:
        await portforward.get_port_forward(backend, "prod", "unknown-id")
    assert err3.value.status == 404 and err3.value.message == "Not Found - no portforward running with id unknown-id"


async def test_missing_fields_are_the_backends_400(backend: Backend) -> None:
    with pytest.raises(errors.BadRequestError) as err:
        await portforward.start_port_forward(backend, "prod", namespace="monitoring", pod="grafana-0",
                                             target_port="")
    assert err.value.message == "Bad Request - targetPort is required"


async def test_one_body_is_read_alike_by_both_contracts(hl: HeadlampEmulator, backend: Backend) -> None:
    """kubernetes-sigs/headlamp#6069: a stop never deletes, whichever contract the backend speaks, and nothing
    learned from one answer outlives a backend restart or downgrade: every stop and delete sends one body that
    v0.45.0 (the flag, ``action`` ignored) and upstream #6153 (``action``) read the same way."""
    for contract in ("stopOrDelete", "action", "stopOrDelete"):  # upgraded, then rolled back
        hl.stop_contract = contract
        for fid in ("pf-stop", "pf-delete"):
            await portforward.start_port_forward(backend, "prod", id=fid, **FORWARD)
        hl.clear_requests()
        stopped = await portforward.stop_or_delete_port_forward(backend, "prod", "pf-stop", stop=True)
        deleted = await portforward.stop_or_delete_port_forward(backend, "prod", "pf-delete", stop=False)
        assert [(r.status, r.json) for r in hl.requests] == [
            (200, {"id": "pf-stop", "stopOrDelete": True, "action": "stop"}),
            (200, {"id": "pf-delete", "stopOrDelete": False, "action": "delete"})]
        assert (stopped, deleted) == ("stopped", "deleted" if contract == "action" else "stopped")
        listed = {e["id"]: e["status"] for e in await portforward.list_port_forwards(backend, "prod")}
        assert listed["pf-stop"] == "Stopped"  # a stop is a stop in both contracts
        for fid in ("pf-stop", "pf-delete", "pf-delete"):  # v0.45.0 lists a deleted forward again once (#7389)
            with contextlib.suppress(errors.ForwardNotFoundError):
                await portforward.stop_or_delete_port_forward(backend, "prod", fid, stop=False)
    with pytest.raises(errors.ForwardNotFoundError):
        await portforward.stop_or_delete_port_forward(backend, "prod", "unknown-id")
