"""The in-memory API validates custom resources against their CRD's schema and CEL rules, as kube-apiserver does.

The main test holds the emulator to what kube-apiserver v1.36 answered to the same requests
(``crd_answers.json``, kept true by ``tests/realpeers/test_crd_validation_differential.py``); the
others cover what a recording cannot: ratcheting after a schema change, a refused write leaving
nothing behind, a CRD whose rule does not compile, and the Go formatting helpers.
"""
from __future__ import annotations

import datetime
import json
import pathlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import kmock
import pytest
from tests.kube import crd_cases

from headlamp_operator_testing.kubernetes import KubeApiError, KubeClient, KubernetesEmulator
from headlamp_operator_testing.kubernetes.cel import go_duration
from headlamp_operator_testing.kubernetes.fielderrors import go_float, go_quote
from headlamp_operator_testing.sandbox import documents

CRDS = pathlib.Path(__file__).resolve().parents[2] / "manifests" / "crds"
WIDGETS = (crd_cases.WIDGETS[0], crd_cases.WIDGETS[1], "widgets")


@pytest.fixture
async def kube() -> AsyncIterator[KubernetesEmulator]:
    async with KubernetesEmulator() as emulator:
        for crd in [*documents(CRDS), crd_cases.widget_crd()]:
            emulator.register_crd(crd)
        emulator.create_object("", "v1", "namespaces", None, {"metadata": {"name": crd_cases.NAMESPACE}})
        yield emulator


@pytest.fixture
async def url(kube: KubernetesEmulator) -> AsyncIterator[str]:
    async with kmock.Server(kube) as server:
        yield str(server.url)


async def test_the_emulator_answers_every_case_as_kube_apiserver_did(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        api = crd_cases.Api(session, url)
        await api.store()
        emulated = await crd_cases.run(api)
    real = crd_cases.recorded()
    assert set(real) == {case.name for case in crd_cases.CASES}, "crd_answers.json is not the current cases' record"
    differences = {name: {"kube-apiserver": real[name], "emulator": emulated[name]}
                   for name in real if real[name] != emulated[name]}
    assert not differences, json.dumps(differences, indent=1, sort_keys=True)
    refused = [name for name, seen in real.items() if seen["code"] == 422]
    assert len(refused) >= 50 and len(real) - len(refused) >= 15  # both kinds of answer are covered


def _widget(spec: dict[str, Any]) -> dict[str, Any]:
    return crd_cases.obj("widgets", "w", spec)


async def test_a_refused_write_changes_nothing_and_a_pruned_one_is_a_no_op(kube: KubernetesEmulator, url: str) -> None:
    async with KubeClient(url) as api:
        stored = await api.create(*WIDGETS, crd_cases.NAMESPACE, _widget({"size": 1}))
        with pytest.raises(KubeApiError) as refused:
            await api.patch(*WIDGETS, crd_cases.NAMESPACE, "w", {"spec": {"size": 0}})
        assert refused.value.status == 422 and refused.value.body["details"]["causes"][0]["field"] == "spec"
        unknown_only = await api.patch(*WIDGETS, crd_cases.NAMESPACE, "w", {"spec": {"unknown": 1}})
    after = kube.get_object(*WIDGETS, crd_cases.NAMESPACE, "w")
    assert after == stored == unknown_only  # same resourceVersion and generation: nothing was written
    assert stored["spec"] == {"size": 1, "maybe": "dflt", "inner": {"mode": "fast", "level": 3}}


async def test_values_stored_under_an_older_schema_are_ratcheted(kube: KubernetesEmulator, url: str) -> None:
    """CRD validation ratcheting (GA in Kubernetes 1.33): an update may keep an invalid value it does not touch."""
    loose = crd_cases.widget_crd()
    spec_schema = loose["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    spec_schema["properties"]["tags"]["maxItems"] = 5
    kube.register_crd(loose)
    async with KubeClient(url) as api:
        await api.create(*WIDGETS, crd_cases.NAMESPACE, _widget({"size": 1, "tags": ["a", "b", "c"]}))
        kube.register_crd(crd_cases.widget_crd())  # at most 2 tags now
        kept = await api.patch(*WIDGETS, crd_cases.NAMESPACE, "w", {"spec": {"size": 2}})
        assert kept["spec"]["tags"] == ["a", "b", "c"] and kept["metadata"]["generation"] == 2
        with pytest.raises(KubeApiError) as refused:
            await api.patch(*WIDGETS, crd_cases.NAMESPACE, "w", {"spec": {"tags": ["a", "b", "d"]}})
    assert [c["field"] for c in refused.value.body["details"]["causes"]] == ["spec.tags", "<nil>"]
    assert "Too many: 3: must have at most 2 items" in refused.value.body["message"]


async def test_a_crd_whose_rule_does_not_compile_is_refused(kube: KubernetesEmulator, url: str) -> None:
    broken = crd_cases.widget_crd()
    broken["metadata"]["name"] = f"gadgets.{crd_cases.WIDGETS[0]}"
    broken["spec"]["names"] = {"kind": "Gadget", "plural": "gadgets", "singular": "gadget"}
    broken["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"][
        "x-kubernetes-validations"] = [{"rule": "self.size >"}]
    with pytest.raises(ValueError, match="does not compile"):
        kube.register_crd(broken)
    async with KubeClient(url) as api:
        with pytest.raises(KubeApiError) as refused:
            await api.create("apiextensions.k8s.io", "v1", "customresourcedefinitions", None, broken)
    assert refused.value.status == 422


async def test_objects_of_a_deleted_crd_are_no_longer_validated_by_it(kube: KubernetesEmulator, url: str) -> None:
    async with KubeClient(url) as api:
        await api.delete("apiextensions.k8s.io", "v1", "customresourcedefinitions", None,
                         f"widgets.{crd_cases.WIDGETS[0]}")
        relaxed = crd_cases.widget_crd()
        relaxed["spec"]["versions"][0]["schema"]["openAPIV3Schema"] = {
            "type": "object", "x-kubernetes-preserve-unknown-fields": True}
        await api.create("apiextensions.k8s.io", "v1", "customresourcedefinitions", None, relaxed)
        created = await api.create(*WIDGETS, crd_cases.NAMESPACE, _widget({"size": -100, "anything": True}))
    assert created["spec"] == {"size": -100, "anything": True}


def test_go_formatting_of_values() -> None:
    assert [go_float(x) for x in (80.5, 65535.0, 1e20, 1e6, 999999.0, 1.5e-5, -2.25)] == [
        "80.5", "65535", "1e+20", "1e+06", "999999", "1.5e-05", "-2.25"]
    assert go_quote('a"b\\c\x00\n\u00e9') == '"a\\"b\\\\c\\x00\\n\u00e9"'


def test_go_durations() -> None:
    assert go_duration("1h30m") == datetime.timedelta(hours=1, minutes=30)
    assert go_duration("29999ms") == datetime.timedelta(milliseconds=29999)
    assert go_duration("-1.5s") == datetime.timedelta(seconds=-1.5)
    assert go_duration("0") == datetime.timedelta(0)
    assert [go_duration(text) for text in ("", "1d", "10", "s", "1h 30m")] == [None] * 5
