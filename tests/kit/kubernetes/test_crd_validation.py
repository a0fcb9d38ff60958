"""The in-memory API validates custom resources against their CRD's schema and CEL rules, as kube-apiserver does.

The main test holds the emulator to what kube-apiserver v1.36 answered to the same requests
(``crd_answers.json``, kept true by ``tests/kit/kubernetes/test_crd_validation_differential_real.py``); the
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

from headlamp_operator_testing.kubernetes import KubeApiError, KubeClient, KubernetesEmulator, cel
from headlamp_operator_testing.kubernetes.cel import go_duration
from headlamp_operator_testing.kubernetes.fielderrors import go_float, go_quote
from headlamp_operator_testing.sandbox import documents
from tests.kit.kubernetes import crd_cases

CRDS = pathlib.Path(__file__).resolve().parents[3] / "manifests" / "crds"
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


async def test_cel_rules_on_values_stored_under_an_older_schema_are_ratcheted(kube: KubernetesEmulator,
                                                                              url: str) -> None:
    """CEL ratcheting: a rule without oldSelf is not held against a node the update left as it was (the
    operator's status writes never re-run the spec's rules), but is once the node changes."""
    loose = crd_cases.widget_crd()
    spec_schema = loose["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    del spec_schema["x-kubernetes-validations"][1]  # self.size < 100
    del spec_schema["properties"]["tags"]["x-kubernetes-validations"]  # no bad tags
    kube.register_crd(loose)
    async with KubeClient(url) as api:
        await api.create(*WIDGETS, crd_cases.NAMESPACE, _widget({"size": 150, "tags": ["bad"]}))
        kube.register_crd(crd_cases.widget_crd())  # now size < 100 and no bad tags
        status = await api.patch(*WIDGETS, crd_cases.NAMESPACE, "w", {"status": {"n": 1}}, subresource="status")
        assert status["spec"]["size"] == 150 and status["status"] == {"n": 1}
        with pytest.raises(KubeApiError) as spec_changed:
            await api.patch(*WIDGETS, crd_cases.NAMESPACE, "w", {"spec": {"count": 1}})
        smaller = await api.patch(*WIDGETS, crd_cases.NAMESPACE, "w", {"spec": {"size": 2}})
        assert smaller["spec"]["tags"] == ["bad"]  # spec changed, spec.tags did not: its rule is not held
        with pytest.raises(KubeApiError) as tags_changed:
            await api.patch(*WIDGETS, crd_cases.NAMESPACE, "w", {"spec": {"tags": ["bad", "ok"]}})
    assert [(c["field"], c["message"]) for c in spec_changed.value.body["details"]["causes"]] == [
        ("spec", "Invalid value: size too big")]
    assert [(c["field"], c["message"]) for c in tags_changed.value.body["details"]["causes"]] == [
        ("spec.tags", "Invalid value: no bad tags")]


async def test_objects_stored_before_a_crd_gained_defaults_are_read_with_them(kube: KubernetesEmulator,
                                                                             url: str) -> None:
    """kube-apiserver defaults what it reads from etcd: after a CRD upgrade that adds defaulted fields (as
    issue 26 added ResourcePatch's spec.dryRun and spec.revertOnDelete), an object stored before is served
    with them at its old resourceVersion, and its next write is a write even if it changes nothing else
    (what kube-apiserver v1.36 answered: the real-peer test holds both servers to it)."""
    async def apply_crd(crd: dict[str, Any]) -> None:
        kube.register_crd(crd)

    async with aiohttp.ClientSession() as session:
        seen = await crd_cases.read_after_new_defaults(crd_cases.Api(session, url), apply_crd)
    assert seen == crd_cases.READ_AFTER_NEW_DEFAULTS
    older = next(crd for crd in documents(CRDS) if crd["spec"]["names"]["kind"] == "ResourcePatch")
    spec = older["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    del spec["properties"]["dryRun"], spec["properties"]["revertOnDelete"], spec["x-kubernetes-validations"]
    kube.register_crd(older)
    stored = kube.create_object(crd_cases.GROUP, crd_cases.VERSION, "resourcepatches", crd_cases.NAMESPACE,
                                crd_cases.obj("resourcepatches", "old", crd_cases.RP))
    assert "dryRun" not in stored["spec"]
    for crd in documents(CRDS):
        kube.register_crd(crd)
    read = kube.get_object(crd_cases.GROUP, crd_cases.VERSION, "resourcepatches", crd_cases.NAMESPACE, "old")
    assert read is not None and (read["spec"]["dryRun"], read["spec"]["revertOnDelete"]) == (False, False)
    assert read["metadata"]["resourceVersion"] == stored["metadata"]["resourceVersion"]


def test_transition_rules_run_on_unchanged_values() -> None:
    """kube-apiserver never ratchets a transition rule's error (validation.go: ``!compiled.UsesOldSelf &&
    correlation.shouldRatchetError()``): ``self != oldSelf`` fails on an update that leaves the field alone."""
    validator = cel.Validator({"type": "object", "properties": {"spec": {"type": "object", "properties": {
        "token": {"type": "string", "x-kubernetes-validations": [{"rule": "self != oldSelf", "message": "rotate"}]},
        "size": {"type": "integer", "x-kubernetes-validations": [{"rule": "self < 10", "message": "small"}]}}}}})
    old = {"spec": {"token": "a", "size": 50}}
    assert [(e.path, e.detail) for e in validator.check({"spec": {"token": "a", "size": 50}}, (True, old))] == [
        (("spec", "token"), "rotate")]
    assert validator.check({"spec": {"token": "b", "size": 50}}, (True, old)) == []
    assert [e.detail for e in validator.check({"spec": {"token": "b", "size": 60}}, (True, old))] == ["small"]
    assert [e.detail for e in validator.check({"spec": {"token": "a", "size": 50}}, (False, None))] == ["small"]


def test_remembered_outcomes_tell_apart_what_cel_tells_apart() -> None:
    """A rule's outcome is remembered per value: 1, 1.0 and true (equal in Python) are three values to CEL,
    and so are -0.0 and 0.0 (printed apart); each answer is the one a fresh evaluation gives."""
    schema = {"x-kubernetes-preserve-unknown-fields": True, "x-kubernetes-validations": [
        {"rule": "type(self) == int", "messageExpression": "'not an int: ' + string(self)"}]}
    values = (1, 1.0, True, -0.0, 0.0, 1, True)
    fresh = [[e.detail for e in cel.Validator(schema).check(value, (False, None))] for value in values]
    assert fresh[0] == [] and len({detail for details in fresh[1:5] for detail in details}) == 4
    remembering = cel.Validator(schema)
    for _ in range(2):  # the second round answers from what the first one remembered
        assert [[e.detail for e in remembering.check(value, (False, None))] for value in values] == fresh


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
