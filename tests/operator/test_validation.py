import pytest

from headlamp_operator.reconciling import validation

PF = {"cluster": "prod", "service": "grafana", "targetPort": "http"}
RP = {"cluster": "prod", "target": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
      "patch": {"spec": {"replicas": 3}}}


def test_valid_specs_have_no_problems() -> None:
    assert validation.portforward_problems(PF) == []
    assert validation.portforward_problems({"cluster": "prod", "id": "from-the-ui"}) == []
    by_pod = {**PF, "service": None, "pod": "p-0", "targetPort": 3000, "port": 8080}
    assert validation.portforward_problems(by_pod) == []
    assert validation.resourcepatch_problems(RP) == []
    assert validation.resourcepatch_problems(
        {**RP, "patchType": "json", "patch": [{"op": "replace", "path": "/spec/replicas", "value": 2}]}) == []


@pytest.mark.parametrize(("spec", "words"), [
    ({"cluster": "prod", "targetPort": 80}, "set spec.pod or spec.service"),
    ({**PF, "pod": "p-0"}, "not both"),
    ({**PF, "targetPort": 70000}, "not in 1..65535"),
    ({**PF, "targetPort": "NOT_A_NAME"}, "port name"),
    ({**PF, "port": 0.5}, "spec.port"),
    ({**PF, "cluster": "a/../b"}, "spec.cluster"),
    ({**PF, "namespace": "Bad_NS"}, "spec.namespace"),
    ({**PF, "id": "x\ny"}, "spec.id"),
    ({**PF, "state": "Paused"}, "Running or Stopped"),
    ({**PF, "deletionPolicy": "Keep"}, "Delete, Stop or Orphan"),
    ({**PF, "credentials": {"tokenSecretRef": {"name": "t", "namespace": "other"}}}, "own namespace"),
    ({**PF, "credentials": {}}, "needs tokenSecretRef or kubeconfigSecretRef"),
])
def test_portforward_problems_are_explained(spec: dict[str, object], words: str) -> None:
    problems = validation.portforward_problems(spec)
    assert any(words in p for p in problems), problems


@pytest.mark.parametrize(("spec", "words"), [
    ({**RP, "patchType": "json", "patch": {"spec": {}}}, "list of RFC 6902 operations"),
    ({**RP, "patchType": "json", "patch": [{"op": "explode", "path": "/x"}]}, "must be one of"),
    ({**RP, "patchType": "json", "patch": [{"op": "add", "path": "/x"}]}, "needs a value"),
    ({**RP, "patchType": "json", "patch": [{"op": "remove", "path": "x"}]}, "JSON pointer"),
    ({**RP, "patch": [1, 2]}, "must be an object"),
    ({**RP, "patchType": "strategic", "patch": "text"}, "must be an object"),
    ({**RP, "reapplyInterval": "soon"}, "not a duration"),
    ({**RP, "reapplyInterval": "10s"}, "under the minimum of 30s"),
    ({**RP, "subresource": "exec"}, "empty, status or scale"),
    ({**RP, "target": {"apiVersion": "apps/v1/x", "kind": "Deployment", "name": "web"}}, "apiVersion"),
    ({**RP, "patch": {"a": "x" * validation.MAX_PATCH_BYTES}}, f"at most {validation.MAX_PATCH_BYTES}"),
])
def test_resourcepatch_problems_are_explained(spec: dict[str, object], words: str) -> None:
    problems = validation.resourcepatch_problems(spec)
    assert any(words in p for p in problems), problems


def test_deeply_nested_patches_are_refused_without_recursion() -> None:
    deep: dict[str, object] = {}
    node = deep
    for _ in range(10_000):
        node["a"] = {}
        node = node["a"]  # type: ignore[assignment]
    assert any("nested deeper" in p for p in validation.resourcepatch_problems({**RP, "patch": {"spec": deep}}))


@pytest.mark.parametrize(("text", "seconds"), [("30s", 30), ("5m", 300), ("1h30m", 5400), ("1.5h", 5400),
                                               ("250ms", 0.25)])
def test_durations(text: str, seconds: float) -> None:
    assert validation.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5", "m5", "5 m", "5d", "-5m"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        validation.parse_duration(text)
