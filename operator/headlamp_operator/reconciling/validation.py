"""Spec validation shared by the admission webhook and the handlers (the webhook may be absent).

Each function returns the list of problems in words a person understands; an empty list means
valid. The handlers fail a resource with ``InvalidSpec`` on any problem, without a request.
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from headlamp_operator.headlamp import errors, paths
from headlamp_operator.reconciling import pointers
from headlamp_operator.settings import MIN_REAPPLY_SECONDS

ETCD_REQUEST_LIMIT = 1_572_864  # bytes: etcd's default --max-request-bytes; a larger stored object is refused
STORED_OVERHEAD = 262_144  # bytes kept for everything but the patch: metadata (annotations alone may take
# 256 KiB), managedFields, the status and kopf's state (kopf keeps only a digest of the patch)
# The stored ResourcePatch, with everything the operator and kopf write into it, fits one etcd write
# (docs/resourcepatch.md#its-size).
MAX_PATCH_BYTES = ETCD_REQUEST_LIMIT - STORED_OVERHEAD
MAX_PATCH_DEPTH = 64
_PORT_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,13}[a-z0-9])?$")
_SECRET_KEY = re.compile(r"^[-._a-zA-Z0-9]{1,253}$")
_DURATION = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_JSON_PATCH_OPS = {"add", "remove", "replace", "move", "copy", "test"}


def parse_duration(text: str) -> float:
    """A Go-style duration (``90s``, ``5m``, ``1h30m``) in seconds; ValueError if it does not parse."""
    text = text.strip()
    if not text or _DURATION.sub("", text):
        raise ValueError(f"{text!r} is not a duration such as 30s, 5m or 1h30m")
    return sum(float(number) * _UNITS[unit] for number, unit in _DURATION.findall(text))


def _check(problems: list[str], what: str, value: Any, check: Any) -> None:
    try:
        check(value)
    except errors.InvalidArgument as e:
        problems.append(f"{what}: {e}")


def _depth(value: Any, limit: int) -> int:
    stack: list[tuple[Any, int]] = [(value, 1)]
    deepest = 0
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        if isinstance(item, Mapping):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return deepest


def credentials_problems(spec: Mapping[str, Any]) -> list[str]:
    """Problems of ``spec.credentials``: references by name (and key) into this namespace only."""
    problems: list[str] = []
    credentials = spec.get("credentials")
    if credentials is None:
        return problems
    if not isinstance(credentials, Mapping):
        return ["spec.credentials must be an object"]
    for field in ("tokenSecretRef", "kubeconfigSecretRef"):
        ref = credentials.get(field)
        if ref is None:
            continue
        where = f"spec.credentials.{field}"
        if not isinstance(ref, Mapping):
            problems.append(f"{where} must be an object with a name")
            continue
        if "namespace" in ref:
            problems.append(f"{where}.namespace is not allowed: Secrets are read from the resource's own namespace")
        _check(problems, f"{where}.name", ref.get("name"), paths.name)
        key = ref.get("key")
        if key is not None and (not isinstance(key, str) or not _SECRET_KEY.match(key)):
            problems.append(f"{where}.key {key!r} is not a valid Secret key")
    if not credentials.get("tokenSecretRef") and not credentials.get("kubeconfigSecretRef"):
        problems.append("spec.credentials needs tokenSecretRef or kubeconfigSecretRef")
    return problems


def _port_problems(field: str, value: Any, *, names: bool) -> list[str]:
    if isinstance(value, bool):
        return [f"{field} must be a port number or name"]
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        return [] if 1 <= int(value) <= 65535 else [f"{field} {value} is not in 1..65535"]
    if names and isinstance(value, str) and _PORT_NAME.match(value):
        return []
    return [f"{field} {value!r} is not a port number" + (" or an IANA port name" if names else "")]


def portforward_problems(spec: Mapping[str, Any]) -> list[str]:
    """Everything wrong with a PortForward spec that the CRD schema cannot say."""
    problems: list[str] = []
    _check(problems, "spec.cluster", spec.get("cluster"), paths.cluster)
    pod, service, pf_id = spec.get("pod"), spec.get("service"), spec.get("id")
    if pod and service:
        problems.append("set either spec.pod or spec.service, not both")
    if not pod and not service and not pf_id:
        problems.append("set spec.pod or spec.service (or spec.id alone to adopt an existing forward)")
    for field, value, check in (("spec.pod", pod, paths.name), ("spec.service", service, paths.name),
                                ("spec.id", pf_id, paths.portforward_id),
                                ("spec.namespace", spec.get("namespace"), paths.namespace),
                                ("spec.serviceNamespace", spec.get("serviceNamespace"), paths.namespace)):
        if value:
            _check(problems, field, value, check)
    if pod or service:
        if spec.get("targetPort") in (None, ""):
            problems.append("spec.targetPort is required with spec.pod or spec.service")
        else:
            problems += _port_problems("spec.targetPort", spec.get("targetPort"), names=True)
    if spec.get("port") not in (None, "", 0):
        problems += _port_problems("spec.port", spec.get("port"), names=False)
    address = spec.get("address")
    if address and (not isinstance(address, str) or not address.isprintable() or len(address) > 253):
        problems.append("spec.address must be a printable host or IP address")
    if spec.get("state", "Running") not in ("Running", "Stopped"):
        problems.append(f"spec.state {spec.get('state')!r} must be Running or Stopped")
    if spec.get("deletionPolicy", "Delete") not in ("Delete", "Stop", "Orphan"):
        problems.append(f"spec.deletionPolicy {spec.get('deletionPolicy')!r} must be Delete, Stop or Orphan")
    return problems + credentials_problems(spec)


def _json_patch_problems(patch: Any) -> list[str]:
    if not isinstance(patch, list) or not patch:
        return ["a json patch must be a non-empty list of RFC 6902 operations"]
    problems: list[str] = []
    for index, op in enumerate(patch):
        where = f"spec.patch[{index}]"
        if not isinstance(op, Mapping):
            problems.append(f"{where} must be an object with op and path")
            continue
        kind = op.get("op")
        if kind not in _JSON_PATCH_OPS:
            problems.append(f"{where}.op {kind!r} must be one of {', '.join(sorted(_JSON_PATCH_OPS))}")
        for field in ("path", "from") if kind in ("move", "copy") else ("path",):
            pointer = op.get(field)
            if not isinstance(pointer, str) or (pointer and not pointer.startswith("/")):
                problems.append(f"{where}.{field} must be a JSON pointer such as /spec/replicas")
        if kind in ("add", "replace", "test") and "value" not in op:
            problems.append(f"{where} ({kind}) needs a value")
    return problems


REVERT_STRATEGIC = ("spec.revertOnDelete cannot undo a strategic merge patch exactly (its list semantics): "
                    "use patchType merge or json")


def _mode_problems(spec: Mapping[str, Any], patch_type: Any, patch: Any, found: list[str]) -> list[str]:
    """Problems of ``dryRun`` and ``revertOnDelete`` (docs/resourcepatch.md#preview, #undo): a preview that
    cannot fit its bound even with every value cut to a digest, an undo that cannot be exact."""
    problems = [f"spec.{field} must be true or false" for field in ("dryRun", "revertOnDelete")
                if spec.get(field) is not None and not isinstance(spec.get(field), bool)]
    if spec.get("revertOnDelete") is True and patch_type == "strategic":
        problems.append(REVERT_STRATEGIC)
    if spec.get("dryRun") is True and not found:
        target = spec.get("target") or {}
        secret = pointers.secret_kind(target.get("apiVersion"), target.get("kind"))
        touched = pointers.touched(patch, str(patch_type), secret=secret)
        if (size := pointers.min_preview_bytes(touched)) > pointers.PREVIEW_LIMIT:
            problems.append(f"spec.dryRun: the patch touches {len(touched)} paths, whose preview takes at least "
                            f"{size} bytes with its paths alone (every value left out), over the "
                            f"{pointers.PREVIEW_LIMIT}-byte limit of status.preview: preview a smaller patch")
    return problems


def resourcepatch_problems(spec: Mapping[str, Any], *, min_reapply: float = MIN_REAPPLY_SECONDS) -> list[str]:
    """Everything wrong with a ResourcePatch spec that the CRD schema cannot say."""
    problems: list[str] = []
    _check(problems, "spec.cluster", spec.get("cluster"), paths.cluster)
    target = spec.get("target")
    if not isinstance(target, Mapping):
        problems.append("spec.target is required (apiVersion, kind, name)")
    else:
        _check(problems, "spec.target.apiVersion", target.get("apiVersion"), paths.split_api_version)
        kind = target.get("kind")
        if not isinstance(kind, str) or not re.match(r"^[A-Z][A-Za-z0-9]{0,62}$", kind):
            problems.append(f"spec.target.kind {kind!r} must be a Kubernetes kind such as Deployment")
        _check(problems, "spec.target.name", target.get("name"), paths.name)
        if target.get("namespace"):
            _check(problems, "spec.target.namespace", target.get("namespace"), paths.namespace)
    if spec.get("subresource", "") not in ("", "status", "scale"):
        problems.append(f"spec.subresource {spec.get('subresource')!r} must be empty, status or scale")
    patch_type = spec.get("patchType", "merge")
    patch = spec.get("patch")
    if patch_type not in ("merge", "json", "strategic"):
        problems.append(f"spec.patchType {patch_type!r} must be merge, json or strategic")
    elif patch is None:
        problems.append("spec.patch is required")
    elif patch_type == "json":
        problems += _json_patch_problems(patch)
    elif not isinstance(patch, Mapping):
        problems.append(f"a {patch_type} patch must be an object, such as {{spec: {{replicas: 3}}}}")
    if patch is not None:  # depth first: serialising a too-deep document would itself recurse too deep
        if _depth(patch, MAX_PATCH_DEPTH) > MAX_PATCH_DEPTH:
            problems.append(f"spec.patch is nested deeper than {MAX_PATCH_DEPTH} levels")
        elif (size := len(json.dumps(patch, separators=(",", ":")).encode())) > MAX_PATCH_BYTES:
            problems.append(f"spec.patch is {size} bytes as JSON; at most {MAX_PATCH_BYTES} are allowed, so that the "
                            f"stored ResourcePatch (with its metadata, status and the operator's state) stays under "
                            f"etcd's {ETCD_REQUEST_LIMIT}-byte limit")
    problems += _mode_problems(spec, patch_type, patch, problems)
    interval = spec.get("reapplyInterval") or ""
    if interval:
        try:
            seconds = parse_duration(str(interval))
        except ValueError as e:
            problems.append(f"spec.reapplyInterval: {e}")
        else:
            if seconds < min_reapply:
                problems.append(f"spec.reapplyInterval {interval} is under the minimum of {min_reapply:g}s")
    return problems + credentials_problems(spec)
