"""The manifests in `manifests/`, checked without a cluster.

- Built-in kinds (Namespace, RBAC, Deployment, Service, ..., the CRDs themselves) are validated
  with kubernetes-validate against the newest Kubernetes version it ships, in strict mode.
- The two CRDs are checked for structural-schema rules and for what `kubectl explain` / `kubectl
  get` need (descriptions, types, printer columns, categories, short names, status subresource).
- Each sample is validated against its CRD's openAPIV3Schema with jsonschema, and a set of invalid
  documents is rejected. The OpenAPI subset is converted (see `to_jsonschema`); unknown fields are
  rejected as `kubectl apply`'s strict field validation does (the API server would prune them).
- CEL rules cannot be run here: each rule has a Python mirror, keyed by its exact expression, so a
  new or changed rule fails the tests until its mirror is written.
- kustomization.yaml lists exactly the deployable files.
"""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "manifests"
CRDS = MANIFESTS / "crds"
SAMPLES = MANIFESTS / "samples"

GROUP = "headlamp-operator.dev"
VERSION = "v1alpha1"
OPERATOR_NAMESPACE = "headlamp-operator"
CUSTOM_GROUPS = {GROUP, "kopf.dev", "cert-manager.io"}  # kinds kubernetes-validate cannot know
K8S_VERSION = kubernetes_validate.latest_version()

Doc = dict[str, Any]


# --------------------------------------------------------------------------------------------
# Loading


def load_docs(path: Path) -> list[Doc]:
    with path.open() as f:
        return [doc for doc in yaml.safe_load_all(f) if doc]


def yaml_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix in (".yaml", ".yml"))


def api_group(doc: Doc) -> str:
    api_version = doc["apiVersion"]
    return api_version.split("/")[0] if "/" in api_version else ""


ALL_DOCS: list[tuple[Path, int, Doc]] = [
    (path, index, doc)
    for path in yaml_files(MANIFESTS)
    if path.name != "kustomization.yaml"
    for index, doc in enumerate(load_docs(path))
]
WEBHOOK = MANIFESTS.parent / "deploy" / "webhook"  # opt-in overlays: kubectl apply -k deploy/webhook/<option>/
ALL_DOCS += [(path, index, doc) for path in yaml_files(WEBHOOK) if path.name != "kustomization.yaml"
             for index, doc in enumerate(load_docs(path))]
BUILTIN_DOCS = [item for item in ALL_DOCS if api_group(item[2]) not in CUSTOM_GROUPS]


def doc_id(item: tuple[Path, int, Doc]) -> str:
    path, index, doc = item
    return f"{path.relative_to(MANIFESTS.parent)}#{index}:{doc['kind']}/{doc['metadata']['name']}"


def docs_of(path: Path, kind: str | None = None) -> list[Doc]:
    return [doc for doc in load_docs(path) if kind is None or doc["kind"] == kind]


def one(docs: list[Doc]) -> Doc:
    assert len(docs) == 1, docs
    return docs[0]


CRD_FILES = {"PortForward": CRDS / "portforwards.yaml", "ResourcePatch": CRDS / "resourcepatches.yaml"}
CRD_DOCS = {kind: one(load_docs(path)) for kind, path in CRD_FILES.items()}


def crd_version(crd: Doc) -> Doc:
    return one([v for v in crd["spec"]["versions"] if v["name"] == VERSION])


def crd_schema(kind: str) -> Doc:
    return crd_version(CRD_DOCS[kind])["schema"]["openAPIV3Schema"]


SAMPLE_DOCS: list[tuple[Path, int, Doc]] = [
    (path, index, doc) for path, index, doc in ALL_DOCS if path.parent == SAMPLES
]
SAMPLE_CRS = [item for item in SAMPLE_DOCS if api_group(item[2]) == GROUP]


def samples_of(kind: str) -> list[Doc]:
    return [doc for _, _, doc in SAMPLE_CRS if doc["kind"] == kind]


# --------------------------------------------------------------------------------------------
# Built-in kinds: kubernetes-validate


@pytest.mark.parametrize("item", BUILTIN_DOCS, ids=doc_id)
def test_builtin_kinds_validate(item: tuple[Path, int, Doc]) -> None:
    _, _, doc = item
    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_builtin_kinds_are_found() -> None:
    kinds = {doc["kind"] for _, _, doc in BUILTIN_DOCS}
    assert {
        "CustomResourceDefinition",
        "Namespace",
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Deployment",
        "Service",
        "PodDisruptionBudget",
        "Secret",
    } <= kinds


def test_kubernetes_validate_rejects_a_broken_manifest() -> None:
    # Guard against a validator that accepts anything: strict mode refuses an unknown field.
    deployment = copy.deepcopy(one(docs_of(MANIFESTS / "deployment.yaml")))
    deployment["spec"]["replicaz"] = 2
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSION, strict=True)


# --------------------------------------------------------------------------------------------
# CRDs: structure and what kubectl needs


def walk_schema(node: Doc, path: str = "") -> Iterator[tuple[str, Doc]]:
    """Every schema node under (and including) `node`, with a dotted path."""
    yield path or ".", node
    for name, child in node.get("properties", {}).items():
        yield from walk_schema(child, f"{path}.{name}")
    if "items" in node:
        yield from walk_schema(node["items"], f"{path}[]")
    if isinstance(node.get("additionalProperties"), dict):
        yield from walk_schema(node["additionalProperties"], f"{path}{{}}")


CRD_KINDS = sorted(CRD_DOCS)


@pytest.mark.parametrize("kind", CRD_KINDS)
def test_crd_every_field_has_a_description_and_a_type(kind: str) -> None:
    for path, node in walk_schema(crd_schema(kind)):
        if path.endswith("metadata") and path.count(".") == 1:
            continue  # the root metadata may carry nothing but its type (next test)
        assert node.get("description", "").strip(), f"{kind} {path}: no description"
        assert (
            node.get("type")
            or node.get("x-kubernetes-int-or-string")
            or node.get("x-kubernetes-preserve-unknown-fields")
        ), f"{kind} {path}: no type"


@pytest.mark.parametrize("kind", CRD_KINDS)
def test_crd_root_metadata_is_only_an_object(kind: str) -> None:
    """kube-apiserver refuses the whole CRD otherwise: "spec.validation.openAPIV3Schema.properties[metadata]:
    Forbidden: must not specify anything other than name and generateName" (a description included)."""
    assert crd_schema(kind)["properties"]["metadata"] == {"type": "object"}


@pytest.mark.parametrize("kind", CRD_KINDS)
def test_crd_schema_is_structural(kind: str) -> None:
    for path, node in walk_schema(crd_schema(kind)):
        # Value validations in junctors may not carry types or structure (structural rule 3).
        for junctor in ("anyOf", "allOf", "oneOf"):
            for branch in node.get(junctor, []):
                assert not {"type", "properties", "items", "additionalProperties"} & set(branch), path
        assert not ("properties" in node and "additionalProperties" in node), path
        if node.get("type") == "array":
            assert "items" in node, path
        if node.get("x-kubernetes-int-or-string"):
            assert "type" not in node, path
        for required in node.get("required", []):
            assert required in node.get("properties", {}), f"{path}: required {required} is not a property"
        if node.get("x-kubernetes-list-type") == "map":
            item = node["items"]
            assert set(node["x-kubernetes-list-map-keys"]) <= set(item.get("required", [])), path
        for value in node.get("enum", []):
            assert isinstance(value, str), f"{path}: enum value {value!r}"


RE2_UNSUPPORTED = re.compile(r"\(\?[=!<]|\\[1-9]|\(\?P=|[*+?}]\+")  # lookaround, backrefs, possessive


@pytest.mark.parametrize("kind", CRD_KINDS)
def test_crd_patterns_are_anchored_and_re2_compatible(kind: str) -> None:
    for path, node in walk_schema(crd_schema(kind)):
        if "pattern" in node:
            pattern = node["pattern"]
            assert pattern.startswith("^") and pattern.endswith("$"), path
            assert not RE2_UNSUPPORTED.search(pattern), f"{path}: {pattern} is not RE2"
            re.compile(pattern)


@pytest.mark.parametrize("kind", CRD_KINDS)
def test_crd_defaults_are_valid_for_their_field(kind: str) -> None:
    # The API server refuses a CRD whose defaults do not validate against their own schema.
    found = 0
    for path, node in walk_schema(crd_schema(kind)):
        if "default" in node:
            found += 1
            jsonschema.validate(node["default"], to_jsonschema(node))
            assert node.get("enum") is None or node["default"] in node["enum"], path
    assert found


@pytest.mark.parametrize("kind", CRD_KINDS)
def test_crd_names_scope_and_version(kind: str) -> None:
    crd = CRD_DOCS[kind]
    names = crd["spec"]["names"]
    assert crd["apiVersion"] == "apiextensions.k8s.io/v1"
    assert crd["metadata"]["name"] == f"{names['plural']}.{GROUP}"
    assert crd["spec"]["group"] == GROUP
    assert crd["spec"]["scope"] == "Namespaced"
    assert names["kind"] == kind
    assert names["singular"] == kind.lower()
    assert names["categories"] == ["headlamp"]
    expected = {"PortForward": ("portforwards", "hpf"), "ResourcePatch": ("resourcepatches", "rpatch")}
    assert (names["plural"], names["shortNames"]) == (expected[kind][0], [expected[kind][1]])
    versions = crd["spec"]["versions"]
    assert [(v["name"], v["served"], v["storage"]) for v in versions] == [(VERSION, True, True)]
    assert crd_version(crd)["subresources"] == {"status": {}}


def schema_at(schema: Doc, json_path: str) -> Doc | None:
    node: Doc | None = schema
    for part in re.sub(r"\[\?\(.*?\)\]", "[]", json_path).lstrip(".").split("."):
        name, _, selector = part.partition("[")
        node = (node or {}).get("properties", {}).get(name)
        if selector:  # a list filtered by a field: conditions[?(@.type=="Ready")]
            node = (node or {}).get("items")
    return node


@pytest.mark.parametrize(
    ("kind", "columns"),
    [
        ("PortForward", ["Cluster", "Service", "Pod", "Port", "Ready", "Status", "Age"]),
        ("ResourcePatch", ["Cluster", "Kind", "Target", "Type", "Dry-Run", "Ready", "Status", "Age"]),
    ],
)
def test_crd_printer_columns(kind: str, columns: list[str]) -> None:
    printed = crd_version(CRD_DOCS[kind])["additionalPrinterColumns"]
    default = [c["name"] for c in printed if c.get("priority", 0) == 0]
    assert default == columns
    wide = {c["name"]: c for c in printed if c.get("priority", 0) == 1}
    assert wide["Reason"]["jsonPath"] == ".status.reason"
    assert wide["Phase"]["jsonPath"] == ".status.phase"
    for column in printed:
        assert column["type"] in {"string", "integer", "number", "boolean", "date"}
        if column["jsonPath"] == ".metadata.creationTimestamp":
            assert column["type"] == "date"
            continue
        node = schema_at(crd_schema(kind), column["jsonPath"])
        assert node is not None, f"{column['name']}: {column['jsonPath']} is not in the schema"
        assert column.get("description"), column["name"]
        if column["type"] == "string":
            assert node.get("type") == "string", column["name"]


def test_portforward_port_types() -> None:
    # Decision: spec.port is an integer (docs/portforward.md#examples: `port: 18080`); status.port is the
    # backend's string (`port: "8080"`); targetPort is a number or a port name.
    spec = crd_schema("PortForward")["properties"]["spec"]["properties"]
    status = crd_schema("PortForward")["properties"]["status"]["properties"]
    assert spec["port"]["type"] == "integer"
    assert (spec["port"]["minimum"], spec["port"]["maximum"]) == (1, 65535)
    assert status["port"]["type"] == "string"
    assert spec["targetPort"]["x-kubernetes-int-or-string"] is True


def test_resourcepatch_patch_is_open() -> None:
    patch = crd_schema("ResourcePatch")["properties"]["spec"]["properties"]["patch"]
    assert patch["x-kubernetes-preserve-unknown-fields"] is True
    assert "type" not in patch  # an object (merge/strategic) or a list (json)


@pytest.mark.parametrize("kind", CRD_KINDS)
def test_credentials_references_have_no_namespace(kind: str) -> None:
    credentials = crd_schema(kind)["properties"]["spec"]["properties"]["credentials"]
    defaults = {"tokenSecretRef": "token", "kubeconfigSecretRef": "kubeconfig"}
    assert set(credentials["properties"]) == set(defaults)
    for ref, default_key in defaults.items():
        node = credentials["properties"][ref]
        assert set(node["properties"]) == {"name", "key"}
        assert node["required"] == ["name"]
        assert node["properties"]["key"]["default"] == default_key


def test_both_crds_share_the_common_fields() -> None:
    def without_rules(node: Doc) -> Doc:
        return {k: v for k, v in node.items() if k != "x-kubernetes-validations"}

    pf = crd_schema("PortForward")["properties"]
    rp = crd_schema("ResourcePatch")["properties"]
    assert without_rules(pf["spec"]["properties"]["cluster"]) == without_rules(rp["spec"]["properties"]["cluster"])
    assert pf["spec"]["properties"]["credentials"] == rp["spec"]["properties"]["credentials"]
    assert pf["status"]["properties"]["conditions"]["items"] == rp["status"]["properties"]["conditions"]["items"]


# --------------------------------------------------------------------------------------------
# OpenAPI (Kubernetes subset) -> JSON Schema


def to_jsonschema(node: Doc) -> Doc:
    """Convert a CRD schema node for jsonschema.

    - `x-kubernetes-*` keys are dropped; `x-kubernetes-int-or-string` becomes
      `anyOf [integer, string]` (the node's value validations stay beside it and, as in
      Kubernetes, apply only to values of their type: minimum to the integer, pattern to the string);
    - `x-kubernetes-preserve-unknown-fields` (alone: any JSON value) keeps unknown fields;
    - every other object with properties rejects unknown fields, as `kubectl apply` does
      (strict field validation; without it the API server prunes them instead).
    """
    out: Doc = {}
    for key, value in node.items():
        if key.startswith("x-kubernetes-") or key == "nullable":
            continue
        if key == "properties":
            out[key] = {name: to_jsonschema(child) for name, child in value.items()}
        elif key == "items" or (key == "additionalProperties" and isinstance(value, dict)):
            out[key] = to_jsonschema(value)
        elif key in ("anyOf", "allOf", "oneOf"):
            out[key] = [to_jsonschema(branch) for branch in value]
        elif key == "not":
            out[key] = to_jsonschema(value)
        else:
            out[key] = value
    if node.get("x-kubernetes-int-or-string"):
        out.setdefault("anyOf", [{"type": "integer"}, {"type": "string"}])
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    if "properties" in node and not node.get("x-kubernetes-preserve-unknown-fields"):
        out.setdefault("additionalProperties", False)
    return out


VALIDATORS = {kind: jsonschema.Draft202012Validator(to_jsonschema(crd_schema(kind))) for kind in CRD_KINDS}


def schema_errors(doc: Doc) -> list[str]:
    return [
        f"{'.'.join(map(str, error.absolute_path))}: {error.message}"
        for error in VALIDATORS[doc["kind"]].iter_errors(doc)
    ]


def test_converted_schemas_are_valid_json_schemas() -> None:
    for kind in CRD_KINDS:
        jsonschema.Draft202012Validator.check_schema(to_jsonschema(crd_schema(kind)))


# --------------------------------------------------------------------------------------------
# CEL rules, mirrored in Python
#
# Kubernetes runs a rule on a node when the node is present in the object; a transition rule
# (one that uses `oldSelf`) runs only on updates, when the node was present before too.


def go_duration_seconds(text: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    parts = re.findall(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)", text)
    assert "".join(n + u for n, u in parts) == text, text
    return sum(float(n) * units[u] for n, u in parts)


CEL_MIRRORS: dict[str, Callable[[Any, Any], bool]] = {
    # PortForward spec: not both pod and service.
    "!(has(self.pod) && has(self.service))": lambda s, _: not ("pod" in s and "service" in s),
    # PortForward spec: something to forward to, or an id to adopt.
    "has(self.pod) || has(self.service) || (has(self.id) && self.id != '')": lambda s, _: (
        "pod" in s or "service" in s or s.get("id", "") != ""
    ),
    # PortForward spec: a new forward needs targetPort (the backend answers 400 without it).
    "!(has(self.pod) || has(self.service)) || has(self.targetPort)": lambda s, _: (
        not ("pod" in s or "service" in s) or "targetPort" in s
    ),
    # spec.cluster of both kinds: immutable (a transition rule).
    "self == oldSelf": lambda s, old: s == old,
    # ResourcePatch spec.reapplyInterval: empty, or at least 30 seconds (the operator's minimum too).
    "self == '' || duration(self) >= duration('30s')": lambda s, _: s == "" or go_duration_seconds(s) >= 30,
    # ResourcePatch spec: revertOnDelete cannot undo a strategic merge patch (both fields have defaults,
    # which kube-apiserver applies before the rule runs: the mirror applies them too).
    "!(self.revertOnDelete && self.patchType == 'strategic')": lambda s, _: not (
        s.get("revertOnDelete", False) and s.get("patchType", "merge") == "strategic"
    ),
}


def cel_rules(schema: Doc) -> Iterator[tuple[str, Doc, Doc]]:
    for path, node in walk_schema(schema):
        for rule in node.get("x-kubernetes-validations", []):
            yield path, node, rule


def value_at(doc: Any, path: str) -> tuple[bool, Any]:
    if path == ".":
        return True, doc
    value = doc
    for part in path.lstrip(".").split("."):
        if not isinstance(value, dict) or part not in value:
            return False, None
        value = value[part]
    return True, value


def cel_errors(doc: Doc, old: Doc | None = None) -> list[str]:
    errors = []
    for path, _, rule in cel_rules(crd_schema(doc["kind"])):
        assert "[]" not in path, "rules inside lists need a mirror that iterates"
        present, value = value_at(doc, path)
        if not present:
            continue
        transition = "oldSelf" in rule["rule"]
        old_present, old_value = value_at(old, path) if old is not None else (False, None)
        if transition and not old_present:
            continue
        if not CEL_MIRRORS[rule["rule"]](value, old_value):
            errors.append(rule["message"])
    return errors


@pytest.mark.parametrize("kind", CRD_KINDS)
def test_every_cel_rule_has_a_mirror_and_a_message(kind: str) -> None:
    rules = list(cel_rules(crd_schema(kind)))
    assert rules
    for path, _, rule in rules:
        assert rule["rule"] in CEL_MIRRORS, f"{kind} {path}: no Python mirror for {rule['rule']!r}"
        assert "spec." in rule["message"], f"{kind} {path}: the message should name the field"


def test_cel_rules_are_where_they_belong() -> None:
    pf = {(path, rule["rule"]) for path, _, rule in cel_rules(crd_schema("PortForward"))}
    rp = {(path, rule["rule"]) for path, _, rule in cel_rules(crd_schema("ResourcePatch"))}
    assert pf == {
        (".spec", "!(has(self.pod) && has(self.service))"),
        (".spec", "has(self.pod) || has(self.service) || (has(self.id) && self.id != '')"),
        (".spec", "!(has(self.pod) || has(self.service)) || has(self.targetPort)"),
        (".spec.cluster", "self == oldSelf"),
    }
    assert rp == {
        (".spec", "!(self.revertOnDelete && self.patchType == 'strategic')"),
        (".spec.cluster", "self == oldSelf"),
        (".spec.reapplyInterval", "self == '' || duration(self) >= duration('30s')"),
    }


# --------------------------------------------------------------------------------------------
# Samples


@pytest.mark.parametrize("item", SAMPLE_CRS, ids=doc_id)
def test_sample_is_valid(item: tuple[Path, int, Doc]) -> None:
    _, _, doc = item
    assert doc["apiVersion"] == f"{GROUP}/{VERSION}"
    assert schema_errors(doc) == []
    assert cel_errors(doc) == []
    assert cel_errors(doc, old=doc) == []  # an unchanged re-apply passes the transition rules
    assert doc["metadata"]["namespace"] == "demo"
    assert doc["spec"]["cluster"] == "sandbox"


def test_sample_files_are_ordered_and_single_purpose() -> None:
    files = sorted(p.name for p in SAMPLES.iterdir())
    assert all(re.fullmatch(r"[0-9]{2}-[a-z0-9-]+\.yaml", name) for name in files), files
    assert files[:2] == ["00-namespace.yaml", "10-secrets.yaml"]
    for path in SAMPLES.glob("[2-9]*.yaml"):
        assert len(load_docs(path)) == 1, f"{path.name}: one example per file"
    names = [(doc["kind"], doc["metadata"]["name"]) for _, _, doc in SAMPLE_DOCS]
    assert len(names) == len(set(names)), names


def secret_value(name: str, key: str) -> str:
    for doc in docs_of(SAMPLES / "10-secrets.yaml", "Secret"):
        if doc["metadata"]["name"] == name:
            assert doc["metadata"]["namespace"] == "demo"
            return str(doc["stringData"][key])
    raise AssertionError(f"no Secret {name}")


@pytest.mark.parametrize("item", SAMPLE_CRS, ids=doc_id)
def test_sample_credentials_exist(item: tuple[Path, int, Doc]) -> None:
    _, _, doc = item
    credentials = doc["spec"]["credentials"]  # every sample carries one: anonymous is refused
    if "tokenSecretRef" in credentials:
        ref = credentials["tokenSecretRef"]
        assert secret_value(ref["name"], ref.get("key", "token")).startswith("fake-")
    if "kubeconfigSecretRef" in credentials:
        ref = credentials["kubeconfigSecretRef"]
        kubeconfig = yaml.safe_load(secret_value(ref["name"], ref.get("key", "kubeconfig")))
        contexts = {c["name"] for c in kubeconfig["contexts"]}
        assert doc["spec"]["cluster"] in contexts  # docs/credentials.md#a-kubeconfig
        assert all(u["user"]["token"].startswith("fake-") for u in kubeconfig["users"])


def test_samples_cover_every_feature() -> None:
    pfs = [d["spec"] for d in samples_of("PortForward")]
    rps = [d["spec"] for d in samples_of("ResourcePatch")]
    assert any("service" in s and isinstance(s["targetPort"], str) for s in pfs), "service, named port"
    assert any("pod" in s and isinstance(s["targetPort"], int) for s in pfs), "pod, numeric port"
    assert any(s.get("state") == "Stopped" for s in pfs)
    assert any(s.get("deletionPolicy") == "Stop" for s in pfs)
    assert any("id" in s and not {"pod", "service"} & set(s) for s in pfs), "adoption"
    assert any("kubeconfigSecretRef" in s["credentials"] for s in pfs), "dynamic cluster"
    assert any(
        s.get("patchType", "merge") == "merge"
        and not s.get("subresource")
        and s["patch"].get("spec", {}).get("replicas")
        for s in rps
    ), "merge scales a Deployment"
    assert any(s["patchType"] == "json" and isinstance(s["patch"], list) for s in rps)
    assert any(s.get("patchType") == "strategic" for s in rps)
    assert any(s.get("subresource") == "scale" for s in rps)
    assert any(s.get("reapplyInterval") == "5m" for s in rps)
    for s in rps:
        if s.get("patchType") == "json":
            assert all(op["op"] in {"add", "remove", "replace", "move", "copy", "test"} for op in s["patch"])
            assert all(op["path"].startswith("/") for op in s["patch"])
        else:
            assert isinstance(s["patch"], dict)


def test_samples_target_what_the_sandbox_seeds() -> None:
    for spec in (d["spec"] for d in samples_of("PortForward")):
        assert spec.get("namespace", "monitoring") == "monitoring"
        assert spec.get("service", "grafana") == "grafana"
        assert spec.get("pod", "grafana-0") in {"grafana-0", "redis-0"}
    for spec in (d["spec"] for d in samples_of("ResourcePatch")):
        assert spec["target"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "namespace": "shop"}


# --------------------------------------------------------------------------------------------
# Invalid documents: rejected by the schema (or by a CEL rule, through its mirror)


def base(kind: str) -> Doc:
    name = {"PortForward": "20-portforward-service.yaml", "ResourcePatch": "30-resourcepatch-merge.yaml"}
    return copy.deepcopy(one(load_docs(SAMPLES / name[kind])))


def with_spec(kind: str, **changes: Any) -> Doc:
    """The base sample of `kind` with spec fields set (None: removed)."""
    doc = base(kind)
    for key, value in changes.items():
        if value is None:
            doc["spec"].pop(key, None)
        else:
            doc["spec"][key] = value
    return doc


def with_target(**changes: Any) -> Doc:
    doc = base("ResourcePatch")
    for key, value in changes.items():
        if value is None:
            doc["spec"]["target"].pop(key, None)
        else:
            doc["spec"]["target"][key] = value
    return doc


PF, RP = "PortForward", "ResourcePatch"

INVALID_BY_SCHEMA: dict[str, Doc] = {
    "pf missing cluster": with_spec(PF, cluster=None),
    "rp missing cluster": with_spec(RP, cluster=None),
    "pf missing spec": {k: v for k, v in base(PF).items() if k != "spec"},
    "pf cluster a/../b": with_spec(PF, cluster="a/../b"),
    "rp cluster a/../b": with_spec(RP, cluster="a/../b"),
    "pf cluster ..": with_spec(PF, cluster=".."),
    "pf cluster .": with_spec(PF, cluster="."),
    "pf cluster empty": with_spec(PF, cluster=""),
    "pf cluster with ?": with_spec(PF, cluster="prod?x=1"),
    "pf cluster with #": with_spec(PF, cluster="prod#x"),
    "pf cluster with %": with_spec(PF, cluster="prod%2Fx"),
    "pf cluster with a space": with_spec(PF, cluster="prod eu"),
    "pf cluster with a newline": with_spec(PF, cluster="prod\neu"),
    "pf cluster with a backslash": with_spec(PF, cluster="prod\\eu"),
    "pf cluster too long": with_spec(PF, cluster="c" * 254),
    "pf state enum": with_spec(PF, state="Paused"),
    "pf state lowercase": with_spec(PF, state="running"),
    "pf deletionPolicy enum": with_spec(PF, deletionPolicy="Keep"),
    "pf port 0": with_spec(PF, port=0),
    "pf port 70000": with_spec(PF, port=70000),
    "pf port 65536": with_spec(PF, port=65536),
    "pf port as a string": with_spec(PF, port="8080"),
    "pf targetPort 0": with_spec(PF, targetPort=0),
    "pf targetPort 70000": with_spec(PF, targetPort=70000),
    "pf targetPort numeric string": with_spec(PF, targetPort="3000"),
    "pf targetPort bad name": with_spec(PF, targetPort="Web_UI"),
    "pf targetPort name too long": with_spec(PF, targetPort="a-very-long-port"),
    "pf targetPort name double hyphen": with_spec(PF, targetPort="web--ui"),
    "pf targetPort float": with_spec(PF, targetPort=80.5),
    "pf service name with ?": with_spec(PF, service="graf?ana"),
    "pf service name with /": with_spec(PF, service="../grafana"),
    "pf pod name with ?": with_spec(PF, service=None, pod="redis?0"),
    "pf pod name uppercase": with_spec(PF, service=None, pod="Redis-0"),
    "pf namespace with /": with_spec(PF, namespace="monitoring/x"),
    "pf namespace too long": with_spec(PF, namespace="n" * 64),
    "pf serviceNamespace uppercase": with_spec(PF, serviceNamespace="Monitoring"),
    "pf id with /": with_spec(PF, id="../list"),
    "pf id with ?": with_spec(PF, id="a?b"),
    "pf id too long": with_spec(PF, id="i" * 254),
    "pf id ending with a hyphen": with_spec(PF, id="grafana-"),
    "pf address with /": with_spec(PF, address="127.0.0.1/x"),
    "pf unknown field": with_spec(PF, podName="grafana-0"),
    "pf credentials empty": with_spec(PF, credentials={}),
    "pf credentials ref with namespace": with_spec(
        PF, credentials={"tokenSecretRef": {"name": "sandbox-token", "namespace": "kube-system"}}
    ),
    "rp credentials ref with namespace": with_spec(
        RP, credentials={"kubeconfigSecretRef": {"name": "kc", "namespace": "kube-system"}}
    ),
    "pf credentials ref without name": with_spec(PF, credentials={"tokenSecretRef": {"key": "token"}}),
    "pf credentials unknown kind": with_spec(PF, credentials={"passwordSecretRef": {"name": "p"}}),
    "pf secret name with /": with_spec(PF, credentials={"tokenSecretRef": {"name": "a/b"}}),
    "pf secret key with /": with_spec(PF, credentials={"tokenSecretRef": {"name": "a", "key": "../t"}}),
    "pf status phase enum": {**base(PF), "status": {"phase": "Started"}},
    "pf status port as a number": {**base(PF), "status": {"port": 8080}},
    "pf condition status enum": {
        **base(PF),
        "status": {
            "conditions": [
                {
                    "type": "Ready",
                    "status": "Yes",
                    "reason": "Started",
                    "message": "",
                    "lastTransitionTime": "2026-11-22T10:00:00Z",
                }
            ]
        },
    },
    "pf condition without reason": {
        **base(PF),
        "status": {
            "conditions": [
                {"type": "Ready", "status": "True", "message": "", "lastTransitionTime": "2026-11-22T10:00:00Z"}
            ]
        },
    },
    "rp patchType xml": with_spec(RP, patchType="xml"),
    "rp subresource logs": with_spec(RP, subresource="logs"),
    "rp reapplyInterval soon": with_spec(RP, reapplyInterval="soon"),
    "rp reapplyInterval with a space": with_spec(RP, reapplyInterval="5 m"),
    "rp reapplyInterval negative": with_spec(RP, reapplyInterval="-5m"),
    "rp reapplyInterval days": with_spec(RP, reapplyInterval="1d"),
    "rp reapplyInterval number only": with_spec(RP, reapplyInterval="300"),
    "rp missing patch": with_spec(RP, patch=None),
    "rp missing target": with_spec(RP, target=None),
    "rp target missing apiVersion": with_target(apiVersion=None),
    "rp target missing kind": with_target(kind=None),
    "rp target missing name": with_target(name=None),
    "rp target name with ?": with_target(name="web?watch=1"),
    "rp target name ..": with_target(name=".."),
    "rp target name with /": with_target(name="web/scale"),
    "rp target namespace with /": with_target(namespace="shop/../kube-system"),
    "rp target apiVersion with two slashes": with_target(apiVersion="apps/v1/x"),
    "rp target apiVersion with ..": with_target(apiVersion="../v1"),
    "rp target kind with /": with_target(kind="Deployment/x"),
    "rp target kind lowercase": with_target(kind="deployment"),
    "rp target apiVersion not a version": with_target(apiVersion="apps/stable"),
    "rp status phase enum": {**base(RP), "status": {"phase": "Running"}},
    "rp dryRun as a string": with_spec(RP, dryRun="true"),
    "rp revertOnDelete as a number": with_spec(RP, revertOnDelete=1),
    "rp status negative driftCorrections": {**base(RP), "status": {"driftCorrections": -1}},
    "rp status preview without path": {**base(RP), "status": {"preview": [{"before": "1", "after": "2"}]}},
    "rp status revert applied not a digest": {
        **base(RP), "status": {"revert": {"paths": [{"path": "/spec/replicas", "applied": "3"}]}}},
}


# Where each invalid document must be caught (the dotted path of the failing field).
INVALID_AT: dict[str, str] = {
    "pf missing cluster": "spec",
    "rp missing cluster": "spec",
    "pf missing spec": "",
    "pf cluster a/../b": "spec.cluster",
    "rp cluster a/../b": "spec.cluster",
    "pf cluster ..": "spec.cluster",
    "pf cluster .": "spec.cluster",
    "pf cluster empty": "spec.cluster",
    "pf cluster with ?": "spec.cluster",
    "pf cluster with #": "spec.cluster",
    "pf cluster with %": "spec.cluster",
    "pf cluster with a space": "spec.cluster",
    "pf cluster with a newline": "spec.cluster",
    "pf cluster with a backslash": "spec.cluster",
    "pf cluster too long": "spec.cluster",
    "pf state enum": "spec.state",
    "pf state lowercase": "spec.state",
    "pf deletionPolicy enum": "spec.deletionPolicy",
    "pf port 0": "spec.port",
    "pf port 70000": "spec.port",
    "pf port 65536": "spec.port",
    "pf port as a string": "spec.port",
    "pf targetPort 0": "spec.targetPort",
    "pf targetPort 70000": "spec.targetPort",
    "pf targetPort numeric string": "spec.targetPort",
    "pf targetPort bad name": "spec.targetPort",
    "pf targetPort name too long": "spec.targetPort",
    "pf targetPort name double hyphen": "spec.targetPort",
    "pf targetPort float": "spec.targetPort",
    "pf service name with ?": "spec.service",
    "pf service name with /": "spec.service",
    "pf pod name with ?": "spec.pod",
    "pf pod name uppercase": "spec.pod",
    "pf namespace with /": "spec.namespace",
    "pf namespace too long": "spec.namespace",
    "pf serviceNamespace uppercase": "spec.serviceNamespace",
    "pf id with /": "spec.id",
    "pf id with ?": "spec.id",
    "pf id too long": "spec.id",
    "pf id ending with a hyphen": "spec.id",
    "pf address with /": "spec.address",
    "pf unknown field": "spec",
    "pf credentials empty": "spec.credentials",
    "pf credentials ref with namespace": "spec.credentials.tokenSecretRef",
    "rp credentials ref with namespace": "spec.credentials.kubeconfigSecretRef",
    "pf credentials ref without name": "spec.credentials.tokenSecretRef",
    "pf credentials unknown kind": "spec.credentials",
    "pf secret name with /": "spec.credentials.tokenSecretRef.name",
    "pf secret key with /": "spec.credentials.tokenSecretRef.key",
    "pf status phase enum": "status.phase",
    "pf status port as a number": "status.port",
    "pf condition status enum": "status.conditions.0.status",
    "pf condition without reason": "status.conditions.0",
    "rp patchType xml": "spec.patchType",
    "rp subresource logs": "spec.subresource",
    "rp reapplyInterval soon": "spec.reapplyInterval",
    "rp reapplyInterval with a space": "spec.reapplyInterval",
    "rp reapplyInterval negative": "spec.reapplyInterval",
    "rp reapplyInterval days": "spec.reapplyInterval",
    "rp reapplyInterval number only": "spec.reapplyInterval",
    "rp missing patch": "spec",
    "rp missing target": "spec",
    "rp target missing apiVersion": "spec.target",
    "rp target missing kind": "spec.target",
    "rp target missing name": "spec.target",
    "rp target name with ?": "spec.target.name",
    "rp target name ..": "spec.target.name",
    "rp target name with /": "spec.target.name",
    "rp target namespace with /": "spec.target.namespace",
    "rp target apiVersion with two slashes": "spec.target.apiVersion",
    "rp target apiVersion with ..": "spec.target.apiVersion",
    "rp target kind with /": "spec.target.kind",
    "rp target kind lowercase": "spec.target.kind",
    "rp target apiVersion not a version": "spec.target.apiVersion",
    "rp status phase enum": "status.phase",
    "rp dryRun as a string": "spec.dryRun",
    "rp revertOnDelete as a number": "spec.revertOnDelete",
    "rp status negative driftCorrections": "status.driftCorrections",
    "rp status preview without path": "status.preview.0",
    "rp status revert applied not a digest": "status.revert.paths.0.applied",
}


@pytest.mark.parametrize("name", INVALID_BY_SCHEMA)
def test_invalid_document_is_rejected_by_the_schema(name: str) -> None:
    errors = schema_errors(INVALID_BY_SCHEMA[name])
    assert errors, "accepted"
    # Rejected for the intended reason, not for another defect of the test document.
    assert {error.split(":")[0] for error in errors} == {INVALID_AT[name]}, errors


INVALID_BY_CEL: dict[str, tuple[Doc, str]] = {
    "pf pod and service": (with_spec(PF, pod="grafana-0"), "mutually exclusive"),
    "pf neither pod nor service nor id": (with_spec(PF, service=None), "spec.id alone"),
    "pf empty id alone": (with_spec(PF, service=None, targetPort=None, id=""), "spec.id alone"),
    "pf service without targetPort": (with_spec(PF, targetPort=None), "targetPort is required"),
    "rp reapplyInterval 500ms": (with_spec(RP, reapplyInterval="500ms"), "at least 30s"),
    "rp reapplyInterval 29s": (with_spec(RP, reapplyInterval="29s"), "at least 30s"),
    "rp reapplyInterval 0s": (with_spec(RP, reapplyInterval="0s"), "at least 30s"),
    "rp revertOnDelete strategic": (with_spec(RP, revertOnDelete=True, patchType="strategic"),
                                    "cannot undo a strategic merge patch"),
}


@pytest.mark.parametrize(("doc", "message"), INVALID_BY_CEL.values(), ids=INVALID_BY_CEL.keys())
def test_invalid_document_is_rejected_by_a_cel_rule(doc: Doc, message: str) -> None:
    assert schema_errors(doc) == []  # the schema alone lets it through: CEL is what stops it
    errors = cel_errors(doc)
    assert any(message in error for error in errors), errors


@pytest.mark.parametrize("kind", CRD_KINDS)
def test_cluster_is_immutable(kind: str) -> None:
    old = base(kind)
    new = with_spec(kind, cluster="another-cluster")
    assert cel_errors(new) == []  # a create is fine
    assert any("immutable" in error for error in cel_errors(new, old=old))


VALID_VARIANTS: dict[str, Doc] = {
    "pf cluster with dots and colons": with_spec(PF, cluster="arn:aws:eks:eu-west-1:1:cluster.prod"),
    "pf cluster a..b": with_spec(PF, cluster="a..b"),
    "pf cluster with @ and _": with_spec(PF, cluster="admin@Prod_EU"),
    "pf cluster at max length": with_spec(PF, cluster="c" * 253),
    "pf targetPort 1": with_spec(PF, targetPort=1),
    "pf targetPort 65535": with_spec(PF, targetPort=65535),
    "pf targetPort name with digits": with_spec(PF, targetPort="http-8080"),
    "pf port 1": with_spec(PF, port=1),
    "pf port 65535": with_spec(PF, port=65535),
    "pf no port": with_spec(PF, port=None),
    "pf pod with dots": with_spec(PF, service=None, pod="web-0.web.shop"),
    "pf adopt": with_spec(PF, service=None, targetPort=None, port=None, id="5f0c2b7e-3d4a-4e51"),
    "pf address ipv6": with_spec(PF, address="::1"),
    "pf address empty": with_spec(PF, address=""),
    "pf id empty with service": with_spec(PF, id=""),
    "pf every field": with_spec(
        PF,
        serviceNamespace="monitoring",
        address="127.0.0.1",
        id="grafana",
        state="Stopped",
        deletionPolicy="Orphan",
        credentials={
            "tokenSecretRef": {"name": "t", "key": "tok.en"},
            "kubeconfigSecretRef": {"name": "k", "key": "config"},
        },
    ),
    "pf full status": {
        **base(PF),
        "status": {
            "phase": "Running",
            "reason": "Started",
            "message": "forwarding",
            "id": "x",
            "port": "8080",
            "pod": "grafana-0",
            "observedGeneration": 3,
            "lastSyncTime": "2026-11-22T10:00:00Z",
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "Started",
                    "message": "ok",
                    "observedGeneration": 3,
                    "lastTransitionTime": "2026-11-22T10:00:00Z",
                }
            ],
        },
    },
    "rp cluster-scoped target": with_target(
        apiVersion="rbac.authorization.k8s.io/v1", kind="ClusterRole", name="system:aggregate-to-view", namespace=None
    ),
    "rp core target": with_target(apiVersion="v1", kind="ConfigMap", name="settings"),
    "rp status subresource": with_spec(RP, subresource="status"),
    "rp empty subresource": with_spec(RP, subresource=""),
    "rp reapplyInterval empty": with_spec(RP, reapplyInterval=""),
    "rp reapplyInterval 1h30m": with_spec(RP, reapplyInterval="1h30m"),
    "rp reapplyInterval 1.5h": with_spec(RP, reapplyInterval="1.5h"),
    "rp reapplyInterval 30s": with_spec(RP, reapplyInterval="30s"),
    "rp reapplyInterval 0.5m": with_spec(RP, reapplyInterval="0.5m"),
    "rp target name with capitals and @": with_target(name="Team@Admin_1"),
    "rp target in a dotted group": with_target(apiVersion="example.com/v1beta1", kind="Widget", name="w"),
    "pf id at max length": with_spec(PF, id="i" * 253),
    "rp json patch list": with_spec(RP, patchType="json", patch=[{"op": "remove", "path": "/spec/paused"}]),
    "rp dry run": with_spec(RP, dryRun=True),
    "rp revertOnDelete merge": with_spec(RP, revertOnDelete=True, patchType="merge"),
    "rp revertOnDelete json": with_spec(RP, revertOnDelete=True, patchType="json",
                                        patch=[{"op": "replace", "path": "/spec/replicas", "value": 3}]),
    "rp strategic without revertOnDelete": with_spec(RP, revertOnDelete=False, patchType="strategic"),
    "rp previewed status": {
        **with_spec(RP, dryRun=True),
        "status": {
            "phase": "Previewed",
            "reason": "Previewed",
            "preview": [
                {"path": "/spec/replicas", "before": "1", "after": "3"},
                {"path": "/metadata/labels/tier", "after": '"web"'},
                {"path": "/data/password", "before": "[redacted: 8 bytes, sha256:" + "0" * 64 + "]"},
            ],
        },
    },
    "rp revert and drift status": {
        **with_spec(RP, revertOnDelete=True),
        "status": {
            "phase": "Applied",
            "driftCorrections": 2,
            "lastDriftTime": "2026-11-22T10:05:00Z",
            "revert": {
                "patch": "sha256:" + "a" * 64,
                "target": {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "shop", "name": "web",
                           "subresource": "", "uid": "0b6e3c9e-5f3a-4d55-9a51-1d2f0c1e7a10"},
                "paths": [{"path": "/spec/replicas", "before": "1", "applied": "sha256:" + "b" * 64},
                          {"path": "/metadata/labels/tier"}],
                "secretName": "scale-web-revert",
            },
        },
    },
    "rp full status": {
        **base(RP),
        "status": {
            "phase": "Applied",
            "reason": "Applied",
            "message": "patched",
            "observedGeneration": 2,
            "lastAppliedTime": "2026-11-22T10:00:00Z",
            "target": {"uid": "u", "resourceVersion": "12345"},
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "Applied",
                    "message": "",
                    "lastTransitionTime": "2026-11-22T10:00:00Z",
                }
            ],
        },
    },
}


@pytest.mark.parametrize("doc", VALID_VARIANTS.values(), ids=VALID_VARIANTS.keys())
def test_valid_variant_is_accepted(doc: Doc) -> None:
    assert schema_errors(doc) == []
    assert cel_errors(doc) == []


# --------------------------------------------------------------------------------------------
# RBAC, Deployment, Service, leader election: what the operator needs, and no more


def rbac(kind: str) -> Doc:
    return one(docs_of(MANIFESTS / "rbac.yaml", kind))


def test_clusterrole_is_least_privilege() -> None:
    rules = rbac("ClusterRole")["rules"]
    granted = {
        (group, resource, verb)
        for rule in rules
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }
    assert not any("*" in item for item in granted), "no wildcards"
    assert all("resourceNames" not in rule and "nonResourceURLs" not in rule for rule in rules)
    plurals = [CRD_DOCS[kind]["spec"]["names"]["plural"] for kind in CRD_KINDS]
    expected = set()
    for plural in plurals:
        expected |= {(GROUP, plural, v) for v in ("get", "list", "watch", "patch")}
        expected |= {(GROUP, f"{plural}/status", v) for v in ("get", "patch")}
    # get: credentials, by name only (never list or watch every Secret); create/delete: the revert record
    # of a ResourcePatch whose target is a Secret, a Secret the operator creates and owns (never rewritten)
    expected |= {("", "secrets", v) for v in ("get", "create", "delete")}
    expected |= {("", "events", "create"), ("events.k8s.io", "events", "create")}
    expected |= {("", "namespaces", v) for v in ("list", "watch")}
    expected |= {("apiextensions.k8s.io", "customresourcedefinitions", v) for v in ("list", "watch")}
    assert granted == expected
    # Leader election: its Lease only, in the operator's namespace, by a Role (never cluster-wide).
    role = rbac("Role")
    assert role["metadata"]["namespace"] == OPERATOR_NAMESPACE
    assert role["rules"] == [{"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
                              "verbs": ["get", "create", "update"]}]
    binding = rbac("RoleBinding")
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "headlamp-operator",
                                    "namespace": OPERATOR_NAMESPACE}]


def test_rbac_binds_the_service_account() -> None:
    account = rbac("ServiceAccount")
    binding = rbac("ClusterRoleBinding")
    assert account["metadata"]["namespace"] == OPERATOR_NAMESPACE
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": rbac("ClusterRole")["metadata"]["name"],
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account["metadata"]["name"], "namespace": OPERATOR_NAMESPACE}
    ]
    # The comment block above the first object explains every rule.
    header = (MANIFESTS / "rbac.yaml").read_text().split("\napiVersion:")[0]
    for rule in rbac("ClusterRole")["rules"]:
        for resource in rule["resources"]:
            assert resource in header, f"the header does not explain {resource}"


def deployment() -> Doc:
    return one(docs_of(MANIFESTS / "deployment.yaml"))


def test_deployment_runs_the_operator_with_leader_election() -> None:
    dep = deployment()
    pod = dep["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert dep["metadata"]["namespace"] == OPERATOR_NAMESPACE
    assert dep["spec"]["replicas"] == 2
    assert pod["serviceAccountName"] == rbac("ServiceAccount")["metadata"]["name"]
    assert container["image"] == "headlamp-operator:latest"
    assert container["command"] + container["args"] == [
        "headlamp-operator",
        "run",
        "--all-namespaces",
        "--liveness=http://0.0.0.0:8080/healthz",
        "--metrics-port=9090",
        "--log-format=json",  # one object a line, for log pipelines (issue 12)
    ]
    env = {e["name"]: e for e in container["env"]}
    assert env["HEADLAMP_URL"]["value"].startswith("http")
    assert env["HEADLAMP_BACKEND_TOKEN"]["valueFrom"]["secretKeyRef"] == {
        "name": "headlamp-operator-backend",
        "key": "token",
        "optional": True,
    }
    assert env["POD_ID"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"health": 8080, "metrics": 9090}
    probe = container["livenessProbe"]["httpGet"]
    assert probe["path"] == "/healthz" and ports[probe["port"]] == 8080
    assert set(container["resources"]) == {"requests", "limits"}
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert "memory" in container["resources"]["limits"]


def test_deployment_is_locked_down() -> None:
    pod = deployment()["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 65532
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}
    assert security.get("privileged", False) is False
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]
    assert not any("hostPath" in v for v in volumes.values())
    assert not pod.get("hostNetwork") and not pod.get("hostPID")


def test_selectors_match_the_pods() -> None:
    dep = deployment()
    labels = dep["spec"]["template"]["metadata"]["labels"]
    assert dep["spec"]["selector"]["matchLabels"].items() <= labels.items()
    service = one(docs_of(MANIFESTS / "service.yaml"))
    assert service["spec"]["selector"].items() <= labels.items()
    (container,) = dep["spec"]["template"]["spec"]["containers"]
    assert [p["targetPort"] for p in service["spec"]["ports"]] == ["metrics"]
    assert "metrics" in {p["name"] for p in container["ports"]}
    budget = one(docs_of(MANIFESTS / "poddisruptionbudget.yaml"))
    assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_namespaced_objects_are_in_the_operator_namespace() -> None:
    namespace = one(docs_of(MANIFESTS / "namespace.yaml"))
    assert namespace["metadata"]["name"] == OPERATOR_NAMESPACE
    for path, _, doc in ALL_DOCS:
        if path.parent == MANIFESTS and "namespace" in doc["metadata"]:
            assert doc["metadata"]["namespace"] == OPERATOR_NAMESPACE, path.name


def test_nothing_of_kopfs_peering_is_installed() -> None:
    """Leader election replaced kopf's peering: its CRDs and shared `default` objects stay out of the install."""
    kustomization = yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())
    assert "peering.yaml" not in kustomization["resources"]
    assert not (MANIFESTS / "peering.yaml").exists()

def test_kustomization_lists_exactly_the_deployable_files() -> None:
    kustomization = yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())
    assert kustomization["kind"] == "Kustomization"
    listed = kustomization["resources"]
    assert len(listed) == len(set(listed))
    for entry in listed:
        assert (MANIFESTS / entry).is_file(), f"{entry} does not exist"
    deployable = {
        str(p.relative_to(MANIFESTS))
        for p in yaml_files(MANIFESTS)
        if p.name != "kustomization.yaml" and SAMPLES not in p.parents and WEBHOOK not in p.parents
    }
    assert set(listed) == deployable
    assert {f"crds/{p.name}" for p in CRD_FILES.values()} <= set(listed)
    assert not any(entry.startswith("samples") for entry in listed)
    # CRDs before the objects that may need them.
    assert listed.index("crds/portforwards.yaml") < listed.index("deployment.yaml")
    assert listed.index("namespace.yaml") < listed.index("rbac.yaml")


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kustomization_builds() -> None:
    # kubectl's embedded kustomize, offline: the build holds every object of the listed files.
    built = subprocess.run(
        ["kubectl", "kustomize", str(MANIFESTS)], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    docs = [doc for doc in yaml.safe_load_all(built) if doc]

    def key(doc: Doc) -> tuple[str, str, str, str | None]:
        return doc["apiVersion"], doc["kind"], doc["metadata"]["name"], doc["metadata"].get("namespace")

    listed = yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())["resources"]
    expected = {key(doc) for entry in listed for doc in load_docs(MANIFESTS / entry)}
    assert {key(doc) for doc in docs} == expected
    assert all(doc["metadata"]["labels"]["app.kubernetes.io/part-of"] == "headlamp-operator" for doc in docs)


@pytest.mark.parametrize("option", ["cert-manager", "managed"])
def test_webhook_overlays_reference_existing_files(option: str) -> None:
    kustomization = yaml.safe_load((WEBHOOK / option / "kustomization.yaml").read_text())
    for entry in kustomization["resources"]:
        target = (WEBHOOK / option / entry).resolve()
        assert target.is_file() or (target / "kustomization.yaml").is_file(), entry
    args = [op["value"] for patch in kustomization["patches"] for op in yaml.safe_load(patch["patch"])
            if op["path"].endswith("/args/-")]
    assert "--webhook-port=9443" in args
    from headlamp_operator.cli import build_parser
    build_parser().parse_args(["run", *args])  # every flag the overlay adds is one the CLI accepts


def test_webhook_paths_match_the_handler_ids() -> None:
    config = yaml.safe_load((WEBHOOK / "cert-manager" / "validatingwebhookconfiguration.yaml").read_text())
    paths = {hook["rules"][0]["resources"][0]: hook["clientConfig"]["service"]["path"] for hook in config["webhooks"]}
    assert paths == {"portforwards": "/validate-portforwards", "resourcepatches": "/validate-resourcepatches"}
    assert all(hook["failurePolicy"] == "Ignore" for hook in config["webhooks"])  # the operator re-validates


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
@pytest.mark.parametrize("option", ["cert-manager", "managed"])
def test_webhook_overlays_build(option: str) -> None:
    built = subprocess.run(["kubectl", "kustomize", str(WEBHOOK / option)], capture_output=True, text=True,
                           check=True, timeout=60).stdout
    docs = [doc for doc in yaml.safe_load_all(built) if doc]
    [deployment] = [d for d in docs if d["kind"] == "Deployment"]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert "--webhook-port=9443" in container["args"]
    assert any(port.get("name") == "webhook" for port in container["ports"])


def test_managed_webhook_rbac_covers_both_configurations_kopf_manages() -> None:
    """Found on a real API server: kopf's managed admission mode creates a MutatingWebhookConfiguration too
    (empty here), and stops the operator when it may not."""
    [role] = [doc for doc in load_docs(WEBHOOK / "managed" / "rbac.yaml") if doc["kind"] == "ClusterRole"]
    verbs = {resource: set(rule["verbs"]) for rule in role["rules"] for resource in rule["resources"]}
    assert {"create", "patch"} <= verbs["validatingwebhookconfigurations"]
    assert {"create", "patch"} <= verbs["mutatingwebhookconfigurations"]


def test_the_operators_names_for_its_api_are_the_crds() -> None:
    """headlamp_operator.crds names the group, version, kinds and plurals once: the CRD files agree."""
    from headlamp_operator import crds
    for kind, doc in CRD_DOCS.items():
        assert doc["spec"]["group"] == crds.GROUP
        assert doc["spec"]["names"]["kind"] == kind and doc["spec"]["names"]["plural"] == crds.PLURALS[kind]
        assert [v["name"] for v in doc["spec"]["versions"] if v.get("storage")] == [crds.VERSION]
    assert set(crds.PLURALS) == set(CRD_DOCS)
