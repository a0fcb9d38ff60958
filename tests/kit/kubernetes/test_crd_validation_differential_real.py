"""Custom resource validation: kube-apiserver and the in-memory API on the same requests.

Every case of ``tests/kit/kubernetes/crd_cases.py`` (bad and good PortForwards and ResourcePatches: wrong
types, unsupported enum values, out-of-range ports, unknown fields that are pruned, pod and service
together, a changed cluster on update, a reapplyInterval of 10s, missing required fields..., and a
Widget CRD for the schema features ours do not use) goes to the real kube-apiserver, where the
CRDs were installed from ``manifests/crds`` as a user installs them, and to the emulator with the
same CRDs. The answers are compared: code, Status reason, causes (field, reason, message), the
message, and the stored object after pruning and defaulting.

The fast suite compares the emulator with ``tests/kit/kubernetes/crd_answers.json``; this test also checks
that the record is still what kube-apiserver answers (``CRD_ANSWERS_RECORD=1`` rewrites it).
"""
from __future__ import annotations

import json
import os
import pathlib
import ssl
from typing import Any

import aiohttp
import kmock
import pytest

from headlamp_operator_testing.kubernetes import KubernetesEmulator
from headlamp_operator_testing.realpeers.world import ROOT, World
from headlamp_operator_testing.sandbox import documents
from tests.kit.kubernetes import crd_cases

pytestmark = pytest.mark.realpeers

Answers = dict[str, dict[str, Any]]


async def emulated() -> Answers:
    async with KubernetesEmulator() as kube:
        for crd in [*documents(ROOT / "manifests" / "crds"), crd_cases.widget_crd()]:
            kube.register_crd(crd)
        kube.create_object("", "v1", "namespaces", None, {"metadata": {"name": crd_cases.NAMESPACE}})
        async with kmock.Server(kube) as server, aiohttp.ClientSession() as session:
            api = crd_cases.Api(session, str(server.url))
            await api.store()
            return await crd_cases.run(api)


async def real(world: World) -> Answers:
    widgets = crd_cases.widget_crd()
    world.cp.kubectl("apply", "-f", "-", input=json.dumps(widgets))
    world.cp.kubectl("wait", "--for=condition=Established", f"crd/{widgets['metadata']['name']}", "--timeout=30s")
    world.cp.kubectl("create", "namespace", crd_cases.NAMESPACE, check=False)
    context = ssl.create_default_context(cafile=str(world.cp.ca_file))
    headers = {"Authorization": f"Bearer {world.cp.admin_token}"}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context), headers=headers) as session:
        api = crd_cases.Api(session, world.cp.server)
        await api.store()
        return await crd_cases.run(api)


def differences(left: Answers, right: Answers, names: tuple[str, str]) -> dict[str, Any]:
    return {case: {names[0]: left.get(case), names[1]: right.get(case)}
            for case in sorted(set(left) | set(right)) if left.get(case) != right.get(case)}


async def test_the_emulator_validates_custom_resources_as_kube_apiserver(world: World) -> None:
    from_server = await real(world)
    from_emulator = await emulated()
    if os.environ.get("CRD_ANSWERS_RECORD"):
        crd_cases.record(from_server, f"kube-apiserver {world.cp.versions['kube-apiserver']}")
    refused = [case for case, seen in from_server.items() if seen["code"] == 422]
    assert len(refused) >= 50, f"fewer refusals than expected: {sorted(from_server)}"
    found = differences(from_server, from_emulator, ("kube-apiserver", "emulator"))
    assert not found, json.dumps(found, indent=1, sort_keys=True)
    stale = differences(from_server, crd_cases.recorded(), ("kube-apiserver", str(pathlib.Path(
        crd_cases.ANSWERS).name)))
    assert not stale, "re-record with CRD_ANSWERS_RECORD=1:\n" + json.dumps(stale, indent=1, sort_keys=True)


async def test_objects_stored_before_a_crd_gained_defaults_are_read_as_kube_apiserver_reads_them(world: World) -> None:
    """A CRD upgrade that adds defaulted fields (issue 26's spec.dryRun and spec.revertOnDelete): the objects
    already stored are served with the defaults, unwritten, by both servers."""
    async def apply_real(crd: dict[str, Any]) -> None:
        world.cp.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", input=json.dumps(crd))
        world.cp.kubectl("wait", "--for=condition=Established", f"crd/{crd['metadata']['name']}", "--timeout=30s")

    world.cp.kubectl("create", "namespace", crd_cases.NAMESPACE, check=False)
    context = ssl.create_default_context(cafile=str(world.cp.ca_file))
    headers = {"Authorization": f"Bearer {world.cp.admin_token}"}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context), headers=headers) as session:
        from_server = await crd_cases.read_after_new_defaults(crd_cases.Api(session, world.cp.server), apply_real)

    async with KubernetesEmulator() as kube:
        async def apply_emulated(crd: dict[str, Any]) -> None:
            kube.register_crd(crd)

        kube.create_object("", "v1", "namespaces", None, {"metadata": {"name": crd_cases.NAMESPACE}})
        async with kmock.Server(kube) as server, aiohttp.ClientSession() as session:
            from_emulator = await crd_cases.read_after_new_defaults(crd_cases.Api(session, str(server.url)),
                                                                    apply_emulated)
    assert from_server == crd_cases.READ_AFTER_NEW_DEFAULTS, from_server
    assert from_emulator == from_server
