"""The typed specs: defaults written once, problems instead of a spec, credentials read from any spec."""
from __future__ import annotations

from headlamp_operator.reconciling import specs


def test_a_portforward_spec_gets_the_crds_defaults() -> None:
    parsed = specs.portforward({"cluster": "prod", "service": "grafana", "targetPort": 3000,
                                "credentials": {"tokenSecretRef": {"name": "viewer"}}})
    assert parsed == specs.PortForwardSpec(
        cluster="prod", service="grafana", target_port="3000", state="Running", deletion_policy="Delete",
        credentials=specs.CredentialsSpec(token=specs.SecretRef(name="viewer", key="token")))
    assert not parsed.adopting


def test_an_id_alone_adopts() -> None:
    parsed = specs.portforward({"cluster": "prod", "id": "4a7c", "state": "Stopped", "deletionPolicy": "Orphan"})
    assert isinstance(parsed, specs.PortForwardSpec)
    assert parsed.adopting and parsed.state == "Stopped" and parsed.deletion_policy == "Orphan"


def test_an_invalid_spec_gives_its_problems() -> None:
    parsed = specs.portforward({"cluster": "prod", "pod": "a", "service": "b", "targetPort": 80})
    assert parsed == ["set either spec.pod or spec.service, not both"]


def test_a_resourcepatch_spec_has_its_interval_in_seconds_and_merge_by_default() -> None:
    parsed = specs.resourcepatch({"cluster": "prod", "reapplyInterval": "1h30m", "patch": {"data": {"a": "b"}},
                                  "target": {"apiVersion": "v1", "kind": "ConfigMap", "name": "x"}})
    assert isinstance(parsed, specs.ResourcePatchSpec)
    assert parsed.reapply_interval == 5400.0 and parsed.patch_type == "merge" and parsed.subresource == ""
    assert parsed.target == specs.TargetRef(api_version="v1", kind="ConfigMap", name="x")
    assert specs.resourcepatch({"cluster": "prod", "reapplyInterval": "10s", "patch": {},
                                "target": {"apiVersion": "v1", "kind": "ConfigMap", "name": "x"}}) == [
        "spec.reapplyInterval 10s is under the minimum of 30s"]


def test_credentials_are_read_from_a_spec_of_any_validity() -> None:
    named = specs.credentials({"pod": 7, "credentials": {"kubeconfigSecretRef": {"name": "kc"},
                                                         "tokenSecretRef": {"key": "no-name"}}})
    assert named == specs.CredentialsSpec(kubeconfig=specs.SecretRef(name="kc", key="kubeconfig"))
    assert specs.credentials({"credentials": "nope"}) is None and specs.credentials({}) is None
